// The backward engine: one reverse walk of the recorded graph, iterative, releasing as it goes.
#pragma once

#include <cstdint>
#include <vector>

#include "../variable.hpp"

namespace tg::detail {

template <class T>
struct BackwardRequest {
  std::vector<Variable<T>> roots;
  std::vector<Variable<T>> seeds;  // the gradient of each root, of its shape
  bool retain_graph = false;       // keep the graph for another backward
  bool create_graph = false;       // record the backward's own ops, so gradients can be differentiated
  // Empty: accumulate into the leaves' gradients (Variable::backward). Otherwise return the
  // gradients of these Variables, accumulating nothing (tg::grad).
  std::vector<Variable<T>> targets;
  bool allow_unused = false;  // a target no root depends on gives an undefined Variable instead of an error
  const char* function = "backward";  // named in errors
};

// Back-propagates the seeds from the roots. Returns one gradient per target (an empty vector
// without targets). A target that is part of the graph but that no gradient reached gets zeros.
template <class T>
std::vector<Variable<T>> run_backward(const BackwardRequest<T>& request);

// Which run of run_backward this thread is inside (0 outside any; a nested run has its own
// number until it returns). The pieces of an op with several outputs (split) hand their gradients
// to the op's one node by it, so concurrent or abandoned runs never mix theirs.
std::uint64_t current_backward_run();

}  // namespace tg::detail
