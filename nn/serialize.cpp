#include "serialize.hpp"

#include <fmt/format.h>

#include "../core/errors.hpp"
#include "../core/npz.hpp"

namespace tg::nn {

template <class T>
void save(const Module<T>& module, const std::string& path) {
  std::vector<std::pair<std::string, Tensor<T>>> arrays;
  for (const auto& [name, p] : module.named_parameters()) arrays.emplace_back(name, p.value());
  write_npz(path, arrays);
}

template <class T>
void load(Module<T>& module, const std::string& path) {
  NpzEntries entries = read_npz(path);
  auto named = module.named_parameters();

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

// Explicit instantiations for float and double.
template void save<float>(const Module<float>&, const std::string&);
template void save<double>(const Module<double>&, const std::string&);
template void load<float>(Module<float>&, const std::string&);
template void load<double>(Module<double>&, const std::string&);

}  // namespace tg::nn
