#pragma once
// Where a tensor's storage lives. Kernels are chosen by the device of their operands.
#include <string>

namespace primer {

enum class DeviceKind { cpu, cuda };

struct Device {
  DeviceKind kind = DeviceKind::cpu;
  int index = 0;

  static constexpr Device cpu() { return {DeviceKind::cpu, 0}; }
  static constexpr Device cuda(int index = 0) { return {DeviceKind::cuda, index}; }
  bool operator==(const Device&) const = default;
  std::string name() const;
};

}  // namespace primer
