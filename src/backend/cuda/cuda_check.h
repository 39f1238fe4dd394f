#pragma once
// Every CUDA runtime, cuBLASLt and kernel-launch status is checked; a failure is a primer::Error naming
// the call, the status and the source location.
#include <cublasLt.h>
#include <cuda_runtime.h>

#include "primer/core/error.h"

#define PRIMER_CUDA_CHECK(call)                                                                 \
  do {                                                                                          \
    const cudaError_t primer_cuda_status = (call);                                              \
    PRIMER_CHECK(primer_cuda_status == cudaSuccess, "CUDA: {} failed: {} ({})", #call,          \
                 cudaGetErrorString(primer_cuda_status), cudaGetErrorName(primer_cuda_status)); \
  } while (false)

#define PRIMER_CUBLAS_CHECK(call)                                                                 \
  do {                                                                                            \
    const cublasStatus_t primer_cublas_status = (call);                                           \
    PRIMER_CHECK(primer_cublas_status == CUBLAS_STATUS_SUCCESS, "cuBLASLt: {} failed: {}", #call, \
                 cublasGetStatusString(primer_cublas_status));                                    \
  } while (false)
