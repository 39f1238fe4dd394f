#pragma once
// A tensor's dtype as the kernels' launchers name it, for launchers that take more than one element type.
#include "common.cuh"
#include "primer/core/error.h"
#include "primer/tensor/dtype.h"

namespace primer::cuda {

inline kernels::ElementType element_type(DType dtype) {
  switch (dtype) {
    case DType::f32: return kernels::ElementType::f32;
    case DType::f64: return kernels::ElementType::f64;
    case DType::bf16: return kernels::ElementType::bf16;
    case DType::i32: return kernels::ElementType::i32;
  }
  PRIMER_FAIL("no CUDA element type for {}", dtype_name(dtype));
}

}  // namespace primer::cuda
