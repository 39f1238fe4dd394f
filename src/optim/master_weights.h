#pragma once
// What the optimizers' CPU kernels share: master weights and optimizer state are f32 (f64 in the tests),
// never bf16.
#include "backend/cpu/kernel_support.h"

namespace primer::cpu {

template <class Body>
void dispatch_master(const Tensor& param, const char* op, Body&& body) {
  PRIMER_CHECK(param.dtype() == DType::f32 || param.dtype() == DType::f64,
               "{}: parameter {} must be f32 or f64", op, param.describe());
  if (param.dtype() == DType::f32) {
    body(float{});
  } else {
    body(double{});
  }
}

}  // namespace primer::cpu
