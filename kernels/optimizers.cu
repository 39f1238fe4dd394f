#include "device_support.cuh"
#include "optimizers.cuh"
#include "reduce.cuh"

namespace primer::kernels {
namespace {

__global__ void adamw_kernel(float* param, const float* grad, float* m, float* v, std::int64_t count,
                             AdamWConstants k) {
  PRIMER_GRID_STRIDE(i, count) {
    m[i] = k.beta1 * m[i] + (1.0f - k.beta1) * grad[i];
    v[i] = k.beta2 * v[i] + (1.0f - k.beta2) * grad[i] * grad[i];
    param[i] = param[i] * k.decay - k.step_size * m[i] / (sqrtf(v[i]) / k.correction2_sqrt + k.eps);
  }
}

__global__ void adafactor_rows_kernel(const float* grad, std::int64_t rows, std::int64_t columns,
                                      double decay, double epsilon1, float* row_state) {
  PRIMER_GRID_STRIDE(r, rows) {
    double total = 0.0;
    for (std::int64_t c = 0; c < columns; ++c) {
      const double g = grad[r * columns + c];
      total += g * g + epsilon1;
    }
    row_state[r] =
        static_cast<float>(decay * row_state[r] + (1.0 - decay) * total / static_cast<double>(columns));
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
    column_state[c] = static_cast<float>(decay * column_state[c] + (1.0 - decay) * total);
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
    const double row_factor = 1.0 / sqrt(static_cast<double>(row_state[r]) / *row_mean);
    update[i] = static_cast<float>(static_cast<double>(grad[i]) * row_factor /
                                   sqrt(static_cast<double>(column_state[c])));
  }
}

__global__ void vector_update_kernel(const float* grad, std::int64_t count, double decay, double epsilon1,
                                     float* second_moment, float* update) {
  PRIMER_GRID_STRIDE(i, count) {
    const double g = grad[i];
    second_moment[i] = static_cast<float>(decay * second_moment[i] + (1.0 - decay) * (g * g + epsilon1));
    update[i] = static_cast<float>(g / sqrt(static_cast<double>(second_moment[i])));
  }
}

// Reads the two sums of squares on the device, so the update needs no host round trip.
__global__ void apply_kernel(float* param, const float* update, std::int64_t count,
                             const double* update_squares, const double* param_squares,
                             AdafactorConstants k) {
  const double clip = fmax(1.0, sqrt(*update_squares / static_cast<double>(count)) / k.clip_threshold);
  const double scale =
      k.relative_step ? fmax(k.epsilon2, sqrt(*param_squares / static_cast<double>(count))) : 1.0;
  const float step_size = static_cast<float>(k.lr * scale / clip);
  PRIMER_GRID_STRIDE(i, count) {
    param[i] -= step_size * update[i];
  }
}

}  // namespace

cudaError_t adamw_update(float* param, const float* grad, float* m, float* v, std::int64_t count,
                         const AdamWConstants& constants, cudaStream_t stream) {
  adamw_kernel<<<blocks_for(count), kThreads, 0, stream>>>(param, grad, m, v, count, constants);
  return cudaGetLastError();
}

cudaError_t adafactor_update(float* param, const float* grad, float* row_state, float* column_state,
                             float* second_moment, std::int64_t rows, std::int64_t columns,
                             const AdafactorConstants& constants, float* update, double* scratch,
                             cudaStream_t stream) {
  const std::int64_t count = rows * columns;
  double* results = scratch + reduce_scratch_size();  // [0] row mean, [1] update squares, [2] param squares
  if (row_state != nullptr) {
    adafactor_rows_kernel<<<blocks_for(rows), kThreads, 0, stream>>>(grad, rows, columns, constants.decay,
                                                                     constants.epsilon1, row_state);
    adafactor_columns_kernel<<<blocks_for(columns), kThreads, 0, stream>>>(
        grad, rows, columns, constants.decay, constants.epsilon1, column_state);
    row_mean_kernel<<<1, 32, 0, stream>>>(row_state, rows, results);
    factored_update_kernel<<<blocks_for(count), kThreads, 0, stream>>>(grad, row_state, column_state, results,
                                                                       rows, columns, update);
  } else {
    vector_update_kernel<<<blocks_for(count), kThreads, 0, stream>>>(
        grad, count, constants.decay, constants.epsilon1, second_moment, update);
  }
  cudaError_t status = sum(update, count, true, scratch, results + 1, stream);
  if (status == cudaSuccess) status = sum(param, count, true, scratch, results + 2, stream);
  if (status != cudaSuccess) return status;
  apply_kernel<<<blocks_for(count), kThreads, 0, stream>>>(param, update, count, results + 1, results + 2,
                                                           constants);
  return cudaGetLastError();
}

}  // namespace primer::kernels
