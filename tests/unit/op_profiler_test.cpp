// The op profile: with profiling on, each op's forward and backward is one row of the table, nested ops
// count once, and with profiling off nothing is recorded.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "primer/backend/op_profiler.h"
#include "primer/ops/elementwise.h"
#include "primer/ops/linear.h"
#include "primer/tensor/random.h"

namespace primer {
namespace {

// Calls per op, read back from the table (op names are padded to 28 characters).
std::map<std::string, int> calls_by_op(const std::string& table) {
  std::map<std::string, int> calls;
  std::istringstream lines(table);
  std::string line;
  std::getline(lines, line);  // the header
  while (std::getline(lines, line)) {
    const std::string name = line.substr(0, line.find_last_not_of(' ', 27) + 1);
    std::istringstream rest(line.substr(28));
    int count = 0;
    if (rest >> count) calls[name] = count;
  }
  return calls;
}

class OpProfile : public ::testing::Test {
 protected:
  void TearDown() override {
    OpProfiler::instance().set_enabled(false);
    OpProfiler::instance().reset();
  }

  static void linear_step() {
    Generator generator(3);
    const Variable x(randn({4, 8}, DType::f32, generator), true);
    const Variable w(randn({5, 8}, DType::f32, generator), true);
    ops::mean(ops::linear(x, w, Variable())).backward();
  }
};

TEST_F(OpProfile, CountsEachOpForwardAndBackwardOnce) {
  OpProfiler::instance().reset();
  OpProfiler::instance().set_enabled(true);
  linear_step();
  linear_step();
  const std::string table = OpProfiler::instance().report();
  const std::map<std::string, int> calls = calls_by_op(table);
  EXPECT_EQ(calls.count("linear") ? calls.at("linear") : 0, 2) << table;
  EXPECT_EQ(calls.count("linear backward") ? calls.at("linear backward") : 0, 2) << table;
  // mean calls sum and scale: only the outer op is a row.
  EXPECT_EQ(calls.count("mean") ? calls.at("mean") : 0, 2) << table;
  EXPECT_EQ(calls.count("sum"), 0u) << table;
  EXPECT_NE(table.find("profiled in all"), std::string::npos) << table;
}

TEST_F(OpProfile, RecordsNothingWhenOff) {
  OpProfiler::instance().reset();
  OpProfiler::instance().set_enabled(false);
  linear_step();
  EXPECT_EQ(OpProfiler::instance().report().find("linear"), std::string::npos);
}

}  // namespace
}  // namespace primer
