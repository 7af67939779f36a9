#include "checkpoint.hpp"

#include <exception>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "../core/errors.hpp"
#include "../core/npz.hpp"

namespace tg::optim {

namespace {

constexpr const char* kLr = "lr";
constexpr const char* kTypePrefix = "optimizer.";

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

}  // namespace

template <class T>
void save(const Optimizer<T>& optimizer, const std::string& path) {
  std::vector<std::pair<std::string, NpyArray>> arrays;
  arrays.emplace_back(kLr, NpyArray(Tensor<double>(optimizer.lr())));
  arrays.emplace_back(kTypePrefix + optimizer.name(), NpyArray(Tensor<double>(1.0)));
  for (auto& [name, value] : optimizer.state()) arrays.emplace_back(name, NpyArray(std::move(value)));
  write_npz(path, arrays);
}

template <class T>
void load(Optimizer<T>& optimizer, const std::string& path) {
  NpzEntries entries = read_npz(path);
  std::vector<std::string> problems;
  std::vector<std::string> types;
  double lr = 0;
  bool have_lr = false;
  typename Optimizer<T>::NamedTensors state;
  for (const auto& [name, array] : entries) {
    if (name == kLr) {
      if (!array.shape().empty()) {
        problems.push_back(fmt::format("\"lr\" has shape {}, expected a scalar ()", format_shape(array.shape())));
      } else {
        lr = array.template to<double>()();
        have_lr = true;
        if (!(lr >= 0.0)) problems.push_back(fmt::format("\"lr\" is {}, expected >= 0", lr));
      }
    } else if (starts_with(name, kTypePrefix)) {
      types.push_back(name.substr(std::string(kTypePrefix).size()));
    } else {
      state.emplace_back(name, array.template to<T>());
    }
  }
  if (!have_lr && problems.empty()) problems.push_back("missing \"lr\"");
  if (types.size() != 1) {
    problems.push_back(fmt::format("expected one \"optimizer.<name>\" entry, found {}", types.size()));
  } else if (types[0] != optimizer.name()) {
    problems.push_back(fmt::format("it holds {} state but the optimiser is {}", types[0], optimizer.name()));
  }
  if (!problems.empty()) {
    fail("optim::load", "{} does not match the optimiser ({} problem{}; nothing was loaded): {}", path,
         problems.size(), problems.size() == 1 ? "" : "s", fmt::join(problems, "; "));
  }
  try {
    optimizer.load_state(state);  // checks everything and changes nothing on error
  } catch (const std::invalid_argument& e) {
    fail("optim::load", "{} does not match the optimiser (nothing was loaded): {}", path, e.what());
  }
  optimizer.set_lr(lr);
}

// Explicit instantiations for float and double.
template void save<float>(const Optimizer<float>&, const std::string&);
template void save<double>(const Optimizer<double>&, const std::string&);
template void load<float>(Optimizer<float>&, const std::string&);
template void load<double>(Optimizer<double>&, const std::string&);

}  // namespace tg::optim
