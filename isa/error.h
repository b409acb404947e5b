// One error type for every bad input and every violated timing assumption.
// what() is the complete one-line message shown to the user.
#pragma once
#include <stdexcept>
#include <string>

namespace lpu {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace lpu
