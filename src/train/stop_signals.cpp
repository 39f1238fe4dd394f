#include "primer/train/stop_signals.h"

#include <pthread.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "primer/core/error.h"

namespace primer::train {
namespace {

std::atomic<int> received_signal{0};
std::atomic<bool> run_listening{false};

extern "C" void request_stop(int signal) {
  received_signal.store(signal);
}

sigset_t stop_signal_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// Takes every SIGINT and SIGTERM sent to the process. Outside a run, one ends the process as the default
// action would: this thread unblocks it and raises it at itself with the default action back in place.
void take_stop_signals(sigset_t set) {
  for (;;) {
    int signal = 0;
    if (sigwait(&set, &signal) != 0) continue;
    if (run_listening.load()) {
      request_stop(signal);
      continue;
    }
    std::signal(signal, SIG_DFL);
    sigset_t single;
    sigemptyset(&single);
    sigaddset(&single, signal);
    pthread_sigmask(SIG_UNBLOCK, &single, nullptr);
    pthread_kill(pthread_self(), signal);
  }
}

}  // namespace

void take_stop_signals_on_their_own_thread() {
  const sigset_t set = stop_signal_set();
  const int status = pthread_sigmask(SIG_BLOCK, &set, nullptr);
  PRIMER_CHECK(status == 0, "blocking SIGINT and SIGTERM failed (pthread_sigmask: {})", status);
  // OpenMP's threads exist already (the CPU backend sets each one's MXCSR before main): they block the
  // signals too.
#pragma omp parallel
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread(take_stop_signals, set).detach();
}

StopRequests::StopRequests()
    : previous_interrupt_(std::signal(SIGINT, request_stop)),
      previous_terminate_(std::signal(SIGTERM, request_stop)) {
  received_signal.store(0);
  run_listening.store(true);
}

StopRequests::~StopRequests() {
  run_listening.store(false);
  std::signal(SIGINT, previous_interrupt_);
  std::signal(SIGTERM, previous_terminate_);
}

int StopRequests::signal() const {
  return received_signal.load();
}

}  // namespace primer::train
