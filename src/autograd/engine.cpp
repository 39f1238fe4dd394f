// The backward pass: a topological walk driven by dependency counts, as in PyTorch's engine.
#include <unordered_map>
#include <unordered_set>

#include "primer/autograd/grad_mode.h"
#include "primer/autograd/variable.h"
#include "primer/backend/backend.h"
#include "primer/backend/op_profiler.h"

namespace primer {
namespace {

// For every node reachable from root: how many edges point at it.
std::unordered_map<Node*, int> count_dependencies(const std::shared_ptr<Node>& root) {
  std::unordered_map<Node*, int> dependencies;
  std::unordered_set<Node*> seen{root.get()};
  std::vector<Node*> stack{root.get()};
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    for (const auto& next : node->edges()) {
      if (!next) continue;
      ++dependencies[next.get()];
      if (seen.insert(next.get()).second) stack.push_back(next.get());
    }
  }
  return dependencies;
}

void accumulate(std::unordered_map<Node*, Tensor>& pending, Node* node, const Tensor& grad) {
  auto [slot, inserted] = pending.try_emplace(node, grad);
  if (inserted) return;
  check_same_shape(slot->second, grad, "gradient sum");
  // A pending sum nothing else references is added to in place.
  Tensor sum = slot->second.sole_view_of_its_storage() ? slot->second : Tensor::empty_like(slot->second);
  backend_for(sum.device()).add_scaled(slot->second, 1.0, grad, 1.0, sum);
  slot->second = sum;
}

}  // namespace

void run_backward(const std::shared_ptr<Node>& root, const Tensor& seed) {
  const NoGradGuard no_recording;
  std::unordered_map<Node*, int> dependencies = count_dependencies(root);
  std::unordered_map<Node*, Tensor> pending{{root.get(), seed}};
  std::vector<std::shared_ptr<Node>> ready{root};
  while (!ready.empty()) {
    const std::shared_ptr<Node> node = std::move(ready.back());
    ready.pop_back();
    std::vector<Tensor> input_grads;
    if (auto found = pending.find(node.get()); found != pending.end()) {
      const Tensor grad = std::move(found->second);
      pending.erase(found);
      const ProfileScope profile(node->name(), grad.device(), " backward");
      input_grads = node->apply(grad);
    } else {
      node->release();  // no gradient reached it: nothing flows on, but its saved tensors can go
    }
    const auto& edges = node->edges();
    PRIMER_CHECK(input_grads.empty() || input_grads.size() == edges.size(),
                 "{} returned {} gradients for {} inputs", node->name(), input_grads.size(), edges.size());
    for (std::size_t i = 0; i < edges.size(); ++i) {
      Node* next = edges[i].get();
      if (next == nullptr) continue;
      if (!input_grads.empty() && input_grads[i].defined()) accumulate(pending, next, input_grads[i]);
      if (--dependencies[next] == 0) ready.push_back(edges[i]);
    }
  }
}

}  // namespace primer
