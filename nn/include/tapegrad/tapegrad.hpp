// The whole public API of tapegrad: #include <tapegrad/tapegrad.hpp>.
//
// Installed, this file is include/tapegrad/tapegrad.hpp beside the folders it names. In a build
// tree (add_subdirectory) it is found here, in nn/include, and the folders through the project's
// root; nn is the top layer, the only one allowed to see every other.
#pragma once

#include "core/core.hpp"
#include "ops/ops.hpp"
#include "nn/nn.hpp"
#include "optim/optim.hpp"
#include "data/data.hpp"
