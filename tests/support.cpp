#include "support.h"

#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "isa/assembler.h"
#include "isa/binary.h"
#include "isa/numeric.h"

namespace lpu::test {

void checkBadInput(const std::string& args, const std::string& mentions) {
  const CliRun r = runCli(args);
  INFO("lpusim " << args << "\nstderr: " << r.err);
  CHECK(r.exitCode == 1);
  CHECK(r.err.rfind("error: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.err.find(mentions) != std::string::npos);
}

CliRun runCli(const std::string& args) {
  const std::string errPath = tempPath("stderr.txt");
  const std::string cmd = fmt::format("'{}' {} 2>'{}' </dev/null", LPUSIM_BINARY, args, errPath);
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("popen failed");
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = pclose(p);
  const auto b = readFileBytes(errPath);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out, std::string(b.begin(), b.end())};
}

std::string sourcePath(const std::string& rel) { return std::string(LPUSIM_SOURCE_DIR) + "/" + rel; }

std::string tempPath(const std::string& name) {
  static const std::string dir = [] {
    auto d = std::filesystem::temp_directory_path() / fmt::format("lpusim-test-{}", ::getpid());
    std::filesystem::create_directories(d);
    return d.string();
  }();
  return dir + "/" + name;
}

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

SimResult runAsm(const std::string& text, const std::string& chip, bool functional) {
  const Program p = assemble(text, "test.s");
  RunRequest req;
  req.options.functional = functional;
  return simulate(p, loadChip(chip), "test.s", req);
}

std::vector<double> values(const OutputValue& o) {
  std::vector<double> v;
  const size_t w = size_t(bytes(o.dtype));
  for (size_t i = 0; i + w <= o.bytes.size(); i += w) v.push_back(loadElement(o.dtype, &o.bytes[i]));
  return v;
}

const OutputValue& output(const SimResult& r, const std::string& name) {
  for (const auto& o : r.outputs)
    if (o.name == name) return o;
  throw std::runtime_error("no output " + name);
}

}  // namespace lpu::test
