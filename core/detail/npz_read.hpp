// Internal to the .npz code: read_npz over bytes in memory, for the fuzz target (no file, no
// system call per input). The same checks and messages as read_npz; `name` stands for the file.
#pragma once

#include <cstddef>
#include <string>

#include "../npz.hpp"

namespace tg::detail {

NpzEntries read_npz_memory(const void* data, std::size_t size, const std::string& name);

}  // namespace tg::detail
