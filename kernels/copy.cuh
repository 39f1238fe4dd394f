#pragma once
// Copies with dtype conversion (f32, f64, bf16, i32), contiguous or strided up to rank 8, and fill.
#include "common.cuh"

namespace primer::kernels {

constexpr int kMaxRank = 8;

struct StridedLayout {
  int rank;
  std::int64_t shape[kMaxRank];
  std::int64_t source_strides[kMaxRank];
  std::int64_t destination_strides[kMaxRank];
};

// Element offsets are in elements of each side's own type.
cudaError_t copy_strided(const void* source, ElementType source_type, void* destination,
                         ElementType destination_type, const StridedLayout& layout, std::int64_t count,
                         cudaStream_t stream);
// Whether convert_contiguous takes this pair of types (f32 to bf16 and back).
bool converts_contiguously(ElementType source_type, ElementType destination_type);
// Both sides contiguous, `count` elements: the conversions mixed precision runs every step.
cudaError_t convert_contiguous(const void* source, ElementType source_type, void* destination,
                               ElementType destination_type, std::int64_t count, cudaStream_t stream);
cudaError_t fill(void* destination, ElementType type, std::int64_t count, double value, cudaStream_t stream);

}  // namespace primer::kernels
