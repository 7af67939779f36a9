// What the nodes of an op with several outputs hand, during one run of the backward engine, to the
// op's one joining node (the engine runs it after them all: they read its output). Kept by the
// engine's run number, so runs on several threads through one graph, or a run stopped half-way by
// an exception, never mix theirs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "../../core/detail/engine.hpp"

namespace tg::detail {

template <class Item>
class RunDeposits {
 public:
  void hand_in(std::size_t index, Item item) {
    const std::lock_guard<std::mutex> lock(mutex_);
    std::vector<Item>& run = by_run_[current_backward_run()];
    if (run.size() <= index) run.resize(index + 1);
    run[index] = std::move(item);
  }

  // This run's items by index, removed (default-made where none came; possibly fewer than handed
  // out indices, never more).
  std::vector<Item> take() {
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto run = by_run_.find(current_backward_run());
    if (run == by_run_.end()) return {};
    std::vector<Item> items = std::move(run->second);
    by_run_.erase(run);
    return items;
  }

 private:
  std::mutex mutex_;
  std::map<std::uint64_t, std::vector<Item>> by_run_;
};

}  // namespace tg::detail
