// read_idx over bytes in memory, for the fuzz target: the same parser and inflate loop as a file,
// with `name` standing for the path in messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "../idx.hpp"

namespace tg::data::detail {

IdxFile read_idx_memory(const std::uint8_t* data, std::size_t size, const std::string& name,
                        IdxKind expected = IdxKind::any);

}  // namespace tg::data::detail
