// Matrix products: oneDNN for f32 and bf16 (onednn_matmul.h), Eigen for f64, which oneDNN lacks and only
// tests use.
// oneDNN 2.6 has no bf16 GEMM below AVX-512 (AVX2-only CPUs such as Zen 2): there bf16 operands are
// widened to f32, which is exact, and multiplied by the f32 GEMM, so the result is still the product of
// bf16-rounded operands accumulated in f32, the same computation at the f32 rate.
#include <algorithm>

#include <fmt/format.h>
#include <Eigen/Core>
#include <oneapi/dnnl/dnnl.hpp>

#include "backend/cpu/kernel_support.h"
#include "ops/activation/activation_formulas.h"
#include "ops/matmul/matmul_kernels.h"
#include "ops/matmul/onednn_matmul.h"
#include "primer/core/logging.h"

namespace primer::cpu {
namespace {

// Operands as oneDNN sees them: 3-D, batch first (a 2-D operand gets a batch of 1 and, for b, stride 0
// so it broadcasts over a's batch).
StridedMatrices as_batched(const Tensor& t) {
  if (t.dim() == 3) {
    return {
        t.data_ptr(), t.dtype(), {t.size(0), t.size(1), t.size(2)}, {t.stride(0), t.stride(1), t.stride(2)}};
  }
  // The batch stride of a size-1 batch is never used; the matrix size keeps oneDNN's layout checks happy.
  return {
      t.data_ptr(), t.dtype(), {1, t.size(0), t.size(1)}, {t.size(0) * t.size(1), t.stride(0), t.stride(1)}};
}

void onednn_product(const Tensor& a, const Tensor& b, const Tensor& bias, const Tensor& out, bool accumulate,
                    std::optional<Activation> activation) {
  if (!bias.defined()) {
    onednn_matmul(as_batched(a), as_batched(b), nullptr, as_batched(out), accumulate, activation);
    return;
  }
  const StridedMatrices bias_row{bias.data_ptr(), bias.dtype(), {1, 1, bias.numel()}, {0, 0, 1}};
  onednn_matmul(as_batched(a), as_batched(b), &bias_row, as_batched(out), accumulate, activation);
}

// oneDNN 2.6 runs a product whose a has long rows (k above 2048, a not transposed) well below its rate:
// the LM head's input gradient ([2048, 8192] x [8192, 256], AMD Zen 5, 2 threads, caches cold) took
// 27.9 ms in one product and 20.4 ms as four of k = 2048, each added to out by the GEMM (bf16: 12.3 and
// 10.6 ms); [2048, 3072] x [3072, 768] 28.3 and 21.9 ms as two of 1536. A transposed a (the weight
// gradients' long k over tokens) gains nothing, so it runs whole. The chunks are equal, multiples of 64.
// primer-bench-ops times the first against one oneDNN call (matmul/onednn_f32_one_call/logits_grad_x).
constexpr std::int64_t kLongestRow = 2048;

void split_long_rows(const Tensor& a, const Tensor& b, const Tensor& bias, const Tensor& out, bool accumulate,
                     std::optional<Activation> activation) {
  const std::int64_t k = a.size(-1);
  // An f32 out only: a bf16 one would be rounded after every chunk.
  const bool long_rows = a.dim() == 2 && b.dim() == 2 && k > kLongestRow && a.stride(1) == 1 && !activation &&
                         out.dtype() == DType::f32;
  if (!long_rows) {
    onednn_product(a, b, bias, out, accumulate, activation);
    return;
  }
  const std::int64_t chunks = (k + kLongestRow - 1) / kLongestRow;
  const std::int64_t chunk = ((k + chunks - 1) / chunks + 63) / 64 * 64;
  for (std::int64_t begin = 0; begin < k; begin += chunk) {
    const std::int64_t end = std::min(k, begin + chunk);
    // The bias goes in with the first chunk, which writes out unless the caller adds to it.
    onednn_product(a.slice(1, begin, end), b.slice(0, begin, end), begin == 0 ? bias : Tensor(), out,
                   accumulate || begin > 0, std::nullopt);
  }
}

std::string isa_name(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return fmt::format("#{}", static_cast<int>(isa));
  }
}

void eigen_matmul_f64(const Tensor& a, const Tensor& b, const Tensor& bias, const Tensor& out,
                      bool accumulate, std::optional<Activation> activation) {
  using Strided = Eigen::Map<const Eigen::MatrixXd, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>;
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const StridedMatrices oa = as_batched(a);
  const StridedMatrices ob = as_batched(b);
  const std::int64_t batch = oa.dims[0];
  const std::int64_t m = oa.dims[1];
  const std::int64_t k = oa.dims[2];
  const std::int64_t n = ob.dims[2];
  const double* pa = a.data<double>();
  const double* pb = b.data<double>();
  const std::int64_t b_batch_stride = b.dim() == 2 ? 0 : ob.strides[0];  // a 2-D b is shared by the batch
  for (std::int64_t i = 0; i < batch; ++i) {
    // A column-major map of a row-major strided matrix: outer stride walks columns, inner walks rows.
    Strided ma(pa + i * oa.strides[0], m, k,
               Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(oa.strides[2], oa.strides[1]));
    Strided mb(pb + i * b_batch_stride, k, n,
               Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(ob.strides[2], ob.strides[1]));
    Eigen::Map<RowMajor> mc(out.data<double>() + i * m * n, m, n);
    if (accumulate) {
      mc.noalias() += ma * mb;
    } else {
      mc.noalias() = ma * mb;
    }
    if (bias.defined()) mc.rowwise() += Eigen::Map<const Eigen::RowVectorXd>(bias.data<double>(), n);
  }
  if (activation) {
    ops::dispatch_activation(*activation, [&](auto kind) {
      double* values = out.data<double>();
      for (std::int64_t i = 0; i < out.numel(); ++i)
        values[i] = ops::activate<decltype(kind)::value>(values[i]);
    });
  }
}

}  // namespace

// Whether oneDNN can build a bf16 matmul on this CPU (under ONEDNN_MAX_CPU_ISA, if set); asked once,
// and the answer logged, so a run says which path its bf16 products take.
bool native_bf16_gemm() {
  static const bool native = [] {
    const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    const dnnl::memory::desc md({1, 16, 16}, dnnl::memory::data_type::bf16, dnnl::memory::format_tag::abc);
    const dnnl::memory::desc out({1, 16, 16}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::abc);
    bool available = true;
    try {
      dnnl::matmul::primitive_desc(dnnl::matmul::desc(md, md, out), engine);
    } catch (const dnnl::error&) {
      available = false;
    }
    log().info("bf16 matmuls: {} (oneDNN CPU ISA {})",
               available ? "oneDNN's native bf16 GEMM"
                         : "no native bf16 GEMM on this CPU; bf16 operands widened to f32, f32 GEMM",
               isa_name(dnnl::get_effective_cpu_isa()));
    return available;
  }();
  return native;
}

void matmul(const Tensor& a, const Tensor& b, const Tensor& bias, const Tensor& out, bool accumulate,
            std::optional<Activation> activation) {
  for (const Tensor* t : {&a, &b, &out, &bias}) {
    PRIMER_CHECK(!t->defined() || t->device() == Device::cpu(), "matmul: {} is not a CPU tensor",
                 t->describe());
  }
  if (a.dtype() == DType::f64) {
    eigen_matmul_f64(a, b, bias, out, accumulate, activation);
    return;
  }
  if (out.numel() == 0) return;
  if (a.dtype() == DType::bf16 && !native_bf16_gemm()) {
    const auto widen = [](const Tensor& t) { return t.defined() ? t.to(DType::f32) : t; };
    const Tensor result = out.dtype() == DType::f32 ? out
                          : accumulate              ? widen(out)
                                                    : Tensor::empty(out.shape(), DType::f32, out.device());
    split_long_rows(widen(a), widen(b), widen(bias), result, accumulate, activation);
    if (result.dtype() != out.dtype()) out.copy_from(result);
    return;
  }
  split_long_rows(a, b, bias, out, accumulate, activation);
}

}  // namespace primer::cpu
