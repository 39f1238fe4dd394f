#include "primer/tensor/device.h"

#include <fmt/format.h>

namespace primer {

std::string Device::name() const {
  return kind == DeviceKind::cpu ? std::string("cpu") : fmt::format("cuda:{}", index);
}

}  // namespace primer
