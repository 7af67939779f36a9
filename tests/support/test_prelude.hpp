// What the tests of ops, modules and autograd start from: the checking helpers, PyTorch's input
// patterns, and the names those tests use unqualified.
#pragma once

#include "gradient_function.hpp"
#include "test_util.hpp"
#include "torch_values.hpp"

using namespace tg;
using namespace tg::test;
using Catch::Matchers::Contains;
