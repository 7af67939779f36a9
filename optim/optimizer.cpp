#include "optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "../core/errors.hpp"

namespace tg::optim {

namespace detail {

void require_non_negative(const char* optimiser, const char* what, double value) {
  if (!(value >= 0.0)) fail(optimiser, "invalid {} {} (must be >= 0)", what, value);
}

void require_unit_interval(const char* optimiser, const char* what, double value) {
  if (!(value >= 0.0 && value < 1.0)) fail(optimiser, "invalid {} {} (must be in [0, 1))", what, value);
}

}  // namespace detail

OptimizerBase::OptimizerBase(std::string name, double lr) : name_(std::move(name)), lr_(lr) {
  detail::require_non_negative(name_.c_str(), "learning rate", lr);
}

void OptimizerBase::set_lr(double lr) {
  detail::require_non_negative(name_.c_str(), "learning rate", lr);
  lr_ = lr;
}

namespace {

// Refuses an empty list (as PyTorch does: almost always a model whose parameters were not
// registered) and undefined handles; drops repeats (a parameter updated twice per step would be wrong).
template <class T>
std::vector<Variable<T>> unique_params(const std::string& optimiser, std::vector<Variable<T>> params) {
  if (params.empty()) fail(optimiser.c_str(), "got an empty parameter list");
  std::vector<Variable<T>> out;
  std::unordered_set<const void*> seen;
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (!params[i].defined()) fail(optimiser.c_str(), "parameter {} is an undefined Variable", i);
    if (seen.insert(params[i].impl().get()).second) out.push_back(std::move(params[i]));
  }
  return out;
}

}  // namespace

template <class T>
Optimizer<T>::Optimizer(std::string name, std::vector<Variable<T>> params, double lr)
    : OptimizerBase(std::move(name), lr), params_(unique_params(this->name(), std::move(params))),
      states_(params_.size()) {}

template <class T>
void Optimizer<T>::zero_grad() {
  for (auto& p : params_) p.zero_grad();
}

template <class T>
const Tensor<T>* Optimizer<T>::grad_of(std::size_t i) const {
  const Variable<T>& p = params_[i];
  if (!p.has_grad()) return nullptr;
  const Tensor<T>& g = p.grad();
  if (g.shape() != p.value().shape()) {
    fail(name().c_str(), "parameter {} has shape {} but its gradient has shape {}", i,
         format_shape(p.value().shape()), format_shape(g.shape()));
  }
  return &g;
}

template <class T>
Tensor<T>* Optimizer<T>::find_buffer(std::size_t i, const std::string& buffer) {
  auto& buffers = states_[i].buffers;
  auto it = buffers.find(buffer);
  if (it == buffers.end()) return nullptr;
  if (shape_of(it->second) != params_[i].shape()) {
    fail(name().c_str(), "state {}.{} has shape {} but parameter {} now has shape {}", i, buffer,
         format_shape(it->second.shape()), i, format_shape(params_[i].shape()));
  }
  return &it->second;
}

template <class T>
Tensor<T>& Optimizer<T>::buffer(std::size_t i, const std::string& buffer) {
  if (Tensor<T>* b = find_buffer(i, buffer)) return *b;
  return states_[i].buffers[buffer] = xt::zeros<T>(params_[i].shape());
}

template <class T>
typename Optimizer<T>::NamedTensors Optimizer<T>::state() const {
  NamedTensors out;
  for (std::size_t i = 0; i < states_.size(); ++i) {
    const ParamState<T>& s = states_[i];
    if (counts_steps() && s.step > 0) out.emplace_back(fmt::format("{}.step", i), Tensor<T>(static_cast<T>(s.step)));
    for (const auto& [key, value] : s.buffers) out.emplace_back(fmt::format("{}.{}", i, key), value);
  }
  return out;
}

template <class T>
void Optimizer<T>::load_state(const NamedTensors& named) {
  const std::string fn = name() + ".load_state";
  const std::vector<std::string> known = buffer_names();
  std::vector<ParamState<T>> fresh(params_.size());
  for (const auto& [entry, value] : named) {
    const std::size_t dot = entry.find('.');
    const std::string index_text = entry.substr(0, dot == std::string::npos ? 0 : dot);
    if (index_text.empty() || index_text.size() > 9 ||
        !std::all_of(index_text.begin(), index_text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      fail(fn.c_str(), "entry '{}' is not named '<parameter index>.<state name>'", entry);
    }
    const std::size_t index = std::stoul(index_text);
    const std::string key = entry.substr(dot + 1);
    if (index >= params_.size()) {
      fail(fn.c_str(), "entry '{}' names parameter {} but the optimiser has {} parameters", entry, index,
           params_.size());
    }
    if (key == "step" && counts_steps()) {
      const double step = value.size() == 1 ? static_cast<double>(*value.data()) : -1.0;
      if (value.dimension() != 0 || !(step >= 0.0) || step != std::floor(step) || step > 9.0e15) {
        fail(fn.c_str(), "entry '{}' must be a 0-d tensor holding a step count, got shape {} {}", entry,
             format_shape(value.shape()), value.size() == 1 ? fmt::format("value {}", step) : std::string());
      }
      fresh[index].step = static_cast<std::int64_t>(step);
    } else if (std::find(known.begin(), known.end(), key) != known.end()) {
      if (shape_of(value) != params_[index].shape()) {
        fail(fn.c_str(), "entry '{}' has shape {} but parameter {} has shape {}", entry, format_shape(value.shape()),
             index, format_shape(params_[index].shape()));
      }
      fresh[index].buffers[key] = value;
    } else {
      fail(fn.c_str(), "entry '{}': {} keeps no state named '{}' (it keeps: {}{})", entry, name(), key,
           fmt::join(known, ", "), counts_steps() ? ", step" : "");
    }
  }
  states_ = std::move(fresh);
}

template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace tg::optim
