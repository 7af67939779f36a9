// to_dot: the recorded tape below a Variable as a Graphviz graph (like PyTorch's torchviz).
//
//   tg::Variable<float> loss = tg::cross_entropy(model(x), labels);
//   std::ofstream("step.dot") << tg::to_dot(loss);   // BEFORE loss.backward(): it releases the tape
//   loss.backward();
//   // dot -Tpng step.dot -o step.png
#pragma once

#include <string>

#include "variable.hpp"

namespace tg {

// Graphviz DOT text of every op and leaf that `root` was computed from. One box per recorded
// op, labelled with the op's name and its output's shape; one ellipse per leaf, labelled with
// its parameter name (Variable::name(), e.g. "1.weight") or, when it has none, "constant" for a
// single number (the 2 in `x * 2.0`) and "input" otherwise, and its shape; leaves that need no
// gradient (data) are dashed and grey. Edges point the way data flows, from an op's inputs to
// the op, once per pair. The root is drawn bold.
//
// Walk the graph before calling backward(): a backward without retain_graph releases the tape,
// and to_dot then throws std::logic_error saying so. An undefined root is std::invalid_argument.
// The walk is iterative, so a chain of 100,000 ops is fine (though Graphviz will be slow on it).
template <class T>
std::string to_dot(const Variable<T>& root);

}  // namespace tg
