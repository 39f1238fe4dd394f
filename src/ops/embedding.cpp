#include "primer/ops/embedding.h"

#include "primer/autograd/record.h"
#include "primer/backend/backend.h"
#include "primer/backend/op_profiler.h"

namespace primer::ops {

Variable embedding(const Variable& table, const Tensor& ids) {
  const ProfileScope profile("embedding", table.device());
  const Tensor tv = table.value();
  const Tensor idv = ids.contiguous();
  PRIMER_CHECK(tv.dim() == 2, "embedding: table {} must be [V, C]", tv.describe());
  Shape shape = idv.shape();
  shape.push_back(tv.size(1));
  Tensor out = Tensor::empty(shape, tv.dtype(), tv.device());
  backend_for(tv.device()).embedding_forward(tv, idv, out);
  return record(out, "embedding", {table}, [idv, table_shape = tv.shape()](const Tensor& g) {
    Tensor grad_table = Tensor::zeros(table_shape, g.dtype(), g.device());
    backend_for(g.device()).embedding_backward(g, idv, grad_table);
    return std::vector<Tensor>{grad_table};
  });
}

}  // namespace primer::ops
