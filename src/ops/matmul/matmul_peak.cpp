#include "primer/ops/matmul_peak.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>

#include "primer/backend/cuda_info.h"
#include "primer/ops/linear.h"
#include "primer/tensor/random.h"

namespace primer {
namespace {

// Dense bf16 tensor-core peaks from the datasheets (SXM parts).
MatmulPeak datasheet_cuda() {
  const std::string name = cuda_info().device_name;
  for (const auto& [model, tflops] :
       {std::pair{"H100", 989.4}, std::pair{"H200", 989.4}, std::pair{"A100", 312.0}}) {
    if (name.find(model) != std::string::npos)
      return {tflops, fmt::format("{} datasheet, dense bf16", model)};
  }
  return {0.0, fmt::format("no datasheet peak for '{}': set logging.peak_tflops", name)};
}

}  // namespace

MatmulPeak measure_cpu_matmul_peak(DType dtype, int timed) {
  constexpr std::int64_t kSize = 1024;
  constexpr int kWarmup = 2;
  Generator generator(1);
  const Tensor a = randn({kSize, kSize}, DType::f32, generator).to(dtype);
  const Tensor b = randn({kSize, kSize}, DType::f32, generator).to(dtype);
  const Tensor out = Tensor::empty({kSize, kSize}, DType::f32);
  double best = 1e30;
  for (int i = 0; i < kWarmup + timed; ++i) {
    const auto start = std::chrono::steady_clock::now();
    ops::matmul_into(a, b, Tensor(), out);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (i >= kWarmup) best = std::min(best, seconds);
  }
  const double tflops = 2.0 * static_cast<double>(kSize * kSize * kSize) / best / 1e12;
  return {tflops,
          fmt::format("measured: best of {} {}^3 {} GEMMs on this CPU", timed, kSize, dtype_name(dtype))};
}

MatmulPeak matmul_peak(Device device, DType dtype) {
  if (device.kind == DeviceKind::cuda) return datasheet_cuda();
  static std::mutex mutex;
  static std::map<DType, MatmulPeak> measured;
  const std::lock_guard lock(mutex);
  auto found = measured.find(dtype);
  if (found == measured.end()) found = measured.emplace(dtype, measure_cpu_matmul_peak(dtype, 5)).first;
  return found->second;
}

}  // namespace primer
