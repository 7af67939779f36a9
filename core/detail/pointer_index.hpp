// A map from pointers to positions for the backward walk, which looks up every variable of the
// graph a few times per call: open addressing in one array, so a step of a small model does not
// pay a heap allocation per variable as std::unordered_map would.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace tg::detail {

class PointerIndex {
 public:
  static constexpr std::size_t npos = SIZE_MAX;

  // Adds key (not null) with `value` unless present; returns whether it was added.
  bool insert(const void* key, std::size_t value) {
    if (2 * (size_ + 1) > slots_.size()) grow();
    Slot& slot = slots_[index_of(key)];
    if (slot.first) return false;
    slot = {key, value};
    ++size_;
    return true;
  }

  // The value of key, npos when absent.
  std::size_t find(const void* key) const {
    if (slots_.empty()) return npos;
    const Slot& slot = slots_[index_of(key)];
    return slot.first ? slot.second : npos;
  }

  // Changes the value of a key that is present.
  void set(const void* key, std::size_t value) { slots_[index_of(key)].second = value; }

 private:
  using Slot = std::pair<const void*, std::size_t>;  // a null key marks an empty slot

  // The slot holding key, or the empty one where it belongs (the table is never full).
  std::size_t index_of(const void* key) const {
    const std::size_t mask = slots_.size() - 1;
    // Fibonacci hashing of the address; its low bits are alignment and carry nothing.
    std::size_t i = (reinterpret_cast<std::uintptr_t>(key) * 0x9E3779B97F4A7C15ull >> 20) & mask;
    while (slots_[i].first && slots_[i].first != key) i = (i + 1) & mask;
    return i;
  }

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 64 : 2 * old.size(), Slot{nullptr, 0});
    for (const Slot& s : old) {
      if (s.first) slots_[index_of(s.first)] = s;
    }
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace tg::detail
