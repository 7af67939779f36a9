// The backward engine: one reverse walk of the recorded graph, iterative, releasing as it goes.
#pragma once

#include "../variable.hpp"

namespace tg {

// Back-propagates `seed` (the gradient of `root`, same shape) to every leaf that requires grad,
// accumulating into the leaves' gradients. Without retain_graph the graph is released.
template <class T>
void run_backward(const Variable<T>& root, const Tensor<T>& seed, bool retain_graph);

}  // namespace tg
