// NoGradGuard: while one is alive on this thread, ops record nothing on the tape.
#pragma once

namespace tg {

bool grad_enabled();  // false while a NoGradGuard is alive on this thread

class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace tg
