// SPDX-License-Identifier: MIT
// Errors thrown by Steppe: bad input files (with file and JSON pointer) and impossible demography.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace steppe {

/// Base of every exception Steppe throws on purpose.
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A bad scenario, input or data file. what() == "<file>:<pointer>: <reason>".
/// The pointer is an RFC 6901 JSON pointer ("/groups/0/fertility/tfr"); for CSV data files it is
/// "/row/<n>/<column>" so the same tooling can point at the cell. It may be empty (whole file).
class input_error : public error {
 public:
  input_error(std::string file, std::string pointer, std::string reason)
      : error(file + ":" + pointer + ": " + reason),
        file_(std::move(file)),
        pointer_(std::move(pointer)),
        reason_(std::move(reason)) {}
  const std::string& file() const noexcept { return file_; }
  const std::string& pointer() const noexcept { return pointer_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string file_, pointer_, reason_;
};

/// A valid call with impossible demography (q(x) > 1, negative counts, a cohort emptied below
/// zero under the throw policy) from the C++ API. what() names the function and the argument.
class domain_error : public error {
 public:
  using error::error;
};

}  // namespace steppe
