// Anomaly mode, like PyTorch's detect_anomaly: finds the first op that makes a NaN or an Inf.
//
//   {
//     tg::AnomalyGuard anomaly;            // on for this thread while alive
//     tg::Variable<double> loss = f(x);     // throws at the first op whose output holds NaN/Inf
//     loss.backward();                      // throws at the first op whose gradient does
//   }
#pragma once

#include <string>
#include <vector>

#include "variable.hpp"

namespace tg {

bool anomaly_enabled();  // true while an AnomalyGuard(true) is the innermost one alive on this thread

// RAII: while alive, the first op whose forward output, or whose backward gradient for one of its
// inputs, holds a NaN or an Inf throws std::runtime_error naming the op, its input shapes, and
// "forward" or "backward". AnomalyGuard(false) turns the checks off again inside an outer guard.
// When no guard is alive the checks cost one thread_local bool test per op.
class AnomalyGuard {
 public:
  explicit AnomalyGuard(bool enabled = true);
  ~AnomalyGuard();
  AnomalyGuard(const AnomalyGuard&) = delete;
  AnomalyGuard& operator=(const AnomalyGuard&) = delete;
  bool was_enabled() const { return previous_; }  // the state this guard replaced

 private:
  bool previous_;
};

}  // namespace tg
