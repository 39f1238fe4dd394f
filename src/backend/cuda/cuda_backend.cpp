#include "backend/cuda/cuda_backend.h"

#include <algorithm>
#include <cmath>

#include "backend/cuda/cuda_kernel_support.h"
#include "backend/cuda/element_type.h"
#include "copy.cuh"
#include "device_fault.cuh"
#include "elementwise.cuh"
#include "reduce.cuh"

namespace primer::cuda {
namespace {

kernels::StridedLayout layout_of(const Tensor& source, const Tensor& destination) {
  PRIMER_CHECK(source.dim() <= kernels::kMaxRank, "copy: {} has more than {} dimensions", source.describe(),
               kernels::kMaxRank);
  kernels::StridedLayout layout{};
  layout.rank = static_cast<int>(source.dim());
  for (int d = 0; d < layout.rank; ++d) {
    layout.shape[d] = source.size(d);
    layout.source_strides[d] = source.stride(d);
    layout.destination_strides[d] = destination.stride(d);
  }
  return layout;
}

}  // namespace

CudaBackend::CudaBackend() = default;

CudaBackend::~CudaBackend() {
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

CUstream_st* CudaBackend::stream() {
  std::call_once(started_, [this] {
    cudaStream_t created = nullptr;
    PRIMER_CUDA_CHECK(cudaStreamCreateWithFlags(&created, cudaStreamNonBlocking));
    stream_ = created;
  });
  return stream_;
}

void CudaBackend::synchronize() {
  PRIMER_CUDA_CHECK(cudaStreamSynchronize(stream()));
  raise_device_fault();
}

kernels::DeviceFault* CudaBackend::fault_record() {
  std::call_once(fault_started_, [this] {
    const auto words = static_cast<std::int64_t>((sizeof(kernels::DeviceFault) + 7) / 8);
    fault_record_ = Tensor::empty({words}, DType::f64, Device::cuda());
    PRIMER_CUDA_CHECK(cudaMemsetAsync(fault_record_.data_ptr(), 0, sizeof(kernels::DeviceFault), stream()));
  });
  return static_cast<kernels::DeviceFault*>(fault_record_.data_ptr());
}

void CudaBackend::raise_device_fault() {
  if (!fault_record_.defined()) return;
  kernels::DeviceFault fault{};
  PRIMER_CUDA_CHECK(
      cudaMemcpyAsync(&fault, fault_record_.data_ptr(), sizeof(fault), cudaMemcpyDeviceToHost, stream()));
  PRIMER_CUDA_CHECK(cudaStreamSynchronize(stream()));
  if (fault.kind == static_cast<int>(kernels::FaultKind::none)) return;
  PRIMER_CUDA_CHECK(cudaMemsetAsync(fault_record_.data_ptr(), 0, sizeof(fault), stream()));
  struct Kind {
    const char* op;
    const char* what;
    const char* handling;
  };
  const Kind kind = [&]() -> Kind {
    switch (static_cast<kernels::FaultKind>(fault.kind)) {
      case kernels::FaultKind::embedding_id: return {"embedding", "id", "that element was skipped"};
      case kernels::FaultKind::cross_entropy_target:
        return {"cross_entropy", "target", "that element was skipped"};
      case kernels::FaultKind::attention_bucket:
        return {"attention", "relative bias bucket", "the nearest bucket was read instead"};
      default: return {"a kernel", "index", "unknown fault"};
    }
  }();
  PRIMER_FAIL("{}: {} {} at position {} is outside [0, {}) (found on the GPU; {})", kind.op, kind.what,
              fault.value, fault.position, fault.limit, kind.handling);
}

namespace {

class EventSpan final : public DeviceSpan {
 public:
  explicit EventSpan(cudaStream_t stream) : stream_(stream) {
    PRIMER_CUDA_CHECK(cudaEventCreate(&start_));
    PRIMER_CUDA_CHECK(cudaEventCreate(&stop_));
    PRIMER_CUDA_CHECK(cudaEventRecord(start_, stream_));
  }
  ~EventSpan() override {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }
  EventSpan(const EventSpan&) = delete;
  EventSpan& operator=(const EventSpan&) = delete;
  void end() override { PRIMER_CUDA_CHECK(cudaEventRecord(stop_, stream_)); }
  double elapsed_ms() override {
    PRIMER_CUDA_CHECK(cudaEventSynchronize(stop_));
    float milliseconds = 0.0f;
    PRIMER_CUDA_CHECK(cudaEventElapsedTime(&milliseconds, start_, stop_));
    return milliseconds;
  }

 private:
  cudaStream_t stream_;
  cudaEvent_t start_ = nullptr;
  cudaEvent_t stop_ = nullptr;
};

}  // namespace

std::unique_ptr<DeviceSpan> CudaBackend::begin_span() {
  return std::make_unique<EventSpan>(stream());
}

Tensor CudaBackend::scratch(std::int64_t count, DType dtype) {
  return Tensor::empty({count}, dtype, Device::cuda());
}

void CudaBackend::copy(const Tensor& source, const Tensor& destination) {
  check_same_shape(source, destination, "copy");
  const bool from_host = source.device().kind == DeviceKind::cpu;
  const bool to_host = destination.device().kind == DeviceKind::cpu;
  PRIMER_CHECK(!(from_host && to_host), "copy: the CUDA backend was asked to copy between host tensors");
  if (from_host) {
    // Host data goes over as it is laid out contiguously; conversions and strides are done on the device.
    const Tensor host = source.contiguous();
    const bool direct = destination.is_contiguous() && destination.dtype() == host.dtype();
    const Tensor staging =
        direct ? destination : Tensor::empty(host.shape(), host.dtype(), destination.device());
    const std::size_t bytes = static_cast<std::size_t>(host.numel()) * dtype_size(host.dtype());
    if (bytes <= PinnedUploads::kLargestStaged) {
      uploads_.upload(host.data_ptr(), staging.data_ptr(), bytes, stream());
    } else {
      PRIMER_CUDA_CHECK(
          cudaMemcpyAsync(staging.data_ptr(), host.data_ptr(), bytes, cudaMemcpyHostToDevice, stream()));
      // The host buffer may be freed as soon as this returns.
      synchronize();
    }
    if (!direct) copy(staging, destination);
    return;
  }
  if (to_host) {
    const bool direct =
        source.is_contiguous() && destination.is_contiguous() && source.dtype() == destination.dtype();
    const Tensor device_side =
        direct ? source : Tensor::empty(source.shape(), destination.dtype(), source.device());
    if (!direct) copy(source, device_side);
    const Tensor landing = destination.is_contiguous() ? destination : Tensor::empty_like(destination);
    PRIMER_CUDA_CHECK(
        cudaMemcpyAsync(landing.data_ptr(), device_side.data_ptr(),
                        static_cast<std::size_t>(device_side.numel()) * dtype_size(device_side.dtype()),
                        cudaMemcpyDeviceToHost, stream()));
    synchronize();
    if (!destination.is_contiguous()) destination.copy_from(landing);
    return;
  }
  if (source.is_contiguous() && destination.is_contiguous() && source.dtype() == destination.dtype()) {
    PRIMER_CUDA_CHECK(cudaMemcpyAsync(destination.data_ptr(), source.data_ptr(),
                                      static_cast<std::size_t>(source.numel()) * dtype_size(source.dtype()),
                                      cudaMemcpyDeviceToDevice, stream()));
    return;
  }
  if (source.is_contiguous() && destination.is_contiguous() &&
      kernels::converts_contiguously(element_type(source.dtype()), element_type(destination.dtype()))) {
    PRIMER_CUDA_CHECK(kernels::convert_contiguous(source.data_ptr(), element_type(source.dtype()),
                                                  destination.data_ptr(), element_type(destination.dtype()),
                                                  source.numel(), stream()));
    return;
  }
  PRIMER_CUDA_CHECK(kernels::copy_strided(source.data_ptr(), element_type(source.dtype()),
                                          destination.data_ptr(), element_type(destination.dtype()),
                                          layout_of(source, destination), source.numel(), stream()));
}

void CudaBackend::fill(const Tensor& destination, double value) {
  if (!destination.is_contiguous()) {
    const Tensor filled = Tensor::empty(destination.shape(), destination.dtype(), destination.device());
    fill(filled, value);
    copy(filled, destination);
    return;
  }
  PRIMER_CUDA_CHECK(kernels::fill(destination.data_ptr(), element_type(destination.dtype()),
                                  destination.numel(), value, stream()));
}

void CudaBackend::add_scaled(const Tensor& a, double alpha, const Tensor& b, double beta, const Tensor& out) {
  check_same_shape(a, b, "add_scaled");
  check_same_shape(a, out, "add_scaled");
  PRIMER_CUDA_CHECK(kernels::add_scaled(f32(a, "add_scaled", "a"), static_cast<float>(alpha),
                                        f32(b, "add_scaled", "b"), static_cast<float>(beta),
                                        f32(out, "add_scaled", "out"), a.numel(), stream()));
}

void CudaBackend::scale(const Tensor& x, double factor, const Tensor& out) {
  check_same_shape(x, out, "scale");
  PRIMER_CUDA_CHECK(kernels::scale(f32(x, "scale", "x"), static_cast<float>(factor), f32(out, "scale", "out"),
                                   x.numel(), stream()));
}

void CudaBackend::scale_by(const Tensor& x, const Tensor& factor, const Tensor& out) {
  check_same_shape(x, out, "scale_by");
  PRIMER_CHECK(factor.numel() == 1, "scale_by: the factor {} must hold one element", factor.describe());
  PRIMER_CUDA_CHECK(kernels::scale_by(f32(x, "scale_by", "x"), f32(factor, "scale_by", "factor"),
                                      f32(out, "scale_by", "out"), x.numel(), stream()));
}

void CudaBackend::multiply(const Tensor& a, const Tensor& b, const Tensor& out) {
  check_same_shape(a, b, "multiply");
  check_same_shape(a, out, "multiply");
  PRIMER_CUDA_CHECK(kernels::multiply(f32(a, "multiply", "a"), f32(b, "multiply", "b"),
                                      f32(out, "multiply", "out"), a.numel(), stream()));
}

void CudaBackend::sum(const Tensor& x, const Tensor& out) {
  const Tensor partials = scratch(kernels::reduce_scratch_size(), DType::f64);
  PRIMER_CUDA_CHECK(kernels::sum(f32(x, "sum", "x"), x.numel(), false,
                                 static_cast<double*>(partials.data_ptr()), f32(out, "sum", "out"),
                                 stream()));
}

void CudaBackend::sum_squares_each(std::span<const Tensor> xs, const Tensor& out) {
  const char* op = "sum_squares_each";
  PRIMER_CHECK(out.dim() == 1 && out.numel() == static_cast<std::int64_t>(xs.size()),
               "{}: out {} must hold one element for each of the {} tensors", op, out.describe(), xs.size());
  float* totals = f32(out, op, "out");
  kernels::SquaresList list{};
  const auto launch = [&] {
    const Tensor partials = scratch(std::max(list.spans.blocks(), 1), DType::f64);
    PRIMER_CUDA_CHECK(
        kernels::sum_squares_each(list, static_cast<double*>(partials.data_ptr()), totals, stream()));
    totals += list.spans.size;
    list = {};
  };
  for (const Tensor& x : xs) {
    if (!list.spans.fits(x.numel())) launch();
    PRIMER_CHECK(list.spans.fits(x.numel()), "{}: the tensor {} is too large for one launch", op,
                 x.describe());
    list.x[list.spans.add(x.numel())] = f32(x, op, "x");
  }
  launch();
}

void CudaBackend::sum_rows(const Tensor& x, const Tensor& out) {
  const std::int64_t columns = x.size(-1);
  PRIMER_CHECK(out.numel() == columns, "sum_rows: out {} must have {} elements", out.describe(), columns);
  const Tensor partials = scratch(kernels::sum_rows_scratch_size(columns), DType::f32);
  PRIMER_CUDA_CHECK(kernels::sum_rows(f32(x, "sum_rows", "x"), x.numel() / columns, columns,
                                      f32(partials, "sum_rows", "partials"), f32(out, "sum_rows", "out"),
                                      stream()));
}

}  // namespace primer::cuda
