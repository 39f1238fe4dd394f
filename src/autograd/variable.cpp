#include "primer/autograd/variable.h"

#include "primer/backend/backend.h"

namespace primer {

struct Variable::State {
  Tensor value;
  Tensor grad;
  bool requires_grad = false;
  std::shared_ptr<Node> producer;   // interior variables
  std::weak_ptr<Node> accumulator;  // leaves: created on demand, owned by the graph that uses it
  std::function<void()> after_accumulation;
};

// The sink of a leaf's gradients. A first gradient that nothing else references becomes the leaf's
// gradient without a copy, as PyTorch's AccumulateGrad steals it; one that backward handed to several
// inputs (add's) is copied. It holds the leaf weakly: a graph must not keep parameters alive.
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(std::weak_ptr<Variable::State> leaf)
      : Node("accumulate_grad", {}, nullptr), leaf_(leaf) {}

  std::vector<Tensor> apply(const Tensor& grad_output) override {
    const std::shared_ptr<Variable::State> leaf = leaf_.lock();
    if (!leaf || !grad_output.defined()) return {};
    check_same_shape(leaf->value, grad_output, "gradient accumulation");
    if (!leaf->grad.defined()) {
      leaf->grad = grad_output.dtype() != leaf->value.dtype() ? grad_output.to(leaf->value.dtype())
                   : grad_output.sole_view_of_its_storage()   ? grad_output
                                                              : grad_output.clone();
    } else {
      const Tensor addend = grad_output.to(leaf->grad.dtype());
      backend_for(leaf->grad.device()).add_scaled(leaf->grad, 1.0, addend, 1.0, leaf->grad);
    }
    if (leaf->after_accumulation) leaf->after_accumulation();
    return {};
  }

 private:
  std::weak_ptr<Variable::State> leaf_;
};

Variable::Variable(Tensor value, bool requires_grad) : state_(std::make_shared<State>()) {
  PRIMER_CHECK(value.defined(), "a variable needs a defined tensor");
  PRIMER_CHECK(!requires_grad || is_floating(value.dtype()), "{} cannot require a gradient: not floating",
               value.describe());
  state_->value = std::move(value);
  state_->requires_grad = requires_grad;
}

Variable Variable::from_node(Tensor value, std::shared_ptr<Node> node) {
  Variable result(std::move(value));
  result.state_->producer = std::move(node);
  result.state_->requires_grad = true;
  return result;
}

const Tensor& Variable::value() const {
  PRIMER_CHECK(defined(), "use of an undefined variable");
  return state_->value;
}

const Tensor& Variable::grad() const {
  PRIMER_CHECK(defined(), "use of an undefined variable");
  return state_->grad;
}

bool Variable::requires_grad() const {
  return defined() && state_->requires_grad;
}
bool Variable::is_leaf() const {
  return defined() && state_->producer == nullptr;
}
void Variable::zero_grad() {
  state_->grad = Tensor();
}

void Variable::move_to(Device device) {
  PRIMER_CHECK(is_leaf(), "move_to: {} is not a leaf; move parameters, not results", value().describe());
  state_->value = state_->value.to(device);
  if (state_->grad.defined()) state_->grad = state_->grad.to(device);
}

void Variable::set_grad(const Tensor& grad) {
  if (grad.defined()) check_same_shape(value(), grad, "set_grad");
  state_->grad = grad;
}

std::shared_ptr<Node> Variable::gradient_edge() const {
  if (!requires_grad()) return nullptr;
  if (state_->producer) return state_->producer;
  std::shared_ptr<Node> accumulator = state_->accumulator.lock();
  if (!accumulator) {
    accumulator = std::make_shared<AccumulateGrad>(state_);
    state_->accumulator = accumulator;
  }
  return accumulator;
}

void Variable::set_after_accumulation(std::function<void()> hook) {
  PRIMER_CHECK(is_leaf(), "only a leaf accumulates gradients: {}", value().describe());
  state_->after_accumulation = std::move(hook);
}

void Variable::backward() const {
  PRIMER_CHECK(value().numel() == 1, "backward() without a seed needs a single-element value, got {}",
               value().describe());
  backward(Tensor::full(value().shape(), 1.0, value().dtype(), value().device()));
}

void Variable::backward(const Tensor& seed) const {
  check_same_shape(value(), seed, "backward seed");
  const std::shared_ptr<Node> root = gradient_edge();
  PRIMER_CHECK(root != nullptr, "backward from {}: it does not require a gradient", value().describe());
  run_backward(root, seed);
}

}  // namespace primer
