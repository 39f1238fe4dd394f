#include "device_support.cuh"
#include "optim/adamw/adamw.cuh"

namespace primer::kernels {
namespace {

__global__ void adamw_kernel(float* param, const float* grad, float* m, float* v, std::int64_t count,
                             optim::AdamWConstants<float> constants) {
  PRIMER_GRID_STRIDE(i, count) {
    optim::adamw_update_element(param[i], grad[i], m[i], v[i], constants);
  }
}

}  // namespace

cudaError_t adamw_update(float* param, const float* grad, float* m, float* v, std::int64_t count,
                         const optim::AdamWConstants<float>& constants, cudaStream_t stream) {
  PRIMER_LAUNCH(adamw_kernel, blocks_for(count), kThreads, 0, stream, param, grad, m, v, count, constants);
  return cudaGetLastError();
}

}  // namespace primer::kernels
