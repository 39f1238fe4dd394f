// run_program: arguments reach the program as they are (no shell), output and status come back, a
// program that cannot start says so, and a program starts with no signal blocked; gnuplot_string quotes
// anything for a gnuplot script.
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>

#include <fstream>
#include <sstream>

#include "primer/core/subprocess.h"
#include "temporary.h"

namespace primer {
namespace {

TEST(RunProgram, PassesArgumentsUntouchedAndReturnsOutputAndStatus) {
  const std::string tricky = "it's a \"path\" with $HOME, `spaces` and ; a semicolon";
  const ProgramResult echoed = run_program({"printf", "%s", tricky}, true);
  EXPECT_EQ(echoed.status, 0);
  EXPECT_EQ(echoed.output, tricky);
  EXPECT_EQ(run_program({"sh", "-c", "exit 3"}, false).status, 3);
}

TEST(RunProgram, SendsStandardErrorToTheNamedFile) {
  const std::string log = testing::temporary_path("stderr of it's.log");
  EXPECT_EQ(run_program({"sh", "-c", "echo complaint >&2"}, true, log).output, "");
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "complaint\n");
}

TEST(RunProgram, AProgramThatIsNotThereFailsToStart) {
  EXPECT_EQ(run_program({"primer-no-such-program"}, true).status, -1);
  EXPECT_EQ(run_program({}, false).status, -1);
}

// primer-train blocks SIGINT and SIGTERM in its threads (train/stop_signals.h); gnuplot and the other
// programs it runs must not inherit that, or Ctrl-C would leave them running.
TEST(RunProgram, TheProgramStartsWithNoSignalBlocked) {
  sigset_t terminate, previous;
  sigemptyset(&terminate);
  sigaddset(&terminate, SIGTERM);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &terminate, &previous), 0);
  const ProgramResult blocked = run_program({"grep", "^SigBlk:", "/proc/self/status"}, true);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  EXPECT_EQ(blocked.output, "SigBlk:\t0000000000000000\n");
}

TEST(GnuplotString, DoublesSingleQuotes) {
  EXPECT_EQ(gnuplot_string("runs/it's"), "'runs/it''s'");
  EXPECT_EQ(gnuplot_string("plain"), "'plain'");
}

}  // namespace
}  // namespace primer
