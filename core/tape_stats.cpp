#include "tape_stats.hpp"

#include <atomic>

namespace tg {
namespace {
std::atomic<std::size_t> live{0};
std::atomic<std::uint64_t> recorded{0};
}  // namespace

TapeStats tape_stats() { return TapeStats{live.load(), recorded.load()}; }

namespace detail {
void count_node_created() {
  ++live;
  ++recorded;
}
void count_node_destroyed() { --live; }
}  // namespace detail

}  // namespace tg
