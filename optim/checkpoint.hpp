// Optimiser checkpoints: the learning rate and the per-parameter state (step counts, moments,
// momentum buffers) to and from an .npz archive, so that training resumes exactly. Save the
// model with tg::nn::save beside it.
//
//   tg::nn::save(net, "net.npz");   tg::optim::save(adam, "adam.npz");
//   ... later, with freshly built objects of the same shapes ...
//   tg::nn::load(net, "net.npz");   tg::optim::load(adam, "adam.npz");
#pragma once

#include <string>

#include "optimizer.hpp"

namespace tg::optim {

// Writes "lr" (a 0-d float64), "optimizer.<name>" (a 0-d marker: "optimizer.Adam") and every
// entry of optimizer.state() ("0.step", "0.exp_avg", ...). Atomic like tg::nn::save: the archive
// is written to a temporary file beside `path`, flushed and renamed, so a crash mid-save leaves
// the previous file intact.
template <class T>
void save(const Optimizer<T>& optimizer, const std::string& path);

// Reads `path` and checks it against `optimizer` first: the optimiser's name, the learning rate
// and every state name and shape (via load_state). If anything is wrong it throws
// std::invalid_argument naming the file and the problems, and changes nothing; otherwise it
// replaces the state and sets the learning rate. State stored in the other precision is converted.
template <class T>
void load(Optimizer<T>& optimizer, const std::string& path);

}  // namespace tg::optim
