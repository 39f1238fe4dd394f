#include "op_cases.h"

#include <cctype>
#include <cmath>

#include "primer/tensor/random.h"

namespace primer::testing {
namespace {

using CaseFactory = std::vector<OpCase> (*)();

std::vector<CaseFactory>& factories() {
  static std::vector<CaseFactory> registered;
  return registered;
}

std::vector<OpCase> make_registry() {
  std::vector<OpCase> cases;
  for (const CaseFactory make_cases : factories()) {
    for (OpCase& c : make_cases()) {
      for (const OpCase& existing : cases) {
        if (existing.name == c.name) throw std::logic_error("two op cases are named " + c.name);
      }
      cases.push_back(std::move(c));
    }
  }
  return cases;
}

const std::vector<OpCase>& registry() {
  static const std::vector<OpCase> cases = make_registry();
  return cases;
}

// FNV-1a: a seed that depends on the case and input names only, the same on every platform.
std::uint64_t seed_of(const std::string& text) {
  std::uint64_t hash = 14695981039346656037ull;
  for (const char c : text) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return hash;
}

nlohmann::json encode(const Tensor& t) {
  return {{"shape", t.shape()},
          {"data", t.dtype() == DType::i32 ? nlohmann::json(t.to_vector<std::int32_t>())
                                           : nlohmann::json(t.to_vector<double>())}};
}

}  // namespace

OpCaseRegistration::OpCaseRegistration(std::vector<OpCase> (*make_cases)()) {
  factories().push_back(make_cases);
}

const std::vector<OpCase>& op_cases() {
  return registry();
}

const OpCase& op_case(const std::string& name) {
  for (const OpCase& c : registry()) {
    if (c.name == name) return c;
  }
  throw std::out_of_range("no op case named " + name);
}

std::vector<std::string> op_case_names() {
  std::vector<std::string> names;
  for (const OpCase& c : registry()) names.push_back(c.name);
  return names;
}

std::string op_case_test_name(const std::string& case_name) {
  std::string name;
  for (const char c : case_name) name += std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_';
  return name;
}

std::vector<Tensor> op_case_inputs(const OpCase& c, DType dtype, Device device) {
  std::vector<Tensor> inputs;
  for (const OpInput& input : c.inputs) {
    Generator generator(seed_of(c.name + "/" + input.name));
    Tensor values = randn(input.shape, DType::f64, generator, input.scale);
    if (input.away_from_zero) {
      double* x = values.data<double>();
      for (std::int64_t i = 0; i < values.numel(); ++i) {
        if (std::abs(x[i]) < 1e-3) x[i] += x[i] < 0 ? -1e-3 : 1e-3;
      }
    }
    inputs.push_back(values.to(dtype).to(device));
  }
  return inputs;
}

std::map<std::string, Tensor> op_case_indices(const OpCase& c, Device device) {
  std::map<std::string, Tensor> indices;
  for (const auto& [name, values] : c.indices) indices[name] = values.to(device);
  return indices;
}

nlohmann::json op_cases_json() {
  nlohmann::json cases = nlohmann::json::array();
  for (const OpCase& c : registry()) {
    nlohmann::json inputs = nlohmann::json::object(), indices = nlohmann::json::object();
    const std::vector<Tensor> values = op_case_inputs(c, DType::f64);
    for (std::size_t i = 0; i < values.size(); ++i) inputs[c.inputs[i].name] = encode(values[i]);
    for (const auto& [name, tensor] : c.indices) indices[name] = encode(tensor);
    cases.push_back({{"name", c.name},
                     {"reference", c.reference},
                     {"inputs", inputs},
                     {"indices", indices},
                     {"params", c.params.is_null() ? nlohmann::json::object() : c.params}});
  }
  return {{"cases", cases}};
}

}  // namespace primer::testing
