#include "primer/nn/module.h"

namespace primer::nn {

Variable Module::register_parameter(const std::string& name, Tensor value, ParameterRole role) {
  parameters_.push_back({name, Variable(std::move(value), true), role});
  return parameters_.back().variable;
}

void Module::register_module(const std::string& name, Module& child) {
  children_.emplace_back(name, &child);
}

void Module::collect(const std::string& prefix, std::vector<NamedParameter>& out) const {
  for (const NamedParameter& parameter : parameters_)
    out.push_back({prefix + parameter.name, parameter.variable, parameter.role});
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", out);
}

std::vector<NamedParameter> Module::named_parameters() const {
  std::vector<NamedParameter> out;
  collect("", out);
  return out;
}

void Module::to(Device device) {
  for (NamedParameter& parameter : named_parameters()) parameter.variable.move_to(device);
}

std::int64_t Module::parameter_count() const {
  std::int64_t count = 0;
  for (const NamedParameter& parameter : named_parameters()) count += parameter.variable.value().numel();
  return count;
}

}  // namespace primer::nn
