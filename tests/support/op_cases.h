#pragma once
// One list of test cases for every op, as ggml's test-backend-ops keeps it: each slice registers its
// cases in src/ops/<op>/<op>_test_cases.cpp, and every check runs all of them: the float64
// finite-difference gradient check (unit/gradcheck_test.cpp), PyTorch's independent implementation
// (unit/reference_test.cpp, with tests/reference/op_references.py computing from the same inputs), and the
// CUDA kernels against the CPU's (unit/cuda_backend_test.cpp). A new op's cases are one file.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "primer/autograd/variable.h"
#include "primer/tensor/tensor.h"

namespace primer::testing {

// A floating input, drawn from N(0, scale^2); away_from_zero moves values within 1e-3 of 0 away from it,
// for ops with a kink there (ReLU).
struct OpInput {
  std::string name;
  Shape shape;
  double scale = 1.0;
  bool away_from_zero = false;
};

// The op under test, on the inputs in the case's order and its index operands (ids, targets) already
// on the inputs' device.
using OpFunction =
    std::function<Variable(const std::vector<Variable>&, const std::map<std::string, Tensor>&)>;

struct OpCase {
  std::string name;       // unique; the seed of its inputs
  std::string reference;  // the function in op_references.py's FUNCTIONS that computes it
  std::vector<OpInput> inputs;
  std::map<std::string, Tensor> indices;  // i32, on the CPU
  nlohmann::json params;                  // the reference's other keyword arguments (null: none)
  OpFunction run;
};

// Registers a slice's cases: `const OpCaseRegistration registered{[] { return std::vector<OpCase>{...}; }};`.
// The function runs on the first use of the list, inside main: cases hold tensors, and tensors must not be
// made during static initialisation (their allocator may not exist yet).
struct OpCaseRegistration {
  explicit OpCaseRegistration(std::vector<OpCase> (*make_cases)());
};

const std::vector<OpCase>& op_cases();
const OpCase& op_case(const std::string& name);
std::vector<std::string> op_case_names();

// The case's name as a test name may spell it (letters, digits and underscores).
std::string op_case_test_name(const std::string& case_name);

// The case's inputs in its order, the same numbers on every run and machine, as dtype on device.
std::vector<Tensor> op_case_inputs(const OpCase& c, DType dtype, Device device = Device::cpu());
std::map<std::string, Tensor> op_case_indices(const OpCase& c, Device device);

// Every case with its f64 inputs, for op_references.py.
nlohmann::json op_cases_json();

}  // namespace primer::testing
