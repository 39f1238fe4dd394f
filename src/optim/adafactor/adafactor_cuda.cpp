#include "backend/cuda/cuda_kernel_support.h"
#include "optim/adafactor/adafactor.cuh"
#include "optim/adafactor/adafactor_kernels.h"
#include "reduce.cuh"

namespace primer::cuda {

void adafactor_update(const Tensor& param, const Tensor& grad, const Tensor& row_state,
                      const Tensor& column_state, const Tensor& second_moment,
                      const optim::AdafactorStep& step) {
  const char* op = "adafactor";
  const std::int64_t columns = param.size(-1);
  const bool factored = row_state.defined();
  const std::int64_t rows = factored ? param.numel() / columns : 1;
  const Tensor update = cuda_backend().scratch(param.numel(), DType::f32);
  const Tensor reductions = cuda_backend().scratch(kernels::reduce_scratch_size() + 3, DType::f64);
  PRIMER_CUDA_CHECK(kernels::adafactor_update(
      f32(param, op, "param"), f32(grad, op, "grad"), f32_or_null(row_state, op, "row_state"),
      f32_or_null(column_state, op, "column_state"), f32_or_null(second_moment, op, "second_moment"), rows,
      factored ? columns : param.numel(), step, f32(update, op, "update"),
      static_cast<double*>(reductions.data_ptr()), stream()));
}

}  // namespace primer::cuda
