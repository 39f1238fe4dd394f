#pragma once
// Running another program without a shell: arguments go to it as they are, so paths with spaces, quotes
// or any other character need no quoting (a command line built for /bin/sh breaks on a quote in a path).
#include <string>
#include <vector>

namespace primer {

struct ProgramResult {
  int status = -1;     // the exit status; -1 when it could not start or did not exit normally
  std::string output;  // its standard output, when captured
};

// Runs argv[0] (looked up on PATH unless it holds a '/') with argv and waits for it. Its standard error is
// discarded unless stderr_path names a file to receive it; its standard output is captured when
// capture_output, else discarded.
ProgramResult run_program(const std::vector<std::string>& argv, bool capture_output,
                          const std::string& stderr_path = "");

// A gnuplot string literal holding text (single-quoted, quotes doubled): any path can go into a script.
std::string gnuplot_string(const std::string& text);

}  // namespace primer
