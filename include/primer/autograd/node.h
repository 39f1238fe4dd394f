#pragma once
// A node of the backward graph: one op's backward function plus edges to the nodes that receive its
// input gradients (null where an input needs none). The function owns the tensors the op saved; it is
// destroyed right after it runs, which frees those tensors as early as possible.
#include <functional>
#include <memory>
#include <vector>

#include "primer/tensor/tensor.h"

namespace primer {

class Node {
 public:
  // Returns one gradient per edge, in edge order; an undefined tensor means "no gradient".
  using Backward = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

  Node(const char* name, std::vector<std::shared_ptr<Node>> edges, Backward backward)
      : name_(name), edges_(std::move(edges)), backward_(std::move(backward)) {}
  virtual ~Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Runs backward once and releases it; a second call is an error (the graph was already consumed).
  virtual std::vector<Tensor> apply(const Tensor& grad_output);
  void release() { backward_ = nullptr; }

  const char* name() const { return name_; }
  const std::vector<std::shared_ptr<Node>>& edges() const { return edges_; }

 private:
  const char* name_;
  std::vector<std::shared_ptr<Node>> edges_;
  Backward backward_;
};

}  // namespace primer
