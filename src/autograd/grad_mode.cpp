#include "primer/autograd/grad_mode.h"

namespace primer {
namespace {
thread_local bool recording = true;
}  // namespace

bool grad_enabled() {
  return recording;
}

NoGradGuard::NoGradGuard() : previous_(recording) {
  recording = false;
}
NoGradGuard::~NoGradGuard() {
  recording = previous_;
}

}  // namespace primer
