// Learning-rate schedulers: call step() once per epoch, after that epoch's optimiser steps.
// A scheduler keeps a reference to its optimiser, which must outlive it (as in PyTorch).
#pragma once

#include <cstddef>

#include "optimizer.hpp"

namespace tg::optim {

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  // Advances one epoch and sets the optimiser's learning rate for it.
  void step();
  // The rate the optimiser has now (PyTorch returns a list, one per parameter group; there is one group here).
  double get_last_lr() const { return last_lr_; }
  std::size_t last_epoch() const { return epoch_; }
  double base_lr() const { return base_lr_; }  // the optimiser's rate when the scheduler was made

 protected:
  explicit LRScheduler(OptimizerBase& optimizer);
  // The learning rate at `epoch` (closed form; epoch 0 gives base_lr()).
  virtual double lr_at(std::size_t epoch) const = 0;
  void apply();  // sets the optimiser's rate to lr_at(epoch_)

 private:
  OptimizerBase* optimizer_;
  double base_lr_;
  std::size_t epoch_ = 0;
  double last_lr_;
};

// lr = base_lr * gamma^(epoch / step_size) (integer division), torch.optim.lr_scheduler.StepLR.
class StepLR : public LRScheduler {
 public:
  StepLR(OptimizerBase& optimizer, std::size_t step_size, double gamma = 0.1);

 protected:
  double lr_at(std::size_t epoch) const override;

 private:
  std::size_t step_size_;
  double gamma_;
};

// lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2,
// torch.optim.lr_scheduler.CosineAnnealingLR's closed form (periodic beyond T_max).
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(OptimizerBase& optimizer, std::size_t T_max, double eta_min = 0.0);

 protected:
  double lr_at(std::size_t epoch) const override;

 private:
  std::size_t t_max_;
  double eta_min_;
};

}  // namespace tg::optim
