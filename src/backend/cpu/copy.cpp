// Strided copies with dtype conversion, and fill.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "backend/cpu/bf16_conversion.h"
#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/kernel_support.h"

namespace primer::cpu {
namespace {

template <class To, class From>
To convert(From value) {
  if constexpr (std::is_same_v<To, From>) {
    return value;
  } else {
    return static_cast<To>(static_cast<compute_type<From>>(value));
  }
}

// Element offset of the flat index `flat` in a tensor with this shape and these strides.
std::int64_t strided_offset(std::int64_t flat, const Shape& shape, const Strides& strides) {
  std::int64_t offset = 0;
  for (std::size_t d = shape.size(); d-- > 0;) {
    offset += (flat % shape[d]) * strides[d];
    flat /= shape[d];
  }
  return offset;
}

template <class From, class To>
void copy_elements(const Tensor& source, const Tensor& destination) {
  const From* src = static_cast<const From*>(source.data_ptr());
  To* dst = static_cast<To*>(destination.data_ptr());
  const std::int64_t count = source.numel();
  if (source.is_contiguous() && destination.is_contiguous()) {
    if constexpr (std::is_same_v<From, To>) {
      std::memcpy(dst, src, static_cast<std::size_t>(count) * sizeof(To));
    } else if constexpr (std::is_same_v<From, float> && std::is_same_v<To, bfloat16>) {
      constexpr std::int64_t kRun = 16384;
#pragma omp parallel for schedule(static)
      for (std::int64_t begin = 0; begin < count; begin += kRun)
        narrow_to_bf16(src + begin, dst + begin, std::min(kRun, count - begin));
    } else {
#pragma omp parallel for schedule(static)
      for (std::int64_t i = 0; i < count; ++i) dst[i] = convert<To>(src[i]);
    }
    return;
  }
  // Rows along the last dimension; each row's start is found once, then walked by its stride.
  const Shape& shape = source.shape();
  const std::int64_t inner = shape.empty() ? 1 : shape.back();
  const std::int64_t src_step = shape.empty() ? 0 : source.strides().back();
  const std::int64_t dst_step = shape.empty() ? 0 : destination.strides().back();
  const std::int64_t rows = inner == 0 ? 0 : count / inner;
#pragma omp parallel for schedule(static)
  for (std::int64_t row = 0; row < rows; ++row) {
    const From* s = src + strided_offset(row * inner, shape, source.strides());
    To* d = dst + strided_offset(row * inner, shape, destination.strides());
    for (std::int64_t i = 0; i < inner; ++i) d[i * dst_step] = convert<To>(s[i * src_step]);
  }
}

}  // namespace

void CpuBackend::copy(const Tensor& source, const Tensor& destination) {
  check_same_shape(source, destination, "copy");
  dispatch_any(source.dtype(), [&](auto from) {
    dispatch_any(destination.dtype(),
                 [&](auto to) { copy_elements<decltype(from), decltype(to)>(source, destination); });
  });
}

void CpuBackend::fill(const Tensor& destination, double value) {
  dispatch_any(destination.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T converted = convert<T>(value);
    if (destination.is_contiguous()) {
      T* data = static_cast<T*>(destination.data_ptr());
      const std::int64_t count = destination.numel();
#pragma omp parallel for schedule(static)
      for (std::int64_t i = 0; i < count; ++i) data[i] = converted;
    } else {
      Tensor filled = Tensor::full(destination.shape(), value, destination.dtype());
      copy(filled, destination);
    }
  });
}

}  // namespace primer::cpu
