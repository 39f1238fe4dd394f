// Writes every registered op case with its inputs (tests/support/op_cases.h) to the JSON file named by the
// only argument, for tests/reference/op_references.py to compute PyTorch's answers from the same numbers.
#include <fstream>
#include <iostream>

#include "op_cases.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: primer-op-cases OUTPUT.json\n";
    return 2;
  }
  std::ofstream out(argv[1]);
  out << primer::testing::op_cases_json().dump();
  if (!out) {
    std::cerr << "primer-op-cases: cannot write " << argv[1] << "\n";
    return 1;
  }
  std::cout << "wrote " << primer::testing::op_cases().size() << " op cases to " << argv[1] << "\n";
  return 0;
}
