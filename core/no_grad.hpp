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

namespace detail {
// Sets grad mode on this thread to `enabled` while alive (the engine runs a backward with
// recording on exactly when create_graph asks for it).
class GradModeGuard {
 public:
  explicit GradModeGuard(bool enabled);
  ~GradModeGuard();
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool previous_;
};
}  // namespace detail

}  // namespace tg
