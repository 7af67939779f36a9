// Checkpoints: a module's named parameters and buffers (PyTorch's state_dict) to and from an .npz
// archive that numpy.load opens.
#pragma once

#include <string>

#include "module.hpp"

namespace tg::nn {

// Writes one array per named parameter and buffer ("0.weight", "1.running_mean", ...),
// atomically: a crash mid-save leaves the previous file intact.
template <class T>
void save(const Module<T>& module, const std::string& path);

// Reads `path` and checks every name and shape against the module first: if anything is missing,
// unexpected or mis-shaped, it throws std::invalid_argument listing all of them and changes
// nothing. Arrays stored in the other precision are converted.
template <class T>
void load(Module<T>& module, const std::string& path);

}  // namespace tg::nn
