#pragma once
// How an op joins the graph: compute the forward value, then record(value, name, inputs, backward).
// When recording is off or no input needs a gradient, the backward function (and everything it
// captured) is dropped at once and a plain value comes back.
#include <initializer_list>

#include "primer/autograd/grad_mode.h"
#include "primer/autograd/variable.h"

namespace primer {

Variable record(Tensor value, const char* name, std::initializer_list<Variable> inputs,
                Node::Backward backward);

}  // namespace primer
