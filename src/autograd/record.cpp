#include "primer/autograd/record.h"

namespace primer {

bool records_gradient(std::initializer_list<Variable> inputs) {
  if (!grad_enabled()) return false;
  for (const Variable& input : inputs) {
    if (input.requires_grad()) return true;
  }
  return false;
}

Variable record(Tensor value, const char* name, std::initializer_list<Variable> inputs,
                Node::Backward backward) {
  if (!records_gradient(inputs)) return Variable(std::move(value));
  std::vector<std::shared_ptr<Node>> edges;
  edges.reserve(inputs.size());
  for (const Variable& input : inputs) edges.push_back(input.defined() ? input.gradient_edge() : nullptr);
  return Variable::from_node(std::move(value),
                             std::make_shared<Node>(name, std::move(edges), std::move(backward)));
}

}  // namespace primer
