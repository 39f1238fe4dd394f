#pragma once
// Variable: a tensor that takes part in reverse-mode differentiation. Leaves (parameters) accumulate
// gradients into grad(); interior values point at the node that produced them. Copies share state.
#include <functional>
#include <memory>

#include "primer/autograd/node.h"
#include "primer/tensor/tensor.h"

namespace primer {

class Variable {
 public:
  Variable() = default;
  explicit Variable(Tensor value, bool requires_grad = false);

  bool defined() const { return state_ != nullptr; }
  const Tensor& value() const;
  // Undefined until a backward pass reaches this leaf; then the sum of every pass since zero_grad().
  const Tensor& grad() const;
  bool requires_grad() const;
  bool is_leaf() const;
  void zero_grad();
  void set_grad(const Tensor& grad);
  // Leaves only (parameters): the value moves to `device`, and every copy of this variable sees it.
  void move_to(Device device);
  // Leaves only: `hook` runs each time a backward pass has added its gradient into grad(), which that
  // pass then no longer changes (PyTorch's post-accumulate-grad hook; data parallelism sends gradients
  // from it while the backward pass goes on). An empty function removes it.
  void set_after_accumulation(std::function<void()> hook);

  // Where a gradient for this variable goes: its producer, its accumulator (leaves), or null.
  std::shared_ptr<Node> gradient_edge() const;
  // Interior variables only: a variable produced by `node`.
  static Variable from_node(Tensor value, std::shared_ptr<Node> node);

  // Backpropagates from this single-element variable (seed 1) or with an explicit seed.
  void backward() const;
  void backward(const Tensor& seed) const;

  Variable detach() const { return Variable(value()); }
  const Shape& shape() const { return value().shape(); }
  std::int64_t size(std::int64_t dim) const { return value().size(dim); }
  DType dtype() const { return value().dtype(); }
  Device device() const { return value().device(); }

 private:
  struct State;
  friend class AccumulateGrad;
  std::shared_ptr<State> state_;
};

// Runs the backward pass from `root` seeded with `seed`: every node after all of its consumers, each
// node's saved tensors freed as soon as it has run, gradients summed where a value was used twice.
void run_backward(const std::shared_ptr<Node>& root, const Tensor& seed);

}  // namespace primer
