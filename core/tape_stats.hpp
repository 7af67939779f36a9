// Tape statistics: how many recorded ops are alive, so a test can prove a graph was released.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tg {

struct TapeStats {
  std::size_t live_nodes = 0;        // recorded ops whose Node still exists (float and double)
  std::uint64_t recorded_nodes = 0;  // ops recorded since the program started
};

TapeStats tape_stats();

namespace detail {
void count_node_created();
void count_node_destroyed();
}  // namespace detail

}  // namespace tg
