#pragma once
// Module: a layer that owns named parameters and child modules. Names compose into paths
// ("layers.3.attention.q_proj.weight"), which are the safetensors keys and the optimizer's handles.
// Modules are neither copied nor moved: children are registered by address.
#include <string>
#include <vector>

#include "primer/autograd/variable.h"

namespace primer::nn {

// What a parameter is to an optimizer. Only dense weights take weight decay. A depthwise convolution's
// taps are separate parameters (the official Primer code's conv_0..2), so Adafactor gives each tap its
// own second moment, parameter-scale and update clipping.
enum class ParameterRole { dense, table, scale_or_bias, convolution_taps };

struct NamedParameter {
  std::string name;
  Variable variable;
  ParameterRole role = ParameterRole::dense;
};

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  std::vector<NamedParameter> named_parameters() const;
  // Moves every parameter to `device` (before an optimizer is made for them).
  void to(Device device);
  std::int64_t parameter_count() const;

 protected:
  Variable register_parameter(const std::string& name, Tensor value, ParameterRole role);
  void register_module(const std::string& name, Module& child);

 private:
  void collect(const std::string& prefix, std::vector<NamedParameter>& out) const;

  std::vector<NamedParameter> parameters_;
  std::vector<std::pair<std::string, Module*>> children_;
};

}  // namespace primer::nn
