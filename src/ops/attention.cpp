#include "primer/ops/attention.h"

#include "primer/autograd/record.h"
#include "primer/backend/backend.h"
#include "primer/backend/op_profiler.h"

namespace primer::ops {

Variable causal_attention(const Variable& q, const Variable& k, const Variable& v, const Variable& bias,
                          double scale) {
  const ProfileScope profile("causal_attention", q.device());
  const Tensor qv = q.value().contiguous();
  const Tensor kv = k.value().contiguous();
  const Tensor vv = v.value().contiguous();
  const Tensor bv = bias.defined() ? bias.value().contiguous() : Tensor();
  PRIMER_CHECK(qv.dim() == 4, "causal_attention: q {} must be [B, T, H, D]", qv.describe());
  Tensor out = Tensor::empty_like(qv);
  Tensor lse = Tensor::empty({qv.size(0), qv.size(2), qv.size(1)}, stats_dtype(qv.dtype()), qv.device());
  backend_for(qv.device()).attention_forward(qv, kv, vv, bv, scale, out, lse);
  return record(out, "causal_attention", {q, k, v, bias}, [qv, kv, vv, bv, scale, out, lse](const Tensor& g) {
    Tensor grad_q = Tensor::empty_like(qv);
    Tensor grad_k = Tensor::empty_like(kv);
    Tensor grad_v = Tensor::empty_like(vv);
    Tensor grad_bias = bv.defined() ? Tensor::empty_like(bv) : Tensor();
    backend_for(qv.device())
        .attention_backward(g.contiguous(), qv, kv, vv, bv, scale, out, lse, grad_q, grad_k, grad_v,
                            grad_bias);
    return std::vector<Tensor>{grad_q, grad_k, grad_v, grad_bias};
  });
}

}  // namespace primer::ops
