// Helpers for the tests: run the CLI, build programs, compare numbers.
#pragma once
#include <string>
#include <vector>

#include "isa/program.h"
#include "sim/simulate.h"

namespace lpu::test {

struct CliRun {
  int exitCode;
  std::string out, err;
};
// Runs the built lpusim binary with `args` (shell words), stdin closed.
CliRun runCli(const std::string& args);
// Checks bad input: one line on stderr, "error: ...", mentioning `mentions`, exit code 1.
void checkBadInput(const std::string& args, const std::string& mentions);

std::string sourcePath(const std::string& rel);  // path under the repository
std::string tempPath(const std::string& name);   // a fresh path under the temp dir
void writeFile(const std::string& path, const std::string& text);

// Assembles `text` and simulates it once (one per test process).
SimResult runAsm(const std::string& text, const std::string& chip, bool functional = true);

// The elements of an output as doubles.
std::vector<double> values(const OutputValue& o);
const OutputValue& output(const SimResult& r, const std::string& name);

}  // namespace lpu::test
