#pragma once
// What this build knows about CUDA: whether the kernels were compiled in, how many GPUs the driver
// reports, and a round trip through a kernel on GPU 0 that proves the toolchain and the device agree.
#include <string>

namespace primer {

struct CudaInfo {
  bool compiled = false;
  int device_count = 0;
  std::string device_name;  // GPU 0, when there is one
  std::string error;        // why device_count is 0, when the runtime said
};

CudaInfo cuda_info();
// Fills a device buffer with a kernel and reads it back; false with a reason in `error` on failure.
bool cuda_self_test(std::string& error);

}  // namespace primer
