#include "primer/autograd/node.h"

namespace primer {

std::vector<Tensor> Node::apply(const Tensor& grad_output) {
  PRIMER_CHECK(backward_ != nullptr,
               "backward through {} a second time: its saved tensors were already freed", name_);
  const Backward backward = std::move(backward_);
  backward_ = nullptr;
  return backward(grad_output);
}

}  // namespace primer
