#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <string>

#include "primer/core/error.h"
#include "primer/distributed/communicator.h"

namespace primer::distributed {
namespace {

// The first of the variables that is set, as a number; -1 when none is.
int first_set(std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (const char* value = std::getenv(name); value != nullptr && *value != '\0') {
      try {
        return std::stoi(value);
      } catch (const std::exception&) {
        PRIMER_FAIL("the launcher set {}={}, which is not a number", name, value);
      }
    }
  }
  return -1;
}

}  // namespace

Launch detect_launch() {
  Launch launch;
  // OpenMPI's mpirun, then Slurm's srun (PMIx, or Slurm's own variables when srun starts us directly).
  if (const int size = first_set({"OMPI_COMM_WORLD_SIZE"}); size > 0) {
    launch.launcher = "mpirun";
    launch.world_size = size;
    launch.rank = first_set({"OMPI_COMM_WORLD_RANK"});
    launch.local_rank = first_set({"OMPI_COMM_WORLD_LOCAL_RANK"});
  } else if (const int tasks = first_set({"PMIX_SIZE", "SLURM_NTASKS"});
             tasks > 0 && std::getenv("SLURM_JOB_ID")) {
    launch.launcher = "srun";
    launch.world_size = tasks;
    launch.rank = first_set({"PMIX_RANK", "SLURM_PROCID"});
    launch.local_rank = first_set({"SLURM_LOCALID"});
  }
  char host[HOST_NAME_MAX + 1] = {};
  launch.host = gethostname(host, sizeof(host) - 1) == 0 ? host : "unknown host";
  PRIMER_CHECK(launch.rank >= 0 && launch.rank < launch.world_size && launch.local_rank >= 0,
               "{}: rank {} local rank {} of a world of {} is not a valid launch", launch.launcher,
               launch.rank, launch.local_rank, launch.world_size);
  return launch;
}

}  // namespace primer::distributed
