#include "copy.cuh"
#include "device_support.cuh"

namespace primer::kernels {
namespace {

__device__ double load(const void* data, ElementType type, std::int64_t i) {
  switch (type) {
    case ElementType::f32: return static_cast<const float*>(data)[i];
    case ElementType::f64: return static_cast<const double*>(data)[i];
    case ElementType::bf16: return __bfloat162float(static_cast<const __nv_bfloat16*>(data)[i]);
    case ElementType::i32: return static_cast<const std::int32_t*>(data)[i];
  }
  return 0.0;
}

__device__ void store(void* data, ElementType type, std::int64_t i, double value) {
  switch (type) {
    case ElementType::f32: static_cast<float*>(data)[i] = static_cast<float>(value); break;
    case ElementType::f64: static_cast<double*>(data)[i] = value; break;
    // Through float, as the CPU does, so both round to nearest even from the same float.
    case ElementType::bf16:
      static_cast<__nv_bfloat16*>(data)[i] = __float2bfloat16_rn(static_cast<float>(value));
      break;
    case ElementType::i32: static_cast<std::int32_t*>(data)[i] = static_cast<std::int32_t>(value); break;
  }
}

__global__ void copy_strided_kernel(const void* source, ElementType source_type, void* destination,
                                    ElementType destination_type, StridedLayout layout, std::int64_t count) {
  PRIMER_GRID_STRIDE(flat, count) {
    std::int64_t rest = flat, from = 0, to = 0;
    for (int d = layout.rank - 1; d >= 0; --d) {
      const std::int64_t index = rest % layout.shape[d];
      rest /= layout.shape[d];
      from += index * layout.source_strides[d];
      to += index * layout.destination_strides[d];
    }
    if (source_type == ElementType::f32 && destination_type == ElementType::f32) {
      static_cast<float*>(destination)[to] = static_cast<const float*>(source)[from];
    } else {
      store(destination, destination_type, to, load(source, source_type, from));
    }
  }
}

__global__ void fill_kernel(void* destination, ElementType type, std::int64_t count, double value) {
  PRIMER_GRID_STRIDE(i, count) {
    store(destination, type, i, value);
  }
}

}  // namespace

cudaError_t copy_strided(const void* source, ElementType source_type, void* destination,
                         ElementType destination_type, const StridedLayout& layout, std::int64_t count,
                         cudaStream_t stream) {
  PRIMER_LAUNCH(copy_strided_kernel, blocks_for(count), kThreads, 0, stream, source, source_type, destination,
                destination_type, layout, count);
  return cudaGetLastError();
}

cudaError_t fill(void* destination, ElementType type, std::int64_t count, double value, cudaStream_t stream) {
  PRIMER_LAUNCH(fill_kernel, blocks_for(count), kThreads, 0, stream, destination, type, count, value);
  return cudaGetLastError();
}

}  // namespace primer::kernels
