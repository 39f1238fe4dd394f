#pragma once
// Element types a tensor can hold. f64 exists for finite-difference gradient checks; models train in
// f32 (CPU) or bf16 mixed precision; i32 holds token ids and targets.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "primer/tensor/bfloat16.h"

namespace primer {

enum class DType : std::uint8_t { f32, f64, bf16, i32 };

constexpr std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::bf16: return 2;
    case DType::i32: return 4;
  }
  return 0;
}

constexpr std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32: return "f32";
    case DType::f64: return "f64";
    case DType::bf16: return "bf16";
    case DType::i32: return "i32";
  }
  return "?";
}

constexpr bool is_floating(DType dtype) {
  return dtype != DType::i32;
}

template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>)
    return DType::f32;
  else if constexpr (std::is_same_v<T, double>)
    return DType::f64;
  else if constexpr (std::is_same_v<T, bfloat16>)
    return DType::bf16;
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return DType::i32;
  else
    static_assert(!sizeof(T), "no primer dtype for this C++ type");
}

// The type arithmetic on T is carried out in: bf16 computes in float.
template <class T>
using compute_type = std::conditional_t<std::is_same_v<T, bfloat16>, float, T>;

}  // namespace primer
