#include "primer/ops/embedding.h"

#include "ops/embedding/embedding_kernels.h"
#include "primer/autograd/record.h"
#include "primer/backend/kernel_table.h"
#include "primer/backend/op_profiler.h"

namespace primer::ops {
namespace {

const KernelTable<EmbeddingForward*> forward_kernels = PRIMER_KERNEL_TABLE("embedding", embedding_forward);
const KernelTable<EmbeddingBackward*> backward_kernels =
    PRIMER_KERNEL_TABLE("embedding backward", embedding_backward);

}  // namespace

Variable embedding(const Variable& table, const Tensor& ids) {
  const ProfileScope profile("embedding", table.device());
  const Tensor tv = table.value().contiguous();
  const Tensor idv = ids.contiguous();
  PRIMER_CHECK(tv.dim() == 2, "embedding: table {} must be [V, C]", tv.describe());
  PRIMER_CHECK(idv.dtype() == DType::i32 && idv.device() == tv.device(),
               "embedding: ids {} must be i32 on the table's device ({})", idv.describe(), tv.describe());
  Shape shape = idv.shape();
  shape.push_back(tv.size(1));
  Tensor out = Tensor::empty(shape, tv.dtype(), tv.device());
  forward_kernels.at(tv.device())(tv, idv, out);
  return record(out, "embedding", {table}, [idv, table_shape = tv.shape()](const Tensor& g) {
    Tensor grad_table = Tensor::zeros(table_shape, g.dtype(), g.device());
    backward_kernels.at(g.device())(g.contiguous(), idv, grad_table);
    return std::vector<Tensor>{grad_table};
  });
}

}  // namespace primer::ops
