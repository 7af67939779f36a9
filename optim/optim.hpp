// Everything in optim/: optimisers, learning-rate schedulers, gradient clipping.
#pragma once

#include "adam.hpp"
#include "adamw.hpp"
#include "checkpoint.hpp"
#include "clip.hpp"
#include "optimizer.hpp"
#include "rmsprop.hpp"
#include "scheduler.hpp"
#include "sgd.hpp"
