// read_idx over bytes in memory, for the fuzz target: the same parser and inflate loop as a file,
// with `name` standing for the path in messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "../idx.hpp"

namespace tg::detail {

data::IdxFile read_idx_memory(const std::uint8_t* data, std::size_t size, const std::string& name,
                              data::IdxKind expected = data::IdxKind::any);

}  // namespace tg::detail
