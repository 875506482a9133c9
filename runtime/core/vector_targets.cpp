#include "core/vector_targets.h"

#include <algorithm>
#include <atomic>

namespace scalelab::core {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)

namespace {
// One function per clone, resolved by GCC exactly as SCALELAB_CLONES functions are (function
// multiversioning with the same target strings).
__attribute__((target("default"))) const char* resolved() { return "baseline"; }
__attribute__((target(SCALELAB_TARGET_AVX2))) const char* resolved() { return "x86-64-v3"; }
__attribute__((target(SCALELAB_TARGET_AVX512))) const char* resolved() { return "avx512f"; }
}  // namespace

std::string vector_target() { return resolved(); }

std::string vector_target_expected() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return "avx512f";
  if (__builtin_cpu_supports("x86-64-v3")) return "x86-64-v3";
  return "baseline";
}

#else

std::string vector_target() { return "baseline"; }
std::string vector_target_expected() { return "baseline"; }

#endif

namespace {
std::atomic<int> level_limit{static_cast<int>(VectorLevel::Avx512)};
}  // namespace

VectorLevel vector_level() {
  static const VectorLevel running = [] {
    const std::string target = vector_target();
    return target == "avx512f" ? VectorLevel::Avx512 : target == "x86-64-v3" ? VectorLevel::Avx2 : VectorLevel::Baseline;
  }();
  return static_cast<VectorLevel>(std::min(static_cast<int>(running), level_limit.load(std::memory_order_relaxed)));
}

void limit_vector_level(VectorLevel level) { level_limit.store(static_cast<int>(level)); }

}  // namespace scalelab::core
