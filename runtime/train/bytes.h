// Checkpoint bytes: little helpers to write and read numbers, strings and float arrays in a fixed
// little-endian layout, with clear errors for truncated or foreign data.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"

namespace scalelab::train {

class ByteWriter {
 public:
  void u64(uint64_t value) { raw(&value, sizeof value); }
  void i64(int64_t value) { raw(&value, sizeof value); }
  void f64(double value) { raw(&value, sizeof value); }
  void string(const std::string& value) {
    u64(value.size());
    bytes_.append(value);
  }
  void floats(const float* values, int64_t n) {
    u64(static_cast<uint64_t>(n));
    raw(values, static_cast<size_t>(n) * sizeof(float));
  }
  const std::string& bytes() const { return bytes_; }

 private:
  void raw(const void* data, size_t n) { bytes_.append(static_cast<const char*>(data), n); }
  std::string bytes_;
};

class ByteReader {
 public:
  // `what` names the data in errors ("checkpoint run.ckpt"); `fix`, when given, follows them
  // ("; delete it or ...").
  ByteReader(const std::string& bytes, std::string what, std::string fix = "")
      : bytes_(bytes), what_(std::move(what)), fix_(std::move(fix)) {}
  uint64_t u64() { uint64_t v; raw(&v, sizeof v); return v; }
  int64_t i64() { int64_t v; raw(&v, sizeof v); return v; }
  double f64() { double v; raw(&v, sizeof v); return v; }
  std::string string() {
    const uint64_t n = u64();
    need(n);
    std::string s = bytes_.substr(at_, n);
    at_ += n;
    return s;
  }
  void floats(float* values, int64_t n) {
    const uint64_t stored = u64();
    if (stored != static_cast<uint64_t>(n))
      fail(what_, " holds ", stored, " values where ", n, " were expected: it belongs to another model", fix_);
    raw(values, static_cast<size_t>(n) * sizeof(float));
  }
  std::vector<float> floats() {
    const uint64_t n = u64();
    need(n * sizeof(float));
    std::vector<float> v(n);
    raw(v.data(), n * sizeof(float));
    return v;
  }
  bool done() const { return at_ == bytes_.size(); }
  uint64_t remaining() const { return bytes_.size() - at_; }  // bytes not read yet

 private:
  void need(uint64_t n) const {
    if (n > bytes_.size() - at_) fail(what_, " is truncated or corrupted", fix_);
  }
  void raw(void* data, size_t n) {
    need(n);
    std::memcpy(data, bytes_.data() + at_, n);
    at_ += n;
  }
  const std::string& bytes_;
  std::string what_, fix_;
  size_t at_ = 0;
};

}  // namespace scalelab::train
