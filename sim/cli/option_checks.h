// Checks of command-line option values, as CLI11 validators: each returns
// what it expected and got, and CLI11 puts the option's name in front
// ("--batch: expected an integer in 1..64, got 65"), so a bad value is one
// line "error: ..." before anything runs.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace lpu {

// A decimal integer in lo..hi (no octal, no overflow), rewritten in decimal:
// give it to Option::transform (check() would keep the text, and CLI11 reads
// "010" as octal).
CLI::Validator integerIn(int64_t lo, int64_t hi);
// A decimal integer in 0..2^64-1 (a seed; no sign); for transform too.
CLI::Validator anyUnsigned();
// A finite number > 0.
CLI::Validator positiveFinite();
// Not the empty string.
CLI::Validator nonEmpty();
// An existing regular file ("PATH: no such file", "PATH: not a regular file").
CLI::Validator regularFile();
// One of `names` (presets), else a path that is not a directory or other
// non-file; a path that does not exist is left to the loader to report.
CLI::Validator nameOrFile(std::vector<std::string> names);
// A file to write: not a directory, in a directory that exists ("-": stdout).
CLI::Validator outputFile();
// An existing directory.
CLI::Validator directory();

}  // namespace lpu
