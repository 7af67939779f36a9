#include "no_grad.hpp"

namespace tg {
namespace {
thread_local bool enabled = true;
}

bool grad_enabled() { return enabled; }

NoGradGuard::NoGradGuard() : previous_(enabled) { enabled = false; }
NoGradGuard::~NoGradGuard() { enabled = previous_; }

namespace detail {
GradModeGuard::GradModeGuard(bool on) : previous_(enabled) { enabled = on; }
GradModeGuard::~GradModeGuard() { enabled = previous_; }
}  // namespace detail

}  // namespace tg
