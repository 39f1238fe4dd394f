#pragma once
// How SIGINT and SIGTERM (Ctrl-C, Slurm's warning before a time limit or preemption) reach a training
// run: they ask it to stop after its step, checkpoint and exit with 128 + the signal (Trainer::run).
//
// A process that calls take_stop_signals_on_their_own_thread() first thing in main() blocks them in
// every thread and takes them on one thread of its own (sigwait), so no signal frame is ever pushed onto
// a computing thread. That matters: oneDNN 2.x's JIT f32 GEMM kernels point rsp into a heap workspace
// while they run, so a handler taken there writes its frame over the heap and the process later dies in
// malloc or free (uxlfoundation/oneDNN#4845, fixed upstream by #4855, not in Debian 12's oneDNN 2.6).
// Other processes (tests, programs embedding the trainer) hear the signals through a plain handler.
namespace primer::train {

// Blocks SIGINT and SIGTERM in the calling thread and OpenMP's, and so in every thread started after it
// (MPI's, NCCL's), and starts the thread that takes them. While a StopRequests exists a signal asks the
// run to stop; otherwise it ends the process as it would have. Call it in main() before any thread other
// than OpenMP's exists.
void take_stop_signals_on_their_own_thread();

// For its lifetime, SIGINT and SIGTERM ask the run to stop instead of ending the process; signal() is the
// last one received, 0 before any. One at a time.
class StopRequests {
 public:
  StopRequests();
  ~StopRequests();
  StopRequests(const StopRequests&) = delete;
  StopRequests& operator=(const StopRequests&) = delete;

  int signal() const;

 private:
  void (*previous_interrupt_)(int);
  void (*previous_terminate_)(int);
};

}  // namespace primer::train
