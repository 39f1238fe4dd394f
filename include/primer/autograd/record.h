#pragma once
// How an op joins the graph: compute the forward value, then record(value, name, inputs, backward).
// When recording is off or no input needs a gradient, the backward function (and everything it
// captured) is dropped at once and a plain value comes back.
#include <initializer_list>

#include "primer/autograd/grad_mode.h"
#include "primer/autograd/variable.h"

namespace primer {

// Whether record() with these inputs would keep a backward function: recording is on and some input
// needs a gradient. An op that computes its gradients along with its value asks first.
bool records_gradient(std::initializer_list<Variable> inputs);

Variable record(Tensor value, const char* name, std::initializer_list<Variable> inputs,
                Node::Backward backward);

}  // namespace primer
