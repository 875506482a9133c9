// Errors of the scalelab runtime. Every error a user can cause is an scalelab::Error whose message
// names the input at fault and, where there is one, the fix. The Lua bindings turn any
// std::exception into a Lua error (bindings/binding.h); nothing else crosses into Lua.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace scalelab {

// A mistake in the caller's input: a bad argument, a malformed file, an impossible request.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The user pressed Ctrl-C while C++ code was computing (see core/interrupt.h).
class Interrupted : public Error {
 public:
  Interrupted() : Error("interrupted") {}
  explicit Interrupted(const std::string& message) : Error(message) {}
};

// A failure of the system rather than of the input: an I/O error, a CUDA error, a broken invariant.
class SystemError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
inline void append(std::ostringstream&) {}
template <class T, class... Rest>
void append(std::ostringstream& out, const T& first, const Rest&... rest) {
  out << first;
  append(out, rest...);
}
}  // namespace detail

// Concatenates its arguments with operator<<: str("n_head (", h, ") must divide d_model").
template <class... Args>
std::string str(const Args&... args) {
  std::ostringstream out;
  out.precision(10);
  detail::append(out, args...);
  return out.str();
}

// Throws scalelab::Error with the concatenated message.
template <class... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(str(args...));
}

// Checks an internal invariant; failure is a bug, reported with file and line.
#define SCALELAB_CHECK(cond)                                                                  \
  do {                                                                                        \
    if (!(cond))                                                                              \
      throw ::scalelab::SystemError(::scalelab::str(__FILE__, ":", __LINE__,                  \
                                                    ": internal check failed: ", #cond));     \
  } while (0)

// The name among `candidates` closest to `name` (edit distance, a swap of neighbouring letters one
// edit, within max(2, size/3) edits; letter case ignored except between equally near candidates),
// or "" if none is close. Where none is, a snake_case name's initials ("learning_rate": lr) or one
// of its words ("aspect_ratio": aspect) that is a candidate. Used for "unknown key 'd_modle'; did
// you mean 'd_model'?".
std::string closest_name(const std::string& name, const std::initializer_list<const char*>& candidates);
std::string closest_name(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace scalelab
