#include "primer/autograd/record.h"

namespace primer {

Variable record(Tensor value, const char* name, std::initializer_list<Variable> inputs,
                Node::Backward backward) {
  bool any_requires_grad = false;
  for (const Variable& input : inputs) any_requires_grad = any_requires_grad || input.requires_grad();
  if (!grad_enabled() || !any_requires_grad) return Variable(std::move(value));
  std::vector<std::shared_ptr<Node>> edges;
  edges.reserve(inputs.size());
  for (const Variable& input : inputs) edges.push_back(input.defined() ? input.gradient_edge() : nullptr);
  return Variable::from_node(std::move(value),
                             std::make_shared<Node>(name, std::move(edges), std::move(backward)));
}

}  // namespace primer
