#include <array>

#include "backend/cpu/cpu_backend.h"
#include "primer/backend/backend.h"
#include "primer/tensor/allocator.h"
#include "primer/tensor/device_transfers.h"

#ifdef PRIMER_HAS_CUDA
#include "backend/cuda/cuda_kernel_support.h"
#endif

namespace primer {
namespace {

std::array<Backend*, 2>& registry() {
  static cpu::CpuBackend cpu_backend;
#ifdef PRIMER_HAS_CUDA
  // Constructing it touches no GPU, so a CUDA build runs where there is none; its allocator serves
  // every CUDA tensor.
  static cuda::CudaBackend cuda_backend;
  static std::array<Backend*, 2> backends{&cpu_backend, &cuda_backend};
  static const bool cuda_registered = [] {
    set_allocator(DeviceKind::cuda, &cuda_backend.allocator());
    set_transfers(DeviceKind::cuda, &cuda_backend);
    return true;
  }();
  (void)cuda_registered;
#else
  static std::array<Backend*, 2> backends{&cpu_backend, nullptr};
#endif
  static const bool cpu_registered = (set_transfers(DeviceKind::cpu, &cpu_backend), true);
  (void)cpu_registered;
  return backends;
}

// Registers the built-in backends (their transfers, and the CUDA allocator) before main, so tensors can be
// allocated and copied before any kernel has run.
[[maybe_unused]] const bool registered_at_startup = (registry(), true);

}  // namespace

Backend& backend_for(Device device) {
  Backend* backend = registry()[static_cast<std::size_t>(device.kind)];
  PRIMER_CHECK(backend != nullptr, "no backend for {}: this build has no kernels for it", device.name());
  return *backend;
}

#ifdef PRIMER_HAS_CUDA
cuda::CudaBackend& cuda::cuda_backend() {
  return static_cast<cuda::CudaBackend&>(backend_for(Device::cuda()));
}
#endif

}  // namespace primer
