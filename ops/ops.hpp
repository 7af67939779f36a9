// Every differentiable function of tapegrad.
#pragma once

#include "arithmetic.hpp"
#include "broadcast.hpp"
#include "reduce.hpp"
#include "shape.hpp"
#include "threads.hpp"
