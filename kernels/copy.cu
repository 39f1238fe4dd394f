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

// f32 <-> bf16 over contiguous buffers (mixed precision converts every weight and activation each
// step): four elements a thread, one 16-byte load or store of floats and one 8-byte of bf16 pairs, when
// both pointers allow it (`vectors`); the elements past the last whole four, or all of them when not,
// one at a time. Rounding is the same round-to-nearest-even as the strided path's.
__global__ void narrow_to_bf16_kernel(const float* source, __nv_bfloat16* destination, std::int64_t count,
                                      bool vectors) {
  const std::int64_t quads = vectors ? count / 4 : 0;
  PRIMER_GRID_STRIDE(q, quads) {
    const float4 v = reinterpret_cast<const float4*>(source)[q];
    __nv_bfloat162* pair = reinterpret_cast<__nv_bfloat162*>(destination) + 2 * q;
    pair[0] = __floats2bfloat162_rn(v.x, v.y);
    pair[1] = __floats2bfloat162_rn(v.z, v.w);
  }
  PRIMER_GRID_STRIDE(i, count - 4 * quads) {
    destination[4 * quads + i] = __float2bfloat16_rn(source[4 * quads + i]);
  }
}

__global__ void widen_from_bf16_kernel(const __nv_bfloat16* source, float* destination, std::int64_t count,
                                       bool vectors) {
  const std::int64_t quads = vectors ? count / 4 : 0;
  PRIMER_GRID_STRIDE(q, quads) {
    const __nv_bfloat162* pair = reinterpret_cast<const __nv_bfloat162*>(source) + 2 * q;
    const float2 low = __bfloat1622float2(pair[0]), high = __bfloat1622float2(pair[1]);
    reinterpret_cast<float4*>(destination)[q] = make_float4(low.x, low.y, high.x, high.y);
  }
  PRIMER_GRID_STRIDE(i, count - 4 * quads) {
    destination[4 * quads + i] = __bfloat162float(source[4 * quads + i]);
  }
}

bool aligned(const void* pointer, std::uintptr_t bytes) {
  return reinterpret_cast<std::uintptr_t>(pointer) % bytes == 0;
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

bool converts_contiguously(ElementType source_type, ElementType destination_type) {
  return (source_type == ElementType::f32 && destination_type == ElementType::bf16) ||
         (source_type == ElementType::bf16 && destination_type == ElementType::f32);
}

cudaError_t convert_contiguous(const void* source, ElementType source_type, void* destination,
                               ElementType destination_type, std::int64_t count, cudaStream_t stream) {
  if (!converts_contiguously(source_type, destination_type)) return cudaErrorInvalidValue;
  const bool vectors = source_type == ElementType::f32 ? aligned(source, 16) && aligned(destination, 8)
                                                       : aligned(source, 8) && aligned(destination, 16);
  const std::int64_t threads_needed = vectors ? (count + 3) / 4 : count;
  if (source_type == ElementType::f32) {
    PRIMER_LAUNCH(narrow_to_bf16_kernel, blocks_for(threads_needed), kThreads, 0, stream,
                  static_cast<const float*>(source), static_cast<__nv_bfloat16*>(destination), count,
                  vectors);
  } else {
    PRIMER_LAUNCH(widen_from_bf16_kernel, blocks_for(threads_needed), kThreads, 0, stream,
                  static_cast<const __nv_bfloat16*>(source), static_cast<float*>(destination), count,
                  vectors);
  }
  return cudaGetLastError();
}

cudaError_t fill(void* destination, ElementType type, std::int64_t count, double value, cudaStream_t stream) {
  PRIMER_LAUNCH(fill_kernel, blocks_for(count), kThreads, 0, stream, destination, type, count, value);
  return cudaGetLastError();
}

}  // namespace primer::kernels
