#include "scheduler.hpp"

#include <cmath>

#include "../core/errors.hpp"

namespace tg::optim {

LRScheduler::LRScheduler(OptimizerBase& optimizer)
    : optimizer_(&optimizer), base_lr_(optimizer.lr()), last_lr_(optimizer.lr()) {}

void LRScheduler::apply() {
  last_lr_ = lr_at(epoch_);
  optimizer_->set_lr(last_lr_);
}

void LRScheduler::step() {
  ++epoch_;
  apply();
}

StepLR::StepLR(OptimizerBase& optimizer, std::size_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  if (step_size == 0) fail("StepLR", "step_size must be at least 1, got 0");
  if (!(gamma >= 0.0)) fail("StepLR", "invalid gamma {} (must be >= 0)", gamma);
  apply();
}

double StepLR::lr_at(std::size_t epoch) const {
  return base_lr() * std::pow(gamma_, static_cast<double>(epoch / step_size_));
}

CosineAnnealingLR::CosineAnnealingLR(OptimizerBase& optimizer, std::size_t T_max, double eta_min)
    : LRScheduler(optimizer), t_max_(T_max), eta_min_(eta_min) {
  if (T_max == 0) fail("CosineAnnealingLR", "T_max must be at least 1, got 0");
  if (!(eta_min >= 0.0)) fail("CosineAnnealingLR", "invalid eta_min {} (must be >= 0)", eta_min);
  apply();
}

double CosineAnnealingLR::lr_at(std::size_t epoch) const {
  const double pi = std::acos(-1.0);
  return eta_min_ + (base_lr() - eta_min_) * (1.0 + std::cos(pi * static_cast<double>(epoch) / t_max_)) / 2.0;
}

}  // namespace tg::optim
