#pragma once
// ThreadSanitizer as the interpret mode's race checker (a build with -DPRIMER_SANITIZE_THREAD=ON, as
// compute-sanitizer's racecheck on a GPU): every emulated CUDA thread is a TSan fiber of its own, switched
// to without synchronising, so two threads' accesses are ordered only by what orders them on a GPU:
// __syncthreads and warp steps (a release by each arriving thread, an acquire by each released one) and
// the launch itself (the host's work before it, after it). The scheduler's bookkeeping is not checked.
// Blocks run one after another and share the static shared memory, so the checker orders each block
// after the one before it: races between blocks (in global memory) are not looked for, as racecheck's are
// not. Elsewhere every function here does nothing.
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>

extern "C" {
void AnnotateIgnoreReadsBegin(const char* file, int line);
void AnnotateIgnoreReadsEnd(const char* file, int line);
void AnnotateIgnoreWritesBegin(const char* file, int line);
void AnnotateIgnoreWritesEnd(const char* file, int line);
}
#endif

namespace primer::interpret::race_check {

#if defined(__SANITIZE_THREAD__)
constexpr bool kEnabled = true;
inline void* current_context() {
  return __tsan_get_current_fiber();
}
inline void* new_context() {
  return __tsan_create_fiber(0);
}
// Called right before the stack switch that makes `context` the running one.
inline void switching_to(void* context) {
  __tsan_switch_to_fiber(context, __tsan_switch_to_fiber_no_sync);
}
inline void release(const void* token) {
  __tsan_release(const_cast<void*>(token));
}
inline void acquire(const void* token) {
  __tsan_acquire(const_cast<void*>(token));
}
// While one exists, the running context's accesses are not checked.
class Unchecked {
 public:
  Unchecked() {
    AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
    AnnotateIgnoreWritesBegin(__FILE__, __LINE__);
  }
  ~Unchecked() {
    AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
    AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
  }
  Unchecked(const Unchecked&) = delete;
  Unchecked& operator=(const Unchecked&) = delete;
};
#else
constexpr bool kEnabled = false;
inline void* current_context() {
  return nullptr;
}
inline void* new_context() {
  return nullptr;
}
inline void switching_to(void*) {}
inline void release(const void*) {}
inline void acquire(const void*) {}
class Unchecked {
 public:
  // User-provided, as in the checking build, so a scope holding one is not an unused variable.
  Unchecked() {}
  ~Unchecked() {}
  Unchecked(const Unchecked&) = delete;
  Unchecked& operator=(const Unchecked&) = delete;
};
#endif

}  // namespace primer::interpret::race_check
