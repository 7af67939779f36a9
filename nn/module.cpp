#include "module.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

namespace tg::nn::detail {

std::string class_name(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status),
                                                   std::free);
  std::string name = status == 0 && demangled ? demangled.get() : type.name();
  const std::size_t angle = name.find('<');
  if (angle != std::string::npos) name.erase(angle);    // template arguments
  const std::size_t colon = name.rfind("::");
  if (colon != std::string::npos) name.erase(0, colon + 2);  // namespaces
  return name;
}

}  // namespace tg::nn::detail
