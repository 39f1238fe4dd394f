#include <array>

#include "backend/cpu/cpu_backend.h"
#include "primer/backend/backend.h"

namespace primer {
namespace {

std::array<Backend*, 2>& registry() {
  static cpu::CpuBackend cpu_backend;
  static std::array<Backend*, 2> backends{&cpu_backend, nullptr};
  return backends;
}

}  // namespace

Backend& backend_for(Device device) {
  Backend* backend = registry()[static_cast<std::size_t>(device.kind)];
  PRIMER_CHECK(backend != nullptr, "no backend for {}: this build has no kernels for it", device.name());
  return *backend;
}

void register_backend(DeviceKind kind, Backend* backend) {
  registry()[static_cast<std::size_t>(kind)] = backend;
}

}  // namespace primer
