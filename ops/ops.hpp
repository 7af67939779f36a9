// Every differentiable function of tapegrad.
#pragma once

#include "arithmetic.hpp"
#include "broadcast.hpp"
#include "threads.hpp"
