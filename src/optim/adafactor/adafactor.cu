#include "device_support.cuh"
#include "optim/adafactor/adafactor.cuh"
#include "reduce.cuh"

namespace primer::kernels {
namespace {

__global__ void adafactor_rows_kernel(const float* grad, std::int64_t rows, std::int64_t columns,
                                      double decay, double epsilon1, float* row_state) {
  PRIMER_GRID_STRIDE(r, rows) {
    double total = 0.0;
    for (std::int64_t c = 0; c < columns; ++c) {
      const double g = grad[r * columns + c];
      total += g * g + epsilon1;
    }
    row_state[r] = static_cast<float>(
        optim::adafactor_moment(decay, row_state[r], total / static_cast<double>(columns)));
  }
}

__global__ void adafactor_columns_kernel(const float* grad, std::int64_t rows, std::int64_t columns,
                                         double decay, double epsilon1, float* column_state) {
  PRIMER_GRID_STRIDE(c, columns) {
    double total = 0.0;
    for (std::int64_t r = 0; r < rows; ++r) {
      const double g = grad[r * columns + c];
      total += (g * g + epsilon1) / static_cast<double>(rows);
    }
    column_state[c] = static_cast<float>(optim::adafactor_moment(decay, column_state[c], total));
  }
}

__global__ void row_mean_kernel(const float* row_state, std::int64_t rows, double* row_mean) {
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    double total = 0.0;
    for (std::int64_t r = 0; r < rows; ++r) total += row_state[r];
    *row_mean = total / static_cast<double>(rows);
  }
}

__global__ void factored_update_kernel(const float* grad, const float* row_state, const float* column_state,
                                       const double* row_mean, std::int64_t rows, std::int64_t columns,
                                       float* update) {
  PRIMER_GRID_STRIDE(i, rows * columns) {
    const std::int64_t r = i / columns, c = i % columns;
    update[i] = static_cast<float>(
        optim::adafactor_factored_update(grad[i], row_state[r], *row_mean, column_state[c]));
  }
}

__global__ void vector_update_kernel(const float* grad, std::int64_t count, double decay, double epsilon1,
                                     float* second_moment, float* update) {
  PRIMER_GRID_STRIDE(i, count) {
    const double g = grad[i];
    second_moment[i] = static_cast<float>(optim::adafactor_moment(decay, second_moment[i], g * g + epsilon1));
    update[i] = static_cast<float>(g / sqrt(static_cast<double>(second_moment[i])));
  }
}

// Reads the two sums of squares on the device, so the update needs no host round trip.
__global__ void apply_kernel(float* param, const float* update, std::int64_t count,
                             const double* update_squares, const double* param_squares,
                             optim::AdafactorStep step) {
  const float step_size = static_cast<float>(optim::adafactor_step_size(
      step, *update_squares / static_cast<double>(count), *param_squares / static_cast<double>(count)));
  PRIMER_GRID_STRIDE(i, count) {
    param[i] -= step_size * update[i];
  }
}

}  // namespace

cudaError_t adafactor_update(float* param, const float* grad, float* row_state, float* column_state,
                             float* second_moment, std::int64_t rows, std::int64_t columns,
                             const optim::AdafactorStep& step, float* update, double* scratch,
                             cudaStream_t stream) {
  const std::int64_t count = rows * columns;
  double* results = scratch + reduce_scratch_size();  // [0] row mean, [1] update squares, [2] param squares
  if (row_state != nullptr) {
    PRIMER_LAUNCH(adafactor_rows_kernel, blocks_for(rows), kThreads, 0, stream, grad, rows, columns,
                  step.decay, step.epsilon1, row_state);
    PRIMER_LAUNCH(adafactor_columns_kernel, blocks_for(columns), kThreads, 0, stream, grad, rows, columns,
                  step.decay, step.epsilon1, column_state);
    PRIMER_LAUNCH(row_mean_kernel, 1, 32, 0, stream, row_state, rows, results);
    PRIMER_LAUNCH(factored_update_kernel, blocks_for(count), kThreads, 0, stream, grad, row_state,
                  column_state, results, rows, columns, update);
  } else {
    PRIMER_LAUNCH(vector_update_kernel, blocks_for(count), kThreads, 0, stream, grad, count, step.decay,
                  step.epsilon1, second_moment, update);
  }
  cudaError_t status = sum(update, count, true, scratch, results + 1, stream);
  if (status == cudaSuccess) status = sum(param, count, true, scratch, results + 2, stream);
  if (status != cudaSuccess) return status;
  PRIMER_LAUNCH(apply_kernel, blocks_for(count), kThreads, 0, stream, param, update, count, results + 1,
                results + 2, step);
  return cudaGetLastError();
}

}  // namespace primer::kernels
