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

}  // namespace

Variable causal_attention(const Variable& q, const Variable& k, const Variable& v, const RelativeBias& bias,
                          double scale) {
  const ProfileScope profile("causal_attention", q.device());
  const Tensor qv = q.value().contiguous();
  const Tensor kv = k.value().contiguous();
  const Tensor vv = v.value().contiguous();
  const AttentionBias bv =
      bias.defined() ? AttentionBias{bias.table.value().contiguous(), bias.distance_buckets.contiguous()}
                     : AttentionBias{};
  check_attention_shapes(qv, kv, vv, bv);
  Tensor out = Tensor::empty_like(qv);
  Tensor lse = Tensor::empty({qv.size(0), qv.size(2), qv.size(1)}, stats_dtype(qv.dtype()), qv.device());
  const DType precision = matmul_precision();
  forward_kernels.at(qv.device())(qv, kv, vv, bv, scale, precision, out, lse);
  return record(out, "causal_attention", {q, k, v, bias.table},
                [qv, kv, vv, bv, scale, precision, out, lse](const Tensor& g) {
                  Tensor grad_q = Tensor::empty_like(qv);
                  Tensor grad_k = Tensor::empty_like(kv);
                  Tensor grad_v = Tensor::empty_like(vv);
                  Tensor grad_table = bv.defined() ? Tensor::empty_like(bv.table) : Tensor();
                  backward_kernels.at(qv.device())(g.contiguous(), qv, kv, vv, bv, scale, precision, out, lse,
                                                   grad_q, grad_k, grad_v, grad_table);
                  return std::vector<Tensor>{grad_q, grad_k, grad_v, grad_table};
                });
}

}  // namespace primer::ops
