#include "primer/ops/matmul_precision.h"

#include "ops/matmul/matmul_kernels.h"
#include "primer/core/error.h"

namespace primer::ops {
namespace {
thread_local DType current = DType::f32;
}  // namespace

DType matmul_precision() {
  return current;
}

bool fast_bf16_products(Device device) {
  return device.kind != DeviceKind::cpu || cpu::native_bf16_gemm();
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
