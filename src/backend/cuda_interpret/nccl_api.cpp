// NCCL for the interpret mode: float sums, reductions to a root and broadcasts, over the MPI that runs
// the ranks (a world of one needs no MPI). Calls inside ncclGroupStart/ncclGroupEnd run, in order, at
// ncclGroupEnd, as NCCL launches a group; each runs on its stream (stream_queue.h). ncclCommInitRank checks
// that every rank was given the same id. NCCL's own failure modes (a hang when ranks disagree on the calls)
// are not emulated.
#include <mpi.h>
#include <nccl.h>
#include <unistd.h>

#include <cstdio>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "device_memory.h"
#include "stream_queue.h"

struct ncclComm {
  int rank;
  int ranks;
  std::string last_error;
};

namespace primer::interpret {
namespace {

int group_depth = 0;
struct Call {
  cudaStream_t stream;
  std::function<void()> run;
};
std::vector<Call> grouped;

ncclResult_t refuse(ncclComm_t comm, ncclResult_t status, const std::string& why) {
  if (comm != nullptr) comm->last_error = why;
  return status;
}

// A collective runs on its stream (stream_queue.h); inside a group, once the group ends.
ncclResult_t run_or_queue(cudaStream_t stream, std::function<void()> run) {
  if (group_depth > 0) {
    grouped.push_back({stream, std::move(run)});
  } else {
    enqueue(stream, std::move(run));
  }
  return ncclSuccess;
}

bool float_sum(ncclComm_t comm, ncclDataType_t type, ncclRedOp_t op) {
  if (type == ncclFloat && op == ncclSum) return true;
  comm->last_error = "the interpret mode emulates float sums only";
  return false;
}

bool on_device(const void* pointer, std::size_t count) {
  if (pointer == nullptr) return count == 0;
  const auto allocation = device_allocation_of(pointer);
  return allocation &&
         static_cast<const char*>(pointer) + count * sizeof(float) <= allocation->begin + allocation->bytes;
}

int mpi_count(std::size_t count) {
  return static_cast<int>(count);
}

}  // namespace
}  // namespace primer::interpret

using namespace primer::interpret;

const char* ncclGetErrorString(ncclResult_t result) {
  switch (result) {
    case ncclSuccess: return "no error";
    case ncclSystemError: return "unhandled system error";
    case ncclInvalidArgument: return "invalid argument";
    case ncclInvalidUsage: return "invalid usage";
    default: return "unhandled error";
  }
}

const char* ncclGetLastError(ncclComm_t comm) {
  return comm != nullptr ? comm->last_error.c_str() : "";
}

ncclResult_t ncclGetUniqueId(ncclUniqueId* id) {
  std::memset(id->internal, 0, sizeof(id->internal));
  int mpi_ready = 0;
  MPI_Initialized(&mpi_ready);
  int rank = 0;
  if (mpi_ready) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::snprintf(id->internal, sizeof(id->internal), "primer-interpret-nccl pid %d rank %d",
                static_cast<int>(getpid()), rank);
  return ncclSuccess;
}

ncclResult_t ncclCommInitRank(ncclComm_t* comm, int ranks, ncclUniqueId id, int rank) {
  if (ranks < 1 || rank < 0 || rank >= ranks) return ncclInvalidArgument;
  if (ranks > 1) {
    int mpi_ready = 0, world = 0;
    MPI_Initialized(&mpi_ready);
    if (!mpi_ready) return ncclInvalidUsage;
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    if (world != ranks) return ncclInvalidUsage;
    std::vector<char> ids(static_cast<std::size_t>(ranks) * sizeof(id.internal));
    MPI_Allgather(id.internal, sizeof(id.internal), MPI_CHAR, ids.data(), sizeof(id.internal), MPI_CHAR,
                  MPI_COMM_WORLD);
    for (int other = 0; other < ranks; ++other) {
      if (std::memcmp(ids.data() + other * sizeof(id.internal), id.internal, sizeof(id.internal)) != 0) {
        return ncclInvalidArgument;  // ranks were given different ids
      }
    }
  }
  *comm = new ncclComm{rank, ranks, ""};
  return ncclSuccess;
}

ncclResult_t ncclCommDestroy(ncclComm_t comm) {
  delete comm;
  return ncclSuccess;
}

ncclResult_t ncclGroupStart() {
  ++group_depth;
  return ncclSuccess;
}

ncclResult_t ncclGroupEnd() {
  if (group_depth == 0) return ncclInvalidUsage;
  if (--group_depth > 0) return ncclSuccess;
  std::vector<Call> calls;
  calls.swap(grouped);
  for (Call& call : calls) enqueue(call.stream, std::move(call.run));
  return ncclSuccess;
}

ncclResult_t ncclAllReduce(const void* send, void* receive, std::size_t count, ncclDataType_t type,
                           ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream) {
  if (!float_sum(comm, type, op)) return ncclInvalidArgument;
  if (!on_device(send, count) || !on_device(receive, count)) {
    return refuse(comm, ncclInvalidArgument, "ncclAllReduce: a buffer is not in device memory");
  }
  return run_or_queue(stream, [=] {
    const DeviceAccess access;
    if (comm->ranks == 1) {
      if (send != receive) std::memmove(receive, send, count * sizeof(float));
    } else {
      MPI_Allreduce(send == receive ? MPI_IN_PLACE : send, receive, mpi_count(count), MPI_FLOAT, MPI_SUM,
                    MPI_COMM_WORLD);
    }
  });
}

ncclResult_t ncclReduce(const void* send, void* receive, std::size_t count, ncclDataType_t type,
                        ncclRedOp_t op, int root, ncclComm_t comm, cudaStream_t stream) {
  if (!float_sum(comm, type, op)) return ncclInvalidArgument;
  if (root < 0 || root >= comm->ranks)
    return refuse(comm, ncclInvalidArgument, "ncclReduce: root out of range");
  if (!on_device(send, count) || (comm->rank == root && !on_device(receive, count))) {
    return refuse(comm, ncclInvalidArgument, "ncclReduce: a buffer is not in device memory");
  }
  return run_or_queue(stream, [=] {
    const DeviceAccess access;
    if (comm->ranks == 1) {
      if (send != receive) std::memmove(receive, send, count * sizeof(float));
    } else {
      const bool in_place = comm->rank == root && send == receive;
      MPI_Reduce(in_place ? MPI_IN_PLACE : send, receive, mpi_count(count), MPI_FLOAT, MPI_SUM, root,
                 MPI_COMM_WORLD);
    }
  });
}

ncclResult_t ncclBroadcast(const void* send, void* receive, std::size_t count, ncclDataType_t type, int root,
                           ncclComm_t comm, cudaStream_t stream) {
  if (type != ncclFloat)
    return refuse(comm, ncclInvalidArgument, "the interpret mode broadcasts floats only");
  if (root < 0 || root >= comm->ranks)
    return refuse(comm, ncclInvalidArgument, "ncclBroadcast: root out of range");
  if ((comm->rank == root && !on_device(send, count)) || !on_device(receive, count)) {
    return refuse(comm, ncclInvalidArgument, "ncclBroadcast: a buffer is not in device memory");
  }
  return run_or_queue(stream, [=] {
    const DeviceAccess access;
    if (comm->rank == root && send != receive) std::memmove(receive, send, count * sizeof(float));
    if (comm->ranks > 1) MPI_Bcast(receive, mpi_count(count), MPI_FLOAT, root, MPI_COMM_WORLD);
  });
}
