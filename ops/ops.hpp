// Every differentiable function of tapegrad. (Kernels such as gemm.hpp and im2col.hpp are
// internal and included where needed.)
#pragma once

#include "activation.hpp"
#include "arithmetic.hpp"
#include "broadcast.hpp"
#include "conv.hpp"
#include "dropout.hpp"
#include "linalg.hpp"
#include "loss.hpp"
#include "pool.hpp"
#include "reduce.hpp"
#include "shape.hpp"
#include "threads.hpp"
