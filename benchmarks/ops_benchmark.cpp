// primer-bench-ops: where CPU time goes in the hot ops. Each measurement is paired with a named baseline
// timed in the same run, and the ratios are printed at the end:
//  - matmul through oneDNN (f32, bf16) against Eigen's f32 GEMM on the same shapes and threads; the LM
//    head's input gradient (k = 8192, which matmul_into runs as chunks of k) also against one oneDNN call;
//  - fused softmax cross-entropy (forward + backward kernels, and the LM head's one-pass kernel) against a
//    memcpy of the logits, its memory floor, and the one pass against the two kernels;
//  - causal attention forward and backward (with and without a T5 bias), as GFLOP/s of their products,
//    under bf16 products (bf16 pairs where the CPU has AVX512-BF16) against f32;
//  - exp over softmax rows against libmvec's expf (AVX-512 CPUs);
//  - f32 -> bf16 conversion against the compiler's scalar loop;
//  - the causal depthwise convolution's backward, as GB/s of its one pass, its inputs in cache and not;
//  - the FFN's activation gradient, and SwiGLU forward and backward, in bf16 against f32.
// Shapes are the tiny CPU model's (batch 8 x seq 256 = 2048 tokens, d_model 256, d_ff 1024, vocab 8192).
#include <benchmark/benchmark.h>

#include <immintrin.h>

#include <Eigen/Core>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/vector_math.h"
#include "ops/activation/activation_kernels.h"
#include "ops/attention/attention_kernels.h"
#include "ops/causal_dconv/causal_dconv_kernels.h"
#include "ops/cross_entropy/cross_entropy_kernels.h"
#include "ops/matmul/onednn_matmul.h"
#include "primer/nn/relative_position_bias.h"
#include "primer/ops/linear.h"
#include "primer/tensor/random.h"

namespace {

using primer::DType;
using primer::Tensor;

struct MatmulShape {
  const char* name;
  std::int64_t m, k, n;
  bool weight_transposed;  // b given as a [n, k] weight, viewed transposed (how linear layers run)
};

constexpr MatmulShape kShapes[] = {
    {"qkv_proj", 2048, 256, 256, true},      {"ffn_in", 2048, 256, 1024, true},
    {"ffn_out", 2048, 1024, 256, true},      {"logits", 2048, 256, 8192, true},
    {"grad_weight", 1024, 2048, 256, false}, {"logits_grad_x", 2048, 8192, 256, false},
};
constexpr MatmulShape kLogitsGradX = kShapes[5];

double matmul_flops(const MatmulShape& s) {
  return 2.0 * static_cast<double>(s.m * s.k * s.n);
}

void set_rate(benchmark::State& state, double flops_per_iteration, double bytes_per_iteration) {
  state.counters["GFLOP/s"] = benchmark::Counter(
      flops_per_iteration, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  state.counters["GB/s"] = benchmark::Counter(
      bytes_per_iteration, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void onednn_matmul(benchmark::State& state, MatmulShape s, DType dtype) {
  primer::Generator generator(1);
  const Tensor a = primer::randn({s.m, s.k}, dtype, generator);
  const Tensor b = s.weight_transposed ? primer::randn({s.n, s.k}, dtype, generator).transpose(0, 1)
                                       : primer::randn({s.k, s.n}, dtype, generator);
  const Tensor out = Tensor::empty({s.m, s.n}, dtype);
  for (auto _ : state) {
    primer::ops::matmul_into(a, b, Tensor(), out);
    benchmark::DoNotOptimize(out.data_ptr());
  }
  const double bytes = static_cast<double>((s.m * s.k + s.k * s.n + s.m * s.n) * primer::dtype_size(dtype));
  set_rate(state, matmul_flops(s), bytes);
}

// The product as one oneDNN call, f32, without matmul_into's split of long rows: its baseline.
void onednn_one_call(benchmark::State& state, MatmulShape s) {
  primer::Generator generator(1);
  const Tensor a = primer::randn({s.m, s.k}, DType::f32, generator);
  const Tensor b = primer::randn({s.k, s.n}, DType::f32, generator);
  const Tensor out = Tensor::empty({s.m, s.n}, DType::f32);
  const auto matrices = [](const Tensor& t) {
    return primer::cpu::StridedMatrices{
        t.data_ptr(), t.dtype(), {1, t.size(0), t.size(1)}, {t.numel(), t.size(1), 1}};
  };
  for (auto _ : state) {
    primer::cpu::onednn_matmul(matrices(a), matrices(b), nullptr, matrices(out), false);
    benchmark::DoNotOptimize(out.data_ptr());
  }
  set_rate(state, matmul_flops(s), static_cast<double>((s.m * s.k + s.k * s.n + s.m * s.n) * 4));
}

void eigen_matmul(benchmark::State& state, MatmulShape s) {
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const RowMajor a = RowMajor::Random(s.m, s.k);
  const RowMajor w = s.weight_transposed ? RowMajor::Random(s.n, s.k) : RowMajor::Random(s.k, s.n);
  RowMajor out(s.m, s.n);
  for (auto _ : state) {
    if (s.weight_transposed) {
      out.noalias() = a * w.transpose();
    } else {
      out.noalias() = a * w;
    }
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state, matmul_flops(s), static_cast<double>((s.m * s.k + s.k * s.n + s.m * s.n) * 4));
}

constexpr std::int64_t kRows = 2048, kVocab = 8192;
// Counted per logit: forward max, subtract, exp, add; backward subtract, exp, multiply (exp as one).
constexpr double kCrossEntropyFlopsPerLogit = 7.0;

void fused_cross_entropy(benchmark::State& state, DType dtype) {
  primer::Generator generator(2);
  const Tensor logits = primer::randn({kRows, kVocab}, dtype, generator, 3.0);
  const Tensor targets = primer::randint({kRows}, 0, kVocab, generator);
  const Tensor loss = Tensor::empty({1}, DType::f32);
  const Tensor lse = Tensor::empty({kRows}, DType::f32);
  const Tensor grad_loss = Tensor::full({1}, 1.0, DType::f32);
  const Tensor grad_logits = Tensor::empty_like(logits);
  for (auto _ : state) {
    primer::cpu::cross_entropy_forward(logits, targets, 1e-4, loss, lse);
    primer::cpu::cross_entropy_backward(grad_loss, logits, targets, lse, 1e-4, grad_logits);
    benchmark::DoNotOptimize(grad_logits.data_ptr());
  }
  // The unavoidable traffic: logits read by forward and backward, gradient written once.
  const double bytes = 3.0 * static_cast<double>(kRows * kVocab * primer::dtype_size(dtype));
  set_rate(state, kCrossEntropyFlopsPerLogit * static_cast<double>(kRows * kVocab), bytes);
}

// The fused LM head's kernel: forward and backward in one pass over each row, the gradient written over
// the logits (from the second iteration on it reads the previous gradient: the same work).
void one_pass_cross_entropy(benchmark::State& state) {
  primer::Generator generator(2);
  const Tensor logits = primer::randn({kRows, kVocab}, DType::f32, generator, 3.0);
  const Tensor targets = primer::randint({kRows}, 0, kVocab, generator);
  const Tensor loss = Tensor::empty({1}, DType::f32);
  const Tensor lse = Tensor::empty({kRows}, DType::f32);
  const Tensor grad_loss = Tensor::full({1}, 1.0, DType::f32);
  for (auto _ : state) {
    primer::cpu::cross_entropy_with_gradient(grad_loss, logits, targets, 1e-4, loss, lse, logits);
    benchmark::DoNotOptimize(logits.data_ptr());
  }
  // Logits read once, gradient written once; one exp per logit.
  const double bytes = 2.0 * static_cast<double>(kRows * kVocab * 4);
  set_rate(state, 5.0 * static_cast<double>(kRows * kVocab), bytes);
}

void logits_memcpy(benchmark::State& state) {
  const Tensor source = Tensor::full({kRows, kVocab}, 1.0, DType::f32);
  const Tensor destination = Tensor::empty_like(source);
  const auto bytes = static_cast<std::size_t>(kRows * kVocab * 4);
  for (auto _ : state) {
    std::memcpy(destination.data_ptr(), source.data_ptr(), bytes);
    benchmark::DoNotOptimize(destination.data_ptr());
  }
  set_rate(state, 0.0, 2.0 * static_cast<double>(bytes));
}

// f32 -> bf16 over the FFN's hidden activation ([2048, 1024]), on the benchmark's threads: the backend's
// conversion (vectorised narrowing, bf16_conversion.h) against the compiler's loop over bfloat16's
// constructor, its baseline.
constexpr std::int64_t kHidden = 2048 * 1024;

void narrow_to_bf16(benchmark::State& state) {
  const Tensor source = Tensor::full({kHidden}, 1.1, DType::f32);
  const Tensor destination = Tensor::empty({kHidden}, DType::bf16);
  for (auto _ : state) {
    destination.copy_from(source);
    benchmark::DoNotOptimize(destination.data_ptr());
  }
  set_rate(state, 0.0, 6.0 * static_cast<double>(kHidden));
}

void narrow_to_bf16_scalar(benchmark::State& state) {
  const Tensor source = Tensor::full({kHidden}, 1.1, DType::f32);
  const Tensor destination = Tensor::empty({kHidden}, DType::bf16);
  const float* in = source.data<float>();
  primer::bfloat16* out = destination.data<primer::bfloat16>();
  for (auto _ : state) {
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < kHidden; ++i) out[i] = primer::bfloat16(in[i]);
    benchmark::DoNotOptimize(destination.data_ptr());
  }
  set_rate(state, 0.0, 6.0 * static_cast<double>(kHidden));
}

// exp over softmax rows as attention runs it (vector_math.h's exp_shifted: 64 rows of 128 keys, the
// average causal row at seq 256, in cache; one thread), against the same loop over glibc's libmvec expf,
// which it replaced, summed the way that version summed.
constexpr std::int64_t kExpRows = 64, kExpRowLength = 128;

}  // namespace
extern "C" __m512 _ZGVeN16v_expf(__m512 x);
namespace {

__attribute__((target("avx512f"))) float libmvec_exp_shifted(const float* x, float* out, std::int64_t n,
                                                             float shift, float scale) {
  const __m512 s = _mm512_set1_ps(shift), a = _mm512_set1_ps(scale);
  __m512 sum = _mm512_setzero_ps();
  for (std::int64_t i = 0; i < n; i += 16) {
    const __m512 e = _ZGVeN16v_expf(_mm512_fmsub_ps(a, _mm512_loadu_ps(x + i), s));
    _mm512_storeu_ps(out + i, e);
    sum = _mm512_add_ps(sum, e);
  }
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, sum);
  for (int width = 8; width > 0; width /= 2) {
    for (int i = 0; i < width; ++i) lanes[i] += lanes[i + width];
  }
  return lanes[0];
}

using ExpShifted = float (*)(const float*, float*, std::int64_t, float, float);

void exp_rows(benchmark::State& state, ExpShifted exp_shifted) {
  std::vector<float> rows(static_cast<std::size_t>(kExpRows * kExpRowLength), -1.5f), out(rows.size());
  for (auto _ : state) {
    for (std::int64_t r = 0; r < kExpRows; ++r) {
      const float sum = exp_shifted(rows.data() + r * kExpRowLength, out.data() + r * kExpRowLength,
                                    kExpRowLength, 0.5f, 0.125f);
      benchmark::DoNotOptimize(sum);
    }
  }
  set_rate(state, 0.0, 8.0 * static_cast<double>(rows.size()));
}

// Causal attention at the tiny model's shape (batch 8, seq 256, 4 heads of 64), training, with or without
// T5's relative bias (32 buckets up to distance 128, as the tiny configs have it; its table's gradient is
// summed over the batch, every query and key).
// GFLOP/s counts the causal half of each product: forward Q K^T and P V; backward recomputes Q K^T and
// runs dO V^T, dV, dQ and dK.
constexpr std::int64_t kBatch = 8, kTime = 256, kHeads = 4, kHeadDim = 64;
constexpr double kCausalProductFlops = static_cast<double>(kBatch * kHeads * kTime * kTime * kHeadDim);

struct AttentionOperands {
  AttentionOperands(primer::Generator& generator, bool with_bias)
      : q(primer::randn({kBatch, kTime, kHeads, kHeadDim}, DType::f32, generator)),
        k(primer::randn(q.shape(), DType::f32, generator)),
        v(primer::randn(q.shape(), DType::f32, generator)),
        out(Tensor::empty(q.shape(), DType::f32)),
        lse(Tensor::empty({kBatch, kHeads, kTime}, DType::f32)) {
    if (!with_bias) return;
    primer::nn::RelativePositionBias t5(32, 128, kHeads, 0.1, generator);
    const primer::ops::RelativeBias relative = t5(kTime);
    bias = {relative.table.value(), relative.distance_buckets};
    grad_table = Tensor::empty_like(bias.table);
  }
  Tensor q, k, v, out, lse, grad_table;
  primer::ops::AttentionBias bias;
  double scale = 0.125;
};

void attention_forward(benchmark::State& state, bool with_bias, DType precision) {
  primer::Generator generator(3);
  const AttentionOperands a(generator, with_bias);
  for (auto _ : state) {
    primer::cpu::attention_forward(a.q, a.k, a.v, {}, a.bias, a.scale, precision, a.out, a.lse);
    benchmark::DoNotOptimize(a.out.data_ptr());
  }
  set_rate(state, 2.0 * kCausalProductFlops, 4.0 * static_cast<double>(a.q.numel() * 4));
}

void attention_backward(benchmark::State& state, bool with_bias, DType precision) {
  primer::Generator generator(3);
  const AttentionOperands a(generator, with_bias);
  primer::cpu::attention_forward(a.q, a.k, a.v, {}, a.bias, a.scale, precision, a.out, a.lse);
  const Tensor grad_out = primer::randn(a.q.shape(), DType::f32, generator);
  const Tensor grad_q = Tensor::empty_like(a.q), grad_k = Tensor::empty_like(a.q),
               grad_v = Tensor::empty_like(a.q);
  for (auto _ : state) {
    primer::cpu::attention_backward(grad_out, a.q, a.k, a.v, {}, a.bias, a.scale, precision, a.out, a.lse,
                                    grad_q, grad_k, grad_v, {}, a.grad_table);
    benchmark::DoNotOptimize(grad_k.data_ptr());
  }
  set_rate(state, 5.0 * kCausalProductFlops, 8.0 * static_cast<double>(a.q.numel() * 4));
}

// Primer-EZ's attention, the convolutions of q, k and v inside its kernels, against its baseline: the three
// convolutions as their own op (causal_dconv's kernels, into [B, T, H * D] tensors), then attention.
// Forward and backward each, warm, at the shape above with a T5 bias, f32.
struct ConvolvedAttention {
  explicit ConvolvedAttention(primer::Generator& generator)
      : a(generator, true),
        taps{primer::randn({3, kHeads * kHeadDim}, DType::f32, generator),
             primer::randn({3, kHeads * kHeadDim}, DType::f32, generator),
             primer::randn({3, kHeads * kHeadDim}, DType::f32, generator)},
        grad_taps{Tensor::empty_like(taps.q), Tensor::empty_like(taps.k), Tensor::empty_like(taps.v)},
        grad_out(primer::randn(a.q.shape(), DType::f32, generator)) {
    for (int i = 0; i < 3; ++i) {
      convolved.push_back(Tensor::empty_like(a.q));
      grads.push_back(Tensor::empty_like(a.q));
      convolved_grads.push_back(Tensor::empty_like(a.q));
    }
  }
  static Tensor channels(const Tensor& t) { return t.reshape({kBatch, kTime, kHeads * kHeadDim}); }
  void convolve() const {
    const Tensor* inputs[] = {&a.q, &a.k, &a.v};
    const Tensor* weights[] = {&taps.q, &taps.k, &taps.v};
    for (int i = 0; i < 3; ++i)
      primer::cpu::causal_dconv_forward(channels(*inputs[i]), *weights[i], channels(convolved[i]));
  }
  AttentionOperands a;
  primer::ops::AttentionConvolutions taps, grad_taps;
  Tensor grad_out;
  std::vector<Tensor> convolved, grads, convolved_grads;
};

void dconv_attention_forward(benchmark::State& state, bool fused) {
  primer::Generator generator(5);
  const ConvolvedAttention c(generator);
  for (auto _ : state) {
    if (fused) {
      primer::cpu::attention_forward(c.a.q, c.a.k, c.a.v, c.taps, c.a.bias, c.a.scale, DType::f32, c.a.out,
                                     c.a.lse);
    } else {
      c.convolve();
      primer::cpu::attention_forward(c.convolved[0], c.convolved[1], c.convolved[2], {}, c.a.bias, c.a.scale,
                                     DType::f32, c.a.out, c.a.lse);
    }
    benchmark::DoNotOptimize(c.a.out.data_ptr());
  }
  set_rate(state, 2.0 * kCausalProductFlops, 0);
}

void dconv_attention_backward(benchmark::State& state, bool fused) {
  primer::Generator generator(5);
  const ConvolvedAttention c(generator);
  primer::cpu::attention_forward(c.a.q, c.a.k, c.a.v, c.taps, c.a.bias, c.a.scale, DType::f32, c.a.out,
                                 c.a.lse);
  const Tensor* inputs[] = {&c.a.q, &c.a.k, &c.a.v};
  const Tensor* weights[] = {&c.taps.q, &c.taps.k, &c.taps.v};
  const Tensor* weight_grads[] = {&c.grad_taps.q, &c.grad_taps.k, &c.grad_taps.v};
  for (auto _ : state) {
    if (fused) {
      primer::cpu::attention_backward(c.grad_out, c.a.q, c.a.k, c.a.v, c.taps, c.a.bias, c.a.scale,
                                      DType::f32, c.a.out, c.a.lse, c.grads[0], c.grads[1], c.grads[2],
                                      c.grad_taps, c.a.grad_table);
    } else {
      c.convolve();
      primer::cpu::attention_backward(c.grad_out, c.convolved[0], c.convolved[1], c.convolved[2], {},
                                      c.a.bias, c.a.scale, DType::f32, c.a.out, c.a.lse, c.convolved_grads[0],
                                      c.convolved_grads[1], c.convolved_grads[2], {}, c.a.grad_table);
      for (int i = 0; i < 3; ++i) {
        primer::cpu::causal_dconv_backward(ConvolvedAttention::channels(c.convolved_grads[i]),
                                           ConvolvedAttention::channels(*inputs[i]), *weights[i],
                                           ConvolvedAttention::channels(c.grads[i]), *weight_grads[i]);
      }
    }
    benchmark::DoNotOptimize(c.grads[0].data_ptr());
  }
  set_rate(state, 5.0 * kCausalProductFlops, 0);
}

// The convolution's backward at the tiny model's [batch 8, seq 256, 256] projections: x and dy read, dx
// written (the taps' gradients are summed from the same rows while they are in cache). Warm: one set of
// tensors, in cache after the first call; cold: 24 sets (144 MB) in turn, as in training, where x was
// written in the forward pass, long before.
void dconv_backward(benchmark::State& state, std::size_t sets) {
  primer::Generator generator(3);
  std::vector<Tensor> xs, gys, gxs;
  for (std::size_t i = 0; i < sets; ++i) {
    xs.push_back(primer::randn({8, 256, 256}, DType::f32, generator));
    gys.push_back(primer::randn({8, 256, 256}, DType::f32, generator));
    gxs.push_back(Tensor::empty_like(xs.back()));
  }
  const Tensor w = primer::randn({3, 256}, DType::f32, generator);
  const Tensor gw = Tensor::empty_like(w);
  std::size_t next = 0;
  for (auto _ : state) {
    primer::cpu::causal_dconv_backward(gys[next], xs[next], w, gxs[next], gw);
    benchmark::DoNotOptimize(gxs[next].data_ptr());
    next = (next + 1) % sets;
  }
  set_rate(state, 0, 3.0 * static_cast<double>(xs[0].numel() * 4));
}

// The FFN's activation gradient from its output (squared ReLU over the [2048, 1024] hidden), f32 and, as
// under bf16 products, bf16: the f32 one is the bf16 one's baseline.
void activation_gradient(benchmark::State& state, DType dtype) {
  primer::Generator generator(4);
  const Tensor y = primer::randn({2048, 1024}, DType::f32, generator).to(dtype);
  const Tensor gy = primer::randn({2048, 1024}, DType::f32, generator).to(dtype);
  const Tensor gx = Tensor::empty_like(y);
  for (auto _ : state) {
    primer::cpu::activation_backward_from_output(primer::Activation::squared_relu, y, gy, gx);
    benchmark::DoNotOptimize(gx.data_ptr());
  }
  set_rate(state, 0, 3.0 * static_cast<double>(y.numel() * primer::dtype_size(dtype)));
}

// SwiGLU over the transformer++ FFN's hidden ([2048, 1024]), forward and backward, f32 and, as under bf16
// products, bf16: the f32 one is the bf16 one's baseline.
void swiglu_pass(benchmark::State& state, DType dtype, bool backward) {
  primer::Generator generator(5);
  const Tensor gate = primer::randn({2048, 1024}, DType::f32, generator).to(dtype);
  const Tensor up = primer::randn({2048, 1024}, DType::f32, generator).to(dtype);
  const Tensor grad_y = primer::randn({2048, 1024}, DType::f32, generator).to(dtype);
  const Tensor first = Tensor::empty_like(gate), second = Tensor::empty_like(gate);
  for (auto _ : state) {
    if (backward) {
      primer::cpu::swiglu_backward(gate, up, grad_y, first, second);
    } else {
      primer::cpu::swiglu_forward(gate, up, first);
    }
    benchmark::DoNotOptimize(first.data_ptr());
  }
  set_rate(state, 0, (backward ? 5.0 : 3.0) * static_cast<double>(gate.numel() * primer::dtype_size(dtype)));
}

class RecordingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    // With --benchmark_repetitions, the median of the repetitions (reported after them) is the figure.
    for (const Run& run : runs) {
      if (run.run_type == Run::RT_Aggregate && run.aggregate_name != "median") continue;
      seconds[run.run_name.function_name] = run.GetAdjustedRealTime();
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> seconds;
};

}  // namespace

int main(int argc, char** argv) {
  for (const MatmulShape& shape : kShapes) {
    const std::string suffix = std::string("/") + shape.name;
    benchmark::RegisterBenchmark(("matmul/onednn_f32" + suffix).c_str(), onednn_matmul, shape, DType::f32)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("matmul/onednn_bf16" + suffix).c_str(), onednn_matmul, shape, DType::bf16)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("matmul/eigen_f32" + suffix).c_str(), eigen_matmul, shape)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark("matmul/onednn_f32_one_call/logits_grad_x", onednn_one_call, kLogitsGradX)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark("cross_entropy/fused_f32", fused_cross_entropy, DType::f32)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark("cross_entropy/fused_bf16", fused_cross_entropy, DType::bf16)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark("cross_entropy/one_pass_f32", one_pass_cross_entropy)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark("cross_entropy/memcpy_f32_baseline", logits_memcpy)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();

  for (const bool with_bias : {false, true}) {
    for (const DType precision : {DType::f32, DType::bf16}) {
      std::string suffix(primer::dtype_name(precision));
      if (with_bias) suffix += "_t5_bias";
      benchmark::RegisterBenchmark(("attention/forward_" + suffix).c_str(), attention_forward, with_bias,
                                   precision)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
      benchmark::RegisterBenchmark(("attention/backward_" + suffix).c_str(), attention_backward, with_bias,
                                   precision)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
  }

  for (const bool fused : {true, false}) {
    const std::string suffix = fused ? "f32" : "f32_separate_baseline";
    benchmark::RegisterBenchmark(("attention/dconv_forward_" + suffix).c_str(), dconv_attention_forward,
                                 fused)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("attention/dconv_backward_" + suffix).c_str(), dconv_attention_backward,
                                 fused)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }

  const ExpShifted primer_exp = [](const float* x, float* out, std::int64_t n, float shift, float scale) {
    return primer::cpu::exp_shifted(x, out, n, shift, scale);
  };
  benchmark::RegisterBenchmark("exp/softmax_rows_f32", exp_rows, primer_exp)->UseRealTime();
  if (primer::cpu::avx512_available())
    benchmark::RegisterBenchmark("exp/libmvec_baseline", exp_rows, libmvec_exp_shifted)->UseRealTime();
  benchmark::RegisterBenchmark("convert/narrow_f32_to_bf16", narrow_to_bf16)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark("convert/scalar_loop_baseline", narrow_to_bf16_scalar)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  for (const auto& [name, sets] :
       {std::pair{"dconv/backward_f32_warm", 1}, std::pair{"dconv/backward_f32_cold", 24}}) {
    benchmark::RegisterBenchmark(name, dconv_backward, static_cast<std::size_t>(sets))
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  for (const DType dtype : {DType::f32, DType::bf16}) {
    benchmark::RegisterBenchmark(("activation/gradient_" + std::string(primer::dtype_name(dtype))).c_str(),
                                 activation_gradient, dtype)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  for (const bool backward : {false, true}) {
    for (const DType dtype : {DType::f32, DType::bf16}) {
      const std::string name = std::string("swiglu/") + (backward ? "backward_" : "forward_") +
                               std::string(primer::dtype_name(dtype));
      benchmark::RegisterBenchmark(name.c_str(), swiglu_pass, dtype, backward)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
  }
  benchmark::Initialize(&argc, argv);
  RecordingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);

  auto ratio = [&](const std::string& baseline, const std::string& measured) {
    const auto b = reporter.seconds.find(baseline);
    const auto m = reporter.seconds.find(measured);
    if (b == reporter.seconds.end() || m == reporter.seconds.end()) return;
    std::printf("  %-36s %6.2fx  (vs %s)\n", measured.c_str(), b->second / m->second, baseline.c_str());
  };
  std::printf("\nSpeed ratios (baseline time / measured time; > 1 is faster than the baseline):\n");
  for (const MatmulShape& shape : kShapes) {
    const std::string suffix = std::string("/") + shape.name;
    ratio("matmul/eigen_f32" + suffix, "matmul/onednn_f32" + suffix);
    ratio("matmul/eigen_f32" + suffix, "matmul/onednn_bf16" + suffix);
  }
  ratio("matmul/onednn_f32_one_call/logits_grad_x", "matmul/onednn_f32/logits_grad_x");
  ratio("cross_entropy/memcpy_f32_baseline", "cross_entropy/fused_f32");
  ratio("cross_entropy/memcpy_f32_baseline", "cross_entropy/fused_bf16");
  ratio("cross_entropy/memcpy_f32_baseline", "cross_entropy/one_pass_f32");
  ratio("cross_entropy/fused_f32", "cross_entropy/one_pass_f32");
  for (const char* pass : {"forward", "backward"}) {
    for (const char* bias : {"", "_t5_bias"}) {
      ratio(std::string("attention/") + pass + "_f32" + bias,
            std::string("attention/") + pass + "_bf16" + bias);
    }
  }
  ratio("attention/dconv_forward_f32_separate_baseline", "attention/dconv_forward_f32");
  ratio("attention/dconv_backward_f32_separate_baseline", "attention/dconv_backward_f32");
  ratio("exp/libmvec_baseline", "exp/softmax_rows_f32");
  ratio("convert/scalar_loop_baseline", "convert/narrow_f32_to_bf16");
  ratio("dconv/backward_f32_warm", "dconv/backward_f32_cold");
  ratio("activation/gradient_f32", "activation/gradient_bf16");
  ratio("swiglu/forward_f32", "swiglu/forward_bf16");
  ratio("swiglu/backward_f32", "swiglu/backward_bf16");
  benchmark::Shutdown();
  return 0;
}
