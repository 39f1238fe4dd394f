#pragma once
// The limits of the GPU the interpret mode stands in for, chosen by PRIMER_INTERPRET=device=... (sm_80,
// sm_86, sm_89, sm_90; sm_90 by default): a launch that breaks them fails as it would on that device.
#include <cstddef>

namespace primer::interpret {

struct DeviceProfile {
  const char* name;  // sm_XY
  int major;
  int minor;
  const char* stands_for;
  std::size_t shared_per_block;        // without opting in
  std::size_t shared_per_block_optin;  // cudaFuncAttributeMaxDynamicSharedMemorySize's ceiling
  int max_threads_per_block;
  int multiprocessors;
  std::size_t global_memory;
};

const DeviceProfile& device_profile();

}  // namespace primer::interpret
