#include "sim/cli/option_checks.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <limits>

namespace lpu {
namespace fs = std::filesystem;

namespace {

// "" when `path` is a regular file (or a symbolic link to one), else why not.
std::string notAFile(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) return fmt::format("{}: no such file", path);
  if (!fs::is_regular_file(st)) return fmt::format("{}: not a regular file", path);
  return "";
}

}  // namespace

CLI::Validator integerIn(int64_t lo, int64_t hi) {
  const bool open = hi >= std::numeric_limits<int>::max();  // the real bound is elsewhere (the model's)
  const std::string desc = open ? fmt::format(">= {}", lo) : fmt::format("{}..{}", lo, hi);
  const std::string range = open ? desc : "in " + desc;
  return CLI::Validator(
      [lo, hi, open, range](std::string& s) -> std::string {
        int64_t v = 0;
        const char *b = s.data(), *e = s.data() + s.size();
        const auto [end, ec] = std::from_chars(b, e, v);
        if (open && (ec == std::errc::result_out_of_range || (ec == std::errc() && end == e && v > hi)))
          return fmt::format("{} is too large", s);
        if (s.empty() || ec != std::errc() || end != e || v < lo || v > hi)
          return fmt::format("expected an integer {}, got \"{}\"", range, s);
        s = std::to_string(v);  // as read here: CLI11 would take 010 as octal
        return "";
      },
      desc);
}

CLI::Validator anyUnsigned() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        uint64_t v = 0;
        const char *b = s.data(), *e = s.data() + s.size();
        const auto [end, ec] = std::from_chars(b, e, v);
        if (s.empty() || ec != std::errc() || end != e)
          return fmt::format("expected an integer in 0..{}, got \"{}\"", std::numeric_limits<uint64_t>::max(), s);
        s = std::to_string(v);
        return "";
      },
      "");
}

CLI::Validator positiveFinite() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        if (s.empty() || *end || !std::isfinite(v) || !(v > 0))
          return fmt::format("expected a finite number > 0, got \"{}\"", s);
        return "";
      },
      "> 0");
}

CLI::Validator nonEmpty() {
  return CLI::Validator([](std::string& s) -> std::string { return s.empty() ? "expected a value, got \"\"" : ""; },
                        "");
}

CLI::Validator regularFile() {
  return CLI::Validator([](std::string& s) { return s.empty() ? "expected a file, got \"\"" : notAFile(s); }, "");
}

CLI::Validator nameOrFile(std::vector<std::string> names) {
  return CLI::Validator(
      [names = std::move(names)](std::string& s) -> std::string {
        if (s.empty()) return "expected a name or a file, got \"\"";
        for (const std::string& n : names)
          if (s == n) return "";
        std::error_code ec;
        return fs::exists(fs::status(s, ec)) ? notAFile(s) : "";
      },
      "");
}

CLI::Validator outputFile() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        if (s.empty()) return "expected a file, got \"\"";
        if (s == "-") return "";
        std::error_code ec;
        if (fs::is_directory(s, ec)) return fmt::format("{}: is a directory, expected a file to write", s);
        const fs::path dir = fs::path(s).parent_path();
        if (!dir.empty() && !fs::is_directory(dir, ec)) return fmt::format("{}: no such directory", dir.string());
        return "";
      },
      "");
}

CLI::Validator directory() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        std::error_code ec;
        if (s.empty()) return "expected a directory, got \"\"";
        if (!fs::exists(fs::status(s, ec))) return fmt::format("{}: no such directory", s);
        if (!fs::is_directory(s, ec)) return fmt::format("{}: not a directory", s);
        return "";
      },
      "");
}

}  // namespace lpu
