#pragma once
// Module: a layer that owns named parameters and child modules. Names compose into paths
// ("layers.3.attention.q_proj.weight"), which are the safetensors keys and the optimizer's handles.
// Modules are neither copied nor moved: children are registered by address.
#include <string>
#include <vector>

#include "primer/autograd/variable.h"

namespace primer::nn {

struct NamedParameter {
  std::string name;
  Variable variable;
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
  Variable register_parameter(const std::string& name, Tensor value);
  void register_module(const std::string& name, Module& child);

 private:
  void collect(const std::string& prefix, std::vector<NamedParameter>& out) const;

  std::vector<NamedParameter> parameters_;
  std::vector<std::pair<std::string, Module*>> children_;
};

}  // namespace primer::nn
