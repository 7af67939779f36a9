// Every differentiable function of tapegrad.
#pragma once

#include "activation.hpp"
#include "arithmetic.hpp"
#include "broadcast.hpp"
#include "dropout.hpp"
#include "loss.hpp"
#include "reduce.hpp"
#include "shape.hpp"
#include "threads.hpp"
