// The vocabulary projection fused with the cross-entropy, a chunk of rows at a time. Every product and
// every softmax is one the unfused pair (linear, then cross_entropy) would run; what changes is that no
// [N, V] tensor is kept: a chunk's logits and their gradient live only while the chunk is worked on.
#include <algorithm>
#include <vector>

#include "ops/cross_entropy/cross_entropy_kernels.h"
#include "primer/autograd/record.h"
#include "primer/backend/backend.h"
#include "primer/backend/op_profiler.h"
#include "primer/backend/stats_dtype.h"
#include "primer/ops/cross_entropy.h"
#include "primer/ops/linear.h"
#include "primer/ops/matmul_precision.h"

namespace primer::ops {
namespace {

// 128 MB of f32 logits a chunk: products large enough to run at full rate, and small beside the whole
// batch's logits (2 GiB for 16 x 1024 tokens over 32768 pieces). The CPU's small models get one chunk.
constexpr std::int64_t kLogitsPerChunk = std::int64_t{1} << 25;

// Rows [begin, end) of the batch, and how many of them have a target that is not ignored.
struct Chunk {
  std::int64_t begin;
  std::int64_t end;
  std::int64_t counted;
};

// host_targets: contiguous, on the CPU.
std::vector<Chunk> plan_chunks(const Tensor& host_targets, std::int64_t vocab, std::int64_t chunk_rows) {
  const std::int32_t* t = host_targets.data<std::int32_t>();
  std::vector<Chunk> chunks;
  for (std::int64_t begin = 0; begin < host_targets.numel(); begin += chunk_rows) {
    Chunk chunk{begin, std::min(host_targets.numel(), begin + chunk_rows), 0};
    for (std::int64_t n = chunk.begin; n < chunk.end; ++n) {
      PRIMER_CHECK(t[n] < vocab, "linear_cross_entropy: target {} at row {} is outside the vocabulary of {}",
                   t[n], n, vocab);
      if (t[n] >= 0) ++chunk.counted;
    }
    chunks.push_back(chunk);
  }
  return chunks;
}

Tensor t(const Tensor& x) {
  return x.transpose(0, 1);
}

}  // namespace

Variable linear_cross_entropy(const Variable& x, const Variable& weight, const Tensor& targets, double z_loss,
                              double* z_part, std::int64_t chunk_rows) {
  const ProfileScope profile("linear_cross_entropy", x.device());
  const Tensor xv = x.value().contiguous();
  const Tensor w = weight.value();
  PRIMER_CHECK(xv.dim() == 2 && w.dim() == 2 && xv.size(1) == w.size(1),
               "linear_cross_entropy: x {} must be rows [N, d] of the weight's width ({}: [V, d])",
               xv.describe(), w.describe());
  PRIMER_CHECK(xv.dtype() == w.dtype() && xv.device() == w.device(),
               "linear_cross_entropy: x {} and weight {} must share a dtype and a device", xv.describe(),
               w.describe());
  PRIMER_CHECK(targets.dtype() == DType::i32 && targets.dim() == 1 && targets.size(0) == xv.size(0),
               "linear_cross_entropy: targets {} must be i32 [{}]", targets.describe(), xv.size(0));
  const std::int64_t vocab = w.size(0);
  const Device device = xv.device();
  // Read on the host (the chunks' counts, the z-loss term): the model passes its targets from there.
  const Tensor host_targets = targets.to(Device::cpu()).contiguous();
  const std::vector<Chunk> chunks = plan_chunks(
      host_targets, vocab, chunk_rows > 0 ? chunk_rows : std::max<std::int64_t>(1, kLogitsPerChunk / vocab));
  std::int64_t counted = 0;
  for (const Chunk& chunk : chunks) counted += chunk.counted;

  const DType compute = xv.dtype() == DType::f32 ? matmul_precision() : xv.dtype();
  const DType stats = stats_dtype(xv.dtype());
  const Tensor wc = w.to(compute);
  const Tensor device_targets = targets.to(device).contiguous();
  const bool with_gradients = records_gradient({x, weight});
  Backend& backend = backend_for(device);
  const Tensor loss = Tensor::zeros({1}, stats, device);
  const Tensor chunk_loss = Tensor::empty({1}, stats, device);
  const Tensor lse = Tensor::empty({xv.size(0)}, stats, device);
  const Tensor grad_x = with_gradients ? Tensor::empty_like(xv) : Tensor();
  const Tensor grad_weight = !with_gradients  ? Tensor()
                             : chunks.empty() ? Tensor::zeros_like(w)
                                              : Tensor::empty_like(w);
  for (const Chunk& chunk : chunks) {
    const Tensor rows = xv.slice(0, chunk.begin, chunk.end).to(compute);
    const Tensor rows_targets = device_targets.slice(0, chunk.begin, chunk.end);
    const Tensor rows_lse = lse.slice(0, chunk.begin, chunk.end);
    const Tensor logits = Tensor::empty({chunk.end - chunk.begin, vocab}, xv.dtype(), device);
    matmul_into(rows, t(wc), Tensor(), logits);
    // The logits' gradient is written over them, which nothing reads again: one [rows, V] buffer; under a
    // bf16 matmul precision it goes straight to the bf16 copy the products read.
    const Tensor grad_compute = !with_gradients || logits.dtype() == compute
                                    ? logits
                                    : Tensor::empty({chunk.end - chunk.begin, vocab}, compute, device);
    // The chunk's mean, weighted by its share of the counted rows, adds up to the batch's mean; seeded
    // with that share, the chunk's gradient is that of the batch's mean (seed 1).
    const double share =
        counted > 0 ? static_cast<double>(chunk.counted) / static_cast<double>(counted) : 0.0;
    if (with_gradients) {
      cross_entropy_with_gradient_kernels.at(device)(Tensor::full({1}, share, stats, device), logits,
                                                     rows_targets, z_loss, chunk_loss, rows_lse,
                                                     grad_compute);
    } else {
      cross_entropy_forward_kernels.at(device)(logits, rows_targets, z_loss, chunk_loss, rows_lse);
    }
    backend.add_scaled(chunk_loss, share, loss, 1.0, loss);
    if (!with_gradients) continue;

    matmul_into(grad_compute, wc, Tensor(), grad_x.slice(0, chunk.begin, chunk.end));
    // Every chunk after the first adds its share into the weight's gradient inside the GEMM.
    matmul_into(t(grad_compute), rows, Tensor(), grad_weight,
                &chunk == &chunks.front() ? ProductWrite::overwrite : ProductWrite::accumulate);
  }
  if (z_part != nullptr) *z_part = mean_z_term(lse, host_targets, z_loss);
  return record(loss, "linear_cross_entropy", {x, weight}, [grad_x, grad_weight](const Tensor& g) {
    for (const Tensor* grad : {&grad_x, &grad_weight}) {
      backend_for(grad->device()).scale_by(*grad, g.to(grad->dtype()), *grad);
    }
    return std::vector<Tensor>{grad_x, grad_weight};
  });
}

}  // namespace primer::ops
