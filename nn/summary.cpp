#include "summary.hpp"

#include <fmt/format.h>

#include "../core/errors.hpp"
#include "../core/no_grad.hpp"
#include "sequential.hpp"

namespace tg::nn {
namespace {

// 235146 -> "235,146"
std::string with_commas(std::size_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

struct Row {
  std::string layer, shape;
  std::size_t params;
};

}  // namespace

template <class T>
std::size_t parameter_count(const Module<T>& module) {
  std::size_t n = 0;
  for (const auto& p : module.parameters()) n += p.size();
  return n;
}

template <class T>
std::string summary(Module<T>& module, const Shape& input_shape) {
  const bool was_training = module.is_training();
  module.eval();
  NoGradGuard no_grad;
  std::vector<Row> rows;
  Variable<T> x(Tensor<T>(xt::zeros<T>(input_shape)));
  try {
    if (auto* seq = dynamic_cast<Sequential<T>*>(&module)) {
      for (const auto& [name, child] : seq->children()) {
        x = child->forward(x);
        rows.push_back({fmt::format("{} ({})", name, child->describe()), format_shape(x.shape()), parameter_count(*child)});
      }
    } else {
      x = module.forward(x);
      rows.push_back({module.describe(), format_shape(x.shape()), parameter_count(module)});
    }
  } catch (...) {
    module.train(was_training);
    throw;
  }
  module.train(was_training);

  std::size_t w0 = std::string("Layer (type)").size(), w1 = std::string("Output shape").size();
  for (const auto& r : rows) {
    w0 = std::max(w0, r.layer.size());
    w1 = std::max(w1, r.shape.size());
  }
  const std::string rule(w0 + w1 + 16, '=');
  std::string out = fmt::format("Input shape: {}\n{}\n{:<{}}  {:<{}}  {:>12}\n{}\n", format_shape(input_shape), rule,
                                "Layer (type)", w0, "Output shape", w1, "Param #", rule);
  for (const auto& r : rows) out += fmt::format("{:<{}}  {:<{}}  {:>12}\n", r.layer, w0, r.shape, w1, with_commas(r.params));
  std::size_t trainable = 0;
  for (const auto& p : module.parameters()) trainable += p.requires_grad() ? p.size() : 0;
  const std::size_t total = parameter_count(module);
  out += fmt::format("{}\nTotal params: {}\nTrainable params: {}\nNon-trainable params: {}\n", rule, with_commas(total),
                     with_commas(trainable), with_commas(total - trainable));
  return out;
}

// Explicit instantiations for float and double.
template std::size_t parameter_count<float>(const Module<float>&);
template std::size_t parameter_count<double>(const Module<double>&);
template std::string summary<float>(Module<float>&, const Shape&);
template std::string summary<double>(Module<double>&, const Shape&);

}  // namespace tg::nn
