// Everything in core/: tensors, variables, the tape, the engine, gradcheck.
#pragma once

#include "anomaly.hpp"
#include "engine.hpp"
#include "errors.hpp"
#include "generator.hpp"
#include "gradcheck.hpp"
#include "graph_export.hpp"
#include "no_grad.hpp"
#include "record_op.hpp"
#include "tape_stats.hpp"
#include "tensor.hpp"
#include "variable.hpp"
