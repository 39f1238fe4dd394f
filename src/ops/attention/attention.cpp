#include "primer/ops/attention.h"

#include "ops/attention/attention_kernels.h"
#include "primer/autograd/record.h"
#include "primer/backend/kernel_table.h"
#include "primer/backend/op_profiler.h"
#include "primer/backend/stats_dtype.h"
#include "primer/ops/matmul_precision.h"

namespace primer::ops {
namespace {

const KernelTable<AttentionForward*> forward_kernels =
    PRIMER_KERNEL_TABLE("causal_attention", attention_forward);
const KernelTable<AttentionBackward*> backward_kernels =
    PRIMER_KERNEL_TABLE("causal_attention backward", attention_backward);

void check_attention_shapes(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionBias& bias) {
  const char* op = "causal_attention";
  PRIMER_CHECK(q.dim() == 4, "{}: q {} must be [B, T, H, D]", op, q.describe());
  check_same_shape(k, v, op);
  PRIMER_CHECK(k.dim() == 4 && k.size(0) == q.size(0) && k.size(1) >= q.size(1) && k.size(2) == q.size(2) &&
                   k.size(3) == q.size(3),
               "{}: k {} must be [B, Tk, H, D] with Tk >= Tq for q {}", op, k.describe(), q.describe());
  if (!bias.defined()) return;
  PRIMER_CHECK(bias.table.dim() == 2 && bias.table.size(1) == q.size(2),
               "{}: bias table {} must be [buckets, H] with H = {}", op, bias.table.describe(), q.size(2));
  PRIMER_CHECK(bias.distance_buckets.dtype() == DType::i32 &&
                   bias.distance_buckets.shape() == Shape({k.size(1)}) &&
                   bias.distance_buckets.device() == q.device(),
               "{}: distance buckets {} must be i32 [Tk] = [{}] on {}", op, bias.distance_buckets.describe(),
               k.size(1), q.device().name());
}

void check_convolutions(const Tensor& q, const Tensor& k, const AttentionConvolutions& convolutions) {
  const char* op = "dconv_causal_attention";
  PRIMER_CHECK(k.size(1) == q.size(1), "{}: q {} and k {} must cover the same positions (training's shape)",
               op, q.describe(), k.describe());
  const Shape taps_shape({3, q.size(2) * q.size(3)});
  for (const Tensor* taps : {&convolutions.q, &convolutions.k, &convolutions.v}) {
    PRIMER_CHECK(taps->shape() == taps_shape && taps->dtype() == q.dtype() && taps->device() == q.device(),
                 "{}: taps {} must be {} [3, H * D] = {} on {}", op, taps->describe(), dtype_name(q.dtype()),
                 to_string(taps_shape), q.device().name());
  }
}

// The op with or without the convolutions: their taps join the recorded inputs (before the bias table)
// when given.
Variable attention(const Variable& q, const Variable& k, const Variable& v, const DConvTaps* taps,
                   const RelativeBias& bias, double scale) {
  const ProfileScope profile(taps != nullptr ? "dconv_causal_attention" : "causal_attention", q.device());
  const Tensor qv = q.value().contiguous();
  const Tensor kv = k.value().contiguous();
  const Tensor vv = v.value().contiguous();
  const AttentionConvolutions convolutions =
      taps != nullptr ? AttentionConvolutions{taps->q.value().contiguous(), taps->k.value().contiguous(),
                                              taps->v.value().contiguous()}
                      : AttentionConvolutions{};
  const AttentionBias bv =
      bias.defined() ? AttentionBias{bias.table.value().contiguous(), bias.distance_buckets.contiguous()}
                     : AttentionBias{};
  check_attention_shapes(qv, kv, vv, bv);
  if (convolutions.defined()) check_convolutions(qv, kv, convolutions);
  Tensor out = Tensor::empty_like(qv);
  Tensor lse = Tensor::empty({qv.size(0), qv.size(2), qv.size(1)}, stats_dtype(qv.dtype()), qv.device());
  const DType precision = matmul_precision();
  forward_kernels.at(qv.device())(qv, kv, vv, convolutions, bv, scale, precision, out, lse);
  auto backward = [qv, kv, vv, convolutions, bv, scale, precision, out, lse](const Tensor& g) {
    Tensor grad_q = Tensor::empty_like(qv);
    Tensor grad_k = Tensor::empty_like(kv);
    Tensor grad_v = Tensor::empty_like(vv);
    const AttentionConvolutions grad_convolutions =
        convolutions.defined()
            ? AttentionConvolutions{Tensor::empty_like(convolutions.q), Tensor::empty_like(convolutions.k),
                                    Tensor::empty_like(convolutions.v)}
            : AttentionConvolutions{};
    Tensor grad_table = bv.defined() ? Tensor::empty_like(bv.table) : Tensor();
    backward_kernels.at(qv.device())(g.contiguous(), qv, kv, vv, convolutions, bv, scale, precision, out, lse,
                                     grad_q, grad_k, grad_v, grad_convolutions, grad_table);
    std::vector<Tensor> grads{grad_q, grad_k, grad_v};
    if (convolutions.defined())
      grads.insert(grads.end(), {grad_convolutions.q, grad_convolutions.k, grad_convolutions.v});
    grads.push_back(grad_table);
    return grads;
  };
  if (taps == nullptr) return record(out, "causal_attention", {q, k, v, bias.table}, backward);
  return record(out, "dconv_causal_attention", {q, k, v, taps->q, taps->k, taps->v, bias.table}, backward);
}

}  // namespace

Variable causal_attention(const Variable& q, const Variable& k, const Variable& v, const RelativeBias& bias,
                          double scale) {
  return attention(q, k, v, nullptr, bias, scale);
}

Variable dconv_causal_attention(const Variable& q, const Variable& k, const Variable& v,
                                const DConvTaps& taps, const RelativeBias& bias, double scale) {
  return attention(q, k, v, &taps, bias, scale);
}

}  // namespace primer::ops
