#pragma once
// The processes of a data-parallel run and what they exchange. A process started without a launcher is a
// world of one and exchanges nothing (MPI is not even initialised). Under `mpirun` (OpenMPI) or `srun`
// (Slurm with PMIx) each process is one rank of an MPI world: the launcher's environment says which, and
// the collectives are MPI's. Every collective here is deterministic: ranks receive the same bits, and a
// run's results do not depend on timing.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "primer/tensor/tensor.h"

namespace primer::distributed {

// The exit status of a rank whose collective timed out.
inline constexpr int kCollectiveTimeoutExit = 3;

struct Launch {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;             // among the ranks of this machine: the GPU a rank takes
  std::string launcher = "none";  // "mpirun", "srun" or "none"
  std::string host;               // this machine's name
};

// What the environment says about how this process was started (OMPI_COMM_WORLD_*, PMIX_*/SLURM_*).
Launch detect_launch();

// A reduction in flight; wait() returns once its result is in place.
class PendingReduction {
 public:
  virtual ~PendingReduction() = default;
  virtual void wait() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  const Launch& launch() const { return launch_; }
  int rank() const { return launch_.rank; }
  int world_size() const { return launch_.world_size; }

  // Starts summing a contiguous buffer over all ranks, in place: f32 or f64 on the CPU (MPI), f32 on the
  // GPU (NCCL, whose wait queues the GPU's work behind it and returns at once). The buffer must outlive
  // the wait. Started reductions complete in the order they were started.
  virtual std::unique_ptr<PendingReduction> start_sum(const Tensor& buffer) = 0;
  // Starts a reduce-scatter: `buffer` (contiguous f32, CPU or GPU) is split into consecutive segments of
  // counts[r] elements, one per rank, and rank r's `segment_sum` (counts[rank] elements) receives the sum
  // over all ranks of segment r. Both must outlive the wait.
  virtual std::unique_ptr<PendingReduction> start_reduce_scatter(const Tensor& buffer,
                                                                 const std::vector<std::int64_t>& counts,
                                                                 const Tensor& segment_sum) = 0;
  // The inverse: segment r of every rank's `buffer` (split as above) becomes rank r's segment r.
  virtual void all_gather(const Tensor& buffer, const std::vector<std::int64_t>& counts) = 0;
  // Every rank's text, in rank order, on every rank (where each rank runs, for the log).
  virtual std::vector<std::string> gather_text(const std::string& text) = 0;
  // The sum of one number over all ranks (losses, counts, a stop flag).
  virtual double sum(double value) = 0;
  virtual double max(double value) = 0;
  // Every rank's copy of buffer becomes root's.
  virtual void broadcast(const Tensor& buffer, int root) = 0;
  virtual void barrier() = 0;
  // A collective that waits longer than this ends the job (exit status kCollectiveTimeoutExit) with an
  // error naming the call and this rank: a stuck or dead peer must not hang the job forever. 0: wait
  // forever.
  virtual void set_timeout(double seconds) = 0;
  // Ends every rank of the job at once: what a rank that fails does, so the others do not wait for it
  // in their next collective forever.
  [[noreturn]] virtual void abort(int exit_code) = 0;

 protected:
  explicit Communicator(Launch launch) : launch_(std::move(launch)) {}

 private:
  Launch launch_;
};

// Whether this build can reduce GPU buffers (it has NCCL).
bool device_collectives_built();

// The process's communicator, made on first use from detect_launch(): MPI when a launcher started more
// than one rank (and then each rank sees only the GPU local_rank: call it before any CUDA work), a
// world of one otherwise.
Communicator& world();

}  // namespace primer::distributed
