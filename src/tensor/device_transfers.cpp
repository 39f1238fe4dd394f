#include "primer/tensor/device_transfers.h"

#include <array>

#include "primer/core/error.h"

namespace primer {
namespace {

std::array<DeviceTransfers*, 2>& registry() {
  static std::array<DeviceTransfers*, 2> transfers{};
  return transfers;
}

}  // namespace

DeviceTransfers& transfers_for(DeviceKind kind) {
  DeviceTransfers* transfers = registry()[static_cast<std::size_t>(kind)];
  PRIMER_CHECK(transfers != nullptr, "no copies registered for {}: this build has no backend for it",
               Device{kind, 0}.name());
  return *transfers;
}

void set_transfers(DeviceKind kind, DeviceTransfers* transfers) {
  registry()[static_cast<std::size_t>(kind)] = transfers;
}

}  // namespace primer
