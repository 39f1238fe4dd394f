#pragma once
// What an op's CUDA launcher (src/ops/<op>/<op>_cuda.cpp) needs from the CUDA runtime: the stream its
// kernels go on, the record where kernels report bad indices, scratch memory, and operand checks that
// turn tensors into the raw pointers the kernels take (contiguous f32 on the GPU; i32 for indices).
#include <cstdint>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "primer/tensor/tensor.h"

namespace primer::cuda {

// The process's CUDA backend (backend_registry.cpp owns it).
CudaBackend& cuda_backend();

inline cudaStream_t stream() {
  return cuda_backend().stream();
}

inline void check_on_device(const Tensor& t, DType dtype, const char* op, const char* name) {
  PRIMER_CHECK(t.defined(), "{}: {} is undefined", op, name);
  PRIMER_CHECK(t.device().kind == DeviceKind::cuda, "{}: {} is {}, not a CUDA tensor", op, name,
               t.describe());
  PRIMER_CHECK(t.dtype() == dtype, "{}: {} is {}; the CUDA kernels take {}", op, name, t.describe(),
               dtype_name(dtype));
  PRIMER_CHECK(t.is_contiguous(), "{}: {} ({}) must be contiguous", op, name, t.describe());
}

inline float* f32(const Tensor& t, const char* op, const char* name) {
  check_on_device(t, DType::f32, op, name);
  return static_cast<float*>(t.data_ptr());
}

// An operand of a kernel that takes f32 or bf16 (all its operands of one type, `dtype`).
inline void* f32_or_bf16(const Tensor& t, DType dtype, const char* op, const char* name) {
  PRIMER_CHECK(dtype == DType::f32 || dtype == DType::bf16, "{}: {} is {}; the CUDA kernels take f32 or bf16",
               op, name, t.describe());
  check_on_device(t, dtype, op, name);
  return t.data_ptr();
}

// Optional operands: null when undefined.
inline float* f32_or_null(const Tensor& t, const char* op, const char* name) {
  return t.defined() ? f32(t, op, name) : nullptr;
}

inline const std::int32_t* indices(const Tensor& t, const char* op, const char* name) {
  check_on_device(t, DType::i32, op, name);
  return static_cast<const std::int32_t*>(t.data_ptr());
}

}  // namespace primer::cuda
