#include "device_profile.h"

#include "options.h"

#include <stdexcept>
#include <string>

namespace primer::interpret {
namespace {

constexpr std::size_t kKiB = 1024;
constexpr std::size_t kGiB = kKiB * kKiB * kKiB;

// Opt-in shared memory per block from NVIDIA's compute capability tables.
constexpr DeviceProfile kProfiles[] = {
    {"sm_80", 8, 0, "A100", 48 * kKiB, 163 * kKiB, 1024, 108, 80 * kGiB},
    {"sm_86", 8, 6, "RTX 30xx / A40", 48 * kKiB, 99 * kKiB, 1024, 84, 48 * kGiB},
    {"sm_89", 8, 9, "L40 / RTX 40xx", 48 * kKiB, 99 * kKiB, 1024, 142, 48 * kGiB},
    {"sm_90", 9, 0, "H100 / H200", 48 * kKiB, 227 * kKiB, 1024, 132, 80 * kGiB},
};

const DeviceProfile& chosen() {
  const std::string wanted = interpret_option("device", "sm_90");
  for (const DeviceProfile& profile : kProfiles) {
    if (wanted == profile.name) return profile;
  }
  throw std::runtime_error("PRIMER_INTERPRET: device=" + wanted +
                           " is not a device profile (sm_80, sm_86, sm_89, sm_90)");
}

}  // namespace

const DeviceProfile& device_profile() {
  static const DeviceProfile& profile = chosen();
  return profile;
}

}  // namespace primer::interpret
