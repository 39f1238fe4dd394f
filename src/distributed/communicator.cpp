// The MPI world (OpenMPI here; any MPI-3 library would do): non-blocking sums for gradient buckets,
// blocking ones for scalars; buffers on the GPU go through the device collectives (NCCL), whose group
// identity travels over MPI. MPI is initialised only when a launcher started more than one rank.
#include <mpi.h>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <thread>

#include "distributed/device_collectives.h"
#include "primer/core/error.h"
#include "primer/core/logging.h"
#include "primer/distributed/communicator.h"

namespace primer::distributed {
namespace {

void check(int status, const char* call) {
  if (status == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(status, text, &length);
  PRIMER_FAIL("MPI: {} failed: {}", call, std::string(text, static_cast<std::size_t>(length)));
}

bool on_gpu(const Tensor& buffer) {
  return buffer.device().kind == DeviceKind::cuda;
}

MPI_Datatype mpi_type(const Tensor& buffer) {
  PRIMER_CHECK(buffer.device() == Device::cpu() && buffer.is_contiguous() &&
                   (buffer.dtype() == DType::f32 || buffer.dtype() == DType::f64),
               "all-reduce: {} must be a contiguous f32 or f64 CPU tensor", buffer.describe());
  return buffer.dtype() == DType::f32 ? MPI_FLOAT : MPI_DOUBLE;
}

int mpi_count(std::int64_t elements) {
  PRIMER_CHECK(elements <= std::numeric_limits<int>::max(),
               "MPI: {} elements in one collective exceed MPI's int counts; lower distributed.bucket_mb",
               elements);
  return static_cast<int>(elements);
}

// MPI has no timeouts: a peer that stops answering leaves the others in a collective forever. The
// watchdog's thread ends the process when one call has waited past the timeout (as PyTorch's NCCL
// watchdog does); the launcher then ends the job. It only reads the clock and exits, never calls MPI,
// so MPI's single-threaded mode stays valid.
class CollectiveWatchdog {
 public:
  CollectiveWatchdog(int rank, int world_size) : rank_(rank), world_size_(world_size) {}

  void set_timeout(double seconds) {
    timeout_ns_.store(static_cast<std::int64_t>(seconds * 1e9));
    if (seconds > 0 && !thread_.joinable())
      thread_ = std::jthread([this](std::stop_token stop) { watch(stop); });
  }

  // Marks one collective call as waiting for its lifetime.
  class Watch {
   public:
    Watch(CollectiveWatchdog& watchdog, const char* call) : watchdog_(watchdog) {
      watchdog_.started_ns_.store(now_ns());
      watchdog_.call_.store(call);
    }
    ~Watch() { watchdog_.call_.store(nullptr); }
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;

   private:
    CollectiveWatchdog& watchdog_;
  };

 private:
  static std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  void watch(const std::stop_token& stop) {
    std::mutex mutex;
    std::condition_variable_any wake;
    std::unique_lock lock(mutex);
    while (!stop.stop_requested()) {
      wake.wait_for(lock, stop, std::chrono::milliseconds(200), [] { return false; });
      const char* call = call_.load();
      const std::int64_t timeout = timeout_ns_.load();
      if (call == nullptr || timeout <= 0 || now_ns() - started_ns_.load() <= timeout) continue;
      std::fputs(fmt::format("primer-train: rank {} of {}: {} waited more than {:.0f} s for the other ranks "
                             "(distributed.timeout_seconds): one of them is stuck or dead; ending the job\n",
                             rank_, world_size_, call, static_cast<double>(timeout) / 1e9)
                     .c_str(),
                 stderr);
      std::fflush(stderr);
      std::_Exit(kCollectiveTimeoutExit);
    }
  }

  int rank_;
  int world_size_;
  std::atomic<const char*> call_{nullptr};
  std::atomic<std::int64_t> started_ns_{0};
  std::atomic<std::int64_t> timeout_ns_{0};
  std::jthread thread_;  // last: stops and joins before the members it reads go
};

class MpiReduction final : public PendingReduction {
 public:
  MpiReduction(MPI_Request request, CollectiveWatchdog& watchdog) : request_(request), watchdog_(watchdog) {}
  ~MpiReduction() override {
    if (request_ != MPI_REQUEST_NULL) MPI_Wait(&request_, MPI_STATUS_IGNORE);
  }
  MpiReduction(const MpiReduction&) = delete;
  MpiReduction& operator=(const MpiReduction&) = delete;
  void wait() override {
    const CollectiveWatchdog::Watch watch(watchdog_, "MPI_Wait (gradient reduction)");
    check(MPI_Wait(&request_, MPI_STATUS_IGNORE), "MPI_Wait");
  }

 private:
  MPI_Request request_;
  CollectiveWatchdog& watchdog_;
};

class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(const Launch& launch)
      : Communicator(launch), watchdog_(launch.rank, launch.world_size) {
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    // Errors come back as statuses (and become exceptions) instead of killing the process silently.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int rank = 0, size = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    PRIMER_CHECK(rank == launch.rank && size == launch.world_size,
                 "MPI says rank {} of {}, but the {} environment said rank {} of {}", rank, size,
                 launch.launcher, launch.rank, launch.world_size);
  }
  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized == 0) MPI_Finalize();
  }
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  std::unique_ptr<PendingReduction> start_sum(const Tensor& buffer) override {
    if (on_gpu(buffer)) return device().start_sum(buffer);
    MPI_Request request = MPI_REQUEST_NULL;
    check(MPI_Iallreduce(MPI_IN_PLACE, buffer.data_ptr(), mpi_count(buffer.numel()), mpi_type(buffer),
                         MPI_SUM, MPI_COMM_WORLD, &request),
          "MPI_Iallreduce");
    return std::make_unique<MpiReduction>(request, watchdog_);
  }

  std::unique_ptr<PendingReduction> start_reduce_scatter(const Tensor& buffer,
                                                         const std::vector<std::int64_t>& counts,
                                                         const Tensor& segment_sum) override {
    const std::vector<int> sizes = segment_sizes(buffer, counts);
    if (on_gpu(buffer)) return device().start_reduce_scatter(buffer, counts, segment_sum);
    PRIMER_CHECK(segment_sum.numel() == counts[static_cast<std::size_t>(rank())] &&
                     mpi_type(segment_sum) == mpi_type(buffer),
                 "reduce-scatter: rank {} receives {} elements into {}", rank(),
                 counts[static_cast<std::size_t>(rank())], segment_sum.describe());
    MPI_Request request = MPI_REQUEST_NULL;
    check(MPI_Ireduce_scatter(buffer.data_ptr(), segment_sum.data_ptr(), sizes.data(), mpi_type(buffer),
                              MPI_SUM, MPI_COMM_WORLD, &request),
          "MPI_Ireduce_scatter");
    return std::make_unique<MpiReduction>(request, watchdog_);
  }

  void all_gather(const Tensor& buffer, const std::vector<std::int64_t>& counts) override {
    const std::vector<int> sizes = segment_sizes(buffer, counts);
    if (on_gpu(buffer)) return device().all_gather(buffer, counts);
    std::vector<int> offsets(sizes.size(), 0);
    for (std::size_t r = 1; r < sizes.size(); ++r) offsets[r] = offsets[r - 1] + sizes[r - 1];
    const CollectiveWatchdog::Watch watch(watchdog_, "MPI_Allgatherv");
    check(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buffer.data_ptr(), sizes.data(), offsets.data(),
                         mpi_type(buffer), MPI_COMM_WORLD),
          "MPI_Allgatherv");
  }

  std::vector<std::string> gather_text(const std::string& text) override {
    const CollectiveWatchdog::Watch watch(watchdog_, "MPI_Allgatherv (text)");
    std::vector<int> lengths(static_cast<std::size_t>(world_size()));
    const int length = mpi_count(static_cast<std::int64_t>(text.size()));
    check(MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, MPI_COMM_WORLD), "MPI_Allgather");
    std::vector<int> offsets(lengths.size(), 0);
    for (std::size_t r = 1; r < lengths.size(); ++r) offsets[r] = offsets[r - 1] + lengths[r - 1];
    std::string all(static_cast<std::size_t>(offsets.back() + lengths.back()), '\0');
    check(MPI_Allgatherv(text.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR,
                         MPI_COMM_WORLD),
          "MPI_Allgatherv");
    std::vector<std::string> texts;
    for (std::size_t r = 0; r < lengths.size(); ++r)
      texts.push_back(all.substr(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(lengths[r])));
    return texts;
  }

  double sum(double value) override { return reduce(value, MPI_SUM); }
  double max(double value) override { return reduce(value, MPI_MAX); }

  void broadcast(const Tensor& buffer, int root) override {
    if (on_gpu(buffer)) return device().broadcast(buffer, root);
    const CollectiveWatchdog::Watch watch(watchdog_, "MPI_Bcast");
    check(MPI_Bcast(buffer.data_ptr(), static_cast<int>(buffer.numel()), mpi_type(buffer), root,
                    MPI_COMM_WORLD),
          "MPI_Bcast");
  }

  void barrier() override {
    const CollectiveWatchdog::Watch watch(watchdog_, "MPI_Barrier");
    check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
  }

  void set_timeout(double seconds) override { watchdog_.set_timeout(seconds); }

  [[noreturn]] void abort(int exit_code) override {
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::_Exit(exit_code);
  }

 private:
  // The ranks' device group, made at the first GPU collective: rank 0's NCCL id goes to all over MPI.
  DeviceCollectives& device() {
    if (device_ == nullptr) {
      PRIMER_CHECK(device_collectives_built(),
                   "data parallelism on GPUs needs NCCL, and this build has none (build with CUDA and NCCL)");
      std::string group_id = rank() == 0 ? new_device_group_id() : std::string();
      auto length = static_cast<int>(group_id.size());
      check(MPI_Bcast(&length, 1, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Bcast");
      group_id.resize(static_cast<std::size_t>(length));
      check(MPI_Bcast(group_id.data(), length, MPI_BYTE, 0, MPI_COMM_WORLD), "MPI_Bcast");
      device_ = join_device_group(group_id, rank(), world_size());
    }
    return *device_;
  }

  std::vector<int> segment_sizes(const Tensor& buffer, const std::vector<std::int64_t>& counts) const {
    PRIMER_CHECK(counts.size() == static_cast<std::size_t>(world_size()), "{} segment sizes for {} ranks",
                 counts.size(), world_size());
    std::vector<int> sizes;
    std::int64_t total = 0;
    for (const std::int64_t count : counts) {
      sizes.push_back(mpi_count(count));
      total += count;
    }
    PRIMER_CHECK(total == buffer.numel() && buffer.is_contiguous(), "segments of {} elements for {}", total,
                 buffer.describe());
    return sizes;
  }

  double reduce(double value, MPI_Op op) {
    const CollectiveWatchdog::Watch watch(watchdog_, "MPI_Allreduce");
    double result = 0.0;
    check(MPI_Allreduce(&value, &result, 1, MPI_DOUBLE, op, MPI_COMM_WORLD), "MPI_Allreduce");
    return result;
  }

  CollectiveWatchdog watchdog_;
  std::unique_ptr<DeviceCollectives> device_;
};

// A world of one: every collective is the identity, except that GPU buffers go through a device group of
// one (what distributed.check_collectives exercises on a single GPU).
class SingleProcess final : public Communicator {
 public:
  SingleProcess() : Communicator(Launch{}) {}
  std::unique_ptr<PendingReduction> start_sum(const Tensor& buffer) override {
    if (on_gpu(buffer)) return device().start_sum(buffer);
    return std::make_unique<Done>();
  }
  std::unique_ptr<PendingReduction> start_reduce_scatter(const Tensor& buffer,
                                                         const std::vector<std::int64_t>& counts,
                                                         const Tensor& segment_sum) override {
    if (on_gpu(buffer)) return device().start_reduce_scatter(buffer, counts, segment_sum);
    segment_sum.copy_from(buffer);
    return std::make_unique<Done>();
  }
  void all_gather(const Tensor& buffer, const std::vector<std::int64_t>& counts) override {
    if (on_gpu(buffer)) device().all_gather(buffer, counts);
  }
  std::vector<std::string> gather_text(const std::string& text) override { return {text}; }
  double sum(double value) override { return value; }
  double max(double value) override { return value; }
  void broadcast(const Tensor& buffer, int root) override {
    if (on_gpu(buffer)) device().broadcast(buffer, root);
  }
  void barrier() override {}
  void set_timeout(double) override {}
  [[noreturn]] void abort(int exit_code) override { std::_Exit(exit_code); }

 private:
  struct Done final : PendingReduction {
    void wait() override {}
  };
  DeviceCollectives& device() {
    if (device_ == nullptr) device_ = join_device_group(new_device_group_id(), 0, 1);
    return *device_;
  }
  std::unique_ptr<DeviceCollectives> device_;
};

// Each rank of a machine takes GPU local_rank: before the CUDA runtime starts, the process is shown only
// that GPU (the local_rank-th of those it was given), so that GPU 0 is its own throughout the code. A
// launcher that already gave each rank one GPU (Slurm's --gpus-per-task) is left alone.
void show_only_own_gpu(int local_rank) {
  const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
  std::vector<std::string> ids;
  for (std::string rest = visible != nullptr ? visible : ""; !rest.empty();) {
    const std::size_t comma = rest.find(',');
    ids.push_back(rest.substr(0, comma));
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
  }
  if (visible == nullptr) {
    setenv("CUDA_VISIBLE_DEVICES", std::to_string(local_rank).c_str(), 1);
  } else if (ids.size() > 1 && static_cast<std::size_t>(local_rank) < ids.size()) {
    setenv("CUDA_VISIBLE_DEVICES", ids[static_cast<std::size_t>(local_rank)].c_str(), 1);
  }
}

}  // namespace

Communicator& world() {
  static const std::unique_ptr<Communicator> communicator = []() -> std::unique_ptr<Communicator> {
    const Launch launch = detect_launch();
    if (launch.world_size == 1) return std::make_unique<SingleProcess>();
    show_only_own_gpu(launch.local_rank);
    return std::make_unique<MpiCommunicator>(launch);
  }();
  return *communicator;
}

}  // namespace primer::distributed
