#include "primer/ops/matmul_precision.h"

#include "primer/core/error.h"

namespace primer::ops {
namespace {
thread_local DType current = DType::f32;
}  // namespace

DType matmul_precision() {
  return current;
}

MatmulPrecisionScope::MatmulPrecisionScope(DType precision) : previous_(current) {
  PRIMER_CHECK(precision == DType::f32 || precision == DType::bf16,
               "matmul precision must be f32 or bf16, not {}", dtype_name(precision));
  current = precision;
}

MatmulPrecisionScope::~MatmulPrecisionScope() {
  current = previous_;
}

}  // namespace primer::ops
