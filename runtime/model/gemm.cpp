#include "model/gemm.h"
#include "core/vector_targets.h"

#include <dlfcn.h>
#include <strings.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <vector>

#include "core/error.h"
#include "model/gemm_avx2.h"
#include "model/gemm_avx512.h"

namespace scalelab::model {

namespace {

// ---- OpenBLAS, loaded at first use ------------------------------------------------------------
// CBLAS enum values (cblas.h): row-major 101, no-transpose 111, transpose 112.
using SgemmFn = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int,
                         float, float*, int);
using SetThreadsFn = void (*)(int);
using CoreNameFn = char* (*)();
using ConfigFn = char* (*)();

struct OpenBlas {
  SgemmFn sgemm = nullptr;
  std::string description;
};

bool has_avx2_fma() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

bool has_avx512() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512cd");
#else
  return false;
#endif
}

// Sets an environment variable for the duration of the dlopen, then restores it, so that nothing
// else in the process (or its children) sees our choice.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value, bool override_existing) : name_(name) {
    if (const char* old = std::getenv(name)) {
      had_ = true;
      old_ = old;
      if (!override_existing) return;
    }
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (had_) setenv(name_, old_.c_str(), 1);
    else unsetenv(name_);
  }

 private:
  const char* name_;
  bool had_ = false;
  std::string old_;
};

// The OpenBLAS kernel to ask for. SCALELAB_OPENBLAS_CORETYPE decides if set. Otherwise, on CPUs
// with AVX-512 we ask for SkylakeX even over an OPENBLAS_CORETYPE that names an AVX2-or-older
// kernel (sandboxes and containers commonly pin "Haswell" for all programs): our OpenBLAS instance
// is private to the trainer, and the AVX-512 kernel is about 1.7 times faster.
std::string wanted_core(bool& override_existing) {
  override_existing = false;
  if (const char* ours = std::getenv("SCALELAB_OPENBLAS_CORETYPE"); ours && *ours) {
    override_existing = true;
    return ours;
  }
  if (!has_avx512()) return "";
  const char* pinned = std::getenv("OPENBLAS_CORETYPE");
  if (!pinned) return "SkylakeX";
  static const char* const older[] = {"Haswell", "Zen", "SandyBridge", "Nehalem", "Core2",
                                      "Prescott", "Penryn", "Dunnington", "Atom", "Barcelona",
                                      "Bulldozer", "Piledriver", "Steamroller", "Excavator"};
  for (const char* name : older)
    if (strcasecmp(pinned, name) == 0) {
      override_existing = true;
      return "SkylakeX";
    }
  return "";
}

OpenBlas load_openblas() {
  OpenBlas blas;
  if (const char* off = std::getenv("SCALELAB_NO_OPENBLAS"); off && *off && *off != '0') return blas;
  ScopedEnv threads("OPENBLAS_NUM_THREADS", "1", true);
  bool override_existing = false;
  const std::string core_type = wanted_core(override_existing);
  std::unique_ptr<ScopedEnv> core;
  if (!core_type.empty())
    core = std::make_unique<ScopedEnv>("OPENBLAS_CORETYPE", core_type.c_str(), override_existing);
  void* handle = nullptr;
  for (const char* name : {"libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0"}) {
    handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (handle) break;
  }
  if (!handle) return blas;
  blas.sgemm = reinterpret_cast<SgemmFn>(dlsym(handle, "cblas_sgemm"));
  if (!blas.sgemm) return blas;
  if (auto set_threads = reinterpret_cast<SetThreadsFn>(dlsym(handle, "openblas_set_num_threads")))
    set_threads(1);
  std::string core_name = "unknown";
  if (auto name = reinterpret_cast<CoreNameFn>(dlsym(handle, "openblas_get_corename")))
    core_name = name();
  std::string config;
  if (auto get_config = reinterpret_cast<ConfigFn>(dlsym(handle, "openblas_get_config")))
    config = get_config();
  std::string version = config.substr(0, config.find(' ', config.find(' ') + 1));
  blas.description = str(version.empty() ? "OpenBLAS" : version, " (", core_name, " kernel)");
  return blas;
}

const OpenBlas& openblas() {
  static const OpenBlas blas = load_openblas();
  return blas;
}

// ---- The portable kernel ----------------------------------------------------------------------
// C rows are updated four at a time from a packed K×N copy of op(B): each packed row of B is loaded
// once for four rows of C. The compiler vectorises the j loops for each target of target_clones.

SCALELAB_CLONES
void portable_rows(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                  const float* bp, float beta, float* c, int64_t ldc) {
  constexpr int64_t kBlockN = 512;
  for (int64_t j0 = 0; j0 < n; j0 += kBlockN) {
    const int64_t j1 = std::min(n, j0 + kBlockN);
    int64_t i = 0;
    for (; i + 4 <= m; i += 4) {
      float* c0 = c + i * ldc;
      float* c1 = c0 + ldc;
      float* c2 = c1 + ldc;
      float* c3 = c2 + ldc;
      for (int64_t j = j0; j < j1; ++j) {
        c0[j] = beta == 0 ? 0.0f : beta * c0[j];
        c1[j] = beta == 0 ? 0.0f : beta * c1[j];
        c2[j] = beta == 0 ? 0.0f : beta * c2[j];
        c3[j] = beta == 0 ? 0.0f : beta * c3[j];
      }
      for (int64_t p = 0; p < k; ++p) {
        const float a0 = alpha * a[i * lda + p], a1 = alpha * a[(i + 1) * lda + p];
        const float a2 = alpha * a[(i + 2) * lda + p], a3 = alpha * a[(i + 3) * lda + p];
        const float* b = bp + p * n;
        for (int64_t j = j0; j < j1; ++j) {
          const float bj = b[j];
          c0[j] += a0 * bj;
          c1[j] += a1 * bj;
          c2[j] += a2 * bj;
          c3[j] += a3 * bj;
        }
      }
    }
    for (; i < m; ++i) {
      float* ci = c + i * ldc;
      for (int64_t j = j0; j < j1; ++j) ci[j] = beta == 0 ? 0.0f : beta * ci[j];
      for (int64_t p = 0; p < k; ++p) {
        const float ai = alpha * a[i * lda + p];
        const float* b = bp + p * n;
        for (int64_t j = j0; j < j1; ++j) ci[j] += ai * b[j];
      }
    }
  }
}

void portable_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                  int64_t ldc) {
  thread_local std::vector<float> packed_a, packed_b;
  packed_b.resize(static_cast<size_t>(k * n));
  for (int64_t p = 0; p < k; ++p)
    for (int64_t j = 0; j < n; ++j) packed_b[p * n + j] = trans_b ? b[j * ldb + p] : b[p * ldb + j];
  const float* a_rows = a;
  int64_t a_stride = lda;
  if (trans_a) {
    packed_a.resize(static_cast<size_t>(m * k));
    for (int64_t i = 0; i < m; ++i)
      for (int64_t p = 0; p < k; ++p) packed_a[i * k + p] = a[p * lda + i];
    a_rows = packed_a.data();
    a_stride = k;
  }
  portable_rows(m, n, k, alpha, a_rows, a_stride, packed_b.data(), beta, c, ldc);
}

std::string portable_name() { return "portable kernel (" + core::vector_target() + ")"; }

// The epilogue as passes after the product (the OpenBLAS and portable kernels).
SCALELAB_CLONES
void apply_epilogue(bool trans_a, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                    float* c, int64_t ldc, const GemmEpilogue& e) {
  for (int64_t i = 0; i < m; ++i) {
    float* row = c + i * ldc;
    if (e.bias)
      for (int64_t j = 0; j < n; ++j) row[j] += e.bias[j];
    if (e.residual)
      for (int64_t j = 0; j < n; ++j) row[j] += e.residual[i * e.ld_residual + j];
  }
  if (!e.a_row_sums) return;
  if (trans_a) {  // op(A)[i][p] = a[p][i]: add whole rows of a
    for (int64_t p = 0; p < k; ++p)
      for (int64_t i = 0; i < m; ++i) e.a_row_sums[i] += a[p * lda + i];
  } else {
    for (int64_t i = 0; i < m; ++i) {
      float sum = 0;
      for (int64_t p = 0; p < k; ++p) sum += a[i * lda + p];
      e.a_row_sums[i] += sum;
    }
  }
}

// ---- Choosing ----------------------------------------------------------------------------------
const char* unavailable_reason(GemmKernel kernel) {
  switch (kernel) {
    case GemmKernel::Avx512: return "the CPU lacks one of AVX-512 F, DQ, BW, VL, CD";
    case GemmKernel::Avx2: return "the CPU lacks AVX2 or FMA";
    case GemmKernel::OpenBlas: return "libopenblas0 is not installed";
    case GemmKernel::Portable: break;
  }
  return "";
}

GemmKernel default_kernel() {
  if (const char* want = std::getenv("SCALELAB_GEMM"); want && *want) {
    const std::string name = want;
    GemmKernel kernel = GemmKernel::Portable;
    if (name == "avx512") kernel = GemmKernel::Avx512;
    else if (name == "avx2") kernel = GemmKernel::Avx2;
    else if (name == "openblas") kernel = GemmKernel::OpenBlas;
    else if (name != "portable")
      fail("SCALELAB_GEMM=", name, " is not a kernel; use avx512, avx2, openblas or portable");
    if (!gemm_available(kernel))
      fail("SCALELAB_GEMM=", name, ", but this machine cannot run it (", unavailable_reason(kernel),
           "); unset SCALELAB_GEMM for the default");
    return kernel;
  }
  if (gemm_available(GemmKernel::Avx512)) return GemmKernel::Avx512;
  if (gemm_available(GemmKernel::Avx2)) return GemmKernel::Avx2;
  if (gemm_available(GemmKernel::OpenBlas)) return GemmKernel::OpenBlas;
  return GemmKernel::Portable;
}

std::atomic<int> selected{-1};  // a GemmKernel, or -1 before the first call

GemmKernel current_kernel() {
  int k = selected.load(std::memory_order_relaxed);
  if (k < 0) {
    static const GemmKernel chosen = default_kernel();
    int expected = -1;
    selected.compare_exchange_strong(expected, static_cast<int>(chosen));
    k = selected.load(std::memory_order_relaxed);
  }
  return static_cast<GemmKernel>(k);
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, GemmEpilogue{});
}

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
          const GemmEpilogue& epilogue) {
  if (m <= 0 || n <= 0) return;
  const GemmKernel kernel = current_kernel();
  if (kernel == GemmKernel::Avx512 && k > 0) {
    detail::gemm_avx512(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epilogue);
    return;
  }
  if (kernel == GemmKernel::Avx2 && k > 0) {
    detail::gemm_avx2(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epilogue);
    return;
  }
  if (k <= 0) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0 ? 0.0f : beta * c[i * ldc + j];
  } else if (kernel == GemmKernel::OpenBlas) {
    openblas().sgemm(101, trans_a ? 112 : 111, trans_b ? 112 : 111, static_cast<int>(m),
                     static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b,
                     static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
  } else {
    portable_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
  apply_epilogue(trans_a, m, n, k, a, lda, c, ldc, epilogue);
}

bool gemm_available(GemmKernel kernel) {
  switch (kernel) {
    case GemmKernel::Avx512: return has_avx512();
    case GemmKernel::Avx2: return has_avx2_fma();
    case GemmKernel::OpenBlas: return openblas().sgemm != nullptr;
    case GemmKernel::Portable: return true;
  }
  return false;
}

void gemm_select(GemmKernel kernel) {
  if (!gemm_available(kernel))
    fail("gemm_select: this machine cannot run the ",
         kernel == GemmKernel::Avx512 ? "AVX-512 kernel" : kernel == GemmKernel::Avx2 ? "AVX2 kernel" : "OpenBLAS kernel",
         " (", unavailable_reason(kernel), ")");
  selected.store(static_cast<int>(kernel));
}

GemmKernel gemm_selected() { return current_kernel(); }

std::string gemm_backend() {
  switch (current_kernel()) {
    case GemmKernel::Avx512: return "built-in AVX-512 kernel (14x32 tiles)";
    case GemmKernel::Avx2: return "built-in AVX2 kernel (6x16 tiles)";
    case GemmKernel::OpenBlas: return openblas().description;
    case GemmKernel::Portable: return portable_name();
  }
  return "";
}

}  // namespace scalelab::model
