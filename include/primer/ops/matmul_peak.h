#pragma once
// The matrix-product rate MFU divides by. On a CPU no datasheet figure describes two shared cores, so
// the peak is measured on the machine: the best of a few 1024^3 products through the backend's own
// matmul (oneDNN, or the f32 path a CPU without bf16 GEMMs takes), once per process and dtype. On CUDA it
// is the device's dense bf16 datasheet peak (the usual MFU convention), or 0 for a device not listed.
#include <string>

#include "primer/tensor/device.h"
#include "primer/tensor/dtype.h"

namespace primer {

struct MatmulPeak {
  double tflops = 0.0;  // 0: unknown
  std::string source;   // how it was obtained, for the log
};

MatmulPeak matmul_peak(Device device, DType dtype);

// One probe on the CPU, measured afresh: the best of `timed` 1024^3 products (after two untimed), with
// inputs of `dtype` and an f32 result, as matmul_peak measures it. Benchmarks take the best of several.
MatmulPeak measure_cpu_matmul_peak(DType dtype, int timed);

}  // namespace primer
