// Every differentiable function of tapegrad. (Kernels live in ops/detail/ and are never installed.)
#pragma once

#include "activation.hpp"
#include "arithmetic.hpp"
#include "attention.hpp"
#include "conv.hpp"
#include "dropout.hpp"
#include "elementwise.hpp"
#include "indexing.hpp"
#include "linalg.hpp"
#include "loss.hpp"
#include "normalization.hpp"
#include "pool.hpp"
#include "reduce.hpp"
#include "reduce_stats.hpp"
#include "recurrent.hpp"
#include "shape.hpp"
#include "smooth_activation.hpp"
