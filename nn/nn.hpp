// Modules, initialisers, summaries and checkpoints (tg::nn).
#pragma once

#include "activation.hpp"
#include "adaptive_pool.hpp"
#include "conv.hpp"
#include "conv_transpose.hpp"
#include "dropout.hpp"
#include "flatten.hpp"
#include "fuse.hpp"
#include "init.hpp"
#include "linear.hpp"
#include "module.hpp"
#include "normalization.hpp"
#include "pool.hpp"
#include "recurrent.hpp"
#include "sequential.hpp"
#include "serialize.hpp"
#include "summary.hpp"
