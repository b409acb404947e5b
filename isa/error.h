// One error type for every bad input and every violated timing assumption.
// what() is the complete one-line message shown to the user.
#pragma once
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

namespace lpu {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A name read from an input, for a message: control bytes as \xNN, so the
// message stays one line.
inline std::string printable(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace lpu
