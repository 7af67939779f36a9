// Data: idx files, the MNIST and Fashion-MNIST datasets, and the batching loader.
#pragma once

#include "idx.hpp"
#include "loader.hpp"
#include "mnist.hpp"
