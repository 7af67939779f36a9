// Modules, initialisers, summaries and checkpoints (tg::nn).
#pragma once

#include "activation.hpp"
#include "conv.hpp"
#include "flatten.hpp"
#include "init.hpp"
#include "linear.hpp"
#include "module.hpp"
#include "../core/npz.hpp"
#include "pool.hpp"
#include "sequential.hpp"
#include "serialize.hpp"
#include "summary.hpp"
