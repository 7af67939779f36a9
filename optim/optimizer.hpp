// Optimizer: the base of every optimiser. Holds the parameters, the learning rate and the
// per-parameter state (step counts and named buffers such as "exp_avg") that checkpoints save.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "../core/variable.hpp"

namespace tg::optim {

// What every optimiser shares whatever its element type: the learning rate that schedulers
// read and set, step() and zero_grad().
class OptimizerBase {
 public:
  virtual ~OptimizerBase() = default;

  // Applies one update to every parameter that has a gradient; the others are left alone.
  virtual void step() = 0;
  // Drops every parameter's gradient, like PyTorch's zero_grad(set_to_none=True).
  virtual void zero_grad() = 0;

  double lr() const { return lr_; }
  void set_lr(double lr);  // throws std::invalid_argument unless lr >= 0
  const std::string& name() const { return name_; }  // "SGD", "Adam", ...

 protected:
  OptimizerBase(std::string name, double lr);

 private:
  std::string name_;
  double lr_;
};

// The state an optimiser keeps for one parameter. Buffers have the parameter's shape.
template <class T>
struct ParamState {
  std::int64_t step = 0;                     // updates applied (Adam, RMSprop); SGD leaves it at 0
  std::map<std::string, Tensor<T>> buffers;  // "momentum_buffer", "exp_avg", "exp_avg_sq", ...
};

template <class T = float>
class Optimizer : public OptimizerBase {
 public:
  using NamedTensors = std::vector<std::pair<std::string, Tensor<T>>>;

  void zero_grad() override;
  const std::vector<Variable<T>>& params() const { return params_; }

  // The whole state as named tensors, parameter by parameter in order: "0.step" (a 0-d tensor,
  // present once the optimiser counted a step for parameter 0), then "0.<buffer>" in name order.
  // Parameters without state yet (no gradient seen) are absent, as in PyTorch's state_dict.
  NamedTensors state() const;
  // Replaces the state with `named` (as returned by state()); checks every name, index and
  // shape against this optimiser and its parameters, and changes nothing if one is wrong.
  void load_state(const NamedTensors& named);
  const ParamState<T>& param_state(std::size_t index) const { return states_.at(index); }

 protected:
  // `params` must be non-empty and defined; a parameter listed twice is kept once (its first place).
  Optimizer(std::string name, std::vector<Variable<T>> params, double lr);

  // The buffer names this optimiser keeps, for load_state's checks.
  virtual std::vector<std::string> buffer_names() const = 0;
  // Whether this optimiser counts steps ("i.step" entries).
  virtual bool counts_steps() const = 0;

  // The gradient of parameter i, or nullptr if it has none; throws if its shape differs.
  const Tensor<T>* grad_of(std::size_t i) const;
  // Buffer `buffer` of parameter i, or nullptr if not created yet; throws if its shape no longer
  // matches the parameter's.
  Tensor<T>* find_buffer(std::size_t i, const std::string& buffer);
  // Buffer `buffer` of parameter i, created as zeros of the parameter's shape when missing.
  Tensor<T>& buffer(std::size_t i, const std::string& buffer);

  std::vector<Variable<T>> params_;
  std::vector<ParamState<T>> states_;
};

namespace detail {
// Checks shared by the options of every optimiser: `value` must be >= 0 (and not NaN).
void require_non_negative(const char* optimiser, const char* what, double value);
// `value` must lie in [0, 1).
void require_unit_interval(const char* optimiser, const char* what, double value);

// The part of SGD, Adam and RMSprop that depends only on their options struct: keeping the
// options and reporting them with the current learning rate (which a scheduler may have changed).
// Here rather than in detail/ because the public optimiser headers derive from it.
template <class T, class Options>
class ConfiguredOptimizer : public Optimizer<T> {
 public:
  Options options() const {  // with the current learning rate
    Options o = options_;
    o.lr = this->lr();
    return o;
  }

 protected:
  // `options` must be checked already; its lr becomes the optimiser's starting rate.
  ConfiguredOptimizer(std::string name, std::vector<Variable<T>> params, const Options& options)
      : Optimizer<T>(std::move(name), std::move(params), options.lr), options_(options) {}

  Options options_;  // lr as given at construction; lr() is the current one
};
}  // namespace detail

}  // namespace tg::optim
