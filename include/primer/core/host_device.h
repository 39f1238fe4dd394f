#pragma once
// Marks a function that g++ compiles for the CPU kernels and nvcc for both the host and the GPU, so an
// op's scalar formulas are written once (src/ops/<op>/<op>_formulas.h). Headers using it stay C++17:
// nvcc compiles the kernels as C++17.
#ifdef __CUDACC__
#define PRIMER_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define PRIMER_HOST_DEVICE inline
#endif
