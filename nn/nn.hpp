// Everything in nn/: modules, their checkpoints and the .npz format.
#pragma once

#include "npz.hpp"
