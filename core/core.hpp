// Everything in core/: tensors, variables, the tape, gradcheck, tensor files, runtime settings.
#pragma once

#include "anomaly.hpp"
#include "errors.hpp"
#include "generator.hpp"
#include "functional.hpp"
#include "grad.hpp"
#include "gradcheck.hpp"
#include "graph_export.hpp"
#include "no_grad.hpp"
#include "npz.hpp"
#include "record_op.hpp"
#include "runtime.hpp"
#include "tape_stats.hpp"
#include "tensor.hpp"
#include "variable.hpp"
