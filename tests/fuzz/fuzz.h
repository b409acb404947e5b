// Shared by the fuzz targets: each feeds one input to a loader as the CLI
// does. A clean lpu::Error (a one-line message) is the expected outcome for
// bad input; anything else (another exception, a crash, a sanitizer report)
// is a bug and is left to crash.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "isa/error.h"

namespace lpu::fuzz {

template <typename F>
int guarded(F f) {
  try {
    f();
  } catch (const Error& e) {
    const std::string m = e.what();
    if (m.empty() || m.find('\n') != std::string::npos) {  // the message must be one line
      std::fprintf(stderr, "fuzz: error message is not one line: %s\n", m.c_str());
      std::abort();
    }
  }
  return 0;
}

// A property the loaders promise (e.g. a program reads back as written).
inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz: violated: %s\n", what);
    std::abort();
  }
}

}  // namespace lpu::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
