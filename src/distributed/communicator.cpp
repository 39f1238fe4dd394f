// The MPI world (OpenMPI here; any MPI-3 library would do): non-blocking sums for gradient buckets,
// blocking ones for scalars. MPI is initialised only when a launcher started more than one rank.
#include <mpi.h>

#include <cstdlib>
#include <mutex>

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

MPI_Datatype mpi_type(const Tensor& buffer) {
  PRIMER_CHECK(buffer.device() == Device::cpu() && buffer.is_contiguous() &&
                   (buffer.dtype() == DType::f32 || buffer.dtype() == DType::f64),
               "all-reduce: {} must be a contiguous f32 or f64 CPU tensor", buffer.describe());
  return buffer.dtype() == DType::f32 ? MPI_FLOAT : MPI_DOUBLE;
}

class MpiReduction final : public PendingReduction {
 public:
  explicit MpiReduction(MPI_Request request) : request_(request) {}
  ~MpiReduction() override {
    if (request_ != MPI_REQUEST_NULL) MPI_Wait(&request_, MPI_STATUS_IGNORE);
  }
  MpiReduction(const MpiReduction&) = delete;
  MpiReduction& operator=(const MpiReduction&) = delete;
  void wait() override { check(MPI_Wait(&request_, MPI_STATUS_IGNORE), "MPI_Wait"); }

 private:
  MPI_Request request_;
};

class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(const Launch& launch) : Communicator(launch) {
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
    MPI_Request request = MPI_REQUEST_NULL;
    check(MPI_Iallreduce(MPI_IN_PLACE, buffer.data_ptr(), static_cast<int>(buffer.numel()), mpi_type(buffer),
                         MPI_SUM, MPI_COMM_WORLD, &request),
          "MPI_Iallreduce");
    return std::make_unique<MpiReduction>(request);
  }

  double sum(double value) override { return reduce(value, MPI_SUM); }
  double max(double value) override { return reduce(value, MPI_MAX); }

  void broadcast(const Tensor& buffer, int root) override {
    check(MPI_Bcast(buffer.data_ptr(), static_cast<int>(buffer.numel()), mpi_type(buffer), root,
                    MPI_COMM_WORLD),
          "MPI_Bcast");
  }

  void barrier() override { check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }

  [[noreturn]] void abort(int exit_code) override {
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::_Exit(exit_code);
  }

 private:
  double reduce(double value, MPI_Op op) {
    double result = 0.0;
    check(MPI_Allreduce(&value, &result, 1, MPI_DOUBLE, op, MPI_COMM_WORLD), "MPI_Allreduce");
    return result;
  }
};

// A world of one: every collective is the identity.
class SingleProcess final : public Communicator {
 public:
  SingleProcess() : Communicator(Launch{}) {}
  std::unique_ptr<PendingReduction> start_sum(const Tensor&) override { return std::make_unique<Done>(); }
  double sum(double value) override { return value; }
  double max(double value) override { return value; }
  void broadcast(const Tensor&, int) override {}
  void barrier() override {}
  [[noreturn]] void abort(int exit_code) override { std::_Exit(exit_code); }

 private:
  struct Done final : PendingReduction {
    void wait() override {}
  };
};

}  // namespace

Communicator& world() {
  static const std::unique_ptr<Communicator> communicator = []() -> std::unique_ptr<Communicator> {
    const Launch launch = detect_launch();
    if (launch.world_size == 1) return std::make_unique<SingleProcess>();
    return std::make_unique<MpiCommunicator>(launch);
  }();
  return *communicator;
}

}  // namespace primer::distributed
