#include "backend/cuda/cuda_backend.h"

#include <cmath>

#include "activation.cuh"
#include "attention.cuh"
#include "backend/cuda/cuda_check.h"
#include "causal_dconv.cuh"
#include "copy.cuh"
#include "cross_entropy.cuh"
#include "device_fault.cuh"
#include "elementwise.cuh"
#include "embedding.cuh"
#include "normalization.cuh"
#include "optimizers.cuh"
#include "reduce.cuh"
#include "rotary.cuh"

namespace primer::cuda {
namespace {

kernels::ElementType element_type(DType dtype) {
  switch (dtype) {
    case DType::f32: return kernels::ElementType::f32;
    case DType::f64: return kernels::ElementType::f64;
    case DType::bf16: return kernels::ElementType::bf16;
    case DType::i32: return kernels::ElementType::i32;
  }
  PRIMER_FAIL("no CUDA element type for {}", dtype_name(dtype));
}

void check_on_device(const Tensor& t, DType dtype, const char* op, const char* name) {
  PRIMER_CHECK(t.defined(), "{}: {} is undefined", op, name);
  PRIMER_CHECK(t.device().kind == DeviceKind::cuda, "{}: {} is {}, not a CUDA tensor", op, name,
               t.describe());
  PRIMER_CHECK(t.dtype() == dtype, "{}: {} is {}; the CUDA kernels take {}", op, name, t.describe(),
               dtype_name(dtype));
  PRIMER_CHECK(t.is_contiguous(), "{}: {} ({}) must be contiguous", op, name, t.describe());
}

float* f32(const Tensor& t, const char* op, const char* name) {
  check_on_device(t, DType::f32, op, name);
  return static_cast<float*>(t.data_ptr());
}

// Optional operands: null when undefined.
float* f32_or_null(const Tensor& t, const char* op, const char* name) {
  return t.defined() ? f32(t, op, name) : nullptr;
}

const std::int32_t* ids(const Tensor& t, const char* op) {
  check_on_device(t, DType::i32, op, "ids");
  return static_cast<const std::int32_t*>(t.data_ptr());
}

kernels::ActivationKind kind_of(Activation kind) {
  switch (kind) {
    case Activation::relu: return kernels::ActivationKind::relu;
    case Activation::squared_relu: return kernels::ActivationKind::squared_relu;
    case Activation::gelu_tanh: return kernels::ActivationKind::gelu_tanh;
    case Activation::silu: return kernels::ActivationKind::silu;
  }
  PRIMER_FAIL("unknown activation");
}

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

kernels::AttentionShape attention_shape(const Tensor& q, const Tensor& k, const Tensor& bias,
                                        const char* op) {
  PRIMER_CHECK(q.dim() == 4 && k.dim() == 4 && q.size(0) == k.size(0) && q.size(2) == k.size(2) &&
                   q.size(3) == k.size(3) && k.size(1) >= q.size(1),
               "{}: q {} and k {} must be [B, Tq, H, D] and [B, Tk, H, D] with Tk >= Tq", op, q.describe(),
               k.describe());
  PRIMER_CHECK(q.size(3) <= 256, "{}: head_dim {} exceeds the CUDA kernel's 256", op, q.size(3));
  PRIMER_CHECK(!bias.defined() || bias.shape() == Shape({q.size(2), q.size(1), k.size(1)}),
               "{}: bias {} must be [H, Tq, Tk]", op, bias.describe());
  return {q.size(0), q.size(1), k.size(1), q.size(2), q.size(3)};
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
  PRIMER_FAIL(
      "{}: {} {} at position {} is outside [0, {}) (found on the GPU; that element was skipped)",
      fault.kind == static_cast<int>(kernels::FaultKind::embedding_id) ? "embedding" : "cross_entropy",
      fault.kind == static_cast<int>(kernels::FaultKind::embedding_id) ? "id" : "target", fault.value,
      fault.position, fault.limit);
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
    PRIMER_CUDA_CHECK(cudaMemcpyAsync(staging.data_ptr(), host.data_ptr(),
                                      static_cast<std::size_t>(host.numel()) * dtype_size(host.dtype()),
                                      cudaMemcpyHostToDevice, stream()));
    // The host buffer may be freed as soon as this returns.
    synchronize();
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

void CudaBackend::sum_squares(const Tensor& x, const Tensor& out) {
  const Tensor partials = scratch(kernels::reduce_scratch_size(), DType::f64);
  PRIMER_CUDA_CHECK(kernels::sum(f32(x, "sum_squares", "x"), x.numel(), true,
                                 static_cast<double*>(partials.data_ptr()), f32(out, "sum_squares", "out"),
                                 stream()));
}

void CudaBackend::sum_rows(const Tensor& x, const Tensor& out) {
  const std::int64_t columns = x.size(-1);
  PRIMER_CHECK(out.numel() == columns, "sum_rows: out {} must have {} elements", out.describe(), columns);
  PRIMER_CUDA_CHECK(kernels::sum_rows(f32(x, "sum_rows", "x"), x.numel() / columns, columns,
                                      f32(out, "sum_rows", "out"), stream()));
}

void CudaBackend::embedding_forward(const Tensor& table, const Tensor& ids_tensor, const Tensor& out) {
  PRIMER_CHECK(table.dim() == 2, "embedding: table {} must be [V, C]", table.describe());
  PRIMER_CUDA_CHECK(kernels::embedding_forward(f32(table, "embedding", "table"), table.size(0), table.size(1),
                                               ids(ids_tensor, "embedding"), ids_tensor.numel(),
                                               f32(out, "embedding", "out"), fault_record(), stream()));
}

void CudaBackend::embedding_backward(const Tensor& grad_out, const Tensor& ids_tensor,
                                     const Tensor& grad_table) {
  PRIMER_CUDA_CHECK(kernels::embedding_backward(
      f32(grad_out, "embedding backward", "grad_out"), ids(ids_tensor, "embedding backward"),
      ids_tensor.numel(), grad_table.size(0), grad_table.size(1),
      f32(grad_table, "embedding backward", "grad_table"), fault_record(), stream()));
}

void CudaBackend::layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                                     const Tensor& y, const Tensor& mean, const Tensor& rstd) {
  const std::int64_t width = x.size(-1);
  PRIMER_CUDA_CHECK(kernels::norm_forward(
      f32(x, "layer_norm", "x"), f32(gamma, "layer_norm", "gamma"), f32_or_null(beta, "layer_norm", "beta"),
      static_cast<float>(eps), x.numel() / width, width, f32(y, "layer_norm", "y"),
      f32(mean, "layer_norm", "mean"), f32(rstd, "layer_norm", "rstd"), stream()));
}

void CudaBackend::layer_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& gamma,
                                      const Tensor& mean, const Tensor& rstd, const Tensor& grad_x,
                                      const Tensor& grad_gamma, const Tensor& grad_beta) {
  const std::int64_t width = x.size(-1);
  const char* op = "layer_norm backward";
  PRIMER_CUDA_CHECK(kernels::norm_backward(
      f32(grad_y, op, "grad_y"), f32(x, op, "x"), f32(gamma, op, "gamma"), f32(mean, op, "mean"),
      f32(rstd, op, "rstd"), x.numel() / width, width, f32(grad_x, op, "grad_x"),
      f32(grad_gamma, op, "grad_gamma"), f32_or_null(grad_beta, op, "grad_beta"), stream()));
}

void CudaBackend::rms_norm_forward(const Tensor& x, const Tensor& gamma, double eps, const Tensor& y,
                                   const Tensor& rstd) {
  const std::int64_t width = x.size(-1);
  PRIMER_CUDA_CHECK(kernels::norm_forward(
      f32(x, "rms_norm", "x"), f32(gamma, "rms_norm", "gamma"), nullptr, static_cast<float>(eps),
      x.numel() / width, width, f32(y, "rms_norm", "y"), nullptr, f32(rstd, "rms_norm", "rstd"), stream()));
}

void CudaBackend::rms_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& gamma,
                                    const Tensor& rstd, const Tensor& grad_x, const Tensor& grad_gamma) {
  const std::int64_t width = x.size(-1);
  const char* op = "rms_norm backward";
  PRIMER_CUDA_CHECK(kernels::norm_backward(f32(grad_y, op, "grad_y"), f32(x, op, "x"),
                                           f32(gamma, op, "gamma"), nullptr, f32(rstd, op, "rstd"),
                                           x.numel() / width, width, f32(grad_x, op, "grad_x"),
                                           f32(grad_gamma, op, "grad_gamma"), nullptr, stream()));
}

void CudaBackend::activation_forward(Activation kind, const Tensor& x, const Tensor& y) {
  check_same_shape(x, y, "activation");
  PRIMER_CUDA_CHECK(kernels::activation_forward(kind_of(kind), f32(x, "activation", "x"),
                                                f32(y, "activation", "y"), x.numel(), stream()));
}

void CudaBackend::activation_backward(Activation kind, const Tensor& x, const Tensor& grad_y,
                                      const Tensor& grad_x) {
  const char* op = "activation backward";
  PRIMER_CUDA_CHECK(kernels::activation_backward(kind_of(kind), f32(x, op, "x"), f32(grad_y, op, "grad_y"),
                                                 f32(grad_x, op, "grad_x"), x.numel(), stream()));
}

void CudaBackend::swiglu_forward(const Tensor& gate, const Tensor& up, const Tensor& y) {
  check_same_shape(gate, up, "swiglu");
  PRIMER_CUDA_CHECK(kernels::swiglu_forward(f32(gate, "swiglu", "gate"), f32(up, "swiglu", "up"),
                                            f32(y, "swiglu", "y"), gate.numel(), stream()));
}

void CudaBackend::swiglu_backward(const Tensor& gate, const Tensor& up, const Tensor& grad_y,
                                  const Tensor& grad_gate, const Tensor& grad_up) {
  const char* op = "swiglu backward";
  PRIMER_CUDA_CHECK(kernels::swiglu_backward(f32(gate, op, "gate"), f32(up, op, "up"),
                                             f32(grad_y, op, "grad_y"), f32(grad_gate, op, "grad_gate"),
                                             f32(grad_up, op, "grad_up"), gate.numel(), stream()));
}

void CudaBackend::causal_dconv_forward(const Tensor& x, const Tensor& weight, const Tensor& y) {
  PRIMER_CHECK(x.dim() == 3 && weight.shape() == Shape({3, x.size(2)}),
               "causal_dconv: x {} and weight {} must be "
               "[B, T, C] and [3, C]",
               x.describe(), weight.describe());
  PRIMER_CUDA_CHECK(kernels::causal_dconv_forward(f32(x, "causal_dconv", "x"),
                                                  f32(weight, "causal_dconv", "weight"), x.size(0), x.size(1),
                                                  x.size(2), f32(y, "causal_dconv", "y"), stream()));
}

void CudaBackend::causal_dconv_backward(const Tensor& grad_y, const Tensor& x, const Tensor& weight,
                                        const Tensor& grad_x, const Tensor& grad_weight) {
  const char* op = "causal_dconv backward";
  PRIMER_CUDA_CHECK(kernels::causal_dconv_backward(
      f32(grad_y, op, "grad_y"), f32(x, op, "x"), f32(weight, op, "weight"), x.size(0), x.size(1), x.size(2),
      f32(grad_x, op, "grad_x"), f32(grad_weight, op, "grad_weight"), stream()));
}

void CudaBackend::rotary(const Tensor& x, std::int64_t position_offset, double base, bool inverse,
                         const Tensor& out) {
  PRIMER_CHECK(x.dim() == 4 && x.size(3) % 2 == 0, "rotary: x {} must be [B, T, H, D] with D even",
               x.describe());
  PRIMER_CHECK(position_offset >= 0, "rotary: negative position offset {}", position_offset);
  PRIMER_CUDA_CHECK(kernels::rotary(f32(x, "rotary", "x"), x.size(0), x.size(1), x.size(2), x.size(3),
                                    position_offset, base, inverse, f32(out, "rotary", "out"), stream()));
}

void CudaBackend::attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias,
                                    double scale, const Tensor& out, const Tensor& lse) {
  const kernels::AttentionShape shape = attention_shape(q, k, bias, "attention");
  PRIMER_CUDA_CHECK(
      kernels::attention_forward(f32(q, "attention", "q"), f32(k, "attention", "k"), f32(v, "attention", "v"),
                                 f32_or_null(bias, "attention", "bias"), static_cast<float>(scale), shape,
                                 f32(out, "attention", "out"), f32(lse, "attention", "lse"), stream()));
}

void CudaBackend::attention_backward(const Tensor& grad_out, const Tensor& q, const Tensor& k,
                                     const Tensor& v, const Tensor& bias, double scale, const Tensor& out,
                                     const Tensor& lse, const Tensor& grad_q, const Tensor& grad_k,
                                     const Tensor& grad_v, const Tensor& grad_bias) {
  const char* op = "attention backward";
  const kernels::AttentionShape shape = attention_shape(q, k, bias, op);
  const Tensor delta = scratch(shape.batch * shape.heads * shape.q_time, DType::f32);
  if (grad_bias.defined()) fill(grad_bias, 0.0);
  PRIMER_CUDA_CHECK(kernels::attention_backward(
      f32(grad_out, op, "grad_out"), f32(q, op, "q"), f32(k, op, "k"), f32(v, op, "v"),
      f32_or_null(bias, op, "bias"), static_cast<float>(scale), f32(out, op, "out"), f32(lse, op, "lse"),
      shape, f32(delta, op, "delta"), f32(grad_q, op, "grad_q"), f32(grad_k, op, "grad_k"),
      f32(grad_v, op, "grad_v"), f32_or_null(grad_bias, op, "grad_bias"), stream()));
}

void CudaBackend::cross_entropy_forward(const Tensor& logits, const Tensor& targets, double z_loss,
                                        const Tensor& loss, const Tensor& lse) {
  PRIMER_CHECK(logits.dim() == 2 && targets.numel() == logits.size(0),
               "cross_entropy: logits {} must be [N, V] with one target per row ({})", logits.describe(),
               targets.describe());
  const Tensor terms = scratch(logits.size(0), DType::f32);
  PRIMER_CUDA_CHECK(kernels::cross_entropy_forward(
      f32(logits, "cross_entropy", "logits"), ids(targets, "cross_entropy"), logits.size(0), logits.size(1),
      static_cast<float>(z_loss), f32(terms, "cross_entropy", "terms"), f32(lse, "cross_entropy", "lse"),
      f32(loss, "cross_entropy", "loss"), fault_record(), stream()));
}

void CudaBackend::cross_entropy_backward(const Tensor& grad_loss, const Tensor& logits, const Tensor& targets,
                                         const Tensor& lse, double z_loss, const Tensor& grad_logits) {
  const char* op = "cross_entropy backward";
  const Tensor counted = scratch(1, DType::f64);  // 8 bytes for the int64 count
  PRIMER_CUDA_CHECK(kernels::cross_entropy_backward(
      f32(grad_loss, op, "grad_loss"), f32(logits, op, "logits"), ids(targets, op), f32(lse, op, "lse"),
      logits.size(0), logits.size(1), static_cast<float>(z_loss),
      static_cast<std::int64_t*>(counted.data_ptr()), f32(grad_logits, op, "grad_logits"), stream()));
}

void CudaBackend::adamw_update(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                               const AdamWStep& step) {
  PRIMER_CHECK(step.step >= 1, "adamw: step {} must start at 1", step.step);
  const kernels::AdamWConstants constants{
      static_cast<float>(step.beta1),
      static_cast<float>(step.beta2),
      static_cast<float>(step.eps),
      static_cast<float>(1.0 - step.lr * step.weight_decay),
      static_cast<float>(step.lr / (1.0 - std::pow(step.beta1, static_cast<double>(step.step)))),
      static_cast<float>(std::sqrt(1.0 - std::pow(step.beta2, static_cast<double>(step.step))))};
  PRIMER_CUDA_CHECK(kernels::adamw_update(f32(param, "adamw", "param"), f32(grad, "adamw", "grad"),
                                          f32(m, "adamw", "m"), f32(v, "adamw", "v"), param.numel(),
                                          constants, stream()));
}

void CudaBackend::adafactor_update(const Tensor& param, const Tensor& grad, const Tensor& row_state,
                                   const Tensor& column_state, const Tensor& second_moment,
                                   const AdafactorStep& step) {
  const char* op = "adafactor";
  const std::int64_t columns = param.size(-1);
  const bool factored = row_state.defined();
  const std::int64_t rows = factored ? param.numel() / columns : 1;
  const Tensor update = scratch(param.numel(), DType::f32);
  const Tensor reductions = scratch(kernels::reduce_scratch_size() + 3, DType::f64);
  const kernels::AdafactorConstants constants{step.lr,       step.decay,          step.epsilon1,
                                              step.epsilon2, step.clip_threshold, step.relative_step};
  PRIMER_CUDA_CHECK(kernels::adafactor_update(
      f32(param, op, "param"), f32(grad, op, "grad"), f32_or_null(row_state, op, "row_state"),
      f32_or_null(column_state, op, "column_state"), f32_or_null(second_moment, op, "second_moment"), rows,
      factored ? columns : param.numel(), constants, f32(update, op, "update"),
      static_cast<double*>(reductions.data_ptr()), stream()));
}

}  // namespace primer::cuda
