#include "serialize.hpp"

#include <fmt/format.h>

#include "../core/errors.hpp"
#include "../core/detail/instantiate.hpp"
#include "../core/npz.hpp"

namespace tg::nn {
namespace {

// What a checkpoint holds: every parameter, then every buffer, by dotted name (PyTorch's state_dict).
template <class T>
typename Module<T>::NamedParameters state_of(const Module<T>& module) {
  auto named = module.named_parameters();
  for (auto& entry : module.named_buffers()) named.push_back(std::move(entry));
  return named;
}

}  // namespace

template <class T>
void save(const Module<T>& module, const std::string& path) {
  std::vector<std::pair<std::string, Tensor<T>>> arrays;
  for (const auto& [name, p] : state_of(module)) arrays.emplace_back(name, p.value());
  write_npz(path, arrays);
}

template <class T>
void load(Module<T>& module, const std::string& path) {
  NpzEntries entries = read_npz(path);
  auto named = state_of(module);

  std::vector<std::string> problems;
  for (const auto& [name, p] : named) {
    auto found = entries.find(name);
    if (found == entries.end()) {
      problems.push_back(fmt::format("missing \"{}\" {}", name, format_shape(p.shape())));
    } else if (found->second.shape() != p.shape()) {
      problems.push_back(fmt::format("\"{}\" has shape {} in the file but {} in the module", name,
                                     format_shape(found->second.shape()), format_shape(p.shape())));
    }
  }
  for (const auto& [name, array] : entries) {
    bool known = false;
    for (const auto& entry : named) known = known || entry.first == name;
    if (!known) problems.push_back(fmt::format("unexpected \"{}\" {}", name, format_shape(array.shape())));
  }
  if (!problems.empty()) {
    fail("load", "{} does not match the module ({} problem{}; nothing was loaded): {}", path, problems.size(),
         problems.size() == 1 ? "" : "s", fmt::join(problems, "; "));
  }
  for (auto& [name, p] : named) p.value() = entries.at(name).template to<T>();
}

#define TG_FUNCTIONS(T)                                         \
  template void save<T>(const Module<T>&, const std::string&); \
  template void load<T>(Module<T>&, const std::string&);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg::nn
