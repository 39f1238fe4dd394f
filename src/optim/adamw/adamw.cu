#include "device_support.cuh"
#include "optim/adamw/adamw.cuh"

namespace primer::kernels {
namespace {

static_assert(sizeof(AdamWTensorList) + sizeof(optim::AdamWConstants<float>) <= 4096,
              "a kernel's parameters take 4 KB on every CUDA device");

__global__ void adamw_kernel(AdamWTensorList list, optim::AdamWConstants<float> constants) {
  const int block = static_cast<int>(blockIdx.x);
  const int t = list.spans.tensor_of(block);
  constants.decay = list.decay[t];
  float* param = list.param[t];
  const float* grad = list.grad[t];
  float* m = list.m[t];
  float* v = list.v[t];
  const std::int64_t end = list.spans.end(block, t);
  for (std::int64_t i = list.spans.begin(block, t) + threadIdx.x; i < end; i += blockDim.x) {
    optim::adamw_update_element(param[i], grad[i], m[i], v[i], constants);
  }
}

}  // namespace

cudaError_t adamw_update(const AdamWTensorList& list, const optim::AdamWConstants<float>& constants,
                         cudaStream_t stream) {
  if (list.spans.blocks() > 0) {
    PRIMER_LAUNCH(adamw_kernel, list.spans.blocks(), kThreads, 0, stream, list, constants);
  }
  return cudaGetLastError();
}

}  // namespace primer::kernels
