// Every differentiable function of tapegrad.
#pragma once

#include "arithmetic.hpp"
#include "broadcast.hpp"
#include "conv.hpp"
#include "gemm.hpp"
#include "im2col.hpp"
#include "linalg.hpp"
#include "pool.hpp"
#include "pool_kernels.hpp"
