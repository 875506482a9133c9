// The trainer's correctness: finite-difference gradients of every layer and of the whole model,
// the initial loss, learning a Markov source down to its exact entropy rate, capacity ordering,
// determinism, checkpoint-resume identity, divergence and interruption, the schedule and AdamW.
#include <catch2/catch.hpp>
#include <sys/resource.h>
#include <sys/stat.h>
#include <csignal>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/vector_targets.h"
#include "data/corpus.h"
#include "data/sampler.h"
#include "markov_source.h"
#include "process.h"
#include "model/gemm.h"
#include "model/gemm_blocked.h"
#include "model/huge_pages.h"
#include "model/gpt_cpu.h"
#include "model/layers.h"
#include "model/rng.h"
#include "train/adamw.h"
#include "train/bytes.h"
#include "train/cpu_backend.h"
#include "train/simulated_backend.h"
#include "train/train.h"

using namespace scalelab;
using namespace scalelab::model;
using scalelab::testing::MarkovSource;

namespace {

std::vector<float> randn(int64_t n, uint64_t seed, double scale = 1.0) {
  Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<float>(scale * rng.normal());
  return v;
}

// Runs check() with each of `kernels` that this machine has, selected in turn (a WARN names the
// others), then selects the default kernel again, also when a check throws.
template <class Check>
void for_each_gemm_kernel(std::initializer_list<GemmKernel> kernels, Check check) {
  struct Restore {
    GemmKernel kernel;
    ~Restore() { gemm_select(kernel); }
  } restore{gemm_selected()};
  for (GemmKernel kernel : kernels) {
    if (!gemm_available(kernel)) {
      WARN("gemm kernel " << static_cast<int>(kernel) << " is not available here: not tested");
      continue;
    }
    gemm_select(kernel);
    INFO(gemm_backend());
    check();
  }
}

// The vector levels this machine can run, widest first: the hand-written kernels (attention's
// tiles, the GELU) take a different path at each, and every path is checked where it can run.
std::vector<std::pair<core::VectorLevel, const char*>> vector_levels() {
  std::vector<std::pair<core::VectorLevel, const char*>> out;
  const core::VectorLevel top = core::vector_level();
  for (auto level : {std::pair{core::VectorLevel::Avx512, "AVX-512"}, std::pair{core::VectorLevel::Avx2, "AVX2"},
                     std::pair{core::VectorLevel::Baseline, "baseline"}})
    if (level.first <= top) out.push_back(level);
  return out;
}

// Limits the vector level for a scope (restored on exit, also when a check throws).
struct VectorLevelLimit {
  explicit VectorLevelLimit(core::VectorLevel level) { core::limit_vector_level(level); }
  ~VectorLevelLimit() { core::limit_vector_level(core::VectorLevel::Avx512); }
  VectorLevelLimit(const VectorLevelLimit&) = delete;
  VectorLevelLimit& operator=(const VectorLevelLimit&) = delete;
};

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

// Compares `analytic` (∂J/∂x) with central differences of J at every coordinate of x (or at
// `max_coords` of them: the largest gradients and a random sample).
void check_gradient(const char* what, std::vector<float>& x, const std::vector<float>& analytic,
                    const std::function<double()>& J, double eps = 1e-3, size_t max_coords = 64) {
  REQUIRE(x.size() == analytic.size());
  double scale = 0;
  for (float g : analytic) scale = std::max(scale, static_cast<double>(std::fabs(g)));
  REQUIRE(scale > 0);
  std::vector<size_t> coords;
  if (x.size() <= max_coords) {
    for (size_t i = 0; i < x.size(); ++i) coords.push_back(i);
  } else {
    Rng rng(7);
    for (size_t k = 0; k < max_coords; ++k) coords.push_back(rng.next() % x.size());
    size_t largest = 0;
    for (size_t i = 0; i < x.size(); ++i)
      if (std::fabs(analytic[i]) > std::fabs(analytic[largest])) largest = i;
    coords.push_back(largest);
  }
  int bad = 0;
  for (size_t i : coords) {
    const float saved = x[i];
    x[i] = saved + static_cast<float>(eps);
    const double plus = J();
    x[i] = saved - static_cast<float>(eps);
    const double minus = J();
    x[i] = saved;
    const double h = (static_cast<double>(saved + static_cast<float>(eps)) -
                      static_cast<double>(saved - static_cast<float>(eps)));
    const double fd = (plus - minus) / h;
    const double tol = 2e-3 * scale + 1e-2 * std::fabs(analytic[i]);
    if (!(std::fabs(fd - analytic[i]) <= tol) && ++bad <= 5)  // a NaN on either side is bad too
      UNSCOPED_INFO(what << "[" << i << "]: finite difference " << fd << ", analytic " << analytic[i]);
  }
  CHECK(bad == 0);
}

}  // namespace

// ---- Layers -------------------------------------------------------------------------------------

TEST_CASE("gemm agrees with a naive product on every kernel, transpose, tile edge and block edge") {
  // Shapes around the AVX-512 kernel's 14 × 32 tiles, 16-step transposes and 512-deep, 256-wide
  // blocks: one element, edges in every direction, several k blocks; A, B and C are each strided
  // inside a larger matrix (3 floats of padding per row), as the trainer's calls are.
  struct Shape {
    int64_t m, n, k;
  };
  const Shape shapes[] = {{1, 1, 1},      {37, 29, 45},   {14, 32, 16},   {15, 33, 17},
                          {28, 256, 512}, {29, 300, 1100}, {13, 31, 7},   {50, 65, 600},
                          {12, 64, 40},   {43, 257, 513}, {6, 16, 8},     {7, 17, 9}};
  const std::pair<float, float> scales[] = {{0.5f, 2.0f}, {1.0f, 0.0f}, {-1.5f, 1.0f}};
  for_each_gemm_kernel({GemmKernel::Avx512, GemmKernel::Avx2, GemmKernel::OpenBlas, GemmKernel::Portable}, [&] {
    for (const Shape& s : shapes)
      for (auto [alpha, beta] : scales) {
        const int64_t M = s.m, N = s.n, K = s.k, ldc = N + 3;
        const int64_t most = std::max({M, N, K}) + 3;  // A and B hold up to `most` floats a row
        auto A = randn(most * most, 1), B = randn(most * most, 2), C0 = randn(M * ldc, 3);
        if (beta == 0)  // C is not read when beta = 0: NaNs there must not leak in
          for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < N; ++j) C0[i * ldc + j] = std::nanf("");
        for (bool ta : {false, true})
          for (bool tb : {false, true}) {
            const int64_t lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 3;
            std::vector<float> C = C0;
            gemm(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
            double worst = 0;
            bool padding_intact = true;
            for (int64_t i = 0; i < M; ++i) {
              for (int64_t j = 0; j < N; ++j) {
                double sum = 0;
                for (int64_t p = 0; p < K; ++p)
                  sum += static_cast<double>(ta ? A[p * lda + i] : A[i * lda + p]) *
                         (tb ? B[j * ldb + p] : B[p * ldb + j]);
                const double want = alpha * sum + (beta == 0 ? 0.0 : beta * C0[i * ldc + j]);
                const double err = std::fabs(want - C[i * ldc + j]);
                worst = std::max(worst, std::isfinite(err) ? err : 1e30);
              }
              for (int64_t j = N; j < ldc; ++j) padding_intact &= C[i * ldc + j] == C0[i * ldc + j];
            }
            INFO(gemm_backend() << ": " << M << "x" << N << "x" << K << " alpha " << alpha << " beta "
                                << beta << " trans_a " << ta << " trans_b " << tb);
            CHECK(worst < 2e-5 * std::sqrt(static_cast<double>(K)) * 4);
            CHECK(padding_intact);
          }
      }
  });
}

TEST_CASE("gemm's epilogue (bias, residual, row sums of op(A)) agrees with separate passes on every kernel") {
  struct Shape {
    int64_t m, n, k;
  };
  // 4100 rows: more than one 4096-row block of packed A (row sums and tiles offset by the block).
  const Shape shapes[] = {{1, 1, 1}, {13, 33, 17}, {30, 70, 1100}, {29, 300, 64}, {4100, 20, 30}};
  for_each_gemm_kernel({GemmKernel::Avx512, GemmKernel::Avx2, GemmKernel::OpenBlas, GemmKernel::Portable}, [&] {
    for (const Shape& s : shapes)
      for (float beta : {0.0f, 1.0f})
        for (bool ta : {false, true})
          for (bool tb : {false, true}) {
            const int64_t M = s.m, N = s.n, K = s.k, ldr = N + 5;
            auto A = randn(M * K, 6), B = randn(K * N, 7), C0 = randn(M * N, 8);
            auto bias = randn(N, 9), residual = randn(M * ldr, 10), sums0 = randn(M, 11);
            std::vector<float> C = C0, sums = sums0;
            GemmEpilogue extra;
            extra.bias = bias.data();
            extra.residual = residual.data();
            extra.ld_residual = ldr;
            extra.a_row_sums = sums.data();
            gemm(ta, tb, M, N, K, 0.75f, A.data(), ta ? M : K, B.data(), tb ? K : N, beta, C.data(), N,
                 extra);
            double worst = 0, worst_sum = 0;
            for (int64_t i = 0; i < M; ++i) {
              double row_sum = 0;
              for (int64_t p = 0; p < K; ++p) row_sum += ta ? A[p * M + i] : A[i * K + p];
              worst_sum = std::max(worst_sum, std::fabs(sums0[i] + row_sum - sums[i]));
              for (int64_t j = 0; j < N; ++j) {
                double sum = 0;
                for (int64_t p = 0; p < K; ++p)
                  sum += static_cast<double>(ta ? A[p * M + i] : A[i * K + p]) *
                         (tb ? B[j * K + p] : B[p * N + j]);
                const double want =
                    0.75 * sum + beta * C0[i * N + j] + bias[j] + residual[i * ldr + j];
                worst = std::max(worst, std::fabs(want - C[i * N + j]));
              }
            }
            INFO(gemm_backend() << ": " << M << "x" << N << "x" << K << " beta " << beta
                                << " trans_a " << ta << " trans_b " << tb);
            CHECK(worst < 2e-5 * std::sqrt(static_cast<double>(K)) * 4);
            CHECK(worst_sum < 2e-5 * std::sqrt(static_cast<double>(K)) * 4);
          }
  });
}

TEST_CASE("the trainer's big arrays are aligned for vectors, and from 2 MiB up for huge pages") {
  for (size_t bytes : {size_t{1}, size_t{100}, size_t{4096}, size_t{3} << 20, (size_t{5} << 20) + 12}) {
    void* p = huge_page_alloc(bytes);
    const auto address = reinterpret_cast<uintptr_t>(p);
    INFO(bytes << " bytes at " << p);
    CHECK(address % 64 == 0);
    if (bytes >= (size_t{2} << 20)) CHECK(address % (size_t{2} << 20) == 0);
    std::memset(p, 0x5A, bytes);  // all of it is ours to write
    std::free(p);
  }
  FloatBuffer buffer(1 << 20, 1.5f);  // 4 MiB, value-initialised like any vector
  CHECK(buffer[0] == 1.5f);
  CHECK(buffer[(1 << 20) - 1] == 1.5f);
  CHECK(reinterpret_cast<uintptr_t>(buffer.data()) % (size_t{2} << 20) == 0);
}

TEST_CASE("our gemm kernels give the same bits whatever the rows are split into") {
  // Each element is summed over k in the same order for any M: the trainer's within-ops threads
  // (rows split between threads) then give the same bits as one thread.
  for_each_gemm_kernel({GemmKernel::Avx512, GemmKernel::Avx2}, [] {
    const int64_t M = 100, N = 70, K = 1300;
    auto A = randn(M * K, 4), B = randn(N * K, 5);
    std::vector<float> whole(M * N), parts(M * N);
    gemm(false, true, M, N, K, 1.0f, A.data(), K, B.data(), K, 0.0f, whole.data(), N);
    const int64_t bounds[] = {0, 7, 31, 55, M};
    for (int part = 0; part < 4; ++part) {
      const int64_t i0 = bounds[part], i1 = bounds[part + 1];
      gemm(false, true, i1 - i0, N, K, 1.0f, A.data() + i0 * K, K, B.data(), K, 0.0f,
           parts.data() + i0 * N, N);
    }
    CHECK(std::memcmp(whole.data(), parts.data(), whole.size() * sizeof(float)) == 0);
  });
}

TEST_CASE("our gemm kernels write nothing past the packing space they size") {
  // Guards after each call's packing spaces (gemm_blocked.h) catch a packer or micro-kernel that
  // writes past them, which the threads' grow-only, rounded-up buffers would otherwise hide. Shapes
  // at each kernel's tile and block edges (tiles of 14 × 32 and 6 × 16, blocks of 512 deep and 256
  // wide), every transpose, with the row-sum packer too.
  struct Guards {
    Guards() { model::detail::set_pack_guards(true); }
    ~Guards() { model::detail::set_pack_guards(false); }
  } guards;
  for_each_gemm_kernel({GemmKernel::Avx512, GemmKernel::Avx2}, [] {
    const int64_t before = model::detail::pack_guard_breaches();
    int64_t calls = 0;
    for (int64_t m : {1, 5, 6, 7, 13, 14, 15, 29, 43})
      for (int64_t n : {1, 15, 16, 17, 31, 33, 255, 257})
        for (int64_t k : {1, 3, 8, 9, 17, 511, 513}) {
          const auto A = randn(m * k, 1), B = randn(k * n, 2);
          std::vector<float> C(m * n), sums(m);
          for (int variant = 0; variant < 8; ++variant) {
            const bool ta = variant & 1, tb = variant & 2, with_sums = variant & 4;
            GemmEpilogue extra;
            extra.a_row_sums = with_sums ? sums.data() : nullptr;
            gemm(ta, tb, m, n, k, 1.0f, A.data(), ta ? m : k, B.data(), tb ? k : n, 0.0f, C.data(), n, extra);
            ++calls;
            const int64_t breaches = model::detail::pack_guard_breaches() - before;
            if (breaches) FAIL("wrote past its packing space at m " << m << " n " << n << " k " << k << " trans_a " << ta
                                                                       << " trans_b " << tb << " row sums " << with_sums);
          }
        }
    CHECK(calls == 9 * 8 * 7 * 8);
    CHECK(model::detail::pack_guard_breaches() == before);
  });
}

TEST_CASE("matmul backward matches finite differences") {
  const int64_t N = 6, C = 5, OC = 7;
  auto inp = randn(N * C, 1), w = randn(OC * C, 2), b = randn(OC, 3), R = randn(N * OC, 4);
  std::vector<float> out(N * OC);
  auto J = [&] {
    matmul_forward(out.data(), inp.data(), w.data(), b.data(), N, C, OC, 2);
    return dot(out, R);
  };
  std::vector<float> dinp(N * C), dw(OC * C, 0.0f), db(OC, 0.0f);
  matmul_backward(dinp.data(), dw.data(), db.data(), R.data(), inp.data(), w.data(), N, C, OC, 2);
  check_gradient("dinp", inp, dinp, J);
  check_gradient("dweight", w, dw, J);
  check_gradient("dbias", b, db, J);
  // Parameter gradients accumulate.
  std::vector<float> dw2 = dw;
  matmul_backward(dinp.data(), dw2.data(), db.data(), R.data(), inp.data(), w.data(), N, C, OC, 1);
  CHECK(dw2[3] == Approx(2 * dw[3]));
}

TEST_CASE("layernorm backward matches finite differences") {
  const int64_t N = 4, C = 8;
  auto inp = randn(N * C, 5, 2.0), w = randn(C, 6), b = randn(C, 7), R = randn(N * C, 8);
  std::vector<float> out(N * C), mean(N), rstd(N);
  auto J = [&] {
    layernorm_forward(out.data(), mean.data(), rstd.data(), inp.data(), w.data(), b.data(), N, C, 2);
    return dot(out, R);
  };
  J();
  std::vector<float> dinp(N * C, 0.0f), dw(C, 0.0f), db(C, 0.0f);
  layernorm_backward(dinp.data(), dw.data(), db.data(), R.data(), inp.data(), w.data(), mean.data(),
                     rstd.data(), N, C, 2);
  check_gradient("dinp", inp, dinp, J);
  check_gradient("dweight", w, dw, J);
  check_gradient("dbias", b, db, J);
  // Normalised rows: mean 0, variance 1 before the affine part.
  CHECK(mean[1] == Approx([&] { double s = 0; for (int c = 0; c < C; ++c) s += inp[C + c]; return s / C; }()).margin(1e-6));
}

namespace {
// Plain causal attention in double, for checking the blocked GEMM version.
std::vector<double> naive_attention(const std::vector<float>& qkv, int64_t B, int64_t T, int64_t C, int64_t NH) {
  const int64_t hd = C / NH;
  std::vector<double> out(B * T * C, 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < NH; ++h)
      for (int64_t t = 0; t < T; ++t) {
        std::vector<double> s(t + 1);
        double max = -1e300;
        for (int64_t j = 0; j <= t; ++j) {
          double d = 0;
          for (int64_t k = 0; k < hd; ++k)
            d += static_cast<double>(qkv[(b * T + t) * 3 * C + h * hd + k]) * qkv[(b * T + j) * 3 * C + C + h * hd + k];
          s[j] = d / std::sqrt(static_cast<double>(hd));
          max = std::max(max, s[j]);
        }
        double sum = 0;
        for (auto& x : s) sum += (x = std::exp(x - max));
        for (int64_t j = 0; j <= t; ++j)
          for (int64_t k = 0; k < hd; ++k)
            out[(b * T + t) * C + h * hd + k] += s[j] / sum * qkv[(b * T + j) * 3 * C + 2 * C + h * hd + k];
      }
  return out;
}
}  // namespace

TEST_CASE("attention is causal, matches a naive version and its backward matches finite differences") {
  // Head sizes 4 (blocked through gemm) and 16, 32, 48, 128 (the tiled kernels: on AVX-512 tiles
  // of 1, 2 and 3 vectors of 16, 128 in two passes of 64); T = 1, 5, 70 are not multiples of the 6-row tiles or 16-float vectors (tiles straddle
  // them), and 70 spans two of the 64-row blocks. att starts as NaN: the products must read only
  // what the forward wrote (a buffer reused after a run of another length holds stale values).
  // At every vector level this machine has: 6 × 4 tiles of 16 floats on AVX-512, 6 × 2 of 8 below.
  for (auto [level, level_name] : vector_levels())
  for (auto [C, NH] : {std::pair<int64_t, int64_t>{8, 2}, {32, 2}, {64, 2}, {96, 2}, {256, 2}})
  for (int64_t T : {1, 5, 70}) {
    VectorLevelLimit limit(level);
    const int64_t B = 2;
    INFO(level_name << ": C " << C << " heads " << NH << " T " << T);
    auto qkv = randn(B * T * 3 * C, 9), R = randn(B * T * C, 10);
    std::vector<float> out(B * T * C), att(B * NH * T * T, std::nanf(""));
    auto J = [&] {
      attention_forward(out.data(), att.data(), qkv.data(), B, T, C, NH, 2);
      return dot(out, R);
    };
    J();
    const auto ref = naive_attention(qkv, B, T, C, NH);
    double worst = 0;
    for (size_t i = 0; i < out.size(); ++i) {
      const double err = std::fabs(out[i] - ref[i]);
      worst = std::isfinite(err) ? std::max(worst, err) : INFINITY;  // std::max would skip a NaN
    }
    CHECK(worst < 1e-5);
    for (int64_t t = 0; t < T; ++t)
      for (int64_t j = t + 1; j < std::min<int64_t>(T, (t / 16 + 1) * 16); ++j) REQUIRE(att[t * T + j] == 0.0f);
    std::vector<float> dqkv(qkv.size()), scratch(attention_scratch_floats(T, 2));
    attention_backward(dqkv.data(), R.data(), qkv.data(), att.data(), scratch.data(), B, T, C, NH, 2);
    check_gradient("dqkv", qkv, dqkv, J, 1e-3, T > 10 ? 48 : 1000);
  }
}

TEST_CASE("gelu, cross-entropy and encoder backward match finite differences") {
  SECTION("gelu") for (auto [level, level_name] : vector_levels()) {
    VectorLevelLimit limit(level);
    INFO(level_name);
    REQUIRE(core::vector_level() == level);
    // The tails first (inside the vector loops), where tanh is ±1 in float and the gradient must
    // vanish or be exactly dout: the AVX2 path's Newton step once stalled there, and a clamp at
    // |u| = 9 left 1 − 2^-24 on every path. Then 40 normal draws.
    std::vector<float> x = {-6.0f, -12.0f, -50.0f, 12.0f}, R = randn(44, 12);
    const auto draws = randn(40, 11, 2.0);
    x.insert(x.end(), draws.begin(), draws.end());
    std::vector<float> out(44);
    auto J = [&] { gelu_forward(out.data(), x.data(), 44, 2); return dot(out, R); };
    J();
    std::vector<float> dx(44);
    gelu_backward(dx.data(), x.data(), R.data(), 44, 2);
    // Every element against the closed forms, at every vector level: the vector loop takes 32
    // (AVX-512, 16 at a time) or 40 (AVX2, 8 at a time), the portable loop the rest.
    for (int i = 0; i < 44; ++i) {
      const double xi = x[i], u = 0.7978845608028654 * (xi + 0.044715 * xi * xi * xi), th = std::tanh(u);
      const double grad = 0.5 * (1 + th) + 0.5 * xi * (1 - th * th) * 0.7978845608028654 * (1 + 3 * 0.044715 * xi * xi);
      INFO("element " << i << ", x = " << xi);
      CHECK(out[i] == Approx(0.5 * xi * (1 + th)).margin(2e-6));
      CHECK(dx[i] == Approx(grad * R[i]).margin(2e-6));
    }
    check_gradient("gelu", x, dx, J);
  }
  SECTION("cross-entropy") {
    const int64_t N = 3, V = 7;
    auto logits = randn(N * V, 13, 2.0);
    std::vector<int32_t> targets = {2, 6, 0};
    std::vector<float> losses(N);
    auto J = [&] {
      crossentropy_forward(losses.data(), logits.data(), targets.data(), N, V, 2);
      return 0.7 * (static_cast<double>(losses[0]) + losses[1] + losses[2]);
    };
    J();
    double z = 0;
    for (int v = 0; v < V; ++v) z += std::exp(static_cast<double>(logits[v]));
    CHECK(losses[0] == Approx(std::log(z) - logits[2]).epsilon(1e-5));
    std::vector<float> dlogits = logits;  // in place
    crossentropy_backward(dlogits.data(), dlogits.data(), losses.data(), targets.data(), 0.7f, N, V, 2);
    check_gradient("dlogits", logits, dlogits, J);
  }
  SECTION("encoder") {
    const int64_t B = 2, T = 3, C = 4, V = 5;
    auto wte = randn(V * C, 14), wpe = randn(T * C, 15), R = randn(B * T * C, 16);
    std::vector<int32_t> inp = {1, 4, 1, 0, 1, 3};
    std::vector<float> out(B * T * C);
    auto J = [&] {
      encoder_forward(out.data(), inp.data(), wte.data(), wpe.data(), B, T, C, 2);
      return dot(out, R);
    };
    std::vector<float> dwte(V * C, 0.0f), dwpe(T * C, 0.0f);
    encoder_backward(dwte.data(), dwpe.data(), R.data(), inp.data(), B, T, C, 2);
    check_gradient("dwte", wte, dwte, J);
    check_gradient("dwpe", wpe, dwpe, J);
  }
}

TEST_CASE("ops split over threads agree with one thread at sizes where they do split") {
  const int64_t B = 4, T = 128, C = 256, NH = 4, N = B * T, F = 4 * C;
  auto x = randn(N * C, 21), w = randn(F * C, 22, 0.05), b = randn(F, 23), d = randn(N * F, 24);
  auto qkv = randn(N * 3 * C, 25), dy = randn(N * C, 26), g = randn(C, 27), gb = randn(C, 28);
  auto run = [&](int threads) {
    std::vector<float> out(N * F), dx(N * C), dw(F * C, 0.0f), db(F, 0.0f), ge(N * F);
    matmul_forward(out.data(), x.data(), w.data(), b.data(), N, C, F, threads);
    matmul_backward(dx.data(), dw.data(), db.data(), d.data(), x.data(), w.data(), N, C, F, threads);
    gelu_forward(ge.data(), out.data(), N * F, threads);
    gelu_backward(ge.data(), out.data(), d.data(), N * F, threads);
    std::vector<float> att(B * NH * T * T), y(N * C), dqkv(N * 3 * C), scratch(attention_scratch_floats(T, threads));
    attention_forward(y.data(), att.data(), qkv.data(), B, T, C, NH, threads);
    attention_backward(dqkv.data(), dy.data(), qkv.data(), att.data(), scratch.data(), B, T, C, NH, threads);
    std::vector<float> ln(N * C), mean(N), rstd(N), dln(N * C, 0.0f), dg(C, 0.0f), dgb(C, 0.0f);
    layernorm_forward(ln.data(), mean.data(), rstd.data(), x.data(), g.data(), gb.data(), N, C, threads);
    layernorm_backward(dln.data(), dg.data(), dgb.data(), dy.data(), x.data(), g.data(), mean.data(),
                       rstd.data(), N, C, threads);
    return std::vector<std::vector<float>>{out, dx, dw, db, ge, y, dqkv, ln, dln, dg, dgb};
  };
  const auto one = run(1), two = run(2);
  const char* names[] = {"matmul out", "dinp", "dweight", "dbias", "gelu", "attention", "dqkv",
                         "layernorm", "layernorm dinp", "dgain", "dbias"};
  for (size_t k = 0; k < one.size(); ++k) {
    double worst = 0, scale = 0;
    for (size_t i = 0; i < one[k].size(); ++i) {
      worst = std::max(worst, static_cast<double>(std::fabs(one[k][i] - two[k][i])));
      scale = std::max(scale, static_cast<double>(std::fabs(one[k][i])));
    }
    INFO(names[k]);
    CHECK(worst <= 1e-5 * scale);
  }
}

// ---- The whole model ----------------------------------------------------------------------------

namespace {
GptConfig tiny(int64_t vocab = 11, int64_t ctx = 6, int64_t d = 8, int64_t layers = 2, int64_t heads = 2) {
  GptConfig c;
  c.vocab = vocab;
  c.ctx = ctx;
  c.d_model = d;
  c.n_layer = layers;
  c.n_head = heads;
  c.d_ff = 12;  // not 4·d, to catch a confusion of the two
  c.Validate();
  return c;
}

std::vector<int32_t> random_tokens(int64_t n, int64_t vocab, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& x : t) x = static_cast<int32_t>(rng.next() % static_cast<uint64_t>(vocab));
  return t;
}
}  // namespace

TEST_CASE("the whole model's gradient matches finite differences, tensor by tensor") {
  const GptConfig config = tiny();
  const int64_t B = 3, T = 5;
  CpuGpt gpt(config, B, 2);
  gpt.init(42);
  // Larger weights than GPT-2's init make every path through the network matter.
  Rng rng(3);
  for (int64_t i = 0; i < gpt.num_params(); ++i) gpt.params()[i] += static_cast<float>(0.3 * rng.normal());
  const auto tokens = random_tokens(B * (T + 1), config.vocab, 5);
  gpt.zero_grad();
  gpt.forward(tokens.data(), B, T);
  gpt.backward(1.0f);
  std::vector<float> grads(gpt.grads(), gpt.grads() + gpt.num_params());
  std::vector<float> base(gpt.params(), gpt.params() + gpt.num_params());
  for (int kind = 0; kind < kParamKinds; ++kind) {
    const Param p = static_cast<Param>(kind);
    const int64_t off = gpt.layout().offset_of(p), n = gpt.layout().size_of(p);
    // Direction: the analytic gradient of this tensor mixed with noise of the same norm.
    std::vector<double> dir(n);
    double gnorm = 0;
    for (int64_t i = 0; i < n; ++i) gnorm += static_cast<double>(grads[off + i]) * grads[off + i];
    gnorm = std::sqrt(gnorm);
    REQUIRE(gnorm > 0);
    double dnorm = 0;
    for (int64_t i = 0; i < n; ++i) {
      dir[i] = grads[off + i] / gnorm + rng.normal() / std::sqrt(static_cast<double>(n));
      dnorm += dir[i] * dir[i];
    }
    dnorm = std::sqrt(dnorm);
    double analytic = 0;
    for (int64_t i = 0; i < n; ++i) analytic += grads[off + i] * dir[i] / dnorm;
    const double eps = 1e-2;
    auto loss_at = [&](double s) {
      std::copy(base.begin(), base.end(), gpt.params());
      for (int64_t i = 0; i < n; ++i) gpt.params()[off + i] = static_cast<float>(base[off + i] + s * dir[i] / dnorm);
      return gpt.forward(tokens.data(), B, T);
    };
    // Richardson extrapolation of two central differences cancels the O(eps²) error.
    const double d1 = (loss_at(eps) - loss_at(-eps)) / (2 * eps);
    const double d2 = (loss_at(eps / 2) - loss_at(-eps / 2)) / eps;
    const double fd = (4 * d2 - d1) / 3;
    INFO(param_name(p) << ": finite difference " << fd << ", analytic " << analytic);
    CHECK(std::fabs(fd - analytic) <= 1e-3 * std::max(1.0, std::fabs(analytic)) + 2e-2 * std::fabs(analytic));
  }
  std::copy(base.begin(), base.end(), gpt.params());
}

namespace {
// GPT-2's forward written out plainly in double from the architecture's definition, sharing nothing
// with model/layers.h but the parameters' layout (model/layout.h): token plus learned position
// embeddings; per block x += attproj(attention(qkv(LN1(x)))), x += fcproj(GELU(fc(LN2(x)))) (pre-
// LayerNorm, eps 1e-5, the variance divided by d); causal heads scaled by 1/√head_dim; GELU's tanh
// form; a final LayerNorm; logits from the token embedding (tied); the mean cross-entropy against
// the next tokens. Returns the logits (B·T rows of V) and the loss.
std::pair<std::vector<double>, double> reference_forward(CpuGpt& gpt, const std::vector<int32_t>& tokens, int64_t B,
                                                         int64_t T) {
  const GptConfig& c = gpt.config();
  const int64_t V = c.vocab, d = c.d_model, L = c.n_layer, H = c.n_head, hd = d / H, F = c.ff();
  using Row = std::vector<double>;
  auto layer_norm = [&](const Row& x, const float* w, const float* b) {
    double mean = 0, var = 0;
    for (double v : x) mean += v;
    mean /= static_cast<double>(d);
    for (double v : x) var += (v - mean) * (v - mean);
    var /= static_cast<double>(d);
    Row out(d);
    for (int64_t j = 0; j < d; ++j) out[j] = (x[j] - mean) / std::sqrt(var + 1e-5) * w[j] + b[j];
    return out;
  };
  auto linear = [](const Row& x, const float* w, const float* b, int64_t out_dim) {  // w is [out][in]
    const int64_t in = static_cast<int64_t>(x.size());
    Row y(out_dim);
    for (int64_t o = 0; o < out_dim; ++o) {
      double s = b[o];
      for (int64_t i = 0; i < in; ++i) s += static_cast<double>(w[o * in + i]) * x[i];
      y[o] = s;
    }
    return y;
  };
  auto gelu = [](double x) {
    return 0.5 * x * (1 + std::tanh(std::sqrt(2 / 3.141592653589793) * (x + 0.044715 * x * x * x)));
  };
  const float* wte = gpt.param(Param::Wte);
  const float* wpe = gpt.param(Param::Wpe);
  std::vector<double> logits(static_cast<size_t>(B * T * V));
  double total = 0;
  for (int64_t b = 0; b < B; ++b) {
    const int32_t* row = tokens.data() + b * (T + 1);
    std::vector<Row> x(T, Row(d));
    for (int64_t t = 0; t < T; ++t)
      for (int64_t j = 0; j < d; ++j) x[t][j] = double(wte[row[t] * d + j]) + wpe[t * d + j];
    for (int64_t l = 0; l < L; ++l) {
      std::vector<Row> qkv(T);
      for (int64_t t = 0; t < T; ++t)
        qkv[t] = linear(layer_norm(x[t], gpt.param(Param::Ln1W) + l * d, gpt.param(Param::Ln1B) + l * d),
                        gpt.param(Param::QkvW) + l * 3 * d * d, gpt.param(Param::QkvB) + l * 3 * d, 3 * d);
      for (int64_t t = 0; t < T; ++t) {
        Row y(d, 0.0);
        for (int64_t h = 0; h < H; ++h) {
          Row p(t + 1);  // position t sees 0 .. t only
          double max = -1e300, sum = 0;
          for (int64_t s = 0; s <= t; ++s) {
            double dot = 0;
            for (int64_t i = 0; i < hd; ++i) dot += qkv[t][h * hd + i] * qkv[s][d + h * hd + i];
            p[s] = dot / std::sqrt(static_cast<double>(hd));
            max = std::max(max, p[s]);
          }
          for (double& v : p) sum += (v = std::exp(v - max));
          for (int64_t s = 0; s <= t; ++s)
            for (int64_t i = 0; i < hd; ++i) y[h * hd + i] += p[s] / sum * qkv[s][2 * d + h * hd + i];
        }
        const Row a = linear(y, gpt.param(Param::AttProjW) + l * d * d, gpt.param(Param::AttProjB) + l * d, d);
        for (int64_t j = 0; j < d; ++j) x[t][j] += a[j];
      }
      for (int64_t t = 0; t < T; ++t) {
        Row f = linear(layer_norm(x[t], gpt.param(Param::Ln2W) + l * d, gpt.param(Param::Ln2B) + l * d),
                       gpt.param(Param::FcW) + l * F * d, gpt.param(Param::FcB) + l * F, F);
        for (double& v : f) v = gelu(v);
        const Row m = linear(f, gpt.param(Param::FcProjW) + l * d * F, gpt.param(Param::FcProjB) + l * d, d);
        for (int64_t j = 0; j < d; ++j) x[t][j] += m[j];
      }
    }
    for (int64_t t = 0; t < T; ++t) {
      const Row xf = layer_norm(x[t], gpt.param(Param::LnfW), gpt.param(Param::LnfB));
      double* z = logits.data() + (b * T + t) * V;
      double max = -1e300, sum = 0;
      for (int64_t v = 0; v < V; ++v) {
        z[v] = 0;
        for (int64_t j = 0; j < d; ++j) z[v] += static_cast<double>(wte[v * d + j]) * xf[j];
        max = std::max(max, z[v]);
      }
      for (int64_t v = 0; v < V; ++v) sum += std::exp(z[v] - max);
      total += std::log(sum) + max - z[row[t + 1]];
    }
  }
  return {logits, total / static_cast<double>(B * T)};
}
}  // namespace

TEST_CASE("the model's forward is GPT-2's: its logits and loss match a plain double-precision reference") {
  // Two head sizes (4: the blocked attention; 16: the tiled kernels), d_ff given and the default
  // 4·d_model, rows shorter than ctx. Two sets of weights: GPT-2's initialisation with the gains and
  // biases moved off 1 and 0 (the residual stream's variance is then small, ~1e-3, so LayerNorm's
  // eps shows: 1e-6 or 1e-4 moves the logits by ~1e-3 of their size), and every weight moved by
  // N(0, 0.3) (every path matters, the GELU far from linear).
  for (bool large : {false, true})
    for (GptConfig config : {tiny(), tiny(13, 8, 32, 2, 2)}) {
      if (config.d_model == 32) {
        config.d_ff = 0;
        config.Validate();
      }
      INFO((large ? "weights moved by N(0, 0.3), " : "GPT-2 init, ") << config.Summary());
      const int64_t B = 2, T = config.ctx - 1;
      CpuGpt gpt(config, B, 2);
      gpt.init(42);
      Rng rng(8);
      for (int kind = 0; kind < kParamKinds; ++kind) {
        const Param p = static_cast<Param>(kind);
        float* w = gpt.param(p);
        const bool gain = p == Param::Ln1W || p == Param::Ln2W || p == Param::LnfW;
        const double spread = large ? 0.3 : param_decays(p) ? 0.0 : gain ? 0.2 : 0.02;
        for (int64_t i = 0; i < gpt.layout().size_of(p); ++i) w[i] += static_cast<float>(spread * rng.normal());
      }
      const auto tokens = random_tokens(B * (T + 1), config.vocab, 9);
      const double loss = gpt.forward(tokens.data(), B, T);
      const auto [logits, reference_loss] = reference_forward(gpt, tokens, B, T);
      double worst = 0, scale = 0;
      for (size_t i = 0; i < logits.size(); ++i) {
        const double err = std::fabs(gpt.logits()[i] - logits[i]);
        worst = std::isfinite(err) ? std::max(worst, err) : INFINITY;
        scale = std::max(scale, std::fabs(logits[i]));
      }
      INFO("worst logit error " << worst << " of logits up to " << scale << "; loss " << loss << ", reference "
                                << reference_loss);
      CHECK(scale > 0.05);
      CHECK(worst <= 1e-5 * scale);
      CHECK(loss == Approx(reference_loss).epsilon(1e-6));
    }
}

TEST_CASE("the initial loss is about ln(vocab)") {
  GptConfig c = tiny(256, 64, 64, 2, 4);
  c.d_ff = 0;
  c.Validate();
  CpuGpt gpt(c, 4, 2);
  gpt.init(1);
  const auto tokens = random_tokens(4 * 65, 256, 2);
  CHECK(gpt.forward(tokens.data(), 4, 64) == Approx(std::log(256.0)).margin(0.02));
}

TEST_CASE("the parameter layout counts what GptConfig counts, and GPT-2 init has the right scale") {
  GptConfig c = tiny(256, 64, 64, 4, 4);
  c.d_ff = 0;
  c.Validate();
  ParameterLayout layout(c);
  CHECK(layout.total == c.params());
  CpuGpt gpt(c, 1, 1);
  gpt.init(9);
  auto stddev = [&](Param p) {
    const float* w = gpt.param(p);
    double s = 0;
    for (int64_t i = 0; i < layout.size_of(p); ++i) s += static_cast<double>(w[i]) * w[i];
    return std::sqrt(s / static_cast<double>(layout.size_of(p)));
  };
  CHECK(stddev(Param::QkvW) == Approx(0.02).epsilon(0.02));
  CHECK(stddev(Param::FcProjW) == Approx(0.02 / std::sqrt(8.0)).epsilon(0.03));
  CHECK(gpt.param(Param::Ln1W)[5] == 1.0f);
  CHECK(gpt.param(Param::FcB)[5] == 0.0f);
}

namespace {
// Every parameter kind of model/layout.h, in layout order, with what GPT-2 does to it, written out
// here by hand from the documented rules: the tests below compare the code with this table, never
// with model::param_decays or model::param_is_residual_projection (which CpuGpt::init itself uses
// to choose each kind's initialisation, so a mistake there would agree with itself).
enum class Init {
  One,       // LayerNorm gains: 1
  Zero,      // LayerNorm biases and every bias: 0
  Normal,    // N(0, 0.02): embeddings, qkv_w, fc_w
  Residual,  // N(0, 0.02/√(2·n_layer)): the residual projections attproj_w, fcproj_w
};
struct KindRule {
  Param param;
  const char* name;
  bool decays;     // AdamW's weight decay: matrices and embeddings do, LayerNorm gains and biases do not
  Init init;
  bool per_layer;  // one slice per layer (all but the embeddings and the final LayerNorm)
};
const KindRule kKindRules[] = {
    {Param::Wte, "wte", true, Init::Normal, false},
    {Param::Wpe, "wpe", true, Init::Normal, false},
    {Param::Ln1W, "ln1_w", false, Init::One, true},
    {Param::Ln1B, "ln1_b", false, Init::Zero, true},
    {Param::QkvW, "qkv_w", true, Init::Normal, true},
    {Param::QkvB, "qkv_b", false, Init::Zero, true},
    {Param::AttProjW, "attproj_w", true, Init::Residual, true},
    {Param::AttProjB, "attproj_b", false, Init::Zero, true},
    {Param::Ln2W, "ln2_w", false, Init::One, true},
    {Param::Ln2B, "ln2_b", false, Init::Zero, true},
    {Param::FcW, "fc_w", true, Init::Normal, true},
    {Param::FcB, "fc_b", false, Init::Zero, true},
    {Param::FcProjW, "fcproj_w", true, Init::Residual, true},
    {Param::FcProjB, "fcproj_b", false, Init::Zero, true},
    {Param::LnfW, "lnf_w", false, Init::One, false},
    {Param::LnfB, "lnf_b", false, Init::Zero, false},
};
static_assert(sizeof(kKindRules) / sizeof(kKindRules[0]) == kParamKinds, "one rule per parameter kind");
}  // namespace

TEST_CASE("every parameter kind decays as a hand-written table says: matrices and embeddings do and norms and biases do not") {
  // The table is in layout order and names every kind once, so a kind added to the layout without
  // a decision here fails (the static_assert above, or the order check).
  int decaying = 0;
  for (int kind = 0; kind < kParamKinds; ++kind) {
    const KindRule& rule = kKindRules[kind];
    INFO(rule.name);
    REQUIRE(rule.param == static_cast<Param>(kind));
    CHECK(std::string(param_name(rule.param)) == rule.name);
    CHECK(param_decays(rule.param) == rule.decays);
    CHECK(param_is_residual_projection(rule.param) == (rule.init == Init::Residual));
    decaying += rule.decays ? 1 : 0;
  }
  CHECK(decaying == 6);  // wte, wpe and the four matrices of a block
}

TEST_CASE("GPT-2 init gives every parameter kind its documented value or spread at two depths") {
  // Through the cpu backend's init (what train() calls), at n_layer 1 and 4: the residual
  // projections' σ is 0.02/√2 ≈ 0.0141 at one layer and 0.02/√8 ≈ 0.0071 at four, so a constant
  // scale (0.02, or 0.02/√2 at every depth) fails at one of them. d_model = ctx = 128 makes the
  // smallest random slice (attproj_w of one layer, d² values; wpe, ctx·d values) 16,384 draws:
  //   σ̂ has relative standard error 1/√(2n) ≈ 0.55%, so 3% is about 5 standard errors, and the
  //     nearest wrong σ (0.02/√2 against 0.02/√8, or 0.02 against 0.0141) is 29% to 100% away;
  //   the mean's standard error is σ/√n: within 5 of them;
  //   the share of draws beyond 2σ is 4.55% for a normal (standard error 0.16%): within ±1%, which
  //     a uniform draw of the same σ (0% beyond 1.73σ) fails, so "normal" is checked, not just σ.
  // Each layer's slice is checked on its own: a scale applied to some layers only fails too.
  for (int64_t layers : {1, 4}) {
    GptConfig c = tiny(256, 128, 128, layers, 4);
    c.d_ff = 0;
    c.Validate();
    const ParameterLayout layout(c);
    auto backend = train::make_cpu_backend(1);
    backend->init(c, train::OptimizerOptions{}, 1, 5);
    const std::vector<float> w = backend->parameters();
    REQUIRE(static_cast<int64_t>(w.size()) == layout.total);
    for (const KindRule& rule : kKindRules) {
      const int64_t slices = rule.per_layer ? layers : 1;
      const int64_t n = layout.size_of(rule.param) / slices;
      REQUIRE(n * slices == layout.size_of(rule.param));
      for (int64_t s = 0; s < slices; ++s) {
        INFO("n_layer " << layers << ", " << rule.name << " slice " << s << " of " << slices << " (" << n
                        << " values)");
        const float* x = w.data() + layout.offset_of(rule.param) + s * n;
        if (rule.init == Init::One || rule.init == Init::Zero) {
          const float value = rule.init == Init::One ? 1.0f : 0.0f;
          int64_t other = 0;
          for (int64_t i = 0; i < n; ++i) other += x[i] != value ? 1 : 0;
          CHECK(other == 0);
          continue;
        }
        const double sigma = rule.init == Init::Normal ? 0.02 : 0.02 / std::sqrt(2.0 * static_cast<double>(layers));
        REQUIRE(n >= 16384);
        double sum = 0, squares = 0;
        int64_t beyond = 0;
        for (int64_t i = 0; i < n; ++i) {
          sum += x[i];
          beyond += std::fabs(x[i]) > 2 * sigma ? 1 : 0;
        }
        const double mean = sum / static_cast<double>(n);
        for (int64_t i = 0; i < n; ++i) squares += (x[i] - mean) * (x[i] - mean);
        const double sd = std::sqrt(squares / static_cast<double>(n - 1));
        INFO("mean " << mean << ", σ " << sd << " (expected " << sigma << "), beyond 2σ "
                     << static_cast<double>(beyond) / static_cast<double>(n));
        CHECK(sd == Approx(sigma).epsilon(0.03));
        CHECK(std::fabs(mean) < 5 * sigma / std::sqrt(static_cast<double>(n)));
        CHECK(static_cast<double>(beyond) / static_cast<double>(n) == Approx(0.0455).margin(0.01));
      }
    }
  }
}

// ---- Optimizer and schedule ---------------------------------------------------------------------

TEST_CASE("AdamW matches a hand computation and skips decay on norms and biases") {
  GptConfig c = tiny();
  ParameterLayout layout(c);
  std::vector<float> w(layout.total, 1.0f), g(layout.total, 0.5f), m(layout.total, 0.0f), v(layout.total, 0.0f);
  train::OptimizerOptions o;
  o.weight_decay = 0.1;
  train::adamw_update(layout, w.data(), g.data(), m.data(), v.data(), o, 0.01, 1, 1.0f, 2);
  // Step 1: m̂ = g, v̂ = g², so the update is lr·g/(|g| + eps) ≈ lr.
  const double adam = 0.01 * 0.5 / (0.5 + 1e-8);
  CHECK(w[layout.offset_of(Param::QkvW)] == Approx(1.0 * (1 - 0.01 * 0.1) - adam).epsilon(1e-6));
  CHECK(w[layout.offset_of(Param::QkvB)] == Approx(1.0 - adam).epsilon(1e-6));
  CHECK(w[layout.offset_of(Param::LnfW)] == Approx(1.0 - adam).epsilon(1e-6));
  CHECK(m[0] == Approx(0.05));
  CHECK(v[0] == Approx(0.05 * 0.5 * 0.5).epsilon(1e-5));
}

TEST_CASE("a zero-gradient AdamW step of the cpu backend shrinks exactly the decaying kinds by 1 - lr·wd and leaves the rest unchanged") {
  // With a zero gradient both moments stay 0 and Adam's term is 0/(0 + eps) = 0, so one step is
  // the decoupled decay alone: w ← w·(1 − lr·wd) on the kinds the hand-written table says decay,
  // w unchanged on the rest. The parameters are loaded as random non-zero values in every kind (the
  // initial biases are 0 and the gains 1, where a wrongly decayed 0 would not show). The gradient
  // is a real one scaled by 0 (accumulate with scale 0), and update's norm of 0 confirms it.
  // lr·wd = 0.05 tells a decayed weight from an unchanged one by 5%, far beyond float rounding.
  const GptConfig config = tiny();
  const ParameterLayout layout(config);
  const auto tokens = random_tokens(2 * 6, config.vocab, 4);
  const double lr = 0.1;
  train::OptimizerOptions o;
  o.weight_decay = 0.5;
  std::vector<float> w0 = randn(layout.total, 31);
  for (float& x : w0) x = std::copysign(0.25f + std::fabs(x), x);  // away from 0
  const std::vector<float> zeros(static_cast<size_t>(layout.total), 0.0f);
  train::ByteWriter state;  // the cpu backend's save() format: step, parameters, m, v
  state.string("cpu-adamw-1");
  state.i64(0);
  state.floats(w0.data(), layout.total);
  state.floats(zeros.data(), layout.total);
  state.floats(zeros.data(), layout.total);
  for (int threads : {1, 2}) {  // within ops, and over rows (two replicas)
    auto backend = train::make_cpu_backend(threads);
    backend->init(config, o, 2, 3);
    backend->load(state.bytes());
    REQUIRE(backend->parameters() == w0);
    backend->accumulate(tokens.data(), 2, 5, 0.0f);
    REQUIRE(backend->update(lr) == 0.0);
    const std::vector<float> w = backend->parameters();
    for (const KindRule& rule : kKindRules) {
      INFO(threads << " threads, " << rule.name << (rule.decays ? " (decays)" : " (does not decay)"));
      const int64_t begin = layout.offset_of(rule.param), end = begin + layout.size_of(rule.param);
      double worst = 0;  // the largest relative distance from the expected value
      for (int64_t i = begin; i < end; ++i) {
        const double expected = rule.decays ? w0[i] * (1 - lr * o.weight_decay) : w0[i];
        worst = std::max(worst, std::fabs(w[i] - expected) / std::fabs(expected));
      }
      if (rule.decays)
        CHECK(worst < 1e-6);  // float rounding of w·decay
      else
        CHECK(worst == 0.0);  // bit for bit: w·1 − 0
    }
  }
}

TEST_CASE("AdamW over three steps matches the textbook update in double: the scaled gradient in both moments, eps outside the root") {
  // Loshchilov & Hutter's AdamW as PyTorch has it, in double, element by element, with ĝ = scale·g:
  //   m = β1·m + (1 − β1)·ĝ,  v = β2·v + (1 − β2)·ĝ²,  m̂ = m/(1 − β1^t),  v̂ = v/(1 − β2^t),
  //   w = w·(1 − lr·wd) − lr·m̂/(√v̂ + eps)    (the decay on matrices and embeddings only).
  // Gradients from 1 down to 1e-3 against eps = 1e-3: where √v̂ is near eps, √v̂ + eps and
  // √(v̂ + eps) differ several-fold. A scale of 1/4 tells ĝ from g in either moment.
  GptConfig c = tiny();
  ParameterLayout layout(c);
  train::OptimizerOptions o;
  o.eps = 1e-3;
  o.weight_decay = 0.1;
  const double lr = 0.01;
  const float scale = 0.25f;
  std::vector<float> w = randn(layout.total, 11), m(layout.total, 0.0f), v(layout.total, 0.0f);
  std::vector<double> hw(w.begin(), w.end()), hm(layout.total, 0.0), hv(layout.total, 0.0);
  for (int64_t t = 1; t <= 3; ++t) {
    std::vector<float> g = randn(layout.total, 20 + t);
    for (int64_t i = 0; i < layout.total; ++i) g[i] *= static_cast<float>(std::pow(10.0, -(i % 4)));
    train::adamw_update(layout, w.data(), g.data(), m.data(), v.data(), o, lr, t, scale, 2);
    const double c1 = 1 - std::pow(o.beta1, double(t)), c2 = 1 - std::pow(o.beta2, double(t));
    double worst_w = 0, worst_m = 0, worst_v = 0;
    for (int kind = 0; kind < kParamKinds; ++kind) {
      const double decay = param_decays(static_cast<Param>(kind)) ? 1 - lr * o.weight_decay : 1.0;
      for (int64_t i = layout.offset[kind]; i < layout.offset[kind] + layout.size[kind]; ++i) {
        const double gi = double(g[i]) * scale;
        hm[i] = o.beta1 * hm[i] + (1 - o.beta1) * gi;
        hv[i] = o.beta2 * hv[i] + (1 - o.beta2) * gi * gi;
        hw[i] = hw[i] * decay - lr * (hm[i] / c1) / (std::sqrt(hv[i] / c2) + o.eps);
        worst_w = std::max(worst_w, std::fabs(w[i] - hw[i]));
        worst_m = std::max(worst_m, std::fabs(m[i] - hm[i]) / std::sqrt(hv[i]));  // m may cancel to ~0
        worst_v = std::max(worst_v, std::fabs(v[i] - hv[i]) / hv[i]);
      }
    }
    INFO("step " << t);
    CHECK(worst_w < 1e-6);  // a step moves w by up to lr = 1e-2
    CHECK(worst_m < 1e-5);
    CHECK(worst_v < 1e-5);
  }
}

TEST_CASE("update reports the gradient's global norm before clipping, and AdamW steps on the gradient scaled to the clip") {
  // The reference gradient: a CpuGpt initialised as the backend's (the same seed) on the same rows,
  // its norm √Σg² summed in double here. From zero moments the first AdamW step moves each weight
  // by lr·ĝ/(|ĝ| + eps), ĝ = g·min(1, clip/norm): free of ĝ's scale unless eps is near |ĝ|, so eps
  // is set near a clipped element's typical size. Over rows (2 threads) the replicas' gradients are
  // summed before the norm.
  const GptConfig config = tiny(16, 6, 8, 1, 2);
  const auto tokens = random_tokens(2 * 7, 16, 21);
  CpuGpt reference(config, 2, 1);
  reference.init(3);
  reference.forward(tokens.data(), 2, 6);
  reference.backward(1.0f, true);
  const int64_t n = reference.num_params();
  const std::vector<float> w0(reference.params(), reference.params() + n);
  const float* g = reference.grads();
  double squares = 0;
  for (int64_t i = 0; i < n; ++i) squares += double(g[i]) * g[i];
  const double norm = std::sqrt(squares), lr = 1e-2;
  REQUIRE(norm > 0);
  for (int threads : {1, 2})
    for (double clip : {norm / 10, 2 * norm, 0.0}) {
      INFO(threads << " threads, clip " << clip << ", norm " << norm);
      train::OptimizerOptions o;
      o.clip = clip;
      o.weight_decay = 0;
      o.eps = norm / 10 / std::sqrt(double(n));
      auto backend = train::make_cpu_backend(threads);
      backend->init(config, o, 2, 3);
      REQUIRE(backend->parameters() == w0);
      backend->accumulate(tokens.data(), 2, 6, 1.0f);
      CHECK(backend->update(lr) == Approx(norm).epsilon(1e-5));
      const double scale = clip > 0 && norm > clip ? clip / norm : 1.0;
      const std::vector<float> w = backend->parameters();
      double worst = 0;
      for (int64_t i = 0; i < n; ++i) {
        const double gi = g[i] * scale;
        worst = std::max(worst, std::fabs(w[i] - (w0[i] - lr * gi / (std::fabs(gi) + o.eps))));
      }
      CHECK(worst < 1e-6);  // a step moves w by up to lr = 1e-2
    }
}

TEST_CASE("an update whose gradient norm is not finite changes nothing: the next step is a fresh backend's first") {
  // backend.h: update returns the norm and, where it is not finite, changes nothing (the trainer
  // then ends the run as diverged; the CUDA backend is checked against this one). A gradient scaled
  // by Inf (a finite loss) gives a non-finite norm: the parameters must stay as they were, and a
  // good step after it must be bitwise the first step of a backend that never saw the bad one
  // (moments still 0, AdamW's step count still 1), within ops (1 thread) and over rows (2).
  const GptConfig config = tiny(16, 6, 8, 1, 2);
  const auto tokens = random_tokens(2 * 7, 16, 21);
  for (int threads : {1, 2}) {
    INFO(threads << " threads");
    auto backend = train::make_cpu_backend(threads), fresh = train::make_cpu_backend(threads);
    backend->init(config, train::OptimizerOptions{}, 2, 3);
    fresh->init(config, train::OptimizerOptions{}, 2, 3);
    const std::vector<float> w0 = backend->parameters();
    CHECK(std::isfinite(backend->accumulate(tokens.data(), 2, 6, std::numeric_limits<float>::infinity())));
    CHECK_FALSE(std::isfinite(backend->update(1e-2)));
    CHECK(backend->parameters() == w0);
    backend->accumulate(tokens.data(), 2, 6, 1.0f);
    fresh->accumulate(tokens.data(), 2, 6, 1.0f);
    CHECK(backend->update(1e-2) == fresh->update(1e-2));
    CHECK(backend->parameters() == fresh->parameters());
  }
}

TEST_CASE("the learning rate warms up linearly and decays by cosine to 10% at the last step") {
  train::TrainConfig c;
  c.lr = 1e-3;
  c.warmup = 0.1;
  const int64_t steps = 100;
  // 10 warmup steps at 1/11 to 10/11 of the peak, the peak once (step 10, the decay's first), then
  // cosine to 10% at step 99: lr_min + (lr − lr_min)·(1 + cos(π·(s − 10)/89))/2.
  for (int64_t s = 0; s < 10; ++s) CHECK(train::learning_rate(c, s, steps) == Approx(1e-3 * (s + 1) / 11.0));
  CHECK(train::learning_rate(c, 10, steps) == Approx(1e-3));
  CHECK(train::learning_rate(c, 99, steps) == Approx(1e-4));
  for (int64_t s : {11, 40, 54, 77, 98})
    CHECK(train::learning_rate(c, s, steps) ==
          Approx(1e-4 + 9e-4 * 0.5 * (1 + std::cos(3.141592653589793 * double(s - 10) / 89.0))));
  for (int64_t s = 1; s < steps; ++s)
    if (s != 10) CHECK((train::learning_rate(c, s, steps) < train::learning_rate(c, s - 1, steps)) == (s > 10));
}

// min_lr_ratio sets the cosine's floor (train.h: "the cosine ends at min_lr_ratio·lr"): the tests
// above use the default 0.1 only, where a floor fixed at 10% passed them.
TEST_CASE("the cosine ends at min_lr_ratio of the peak\, whatever the ratio") {
  train::TrainConfig c;
  c.lr = 1e-3;
  c.warmup = 0.1;
  for (double ratio : {0.0, 0.5}) {
    INFO("min_lr_ratio " << ratio);
    c.min_lr_ratio = ratio;
    CHECK(train::learning_rate(c, 10, 100) == Approx(1e-3));
    CHECK(train::learning_rate(c, 99, 100) == Approx(ratio * 1e-3).margin(1e-15));
    for (int64_t s : {11, 54, 98})
      CHECK(train::learning_rate(c, s, 100) ==
            Approx(1e-3 * (ratio + (1 - ratio) * 0.5 * (1 + std::cos(3.141592653589793 * double(s - 10) / 89.0)))));
  }
}

// A warmup that would cover the whole run (or all but its last step) held the last step at the
// peak: the decay must still end at the floor.
TEST_CASE("a warmup as long as the run still ends the run at 10% of the peak") {
  train::TrainConfig c;
  c.lr = 1e-3;
  for (double warmup : {0.9, 0.95, 0.99})
    for (int64_t steps : {2, 3, 10, 20}) {
      INFO("warmup " << warmup << ", " << steps << " steps");
      c.warmup = warmup;
      CHECK(train::learning_rate(c, steps - 1, steps) == Approx(1e-4));
      CHECK(train::learning_rate(c, steps - 2, steps) == Approx(1e-3));  // the peak, once
      for (int64_t s = 1; s < steps - 1; ++s)
        CHECK(train::learning_rate(c, s, steps) > train::learning_rate(c, s - 1, steps));
    }
  // One step: the peak. The default warmup (1%) of a 50-step run is one step, at half the peak.
  c.warmup = 0.01;
  CHECK(train::learning_rate(c, 0, 1) == Approx(1e-3));
  CHECK(train::learning_rate(c, 0, 50) == Approx(5e-4));
  CHECK(train::learning_rate(c, 1, 50) == Approx(1e-3));
}

// ---- Training runs ------------------------------------------------------------------------------

namespace {
train::TrainConfig markov_run(MarkovSource& data, MarkovSource& held_out, GptConfig shape, int64_t steps) {
  train::TrainConfig c;
  c.model = shape;
  c.data = &data;
  c.eval_data = &held_out;
  c.steps = steps;
  c.lr = 3e-3;
  c.warmup = 0.05;
  c.seed = 17;
  c.threads = 1;  // speed is the benchmark's business; the determinism test uses 2
  c.eval_tokens = 32768;
  return c;
}

// A run of the tiny 16-token model on `data` (any sampler), on one thread; each test adds its length.
train::TrainConfig sampled_run(data::BatchSource& data) {
  train::TrainConfig c;
  c.model = tiny(16, 16, 16, 2, 2);
  c.data = &data;
  c.threads = 1;
  return c;
}

// A simulated run (no data) of a small model: vocab 256, 64 wide, steps of 8 rows of 64 tokens.
train::TrainConfig simulated_small(int64_t tokens) {
  train::TrainConfig c;
  c.model = tiny(256, 64, 64, 2, 2);
  c.backend = "simulated";
  c.batch = 8;
  c.seq_len = 64;
  c.tokens = tokens;
  return c;
}

// A simulated run of GPT-2 small's shape.
train::TrainConfig simulated_124m(double tokens, int64_t batch) {
  train::TrainConfig c;
  c.model = tiny(50257, 1024, 768, 12, 12);
  c.model.d_ff = 0;
  c.backend = "simulated";
  c.batch = batch;
  c.seq_len = 1024;
  c.tokens = static_cast<int64_t>(tokens);
  return c;
}
}  // namespace

TEST_CASE("a small model learns a Markov source to within a few percent of its entropy rate") {
  MarkovSource data(16, 32, 16, 100, 1), held_out(16, 32, 16, 100, 2);
  const double H = data.entropy_per_token();
  REQUIRE(H > 0.5);
  REQUIRE(H < std::log(16.0) - 0.5);
  train::TrainConfig c = markov_run(data, held_out, tiny(16, 32, 32, 2, 2), 400);
  const train::RunResult r = train::train(c);
  INFO(r.BriefReport() << "; entropy rate " << H);
  CHECK(r.status == train::RunStatus::Done);
  CHECK(r.curve.front().tokens == 0);
  CHECK(r.curve.front().eval_loss == Approx(std::log(16.0)).margin(0.05));
  CHECK(r.final_loss < 1.03 * H);
  CHECK(r.final_loss > 0.98 * H);
  CHECK(r.best_loss <= r.final_loss);
  CHECK(r.tokens == 400 * 16 * 32);
  CHECK(r.flops == Approx(r.tokens * c.model.flops_per_token()));
  CHECK(r.flops_palm > r.flops);
  CHECK(r.tokens_per_second > 0);
}

// Attention's FLOPs go with the rows trained on: a model of ctx 64 trained on rows of 16 tokens does
// a quarter of the attention products a row of 64 would (6N + 6·L·16·d per token, Kaplan), and its
// FLOP/s and MFU count those. They were counted at ctx whatever the rows.
TEST_CASE("a run on rows shorter than the model's ctx counts attention at the rows' length") {
  MarkovSource data(16, 16, 4, 100, 1), held_out(16, 16, 4, 100, 2);
  train::TrainConfig c = markov_run(data, held_out, tiny(16, 64, 32, 2, 2), 3);
  c.eval_tokens = 640;
  const train::RunResult r = train::train(c);
  REQUIRE(r.status == train::RunStatus::Done);
  const double N = static_cast<double>(c.model.non_embedding_params());
  CHECK(r.flops == Approx(r.tokens * (6 * N + 6.0 * 2 * 16 * 32)).epsilon(1e-12));
  CHECK(r.flops_palm == Approx(r.tokens * (6 * N + 12.0 * 2 * 16 * 32)).epsilon(1e-12));
  CHECK(r.flops_per_second == Approx(r.tokens_per_second * (6 * N + 6.0 * 2 * 16 * 32)).epsilon(1e-12));
  CHECK(r.flops < r.tokens * c.model.flops_per_token());
}

// The result's counts against a hand count of tiny(16, 64, 32, 2, 2) (d = 32, d_ff = 12, L = 2, V = 16,
// ctx = 64): a block has 4d² + 2·d·d_ff + 9d + d_ff = 4096 + 768 + 288 + 12 = 5164 parameters, so
// N non-embedding = 2·5164 + 2d (the final LayerNorm) = 10392, and N = 10392 + V·d + ctx·d = 10392 +
// 512 + 2048 = 12952; D = 3 steps of 16 rows of 16 tokens = 768. Its speed is D over the seconds of
// its training steps, not over the run's wall time (which adds the evaluations: here 4 of 40
// batches each, far more than 3 steps' work).
TEST_CASE("a run's result counts N both ways and D by hand\, and its speed over its training seconds") {
  MarkovSource data(16, 16, 16, 100, 1), held_out(16, 16, 16, 100, 2);
  train::TrainConfig c = markov_run(data, held_out, tiny(16, 64, 32, 2, 2), 3);
  c.eval_tokens = 40 * 16 * 16;
  const train::RunResult r = train::train(c);
  REQUIRE(r.status == train::RunStatus::Done);
  CHECK(r.non_embedding_params == 10392);
  CHECK(r.params == 12952);
  CHECK(r.tokens == 768);
  CHECK(r.steps == 3);
  REQUIRE(r.train_seconds > 0);
  CHECK(r.train_seconds < r.wall_seconds);
  CHECK(r.tokens_per_second == Approx(768 / r.train_seconds).epsilon(1e-12));
  CHECK(r.flops_per_second == Approx(r.flops / r.train_seconds).epsilon(1e-12));
}

// train.h: a curve point's train_loss is the mean training loss since the previous point (the first
// point, at 0 tokens, the first batch's), and final_train_loss the mean over the last interval. The
// steps' own losses come from progress, one per step; the means are taken here.
TEST_CASE("each curve point's training loss is the mean of its steps' losses\, and the final one the last point's") {
  MarkovSource data(16, 16, 8, 5, 1), held_out(16, 16, 8, 5, 2);
  train::TrainConfig c = markov_run(data, held_out, tiny(16, 16, 16, 2, 2), 8);
  c.eval_interval = 4 * 8 * 16;  // points at steps 0, 4 and 8
  c.eval_tokens = 128;
  std::vector<double> losses;
  c.progress = [&](const train::Progress& p) { losses.push_back(p.train_loss); };
  const train::RunResult r = train::train(c);
  REQUIRE(losses.size() == 8);
  REQUIRE(r.curve.size() == 3);
  CHECK(r.curve[0].train_loss == losses[0]);
  CHECK(r.curve[1].train_loss == Approx((losses[0] + losses[1] + losses[2] + losses[3]) / 4).epsilon(1e-12));
  CHECK(r.curve[2].train_loss == Approx((losses[4] + losses[5] + losses[6] + losses[7]) / 4).epsilon(1e-12));
  CHECK(r.final_train_loss == r.curve[2].train_loss);
  CHECK(r.final_train_loss != Approx(losses[7]).epsilon(1e-6));  // the last step's alone differs: the check can fail
}

TEST_CASE("a larger model reaches a lower held-out loss than a smaller one on the same data") {
  auto run = [](GptConfig shape) {
    MarkovSource data(64, 32, 16, 200, 1, 2.0), held_out(64, 32, 16, 200, 2, 2.0);
    train::TrainConfig c = markov_run(data, held_out, shape, 250);
    return train::train(c).final_loss;
  };
  const double small = run(tiny(64, 32, 8, 1, 1)), large = run(tiny(64, 32, 48, 2, 2));
  INFO("small " << small << ", large " << large);
  CHECK(large < small - 0.05);
}

namespace {
std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
// A checkpoint's bytes without the run's seconds so far (wall, train, steps timed: the clock's), the
// 24 bytes before its last field (the thread count).
// (The checkpoint ends with the run's wall and training seconds, its timed steps, its thread count and
// the held-out source's state, a length and its bytes: the two clocks are cut out.)
std::string without_clock(const std::string& checkpoint) {
  size_t tail = 0;  // the held-out state's bytes with their length
  for (uint64_t length = 0; length + 8 <= checkpoint.size() && length < 4096; ++length) {
    uint64_t stored = 0;
    std::memcpy(&stored, checkpoint.data() + checkpoint.size() - length - 8, 8);
    if (stored == length) {
      tail = length + 8;
      break;
    }
  }
  const size_t end = checkpoint.size() - tail;
  return checkpoint.substr(0, end - 32) + checkpoint.substr(end - 8);
}
}  // namespace

TEST_CASE("runs are deterministic and resume bitwise from a checkpoint") {
  const std::string dir = std::string(SCALELAB_BINARY) + ".train-test-";
  const std::string full = dir + "full.ckpt", part = dir + "part.ckpt";
  std::remove(full.c_str());
  std::remove(part.c_str());
  auto config = [&](MarkovSource& d, MarkovSource& h, int threads, const std::string& path) {
    train::TrainConfig c = markov_run(d, h, tiny(16, 16, 16, 2, 2), 30);
    c.batch = 32;  // two micro-batches per step: gradient accumulation
    c.threads = threads;
    c.eval_interval = 16 * 32 * 4;
    c.eval_tokens = 2048;
    c.checkpoint = path;
    return c;
  };
  MarkovSource d1(16, 16, 16, 5, 1), h1(16, 16, 16, 5, 2);
  const train::RunResult a = train::train(config(d1, h1, 2, full));
  MarkovSource d2(16, 16, 16, 5, 1), h2(16, 16, 16, 5, 2);
  const train::RunResult b = train::train(config(d2, h2, 2, ""));
  REQUIRE(a.curve.size() == b.curve.size());
  for (size_t i = 0; i < a.curve.size(); ++i) {
    CHECK(a.curve[i].train_loss == b.curve[i].train_loss);
    CHECK(a.curve[i].eval_loss == b.curve[i].eval_loss);
  }
  // Another thread count splits the matrix products differently (OpenBLAS's edge kernels round
  // differently), so only the same thread count is bitwise identical; the difference is rounding.
  MarkovSource d6(16, 16, 16, 5, 1), h6(16, 16, 16, 5, 2);
  const train::RunResult one = train::train(config(d6, h6, 1, ""));
  REQUIRE(one.curve.size() == a.curve.size());
  for (size_t i = 0; i < a.curve.size(); ++i) CHECK(one.curve[i].eval_loss == Approx(a.curve[i].eval_loss).epsilon(1e-5));
  // Interrupt at step 13, then resume with fresh sources: the same bits as the uninterrupted run.
  MarkovSource d3(16, 16, 16, 5, 1), h3(16, 16, 16, 5, 2);
  train::TrainConfig c3 = config(d3, h3, 2, part);
  c3.progress = [](const train::Progress& p) {
    if (p.step == 13) request_interrupt();
  };
  const train::RunResult interrupted = train::train(c3);
  CHECK(interrupted.status == train::RunStatus::Interrupted);
  CHECK(interrupted.steps == 13);
  CHECK(interrupted.curve.back().tokens == 13 * 32 * 16);  // evaluated where it stopped
  CHECK(std::isfinite(interrupted.final_loss));
  MarkovSource d4(16, 16, 16, 5, 1), h4(16, 16, 16, 5, 2);
  const train::RunResult resumed = train::train(config(d4, h4, 2, part));
  CHECK(resumed.status == train::RunStatus::Done);
  REQUIRE(resumed.curve.size() == a.curve.size());
  for (size_t i = 0; i < a.curve.size(); ++i) {
    CHECK(resumed.curve[i].train_loss == a.curve[i].train_loss);
    CHECK(resumed.curve[i].eval_loss == a.curve[i].eval_loss);
  }
  const std::string fa = read_bytes(full), fb = read_bytes(part);
  CHECK(fa.size() > 1000);
  // Parameters, AdamW moments, sampler position, curve, thread count: all identical; only the run's
  // seconds so far are the clock's.
  CHECK(without_clock(fa) == without_clock(fb));
  // A checkpoint of another run is refused with a clear message.
  MarkovSource d5(16, 16, 16, 5, 1), h5(16, 16, 16, 5, 2);
  train::TrainConfig other = config(d5, h5, 2, part);
  other.lr = 1e-2;
  // The message names what differs, not the two whole descriptions of the runs.
  CHECK_THROWS_WITH(train::train(other), Catch::Contains("belongs to another run: it was made with lr 0.003 warmup") &&
                                             Catch::Contains(", this run has lr 0.01 warmup") &&
                                             !Catch::Contains("adamw") && !Catch::Contains("seed"));
  // So is one whose held-out loss is measured on other tokens (the curve and the best loss would
  // mix two measures), and one whose lr differs in the 10th digit. Evaluating more often changes
  // neither the run nor its measure: it resumes.
  for (int change = 0; change < 2; ++change) {
    MarkovSource d7(16, 16, 16, 5, 1), h7(16, 16, 16, 5, 2);
    train::TrainConfig c7 = config(d7, h7, 2, part);
    if (change == 0) c7.eval_tokens = 4096;
    else c7.lr *= 1 + 1e-9;
    CHECK_THROWS_WITH(train::train(c7), Catch::Contains("belongs to another run: it was made with ") &&
                                            Catch::Contains(change == 0 ? "held-out 8 x 16 x 16, this run has held-out 16 x 16 x 16"
                                                                        : "lr 0.003 warmup 0.05 min 0.1, this run has lr 0.0030000000030000005 warmup") &&
                                            !Catch::Contains("adamw"));
    // The held-out measure alone: what it is and the eval_tokens that resumes the checkpoint.
    if (change == 0)
      CHECK_THROWS_WITH(train::train(c7), Catch::Contains("(the held-out measure: each evaluation's batches x rows x "
                                                          "tokens, and the rows it weighs of a split read whole): give "
                                                          "eval_tokens = 2048 (8 batches) to resume it; delete it"));
    else
      CHECK_THROWS_WITH(train::train(c7), !Catch::Contains("held-out measure"));
  }
  MarkovSource d8(16, 16, 16, 5, 1), h8(16, 16, 16, 5, 2);
  train::TrainConfig c8 = config(d8, h8, 2, part);
  c8.eval_interval = 16 * 32;
  CHECK(train::train(c8).status == train::RunStatus::Done);
  // A checkpoint written before the held-out measure was in the fingerprint (six significant
  // digits, ending at the seed) still resumes.
  {
    std::string bytes = read_bytes(part);
    uint64_t magic_size = 0, print_size = 0;
    std::memcpy(&magic_size, bytes.data(), 8);
    const size_t at = 8 + magic_size;
    std::memcpy(&print_size, bytes.data() + at, 8);
    const std::string print = bytes.substr(at + 8, print_size);
    const size_t cut = print.find("; held-out ");
    REQUIRE(cut != std::string::npos);
    const std::string legacy = print.substr(0, cut);
    CHECK_THAT(legacy, Catch::EndsWith("; lr 0.003 warmup 0.05 min 0.1; adamw 0.9 0.95 1e-08 wd 0.1 clip 1; seed 17"));
    const uint64_t legacy_size = legacy.size();
    bytes.replace(at, 8 + print_size, std::string(reinterpret_cast<const char*>(&legacy_size), 8) + legacy);
    std::ofstream(part, std::ios::binary) << bytes;
    MarkovSource d9(16, 16, 16, 5, 1), h9(16, 16, 16, 5, 2);
    const train::RunResult legacy_resumed = train::train(config(d9, h9, 2, part));
    CHECK(legacy_resumed.status == train::RunStatus::Done);
    CHECK(legacy_resumed.final_loss == a.final_loss);
  }
  std::remove(full.c_str());
  std::remove(part.c_str());
}

TEST_CASE("a batch made of two accumulated micro-batches takes the same step as one big batch") {
  auto after_one_step = [](int64_t micro, int64_t batch) {
    MarkovSource data(16, 16, micro, 5, 1), held_out(16, 16, 16, 5, 2);
    train::TrainConfig c = markov_run(data, held_out, tiny(16, 16, 16, 2, 2), 1);
    c.batch = batch;
    c.eval_tokens = 4096;
    c.lr = 1e-2;
    const train::RunResult r = train::train(c);
    REQUIRE(r.curve.size() == 2);
    return std::make_pair(r.curve[0].train_loss, r.curve[1].eval_loss);
  };
  const auto accumulated = after_one_step(16, 32), whole = after_one_step(32, 32);
  CHECK(accumulated.first == Approx(whole.first).epsilon(1e-6));    // the same 32 rows
  CHECK(accumulated.second == Approx(whole.second).epsilon(1e-5));  // the same update
  const auto half = after_one_step(16, 16);
  CHECK(half.second != Approx(whole.second).epsilon(1e-5));         // and the check can fail
}

// micro_batch splits each of the sampler's batches into passes of fewer rows: the same rows, the
// same step as the whole batch (to rounding), and the same held-out loss measured in passes.
TEST_CASE("a sampler's batch split into micro-batches takes the same steps as the whole batch") {
  auto run = [](int64_t micro_batch, int64_t batch) {
    MarkovSource data(16, 16, 16, 5, 1), held_out(16, 16, 16, 5, 2);
    train::TrainConfig c = markov_run(data, held_out, tiny(16, 16, 16, 2, 2), 4);
    c.batch = batch;
    c.micro_batch = micro_batch;
    c.eval_tokens = 4096;
    c.eval_interval = 16 * 16;
    c.lr = 1e-2;
    return train::train(c);
  };
  const train::RunResult whole = run(0, 32), split = run(4, 32);
  CHECK(whole.micro_batch == 16);
  CHECK(split.micro_batch == 4);
  CHECK_FALSE(split.split_for_memory);
  REQUIRE(split.curve.size() == whole.curve.size());
  CHECK(split.curve[0].eval_loss == Approx(whole.curve[0].eval_loss).epsilon(1e-6));  // the initial parameters
  for (size_t i = 0; i < whole.curve.size(); ++i) {
    INFO("point " << i);
    CHECK(split.curve[i].train_loss == Approx(whole.curve[i].train_loss).epsilon(1e-5));
    CHECK(split.curve[i].eval_loss == Approx(whole.curve[i].eval_loss).epsilon(1e-5));
  }
  CHECK(run(0, 16).final_loss != Approx(whole.final_loss).epsilon(1e-5));  // and the check can fail
  CHECK_THROWS_WITH(run(3, 32), Catch::Contains("micro_batch = 3 rows must divide the sampler's batch of 16 rows"));
  // Passes of other rows round otherwise: a checkpoint resumes only in the passes it was written in
  // (the default ones can differ between machines, with their memory).
  const std::string path = std::string(SCALELAB_BINARY) + ".train-test-micro.ckpt";
  std::remove(path.c_str());
  auto checkpointed = [&](int64_t micro_batch) {
    MarkovSource data(16, 16, 16, 5, 1), held_out(16, 16, 16, 5, 2);
    train::TrainConfig c = markov_run(data, held_out, tiny(16, 16, 16, 2, 2), 4);
    c.micro_batch = micro_batch;
    c.eval_tokens = 4096;
    c.checkpoint = path;
    return train::train(c);
  };
  // The refusal says what differs and the micro_batch that resumes it (it said "it was made with
  // passes of 4 and 4 rows, this run has nothing in their place", and no fix).
  REQUIRE(checkpointed(4).status == train::RunStatus::Done);
  CHECK_THROWS_WITH(checkpointed(0), Catch::Contains("belongs to another run: it was made with passes of 4 and 4 rows, "
                                                     "which this run has not (the rows of each forward and backward "
                                                     "pass, which round the sums otherwise): give micro_batch = 4 to "
                                                     "resume it; delete it"));
  CHECK(checkpointed(4).status == train::RunStatus::Done);
  std::remove(path.c_str());
  REQUIRE(checkpointed(0).status == train::RunStatus::Done);
  CHECK_THROWS_WITH(checkpointed(8), Catch::Contains("belongs to another run: this run has passes of 8 and 8 rows, "
                                                     "which it was made without (the rows of each forward and backward "
                                                     "pass, which round the sums otherwise): it was made in whole "
                                                     "batches; give micro_batch = the sampler's batch to resume it"));
  std::remove(path.c_str());
  CHECK_THROWS_WITH(run(-1, 32), Catch::Contains("micro_batch must be >= 1"));
}

// The rows per pass the cpu backend's memory holds: with room for 3 rows of activations, a batch of
// 8 goes in passes of 2 (the largest divisor that fits) and so do evaluations of 8 rows; a given
// micro_batch is kept, evaluations in passes of at most as many rows.
TEST_CASE("micro-batches are chosen to fit the memory available") {
  const GptConfig m = tiny(256, 64, 64, 2, 2);
  double activations = 0;
  const double room = train::cpu_backend_bytes(m, 3, &activations);
  CHECK(train::cpu_backend_bytes(m, 4, &activations) > room);
  train::MicroBatches p = train::plan_micro_batches(m, 8, 8, 0, room);
  CHECK(p.train == 2);
  CHECK(p.eval == 2);
  CHECK(p.split_for_memory);
  p = train::plan_micro_batches(m, 9, 6, 0, room);  // 9 = 3 × 3: passes of 3; evaluations of 6 in 3 too
  CHECK(p.train == 3);
  CHECK(p.eval == 3);
  p = train::plan_micro_batches(m, 2, 8, 0, room);  // training fits whole, evaluations go in passes of 2
  CHECK(p.train == 2);
  CHECK(p.eval == 2);
  CHECK_FALSE(p.split_for_memory);  // the summary says so of training only
  p = train::plan_micro_batches(m, 8, 8, 0, 0);  // unknown memory (or another backend): the whole batches
  CHECK(p.train == 8);
  CHECK(p.eval == 8);
  CHECK_FALSE(p.split_for_memory);
  p = train::plan_micro_batches(m, 8, 6, 4, 0);
  CHECK(p.train == 4);
  CHECK(p.eval == 3);
  CHECK_FALSE(p.split_for_memory);
  CHECK_THROWS_WITH(train::plan_micro_batches(m, 8, 8, 8, room),
                    Catch::Contains("for 8 rows of 64 tokens") && Catch::Contains("give a smaller micro_batch"));
  CHECK_THROWS_WITH(train::plan_micro_batches(m, 8, 8, 0, train::cpu_backend_bytes(m, 1, &activations) - 1),
                    Catch::Contains("for 1 row of 64 tokens") && Catch::Contains("smaller model"));
}

TEST_CASE("backward with overwrite stores what zero_grad then backward would, whatever grads held") {
  // 2 layers; sequences of 6 in a context of 8, so that the last rows of Wpe get no gradient and
  // must come out as zeros, not as what grads held.
  const GptConfig config = tiny(11, 8, 16, 2, 2);
  CpuGpt overwritten(config, 3, 1), reference(config, 3, 1);
  overwritten.init(5);
  reference.init(5);
  const auto tokens = random_tokens(3 * 7, 11, 6);
  std::fill(overwritten.grads(), overwritten.grads() + overwritten.num_params(), std::nanf(""));
  overwritten.forward(tokens.data(), 3, 6);
  overwritten.backward(0.5f, true);
  reference.zero_grad();
  reference.forward(tokens.data(), 3, 6);
  reference.backward(0.5f, false);
  int64_t differ = 0;
  for (int64_t i = 0; i < reference.num_params(); ++i)
    differ += !(overwritten.grads()[i] == reference.grads()[i]);  // a NaN left over differs
  CHECK(differ == 0);
}

TEST_CASE("a replica that took no rows adds nothing stale to the next update") {
  // Two steps: a batch of 4 rows (both replicas take 2), then a batch of 1 (the second replica
  // takes none, and still holds the first step's gradients). One replica on one thread is the
  // reference: the parameters must agree to rounding.
  auto after_two_steps = [](int threads) {
    auto backend = train::make_cpu_backend(threads);
    backend->init(tiny(16, 6, 8, 1, 2), train::OptimizerOptions{}, 4, 1);
    const auto four = random_tokens(4 * 7, 16, 8), one = random_tokens(7, 16, 9);
    backend->accumulate(four.data(), 4, 6, 1.0f);
    backend->update(1e-2);
    backend->accumulate(one.data(), 1, 6, 1.0f);
    backend->update(1e-2);
    return backend->parameters();
  };
  const auto two = after_two_steps(2), one = after_two_steps(1);
  REQUIRE(two.size() == one.size());
  double worst = 0;
  for (size_t i = 0; i < one.size(); ++i) worst = std::max(worst, std::fabs(double(two[i]) - one[i]));
  CHECK(worst < 1e-5);
}

TEST_CASE("bad token ids in both replicas' rows give one clear error, the first replica's") {
  // The message is checked here; the race this guards against (both threads writing one error
  // string) shows only under a race detector such as ThreadSanitizer.
  auto backend = train::make_cpu_backend(2);
  backend->init(tiny(16, 6, 8, 1, 2), train::OptimizerOptions{}, 4, 1);
  std::vector<int32_t> tokens(4 * 7, 3);
  tokens[0 * 7 + 2] = 99;  // row 0: the first replica's
  tokens[3 * 7 + 5] = 77;  // row 3: the second replica's
  for (int attempt = 0; attempt < 20; ++attempt)  // both threads fail at once, every time
    CHECK_THROWS_WITH(backend->accumulate(tokens.data(), 4, 6, 1.0f),
                      Catch::Contains("token id 99") && Catch::Contains("outside the vocabulary [0, 16)"));
  tokens[0 * 7 + 2] = 3;
  CHECK_THROWS_WITH(backend->accumulate(tokens.data(), 4, 6, 1.0f), Catch::Contains("token id 77"));
  tokens[3 * 7 + 5] = 3;
  CHECK(std::isfinite(backend->accumulate(tokens.data(), 4, 6, 1.0f)));  // and it still trains
}

TEST_CASE("several steps of accumulated micro-batches match whole batches, on 1 and 2 threads") {
  // Each step's first micro-batch overwrites the gradients that the last update left (nothing zeroes
  // them): a stale gradient leaking into a later step would move these curves apart.
  auto curve = [](int64_t micro, int threads) {
    MarkovSource data(16, 16, micro, 5, 1), held_out(16, 16, 16, 5, 2);
    train::TrainConfig c = markov_run(data, held_out, tiny(16, 16, 16, 2, 2), 5);
    c.batch = 32;
    c.eval_tokens = 4096;
    c.eval_interval = 32 * 16;  // every step
    c.lr = 1e-2;
    c.threads = threads;
    const train::RunResult r = train::train(c);
    REQUIRE(r.curve.size() == 6);
    std::vector<double> losses;
    for (const auto& point : r.curve) losses.push_back(point.eval_loss);
    return losses;
  };
  for (int threads : {1, 2}) {
    const auto accumulated = curve(16, threads), whole = curve(32, threads);
    for (size_t i = 0; i < whole.size(); ++i) {
      INFO(threads << " threads, point " << i);
      CHECK(accumulated[i] == Approx(whole[i]).epsilon(1e-5));
    }
  }
}

namespace {
// The cpu backend under another name, recording the learning rate of every update and the gradient
// norm it returned, and reporting `peak` as its device's peak FLOP/s (a global: the registry keeps
// the factory for the whole program).
struct Recorded {
  std::vector<double> lrs, norms;
  double peak = 0;
};
Recorded recorded;

class RecordingBackend final : public train::Backend {
 public:
  explicit RecordingBackend(int threads) : inner_(train::make_cpu_backend(threads)) {}
  std::string name() const override { return "test-recording"; }
  std::string device() const override { return inner_->device(); }
  double peak_flops() const override { return recorded.peak; }
  void init(const GptConfig& c, const train::OptimizerOptions& o, int64_t b, uint64_t seed) override {
    inner_->init(c, o, b, seed);
  }
  double accumulate(const int32_t* t, int64_t B, int64_t T, float s) override { return inner_->accumulate(t, B, T, s); }
  double update(double lr) override {
    const double norm = inner_->update(lr);
    recorded.lrs.push_back(lr);
    recorded.norms.push_back(norm);
    return norm;
  }
  double evaluate(const int32_t* t, int64_t B, int64_t T) override { return inner_->evaluate(t, B, T); }
  int rounding_threads() const override { return inner_->rounding_threads(); }
  std::string save() const override { return inner_->save(); }
  void load(const std::string& state) override { inner_->load(state); }
  std::vector<float> parameters() const override { return inner_->parameters(); }

 private:
  std::unique_ptr<train::Backend> inner_;
};

// Registers the recording backend and forgets what it recorded.
void use_recording_backend(train::TrainConfig& c) {
  train::register_backend("test-recording", [](int threads, const train::LossLaw&) {
    return std::make_unique<RecordingBackend>(threads);
  });
  recorded = {};
  c.backend = "test-recording";
}
}  // namespace

TEST_CASE("the trainer steps at the schedule's learning rate of each step\, counted from 0\, and a resumed run goes on with it") {
  // 10 steps, warmup 0.2: two warmup steps at lr/3 and 2·lr/3, the peak at step 2, then the cosine
  // to 10% of the peak at step 9, written out here: lr·(0.1 + 0.9·(1 + cos(π·(s − 2)/7))/2).
  const double lr = 3e-3;
  auto expected = [&](int64_t s) {
    return s < 2 ? lr * double(s + 1) / 3 : lr * (0.1 + 0.9 * 0.5 * (1 + std::cos(3.141592653589793 * double(s - 2) / 7)));
  };
  const std::string path = std::string(SCALELAB_BINARY) + ".train-test-schedule.ckpt";
  std::remove(path.c_str());
  auto config = [&](MarkovSource& data, MarkovSource& held_out, const std::string& checkpoint) {
    train::TrainConfig c = markov_run(data, held_out, tiny(16, 16, 16, 2, 2), 10);
    c.lr = lr;
    c.warmup = 0.2;
    c.eval_tokens = 256;
    c.checkpoint = checkpoint;
    use_recording_backend(c);
    return c;
  };
  MarkovSource d1(16, 16, 8, 5, 1), h1(16, 16, 8, 5, 2);
  REQUIRE(train::train(config(d1, h1, "")).status == train::RunStatus::Done);
  REQUIRE(recorded.lrs.size() == 10);
  for (int64_t s = 0; s < 10; ++s) {
    INFO("step " << s);
    CHECK(recorded.lrs[s] == Approx(expected(s)).epsilon(1e-12));
  }
  // Stopped after 4 steps and resumed: the resumed session's 6 updates are steps 4 to 9's.
  MarkovSource d2(16, 16, 8, 5, 1), h2(16, 16, 8, 5, 2);
  train::TrainConfig c = config(d2, h2, path);
  c.progress = [](const train::Progress& p) {
    if (p.step == 4) request_interrupt();
  };
  REQUIRE(train::train(c).status == train::RunStatus::Interrupted);
  CHECK(recorded.lrs.size() == 4);
  MarkovSource d3(16, 16, 8, 5, 1), h3(16, 16, 8, 5, 2);
  REQUIRE(train::train(config(d3, h3, path)).status == train::RunStatus::Done);
  std::remove(path.c_str());
  REQUIRE(recorded.lrs.size() == 6);
  for (int64_t s = 4; s < 10; ++s) {
    INFO("resumed, step " << s);
    CHECK(recorded.lrs[s - 4] == Approx(expected(s)).epsilon(1e-12));
  }
}

TEST_CASE("a step's gradient is the mean loss's over all its rows however the batch is split: its norm is one pass's") {
  // The reference: a CpuGpt initialised as the run's (seed 17) takes the step's 32 rows in one
  // pass; its gradient's norm √Σg² is summed in double here. The trainer's first update must report
  // that norm whether the 32 rows come as two of the source's batches of 16 (accumulated), as one
  // batch of 32 in passes of 8, or in two batches in passes of 4, on one thread or over rows on two.
  // Summing the passes' gradients instead of averaging them doubles it or more (and AdamW, nearly
  // blind to the gradient's scale, hides that from the losses until clipping or eps see it).
  const GptConfig shape = tiny(16, 16, 16, 2, 2);
  MarkovSource rows_source(16, 16, 16, 5, 1);
  std::vector<int32_t> rows, more;
  rows_source.next_batch(rows);
  rows_source.next_batch(more);
  rows.insert(rows.end(), more.begin(), more.end());
  CpuGpt reference(shape, 32, 1);
  reference.init(17);
  const double loss = reference.forward(rows.data(), 32, 16);
  reference.backward(1.0f, true);
  double squares = 0;
  for (int64_t i = 0; i < reference.num_params(); ++i) squares += double(reference.grads()[i]) * reference.grads()[i];
  const double norm = std::sqrt(squares);
  struct Split {
    int64_t source_rows, micro_batch;
    int threads;
  };
  for (const Split& split : {Split{16, 0, 1}, Split{16, 0, 2}, Split{32, 8, 1}, Split{32, 8, 2}, Split{16, 4, 2}}) {
    INFO("batches of " << split.source_rows << " rows, micro_batch " << split.micro_batch << ", " << split.threads
                       << " threads");
    MarkovSource data(16, 16, split.source_rows, 5, 1), held_out(16, 16, 16, 5, 2);
    train::TrainConfig c = markov_run(data, held_out, shape, 1);
    c.batch = 32;
    c.micro_batch = split.micro_batch;
    c.threads = split.threads;
    c.eval_tokens = 256;
    use_recording_backend(c);
    const train::RunResult r = train::train(c);
    REQUIRE(r.status == train::RunStatus::Done);
    REQUIRE(recorded.norms.size() == 1);
    CHECK(recorded.norms[0] == Approx(norm).epsilon(1e-5));
    CHECK(r.curve[0].train_loss == Approx(loss).epsilon(1e-6));  // the first step's loss: the mean over the 32 rows
  }
}

// MFU counts the FLOPs the hardware does per token, 6(N + V·d) + 12·L·T·d (the logits, and the full
// T×T attention products at the rows' length T), not Kaplan's 6N + 6·L·T·d, and divides by the
// backend's peak. Only the CUDA backend reports a peak, so the cpu backend is given one here. By hand
// for tiny(16, 64, 32, 2, 2) on rows of 16 tokens: N non-embedding = 10392 (see the counts test
// above), 6·(10392 + 16·32) + 12·2·16·32 = 65424 + 12288 = 77712 FLOPs per token.
TEST_CASE("MFU is tokens/s times the hardware FLOPs per token at the rows' length over the backend's peak") {
  MarkovSource data(16, 16, 16, 100, 1), held_out(16, 16, 16, 100, 2);
  train::TrainConfig c = markov_run(data, held_out, tiny(16, 64, 32, 2, 2), 3);
  c.eval_tokens = 256;
  use_recording_backend(c);
  recorded.peak = 1e9;
  const train::RunResult r = train::train(c);
  REQUIRE(r.status == train::RunStatus::Done);
  REQUIRE(r.tokens_per_second > 0);
  CHECK(r.mfu == Approx(r.tokens_per_second * 77712 / 1e9).epsilon(1e-12));
}

TEST_CASE("a NaN ends the run with status diverged, never a crash") {
  MarkovSource data(16, 16, 8, 5, 1), held_out(16, 16, 8, 5, 2);
  train::TrainConfig c = markov_run(data, held_out, tiny(16, 16, 16, 2, 2), 50);
  c.lr = 1e30;
  c.optimizer.clip = 0;
  c.optimizer.weight_decay = 0;  // lr·weight_decay ≥ 1 is refused: the decay would zero the weights
  const train::RunResult r = train::train(c);
  INFO(r.BriefReport());
  CHECK(r.status == train::RunStatus::Diverged);
  CHECK(r.steps < 50);
  CHECK(r.BriefReport().find("diverged") == 0);
}

namespace {
// A backend that computes nothing and does what the test scripts: a training loss of 2 (bad_loss
// from the bad_accumulate-th accumulate on), a bad gradient norm (NaN or Inf) from the
// bad_update-th update on, a held-out loss of 2.5 (eval_losses[k - 1] at the k-th evaluate, where
// given; the last one after them), NaN from the bad_evaluation-th evaluate on (0: never). The
// registry keeps its factory for the whole program, so the script is a global each test sets, not a
// test's locals.
struct StubScript {
  int64_t bad_accumulate = 0;
  double bad_loss = std::numeric_limits<double>::infinity();
  int64_t bad_update = 0;
  double bad_norm = std::numeric_limits<double>::quiet_NaN();
  int64_t bad_evaluation = 0;
  std::vector<double> eval_losses;
  int64_t accumulates = 0, updates = 0, evaluations = 0;  // calls made
};
StubScript stub_script;

class StubBackend final : public train::Backend {
 public:
  std::string name() const override { return "test-stub"; }
  std::string device() const override { return "nothing"; }
  void init(const GptConfig&, const train::OptimizerOptions&, int64_t, uint64_t) override {}
  double accumulate(const int32_t*, int64_t, int64_t, float) override {
    ++stub_script.accumulates;
    const bool bad = stub_script.bad_accumulate > 0 && stub_script.accumulates >= stub_script.bad_accumulate;
    return bad ? stub_script.bad_loss : 2.0;
  }
  double update(double) override {
    ++stub_script.updates;
    const bool bad = stub_script.bad_update > 0 && stub_script.updates >= stub_script.bad_update;
    return bad ? stub_script.bad_norm : 1.0;
  }
  double evaluate(const int32_t*, int64_t, int64_t) override {
    ++stub_script.evaluations;
    const bool bad = stub_script.bad_evaluation > 0 && stub_script.evaluations >= stub_script.bad_evaluation;
    const std::vector<double>& losses = stub_script.eval_losses;
    const double loss = losses.empty() ? 2.5 : losses[std::min<size_t>(stub_script.evaluations, losses.size()) - 1];
    return bad ? std::numeric_limits<double>::quiet_NaN() : loss;
  }
  std::string save() const override { return "stub"; }
  void load(const std::string&) override {}
  std::vector<float> parameters() const override { return {}; }
};

// 10 steps of 8 rows × 16 tokens on the stub, evaluated every 2 steps on one held-out batch (so
// evaluate calls count evaluations: the first at step 0, then at steps 2, 4, ...).
train::TrainConfig stub_run(MarkovSource& data, MarkovSource& held_out, const StubScript& script) {
  train::register_backend("test-stub", [](int, const train::LossLaw&) { return std::make_unique<StubBackend>(); });
  stub_script = script;
  train::TrainConfig c;
  c.model = tiny(16, 16, 16, 2, 2);
  c.data = &data;
  c.eval_data = &held_out;
  c.backend = "test-stub";
  c.steps = 10;
  c.eval_interval = 2 * 8 * 16;
  c.eval_tokens = 8 * 16;
  return c;
}
}  // namespace

TEST_CASE("a NaN or Inf gradient norm with a finite loss ends the run as diverged naming the gradient norm") {
  // The training loss stays finite (the first check of a step passes), so only the check on
  // update's norm can stop the run: at the third step, with two steps taken and nothing after.
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    MarkovSource data(16, 16, 8, 5, 1), held_out(16, 16, 8, 5, 2);
    StubScript script;
    script.bad_update = 3;
    script.bad_norm = bad;
    const train::RunResult r = train::train(stub_run(data, held_out, script));
    INFO(r.BriefReport());
    CHECK(r.status == train::RunStatus::Diverged);
    CHECK_THAT(r.message, Catch::Contains("the gradient norm became"));
    CHECK_THAT(r.message, Catch::Contains(str("became ", std::isnan(bad) ? "nan" : "inf", " at step 3")));
    CHECK(r.BriefReport().find("diverged") == 0);
    CHECK(r.steps == 2);
    CHECK(r.tokens == 2 * 8 * 16);
    CHECK(stub_script.accumulates == 3);
    CHECK(stub_script.updates == 3);
    CHECK(stub_script.evaluations == 2);  // at steps 0 and 2, none after the bad step
  }
}

namespace {
// The stub's run whose k-th evaluation (1: the initial parameters') gives NaN.
train::RunResult run_to_bad_evaluation(int k) {
  MarkovSource data(16, 16, 8, 5, 1), held_out(16, 16, 8, 5, 2);
  StubScript script;
  script.bad_evaluation = k;
  return train::train(stub_run(data, held_out, script));
}
}  // namespace

TEST_CASE("a held-out loss that becomes NaN after the first evaluation ends the run as diverged at that evaluation") {
  // train.h: NaN/Inf ends the run with status Diverged. The held-out loss at step 0 is finite, the
  // next evaluation's (at step 2) NaN while training stays finite: the run stops there, the NaN
  // point on its curve, the best loss the finite one, and no further step.
  const train::RunResult r = run_to_bad_evaluation(2);
  INFO(r.BriefReport());
  CHECK(r.status == train::RunStatus::Diverged);
  CHECK_THAT(r.message, Catch::Contains("the held-out loss became nan at step 2"));
  CHECK(r.steps == 2);
  CHECK(stub_script.updates == 2);
  CHECK(stub_script.evaluations == 2);
  REQUIRE(r.curve.size() == 2);
  CHECK(r.curve[0].eval_loss == 2.5);
  CHECK(std::isnan(r.curve[1].eval_loss));
  CHECK(r.best_loss == 2.5);
  // A diverged run has no final loss (its last finite one passed for it): the summary says so.
  CHECK(std::isnan(r.final_loss));
  CHECK_THAT(r.BriefReport(), Catch::StartsWith("diverged: no final loss (best held-out 2.5 before) after 256 tokens"));
}

// The evaluation of the initial parameters was put on the curve unchecked: a NaN there trained on
// to the next evaluation.
TEST_CASE("a held-out loss of the initial parameters that is NaN ends the run before its first step") {
  const train::RunResult r = run_to_bad_evaluation(1);
  INFO(r.BriefReport());
  CHECK(r.status == train::RunStatus::Diverged);
  CHECK_THAT(r.message, Catch::Contains("the held-out loss of the initial parameters is nan"));
  CHECK(r.steps == 0);
  CHECK(stub_script.updates == 0);
  CHECK(std::isnan(r.final_loss));
  CHECK_THAT(r.BriefReport(), Catch::StartsWith("diverged: no final loss after 0 tokens"));
}

TEST_CASE("an Inf training or held-out loss ends the run as diverged\, as NaN does") {
  // train.h: NaN/Inf ends the run with status Diverged. The stub's gradient norm stays finite, so
  // only the checks on the losses themselves can stop these runs.
  const double inf = std::numeric_limits<double>::infinity();
  for (auto [bad, text] : {std::pair{inf, "inf"}, {-inf, "-inf"}, {std::numeric_limits<double>::quiet_NaN(), "nan"}}) {
    INFO("bad loss " << text);
    MarkovSource data(16, 16, 8, 5, 1), held_out(16, 16, 8, 5, 2);
    StubScript script;
    script.bad_accumulate = 3;  // the third step's training loss
    script.bad_loss = bad;
    const train::RunResult r = train::train(stub_run(data, held_out, script));
    CHECK(r.status == train::RunStatus::Diverged);
    CHECK_THAT(r.message, Catch::Contains(str("the training loss became ", text, " at step 3")));
    CHECK(r.steps == 2);
    CHECK(stub_script.updates == 2);  // the bad step takes no update
    MarkovSource data2(16, 16, 8, 5, 1), held_out2(16, 16, 8, 5, 2);
    StubScript eval_script;
    eval_script.eval_losses = {2.5, bad};  // the evaluation at step 2
    const train::RunResult e = train::train(stub_run(data2, held_out2, eval_script));
    CHECK(e.status == train::RunStatus::Diverged);
    CHECK_THAT(e.message, Catch::Contains(str("the held-out loss became ", text, " at step 2")));
    CHECK(e.steps == 2);
    CHECK(e.best_loss == 2.5);
    CHECK(std::isnan(e.final_loss));
  }
}

TEST_CASE("the best held-out loss is the lowest on the curve and the final one the last\, also across a resume") {
  // Evaluations at steps 0, 2, 4, 6, 8 and 10 of the stub's run give 3, 2, 2.6, 2.4, 2.2 and 2.3:
  // the best is step 2's 2 (neither the first, nor the last, nor the last one lower than the one
  // before), the final step 10's 2.3.
  const std::vector<double> losses = {3.0, 2.0, 2.6, 2.4, 2.2, 2.3};
  MarkovSource data(16, 16, 8, 5, 1), held_out(16, 16, 8, 5, 2);
  StubScript script;
  script.eval_losses = losses;
  const train::RunResult r = train::train(stub_run(data, held_out, script));
  REQUIRE(r.status == train::RunStatus::Done);
  REQUIRE(r.curve.size() == losses.size());
  for (size_t i = 0; i < losses.size(); ++i) CHECK(r.curve[i].eval_loss == losses[i]);
  CHECK(r.best_loss == 2.0);
  CHECK(r.final_loss == 2.3);
  // Stopped after step 5 (its result measures 2.5 there), then resumed from the checkpoint: the
  // best, step 2's, comes from the checkpoint, the later evaluations are all higher.
  const std::string path = std::string(SCALELAB_BINARY) + ".train-test-best.ckpt";
  std::remove(path.c_str());
  MarkovSource d1(16, 16, 8, 5, 1), h1(16, 16, 8, 5, 2);
  script.eval_losses = {3.0, 2.0, 2.6, 2.5};
  train::TrainConfig c = stub_run(d1, h1, script);
  c.checkpoint = path;
  c.progress = [](const train::Progress& p) {
    if (p.step == 5) request_interrupt();
  };
  const train::RunResult part = train::train(c);
  REQUIRE(part.status == train::RunStatus::Interrupted);
  CHECK(part.best_loss == 2.0);
  MarkovSource d2(16, 16, 8, 5, 1), h2(16, 16, 8, 5, 2);
  script.eval_losses = {2.4, 2.2, 2.3};  // steps 6, 8 and 10
  c = stub_run(d2, h2, script);
  c.checkpoint = path;
  const train::RunResult resumed = train::train(c);
  std::remove(path.c_str());
  REQUIRE(resumed.status == train::RunStatus::Done);
  REQUIRE(resumed.curve.size() == losses.size());
  for (size_t i = 0; i < losses.size(); ++i) CHECK(resumed.curve[i].eval_loss == losses[i]);
  CHECK(resumed.best_loss == 2.0);
  CHECK(resumed.final_loss == 2.3);
}

TEST_CASE("the simulated backend draws the law's curve without data") {
  train::TrainConfig c = simulated_small(50'000'000);
  c.law.E = 1.5;  // a law for small models: Chinchilla's own predicts more than ln(vocab) here
  c.law.A = 30;
  c.law.alpha = 0.3;
  c.law.B = 300;
  c.law.beta = 0.35;
  c.law.noise = 0.01;
  const train::RunResult r = train::train(c);
  CHECK(r.status == train::RunStatus::Done);
  CHECK(r.backend == "simulated");
  CHECK(r.curve.size() >= 20);
  const double expected = c.law(static_cast<double>(c.model.params()), static_cast<double>(r.tokens));
  CHECK(r.final_loss == Approx(expected).epsilon(0.02));
  CHECK(r.curve.front().eval_loss == Approx(std::log(256.0)).epsilon(0.02));
  CHECK(r.curve[5].eval_loss > r.final_loss);
}

TEST_CASE("bad configurations are refused with the field and the fix") {
  MarkovSource data(16, 16, 8, 5, 1);
  train::TrainConfig c;
  c.model = tiny(16, 16, 16, 2, 2);
  c.data = &data;
  CHECK_THROWS_WITH(train::train(c), Catch::Contains("exactly one of tokens"));
  c.tokens = 1000;
  c.batch = 12;
  CHECK_THROWS_WITH(train::train(c), Catch::Contains("multiple of the sampler's batch"));
  c.batch = 0;
  c.backend = "cpx";
  CHECK_THROWS_WITH(train::train(c), Catch::Contains("did you mean \"cpu\""));
  c.backend = "cpu";
  c.model = tiny(8, 16, 16, 2, 2);
  CHECK_THROWS_WITH(train::train(c), Catch::Contains("vocabulary (16) is larger"));
  c.model = tiny(16, 8, 16, 2, 2);
  CHECK_THROWS_WITH(train::train(c), Catch::Contains("context is 8"));
  // A warmup given as a count of steps (nanoGPT's warmup_iters) is refused naming the fraction that
  // gives it: it said only "warmup is a fraction of the run in [0, 1) (got 50)".
  c.model = tiny(16, 16, 16, 2, 2);
  c.tokens = 1000 * 8 * 16;  // 1000 steps of the source's 8 × 16
  c.warmup = 50;
  CHECK_THROWS_WITH(train::train(c), "train: warmup is a fraction of the run's steps in [0, 1) (got 50); for 50 "
                                     "warmup steps of this run's 1000 give warmup = 0.05");
  c.warmup = 1.5;
  CHECK_THROWS_WITH(train::train(c), Catch::EndsWith("(got 1.5); for a number of warmup steps give it divided by "
                                                     "the run's steps"));
  c.warmup = -0.1;
  CHECK_THROWS_WITH(train::train(c), "train: warmup is a fraction of the run's steps in [0, 1) (got -0.1)");
  c.warmup = 0.01;
  c.tokens = 1000;
  // Checkpoints asked for with no file to write them to: the run trained writing none, unsaid.
  c.model = tiny(16, 16, 16, 2, 2);
  c.checkpoint_interval = 1024;
  CHECK_THROWS_WITH(train::train(c), "train: checkpoint_interval = 1024 sets the tokens between checkpoints, but this "
                                     "run has no checkpoint to write; give checkpoint = \"run.ckpt\" (the file to "
                                     "write them to), or leave checkpoint_interval out");
  train::TrainConfig simulated = simulated_small(100'000);
  simulated.checkpoint_interval = 1024;
  CHECK_THROWS_WITH(train::train(simulated), Catch::Contains("checkpoint_interval = 1024 sets the tokens"));
}

// ---- Review findings: checks before the first step, the simulated backend's cost and law ------

namespace {

// A data source that plans `planned` batches (as a data.sampler does) and counts what it gave.
class PlannedSource final : public data::BatchSource {
 public:
  PlannedSource(MarkovSource& inner, int64_t planned) : inner_(inner), planned_(planned) {}
  int64_t vocab() const override { return inner_.vocab(); }
  int64_t seq_len() const override { return inner_.seq_len(); }
  int64_t batch() const override { return inner_.batch(); }
  void next_batch(std::vector<int32_t>& tokens) override {
    if (given_ >= planned_) fail("sampler exhausted");
    ++given_;
    inner_.next_batch(tokens);
  }
  int64_t remaining_batches() const override { return planned_ - given_; }
  std::string state() const override { return std::to_string(given_) + " " + inner_.state(); }
  void restore(const std::string& s) override {
    const size_t space = s.find(' ');
    given_ = std::stoll(s.substr(0, space));
    inner_.restore(s.substr(space + 1));
  }
  int64_t given() const { return given_; }

 private:
  MarkovSource& inner_;
  int64_t planned_, given_ = 0;
};

// The simulated backend, counting what the trainer asks of it.
struct Calls {
  int64_t accumulate = 0, advance = 0, evaluate = 0, steps = 0, saves = 0;
};
class CountingBackend final : public train::Backend {
 public:
  CountingBackend(const train::LossLaw& law, Calls& calls) : inner_(train::make_simulated_backend(law)), calls_(calls) {}
  std::string name() const override { return "simulated"; }
  std::string device() const override { return inner_->device(); }
  bool needs_tokens() const override { return false; }
  bool draws_losses() const override { return inner_->draws_losses(); }
  void init(const GptConfig& c, const train::OptimizerOptions& o, int64_t b, uint64_t seed) override {
    inner_->init(c, o, b, seed);
  }
  double accumulate(const int32_t* t, int64_t B, int64_t T, float s) override {
    ++calls_.accumulate;
    ++calls_.steps;
    return inner_->accumulate(t, B, T, s);
  }
  double advance(int64_t steps, int64_t B, int64_t T) override {
    ++calls_.advance;
    calls_.steps += steps;
    return inner_->advance(steps, B, T);
  }
  double update(double lr) override { return inner_->update(lr); }
  double evaluate(const int32_t* t, int64_t B, int64_t T) override {
    ++calls_.evaluate;
    return inner_->evaluate(t, B, T);
  }
  std::string save() const override {
    ++calls_.saves;
    return inner_->save();
  }
  void load(const std::string& s) override { inner_->load(s); }
  std::vector<float> parameters() const override { return {}; }

 private:
  std::unique_ptr<train::Backend> inner_;
  Calls& calls_;
};

Calls counted_calls;

}  // namespace

TEST_CASE("a sampler that plans fewer batches than the run needs is refused before the first step") {
  MarkovSource markov(16, 16, 8, 5, 1);
  PlannedSource data(markov, 39);  // 39 batches of 8 × 16: 4,992 tokens
  train::TrainConfig c = sampled_run(data);
  c.tokens = 1'000'000'000;
  CHECK_THROWS_WITH(train::train(c), Catch::Contains("needs 1000000000 tokens") && Catch::Contains("only 4992") &&
                                         Catch::Contains("tokens = 4992") && Catch::Contains("data.sampler{ tokens = 1000000000"));
  CHECK(data.given() == 0);  // nothing used up
  c.tokens = 0;
  c.steps = 1;
  c.batch = 8000;  // 1000 micro-batches per step
  CHECK_THROWS_WITH(train::train(c), Catch::Contains("batch = 8000 rows takes 1000 of the sampler's batches") &&
                                         Catch::Contains("only 39 batches") && Catch::Contains("at most 312 rows"));
  CHECK(data.given() == 0);
  c.batch = 0;
  c.steps = 0;
  c.tokens = 39 * 8 * 16;  // exactly the plan: trains through
  const train::RunResult r = train::train(c);
  CHECK(r.status == train::RunStatus::Done);
  CHECK(data.given() == 39);
}

TEST_CASE("a model too large for this machine's memory is refused up front, with both sizes") {
  MarkovSource data(16, 16, 8, 5, 1);
  train::TrainConfig c;
  c.model = tiny(50257, 2048, 12288, 112, 96);  // about 206B parameters
  c.model.d_ff = 0;
  REQUIRE(c.model.params() > 200'000'000'000);
  c.data = &data;
  c.tokens = 1'000'000;
  CHECK_THROWS_WITH(train::train(c), Catch::Contains("needs at least") && Catch::Contains("TB of memory") &&
                                         Catch::Contains("are available") && Catch::Contains("smaller model"));
  CHECK_THROWS_WITH(train::train(c), !Catch::Contains("out of memory"));
}

// A held-out source whose every batch takes at least `delay` seconds: evaluations that cost far more
// than the training steps between them.
class SlowSource final : public data::BatchSource {
 public:
  SlowSource(MarkovSource& inner, double delay) : inner_(inner), delay_(delay) {}
  int64_t vocab() const override { return inner_.vocab(); }
  int64_t seq_len() const override { return inner_.seq_len(); }
  int64_t batch() const override { return inner_.batch(); }
  void next_batch(std::vector<int32_t>& tokens) override {
    std::this_thread::sleep_for(std::chrono::duration<double>(delay_));
    inner_.next_batch(tokens);
  }
  std::string state() const override { return inner_.state(); }
  void restore(const std::string& s) override { inner_.restore(s); }

 private:
  MarkovSource& inner_;
  double delay_;
};

TEST_CASE("the time left that progress reports counts the evaluations and not only the training steps") {
  MarkovSource data(16, 16, 8, 5, 1), held(16, 16, 8, 5, 2);
  SlowSource slow(held, 0.002);
  train::TrainConfig c = sampled_run(data);
  c.eval_data = &slow;
  c.steps = 8;
  c.eval_interval = 8 * 16;  // an evaluation of 2 batches (4 ms at least) after every step
  c.eval_tokens = 2 * 8 * 16;
  std::vector<train::Progress> seen;
  c.progress = [&](const train::Progress& p) { seen.push_back(p); };
  REQUIRE(train::train(c).status == train::RunStatus::Done);
  REQUIRE(seen.size() == 8);
  for (const train::Progress& p : seen) {
    INFO("step " << p.step << ": eta " << p.eta_seconds << " s, " << p.tokens_per_second << " tokens/s");
    // Each step left takes its evaluation's 4 ms at least: a time left from the training speed alone
    // (the tokens left / tokens_per_second) was a small fraction of that.
    CHECK(p.eta_seconds >= 0.004 * static_cast<double>(p.steps - p.step));
    CHECK(p.eta_seconds == Approx(p.elapsed_seconds * static_cast<double>(p.steps - p.step) / static_cast<double>(p.step)));
  }
  CHECK(seen.back().eta_seconds == 0);
}

// `inner`, whose next_batch throws at its k-th call (and works at every other), as a data source
// written in Lua raises.
class FailingSource final : public data::BatchSource {
 public:
  FailingSource(MarkovSource& inner, int64_t k) : inner_(inner), k_(k) {}
  int64_t vocab() const override { return inner_.vocab(); }
  int64_t seq_len() const override { return inner_.seq_len(); }
  int64_t batch() const override { return inner_.batch(); }
  void next_batch(std::vector<int32_t>& tokens) override {
    if (++calls_ == k_) fail("the source broke");
    inner_.next_batch(tokens);
  }
  std::string state() const override { return inner_.state(); }
  void restore(const std::string& s) override { inner_.restore(s); }

 private:
  MarkovSource& inner_;
  int64_t k_, calls_ = 0;
};

TEST_CASE("a data source's error part-way through a step stops the run with the checkpoint of the step before") {
  // The error unwound the run from inside its step: without checkpoint_interval no checkpoint was
  // written, and every step trained was lost.
  const std::string path = std::string(SCALELAB_BINARY) + ".train-test-source-failed.ckpt";
  std::remove(path.c_str());
  auto config = [&](data::BatchSource& d, MarkovSource& h) {
    train::TrainConfig c = markov_run(h, h, tiny(16, 16, 16, 2, 2), 12);
    c.data = &d;  // markov_run takes a MarkovSource
    c.batch = 32;  // two of the source's batches a step: the 14th call fails part-way through step 7
    c.eval_tokens = 2048;
    return c;
  };
  MarkovSource d1(16, 16, 16, 5, 1), h1(16, 16, 16, 5, 2);
  const train::RunResult full = train::train(config(d1, h1));
  MarkovSource d2(16, 16, 16, 5, 1), h2(16, 16, 16, 5, 2);
  FailingSource failing(d2, 14);
  train::TrainConfig c = config(failing, h2);
  c.checkpoint = path;
  try {
    train::train(c);
    FAIL("no error");
  } catch (const train::SourceFailed& e) {
    CHECK(std::string(e.what()) ==
          "the source broke (in data:next_batch() for step 7 of 12: train stopped after 6 of 12 steps; the checkpoint " +
              path + " holds it, from which train resumes when called again (unless resume = false))");
    CHECK(e.source == "data");
    CHECK(e.method == "next_batch");
    CHECK(e.result.status == train::RunStatus::Interrupted);
    CHECK(e.result.steps == 6);
  }
  // Resumed with a source that works: the uninterrupted run, bit for bit.
  MarkovSource d3(16, 16, 16, 5, 1), h3(16, 16, 16, 5, 2);
  c = config(d3, h3);
  c.checkpoint = path;
  const train::RunResult resumed = train::train(c);
  CHECK(resumed.status == train::RunStatus::Done);
  REQUIRE(resumed.curve.size() == full.curve.size());
  for (size_t i = 0; i < full.curve.size(); ++i) {
    CHECK(resumed.curve[i].train_loss == full.curve[i].train_loss);
    CHECK(resumed.curve[i].eval_loss == full.curve[i].eval_loss);
  }
  std::remove(path.c_str());
}

TEST_CASE("an eval_interval under half a step says the run evaluates every step") {
  // eval_interval = 10 with 128 tokens a step rounded to no steps and evaluated every step, unsaid.
  MarkovSource data(16, 16, 8, 5, 1), held(16, 16, 8, 5, 2);
  train::TrainConfig c = sampled_run(data);
  c.eval_data = &held;
  c.steps = 3;
  c.eval_tokens = 8 * 16;
  c.eval_interval = 10;
  const train::RunResult r = train::train(c);
  CHECK(r.curve.size() == 4);  // the initial evaluation and one after each step
  CHECK_THAT(r.note, Catch::Contains("eval_interval = 10 tokens is under half a step (128 tokens a step, batch × "
                                     "seq_len = 8 × 16): the run evaluates after every step; give eval_interval = 128"));
  // Half a step and more round to whole steps, and say nothing.
  MarkovSource data2(16, 16, 8, 5, 1), held2(16, 16, 8, 5, 2);
  c = sampled_run(data2);
  c.eval_data = &held2;
  c.steps = 3;
  c.eval_tokens = 8 * 16;
  c.eval_interval = 64;
  CHECK_THAT(train::train(c).note, !Catch::Contains("eval_interval"));
}

TEST_CASE("a checkpoint_interval under half a step says the run writes its checkpoint every step\, as eval_interval does") {
  // checkpoint_interval = 10 with 128 tokens a step rounded to no steps and wrote the whole model and
  // optimizer state after every step, unsaid (an eval_interval so short was already said).
  const std::string path = std::string(SCALELAB_BINARY) + ".train-test-checkpoint-interval.ckpt";
  auto run = [&](int64_t interval, const std::string& checkpoint) {
    std::remove(path.c_str());
    MarkovSource data(16, 16, 8, 5, 1), held(16, 16, 8, 5, 2);
    train::TrainConfig c = sampled_run(data);
    c.eval_data = &held;
    c.steps = 3;
    c.eval_tokens = 8 * 16;
    c.checkpoint = checkpoint;
    c.checkpoint_interval = interval;
    int64_t written = 0;  // the steps after which a checkpoint file is there
    c.progress = [&](const train::Progress& p) {
      if (p.step < p.steps && std::filesystem::exists(path)) {
        ++written;
        std::remove(path.c_str());
      }
    };
    const train::RunResult r = train::train(c);
    std::remove(path.c_str());
    return std::pair{r, written};
  };
  const auto [every_step, written] = run(10, path);
  CHECK(written == 2);  // after steps 1 and 2 (and the final one at the end)
  CHECK_THAT(every_step.note, Catch::Contains("checkpoint_interval = 10 tokens is under half a step (128 tokens a step, "
                                              "batch × seq_len = 8 × 16): the run writes its checkpoint after every "
                                              "step; give checkpoint_interval = 128 for that, or a multiple of it for "
                                              "fewer checkpoints"));
  // Half a step and more round to whole steps, and say nothing.
  const auto [half_step, written_half] = run(64, path);
  CHECK(written_half == 2);
  CHECK_THAT(half_step.note, !Catch::Contains("checkpoint_interval"));
}

TEST_CASE("the held-out source failing where an interrupted run measures its result raises its error\, the checkpoint kept") {
  // It became a note ("the held-out loss where the run stopped is not measured: ..."), beside a
  // result that gave the evaluation before's loss as the run's.
  const std::string path = std::string(SCALELAB_BINARY) + ".train-test-result-evaluation.ckpt";
  std::remove(path.c_str());
  auto config = [&](data::BatchSource& held, MarkovSource& d) {
    train::TrainConfig c = markov_run(d, d, tiny(16, 16, 16, 2, 2), 12);
    c.eval_data = &held;
    c.eval_tokens = 16 * 16;          // one held-out batch an evaluation
    c.eval_interval = 4 * 16 * 16;    // at 0, 4, 8 and 12 steps
    return c;
  };
  MarkovSource d1(16, 16, 16, 5, 1), h1(16, 16, 16, 5, 2);
  const train::RunResult full = train::train(config(h1, d1));
  REQUIRE(full.status == train::RunStatus::Done);
  // Ctrl-C after step 6: the evaluation there, for the result, is the held-out source's 3rd batch.
  MarkovSource d2(16, 16, 16, 5, 1), h2(16, 16, 16, 5, 2);
  FailingSource failing(h2, 3);
  train::TrainConfig c = config(failing, d2);
  c.checkpoint = path;
  c.progress = [](const train::Progress& p) {
    if (p.step == 6) request_interrupt();
  };
  try {
    train::train(c);
    FAIL("no error");
  } catch (const train::SourceFailed& e) {
    CHECK(std::string(e.what()) ==
          "the source broke (in eval_data:next_batch() measuring the held-out loss where the run stopped: train "
          "interrupted by the user after 6 of 12 steps; the checkpoint " + path +
              " holds it, from which train resumes when called again (unless resume = false))");
    CHECK(e.source == "eval_data");
    CHECK(e.result.status == train::RunStatus::Interrupted);
    CHECK(e.result.steps == 6);
  }
  clear_interrupt();
  // The checkpoint, resumed with a source that works: the uninterrupted run, bit for bit.
  MarkovSource d3(16, 16, 16, 5, 1), h3(16, 16, 16, 5, 2);
  c = config(h3, d3);
  c.checkpoint = path;
  const train::RunResult resumed = train::train(c);
  CHECK(resumed.status == train::RunStatus::Done);
  REQUIRE(resumed.curve.size() == full.curve.size());
  for (size_t i = 0; i < full.curve.size(); ++i) CHECK(resumed.curve[i].eval_loss == full.curve[i].eval_loss);
  CHECK(resumed.final_loss == full.final_loss);
  std::remove(path.c_str());
}

namespace {
// A checkpoint's string field that starts with `kind` ("repetition-sampler v2", "held-out v2"), its
// " split=<hex>" and what follows (" about=...", last) cut out: the state as a scalelab before states
// recorded the split saved it.
void cut_split(std::string& bytes, const std::string& kind) {
  const size_t at = bytes.find(kind);
  REQUIRE(at != std::string::npos);
  uint64_t size = 0;
  std::memcpy(&size, bytes.data() + at - 8, 8);
  std::string state = bytes.substr(at, size);
  const size_t split = state.find(" split=");
  REQUIRE(split != std::string::npos);
  REQUIRE(state.compare(split + 7 + 16, 7, " about=") == 0);  // the last field follows it
  state.erase(split);
  const uint64_t cut = state.size();
  bytes.replace(at - 8, 8 + size, std::string(reinterpret_cast<const char*>(&cut), 8) + state);
}
}  // namespace

// Exact copies of a text go to one side of the split since 2026-11-25, so a corpus with copies splits
// otherwise than it did: a run checkpointed before went on, resumed, with other training and
// held-out documents, without a word (a state recorded the corpus and the options, not the split).
TEST_CASE("a checkpoint made on another split of its corpus is refused\, and one that records none is checked or said") {
  using data::Corpus;
  using data::CorpusMetadata;
  using data::CorpusWriter;
  // 300 documents of 24 tokens, the last 100 copies of the first 100 (a text in two files).
  CorpusMetadata m;
  m.name = "copies";
  CorpusWriter writer(16, m);
  std::vector<std::vector<int32_t>> texts;
  Rng rng(5);
  for (int d = 0; d < 200; ++d) {
    std::vector<int32_t> text(24);
    for (int32_t& t : text) t = int32_t(rng.next() % 16);
    texts.push_back(text);
  }
  for (int d = 0; d < 300; ++d) writer.AddDocument(texts[size_t(d < 200 ? d : d - 200)]);
  const Corpus corpus = writer.Finish();
  REQUIRE(corpus.copies().copies == 100);
  // The rule before copies went together holds out other documents here.
  REQUIRE(data::Split::ValidationBeforeCopies(corpus, 0.1) != data::Split::Make(corpus, 0.1).validation);

  const std::string path = std::string(SCALELAB_BINARY) + ".train-test-split.ckpt";
  std::remove(path.c_str());
  data::SamplerOptions o;
  o.tokens = 12 * 4 * 16;
  o.seq_len = 16;
  o.batch = 4;
  o.validation = 0.1;
  auto run = [&](bool checkpoint, int64_t stop_at) {
    data::RepetitionSampler sampler(corpus, o);
    data::HeldOutSource held_out(corpus, {16, 4, 0.1});
    train::TrainConfig c = sampled_run(sampler);
    c.steps = 12;
    c.eval_data = &held_out;
    c.eval_tokens = 4 * 4 * 16;
    c.eval_interval = 4 * 4 * 16;
    c.lr = 1e-2;
    if (checkpoint) c.checkpoint = path;
    if (stop_at > 0)
      c.progress = [stop_at](const train::Progress& p) {
        if (p.step == stop_at) request_interrupt();
      };
    train::RunResult r = train::train(c);
    clear_interrupt();
    return r;
  };
  auto same_run = [](const train::RunResult& a, const train::RunResult& b) {
    REQUIRE(a.curve.size() == b.curve.size());
    for (size_t i = 0; i < a.curve.size(); ++i) {
      CHECK(a.curve[i].train_loss == b.curve[i].train_loss);
      CHECK(a.curve[i].eval_loss == b.curve[i].eval_loss);
    }
    CHECK(a.final_loss == b.final_loss);
  };
  const train::RunResult whole = run(false, 0);
  REQUIRE(whole.status == train::RunStatus::Done);
  // On the same corpus and split, a resume is the run's bitwise continuation, and says nothing.
  REQUIRE(run(true, 5).status == train::RunStatus::Interrupted);
  const std::string made = read_bytes(path);
  CHECK(made.find(" windows=48 split=") != std::string::npos);
  const train::RunResult resumed = run(true, 0);
  CHECK(resumed.status == train::RunStatus::Done);
  CHECK(resumed.note.empty());
  same_run(resumed, whole);

  // A checkpoint whose states record another split of the same corpus and options (an earlier rule's)
  // is refused, naming the checkpoint, what differs and the fix; the checkpoint is left as it was.
  const std::string mine = made.substr(made.find(" split=") + 7, 16);
  std::string other = made;
  for (size_t at = other.find(mine); at != std::string::npos; at = other.find(mine, at + 16))
    other.replace(at, 16, mine[0] == '0' ? "1" + mine.substr(1) : "0" + mine.substr(1));
  CHECK(other != made);
  std::ofstream(path, std::ios::binary) << other;
  // It said so in the sampler's words inside the generic "was made on other data" and its fixes.
  const std::string others = other.substr(other.find(" split=") + 7, 16);
  CHECK_THROWS_WITH(run(true, 0),
                    Catch::Equals("checkpoint " + path + " was made on other data than this run's: it was trained on "
                                  "corpus copies (7200 tokens in 300 documents) at validation = 0.1, split into training "
                                  "and held-out documents by another rule (split " + others + "), and this run's data "
                                  "has split " + mine + " of the same corpus and options, holding out 30 documents: a "
                                  "scalelab that split it by another rule saved it (before 2026-11-25, exact copies of a "
                                  "text were held out one by one; this corpus has 100 such copies), and the rest of the "
                                  "run would train and measure on other documents. To resume it, use the scalelab that "
                                  "saved it; to start over on this data, delete the checkpoint " + path + " or pass "
                                  "resume = false (the checkpoint is left as it is until then)"));
  CHECK(read_bytes(path) == other);

  // A checkpoint whose states record no split (saved before they did) resumes, and says that its split
  // could not be checked: here the earlier rule's split is not this one.
  std::string unsplit = made;
  cut_split(unsplit, "repetition-sampler v2");
  cut_split(unsplit, "held-out v2");
  std::ofstream(path, std::ios::binary) << unsplit;
  const train::RunResult legacy = run(true, 0);
  CHECK(legacy.status == train::RunStatus::Done);
  CHECK_THAT(legacy.note, Catch::StartsWith("checkpoint " + path + ": the saved state records no split of corpus copies "
                                            "(saved before states did), so it could not be checked: this scalelab keeps "
                                            "exact copies of a text on one side (since 2026-11-25), and holds out "));
  CHECK(legacy.note.find("could not be checked", legacy.note.find("could not be checked") + 1) == std::string::npos);  // said once
  same_run(legacy, whole);
  std::remove(path.c_str());
}

TEST_CASE("a checkpoint resumed with other held-out data of the same shape is refused\, naming the fix") {
  // The held-out measure (batches x rows x tokens) was the same, and the run resumed on another
  // held-out set without a word: its curve of two sets, its best loss perhaps of the other.
  const std::string path = std::string(SCALELAB_BINARY) + ".train-test-other-held-out.ckpt";
  std::remove(path.c_str());
  auto config = [&](MarkovSource& d, MarkovSource& h) {
    train::TrainConfig c = markov_run(d, h, tiny(16, 16, 16, 2, 2), 12);
    c.eval_tokens = 16 * 16;
    c.eval_interval = 4 * 16 * 16;
    c.checkpoint = path;
    return c;
  };
  MarkovSource d1(16, 16, 16, 5, 1), h1(16, 16, 16, 5, 2);
  train::TrainConfig c = config(d1, h1);
  c.progress = [](const train::Progress& p) {
    if (p.step == 6) request_interrupt();
  };
  REQUIRE(train::train(c).status == train::RunStatus::Interrupted);
  clear_interrupt();
  MarkovSource d2(16, 16, 16, 5, 1), other(16, 16, 16, 5, 3);
  const std::string before = d2.state();
  CHECK_THROWS_WITH(train::train(config(d2, other)),
                    "checkpoint " + path + " was made with other held-out data than this run's (eval_data, or the "
                    "data's own held_out()): its curve and best loss were measured on other held-out tokens, which "
                    "this run's losses would not compare with; resume it with the held-out data it was made with, "
                    "pass resume = false to start over, or give another checkpoint path");
  CHECK(d2.state() == before);  // the training source is where it was
  // With the held-out data it was made with, it resumes.
  MarkovSource d3(16, 16, 16, 5, 1), h3(16, 16, 16, 5, 2);
  CHECK(train::train(config(d3, h3)).status == train::RunStatus::Done);
  std::remove(path.c_str());
}

TEST_CASE("a data source's error on the first step without a checkpoint says nothing was trained") {
  // It said "without a checkpoint, so its training is lost" of a run that had trained nothing.
  MarkovSource d(16, 16, 16, 5, 1), h(16, 16, 16, 5, 2);
  FailingSource failing(d, 1);
  train::TrainConfig c = markov_run(h, h, tiny(16, 16, 16, 2, 2), 12);
  c.data = &failing;
  c.eval_tokens = 2048;
  try {
    train::train(c);
    FAIL("no error");
  } catch (const train::SourceFailed& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("train stopped after 0 of 12 steps without a checkpoint: nothing "
                                                      "was trained yet, so nothing is lost") &&
                                          !Catch::Contains("training is lost"));
    CHECK(e.result.steps == 0);
  }
}

TEST_CASE("tokens are rounded down to whole steps, and fewer than one step is refused") {
  MarkovSource data(16, 16, 8, 5, 1);
  train::TrainConfig c = sampled_run(data);
  c.tokens = 100;  // one step is 8 × 16 = 128 tokens
  CHECK_THROWS_WITH(train::train(c), Catch::Contains("tokens = 100 is less than one optimizer step") &&
                                         Catch::Contains("128"));
  c.tokens = 3000;
  const train::RunResult r = train::train(c);
  CHECK(r.tokens == 2944);  // 23 steps of 128
  CHECK(r.requested_tokens == 3000);
  CHECK_THAT(r.BriefReport(), Catch::Contains("tokens = 3000 rounded down to 23 whole steps"));
  c.tokens = -5;
  CHECK_THROWS_WITH(train::train(c), Catch::Contains("tokens (training tokens D) must be >= 1 (got -5)"));
}

TEST_CASE("the summary names the FLOP convention of its FLOPs") {
  // It gave "5e+12 FLOP" beside results tables that count 6·N·D with all parameters.
  train::RunResult r;
  r.final_loss = r.best_loss = 2.7;
  r.tokens = 999424;
  r.flops = 5e12;
  r.wall_seconds = r.train_seconds = 69.1;
  r.tokens_per_second = 14463;
  r.flops_per_second = 7.2e10;
  r.backend = "cpu";
  CHECK_THAT(r.BriefReport(), Catch::Contains(" FLOP (Kaplan's D·(6N + 6·L·T·d), N non-embedding), 69.1 s, "));
  r.backend = "simulated";
  CHECK_THAT(r.BriefReport(), Catch::Contains(" FLOP (Kaplan's D·(6N + 6·L·T·d), N non-embedding), 69.1 s, simulated"));
}

TEST_CASE("the simulated backend's cost does not grow with the number of steps") {
  // The built-in simulated backend, counting: registered under its own name (the trainer lets only
  // "simulated" run without data), and put back at the end.
  train::register_backend("simulated", [](int, const train::LossLaw& law) {
    return std::make_unique<CountingBackend>(law, counted_calls);
  });
  struct Restore {
    ~Restore() {
      train::register_backend("simulated", [](int, const train::LossLaw& law) { return train::make_simulated_backend(law); });
    }
  } restore;
  // 1e21 FLOPs on GPT-2 small at batch 8: 1.3e12 tokens, 1.6e8 optimizer steps.
  const GptConfig shape = simulated_124m(0, 8).model;
  const double tokens = 1e21 / shape.flops_per_token();
  counted_calls = {};
  train::TrainConfig c = simulated_124m(tokens, 8);
  const train::RunResult r = train::train(c);
  REQUIRE(r.status == train::RunStatus::Done);
  CHECK(r.steps > 100'000'000);
  CHECK(counted_calls.steps == r.steps);
  CHECK(counted_calls.accumulate + counted_calls.advance <= 22);  // the first step, then one per evaluation
  CHECK(counted_calls.evaluate <= 22 * 16);
  CHECK(r.flops == Approx(1e21).epsilon(1e-6));
  const double expected = c.law(static_cast<double>(shape.params()), static_cast<double>(r.tokens));
  CHECK(r.final_loss == Approx(expected).epsilon(0.02));
  CHECK(r.tokens_per_second == 0);  // a simulation reports no speed
  CHECK_THAT(r.BriefReport(), !Catch::Contains("tokens/s") && Catch::Contains("simulated"));

  // However often it is asked to evaluate, a simulated run draws at most 1000 evaluations.
  counted_calls = {};
  c.eval_interval = 8 * 1024;
  const train::RunResult dense = train::train(c);
  CHECK(dense.curve.size() <= 1002);
  CHECK(counted_calls.accumulate + counted_calls.advance <= 1001);

  // The same seed draws the same losses; another seed other ones.
  c.eval_interval = 0;
  const train::RunResult again = train::train(c);
  CHECK(again.final_loss == r.final_loss);
  CHECK(again.curve.size() == r.curve.size());
  for (size_t i = 0; i < r.curve.size(); ++i) CHECK(again.curve[i].train_loss == r.curve[i].train_loss);
  c.seed = 2;
  CHECK(train::train(c).final_loss != r.final_loss);
}

TEST_CASE("a simulated stretch's mean loss is the mean of the law over its steps") {
  train::LossLaw law;
  law.E = 1.5;
  law.A = 30;
  law.alpha = 0.3;
  law.B = 300;
  law.beta = 0.35;
  const double n = 2e6, cap = std::log(256.0);
  for (auto [t0, s, k] : {std::tuple<int64_t, int64_t, int64_t>{0, 512, 20000}, {1'000'000, 512, 5000},
                          {0, 8, 100000}, {123'456, 1024, 65}, {0, 512, 1}}) {
    double sum = 0;  // the reference: every step's expected loss, one by one
    for (int64_t i = 1; i <= k; ++i) sum += std::min(cap, law(n, static_cast<double>(t0 + i * s)));
    INFO("t0 " << t0 << ", s " << s << ", k " << k);
    CHECK(train::mean_law_loss(law, n, cap, t0, s, k) == Approx(sum / static_cast<double>(k)).epsilon(1e-6));
  }
  law.beta = 1.0;  // the integral's other form
  double sum = 0;
  for (int64_t i = 1; i <= 5000; ++i) sum += std::min(cap, law(n, static_cast<double>(i * 64)));
  CHECK(train::mean_law_loss(law, n, cap, 0, 64, 5000) == Approx(sum / 5000).epsilon(1e-6));
}

TEST_CASE("the simulated backend's law is validated, and every draw stays in [0, ln(vocab)]") {
  train::TrainConfig c = simulated_small(1'000'000);
  c.law = {-5, 0, 0, 1, 1, 0};
  CHECK_THROWS_WITH(train::train(c), Catch::Contains("law.E") && Catch::Contains("[0, ln(vocab)"));
  c.law = {1.69, 406.4, 410.7, -1, 0.28, 0.02};
  CHECK_THROWS_WITH(train::train(c), Catch::Contains("law.alpha must be > 0 (got -1)"));
  c.law = {1.69, 406.4, 410.7, 0.34, 0.28, -2};
  CHECK_THROWS_WITH(train::train(c), Catch::Contains("law.noise must be in [0, 1) (got -2)"));
  c.law = {1.69, -1, 410.7, 0.34, 0.28, 0.02};
  CHECK_THROWS_WITH(train::train(c), Catch::Contains("law.A must be >= 0"));
  c.law = {1.69, 406.4, 410.7, 0.34, 0.28, 0.9};  // wild noise around the cap: still never above it
  c.eval_tokens = 1;                              // one draw per evaluation, not a mean of 16
  c.eval_interval = 8 * 64;
  const train::RunResult r = train::train(c);
  for (const auto& p : r.curve) {
    CHECK(p.eval_loss <= std::log(256.0));
    CHECK(p.eval_loss >= 0);
    CHECK(p.train_loss <= std::log(256.0));
  }
}

TEST_CASE("resuming a finished run reports the run's own time and speed") {
  const std::string path = std::string(SCALELAB_BINARY) + ".train-test-finished.ckpt";
  std::remove(path.c_str());
  MarkovSource d1(16, 16, 8, 5, 1), h1(16, 16, 8, 5, 2);
  train::TrainConfig c = markov_run(d1, h1, tiny(16, 16, 16, 2, 2), 40);
  c.checkpoint = path;
  const train::RunResult first = train::train(c);
  MarkovSource d2(16, 16, 8, 5, 1), h2(16, 16, 8, 5, 2);
  c.data = &d2;
  c.eval_data = &h2;
  const train::RunResult again = train::train(c);
  std::remove(path.c_str());
  CHECK(again.tokens == first.tokens);
  CHECK(again.final_loss == first.final_loss);
  CHECK(again.train_seconds == Approx(first.train_seconds));
  CHECK(again.tokens_per_second == Approx(first.tokens_per_second));
  CHECK(again.wall_seconds >= first.wall_seconds);
}

namespace {
// A simulated run of 200M tokens on a law for small models with `noise`, writing `checkpoint` (when
// given) every 7M tokens, not a multiple of the evaluations' interval.
train::TrainConfig simulated_checkpointed(const std::string& checkpoint, double noise) {
  train::TrainConfig c = simulated_small(200'000'000);
  c.law = {1.5, 30, 300, 0.3, 0.35, noise};
  c.checkpoint = checkpoint;
  if (!checkpoint.empty()) c.checkpoint_interval = 7'000'000;
  return c;
}
}  // namespace

TEST_CASE("a simulated run resumes from a checkpoint to the same losses, and its held-out draws ignore checkpoints") {
  const std::string path = std::string(SCALELAB_BINARY) + ".train-test-simulated.ckpt";
  std::remove(path.c_str());
  auto config = [&](const std::string& checkpoint) { return simulated_checkpointed(checkpoint, 0.05); };
  const train::RunResult plain = train::train(config(""));
  const train::RunResult full = train::train(config(path));  // checkpoints cut some stretches in two
  std::remove(path.c_str());
  train::TrainConfig c = config(path);
  int64_t stop_at = 0;
  c.progress = [&](const train::Progress& p) {
    if (!stop_at && p.step > p.steps / 3) {
      stop_at = p.step;
      request_interrupt();
    }
  };
  const train::RunResult part = train::train(c);
  REQUIRE(part.status == train::RunStatus::Interrupted);
  CHECK(part.steps == stop_at);
  const train::RunResult resumed = train::train(config(path));
  std::remove(path.c_str());
  REQUIRE(resumed.curve.size() == full.curve.size());
  REQUIRE(plain.curve.size() == full.curve.size());
  for (size_t i = 0; i < full.curve.size(); ++i) {
    CHECK(resumed.curve[i].train_loss == full.curve[i].train_loss);
    CHECK(resumed.curve[i].eval_loss == full.curve[i].eval_loss);
    CHECK(plain.curve[i].eval_loss == full.curve[i].eval_loss);
  }
  CHECK(resumed.final_loss == plain.final_loss);
  CHECK(resumed.best_loss == plain.best_loss);
}

// A simulated run draws a stretch of steps at once (to the next evaluation or checkpoint) and gets
// their mean loss; a curve point's training loss must weigh each stretch by its steps. Without noise
// the points' training losses are then the same whether checkpoints cut the stretches (every 7M
// tokens, not a multiple of the evaluations' interval) or not: summed one per stretch, a short
// stretch counted as much as a long one and moved them.
TEST_CASE("a simulated run's training losses weigh each stretch by its steps\, however checkpoints cut them") {
  const std::string path = std::string(SCALELAB_BINARY) + ".train-test-stretches.ckpt";
  std::remove(path.c_str());
  const train::RunResult plain = train::train(simulated_checkpointed("", 0.0)),
                         cut = train::train(simulated_checkpointed(path, 0.0));
  std::remove(path.c_str());
  REQUIRE(cut.curve.size() == plain.curve.size());
  REQUIRE(plain.curve.size() > 10);
  for (size_t i = 0; i < plain.curve.size(); ++i) {
    INFO("point " << i << " at " << plain.curve[i].tokens << " tokens");
    CHECK(cut.curve[i].train_loss == Approx(plain.curve[i].train_loss).epsilon(1e-6));
  }
}

// ---- Second review: counts past int64, checkpoints of simulated runs, corrupt checkpoints -------

namespace {
// Registers the counting simulated backend under "simulated" for the scope, then puts back the real one.
struct CountingSimulated {
  CountingSimulated() {
    counted_calls = {};
    train::register_backend("simulated", [](int, const train::LossLaw& law) {
      return std::make_unique<CountingBackend>(law, counted_calls);
    });
  }
  ~CountingSimulated() {
    train::register_backend("simulated", [](int, const train::LossLaw& law) { return train::make_simulated_backend(law); });
  }
};
}  // namespace

TEST_CASE("a run of more tokens than int64 counts is refused with the limit, before any work") {
  train::TrainConfig c = simulated_124m(0, 64);
  c.steps = 100'000'000'000'000'000;  // × 64 × 1024 tokens: 6.6e21, past 2^63
  CHECK_THROWS_WITH(train::train(c), Catch::Contains("steps = 100000000000000000 of batch × seq_len = 64 × 1024 = 65536 "
                                                     "tokens is 6.55e21 tokens, beyond the largest count") &&
                                         Catch::Contains("give at most steps = 140737488355327") &&
                                         !Catch::Contains("internal check"));
  c.steps = 140'737'488'355'327;  // the most: fits, and costs as little as any simulated run
  const train::RunResult r = train::train(c);
  CHECK(r.status == train::RunStatus::Done);
  CHECK(r.tokens == 140'737'488'355'327 * 65536);
  c.steps = 1;
  c.batch = 10'000'000'000'000'000;  // one step of 1e16 × 1024 tokens
  CHECK_THROWS_WITH(train::train(c), Catch::Contains("batch × seq_len = 10000000000000000 × 1024 = 1.02e19 "
                                                                     "tokens per step is beyond the largest count"));
  // With a sampler: the same refusal, before the sampler's (whose figures would overflow).
  MarkovSource markov(16, 16, 8, 5, 1);
  PlannedSource data(markov, 39);
  train::TrainConfig d = sampled_run(data);
  d.steps = 100'000'000'000'000'000;
  CHECK_THROWS_WITH(train::train(d), Catch::Contains("beyond the largest count scalelab handles") &&
                                         Catch::Contains("give at most steps = 72057594037927935"));
  CHECK(data.given() == 0);
}

TEST_CASE("a simulated run with checkpoints writes at most 1000 of them, whatever the interval") {
  const std::string path = std::string(SCALELAB_BINARY) + ".train-test-simulated-checkpoints.ckpt";
  std::remove(path.c_str());
  CountingSimulated counting;
  train::TrainConfig c = simulated_124m(2e7 * 8 * 1024, 8);  // 2e7 steps
  c.checkpoint = path;
  c.checkpoint_interval = 1000 * 8 * 1024;  // every 1000 steps: 20,000 checkpoints asked for
  const train::RunResult r = train::train(c);
  std::remove(path.c_str());
  REQUIRE(r.status == train::RunStatus::Done);
  CHECK(r.steps == 20'000'000);
  CHECK(counted_calls.steps == r.steps);
  CHECK(counted_calls.saves >= 999);
  CHECK(counted_calls.saves <= 1000);  // every 20,000 steps, the last one at the end
  CHECK(counted_calls.accumulate + counted_calls.advance <= 1 + 1000 + 20);  // checkpoints and evaluations
  // An interval already wider than steps / 1000 is kept.
  counted_calls = {};
  c.checkpoint_interval = int64_t{5'000'000} * 8 * 1024;
  train::train(c);
  std::remove(path.c_str());
  CHECK(counted_calls.saves == 4);  // at 5M, 10M, 15M steps and at the end
}

TEST_CASE("a truncated or corrupt checkpoint is refused with the sampler where it was") {
  const std::string path = std::string(SCALELAB_BINARY) + ".train-test-truncated.ckpt";
  std::remove(path.c_str());
  auto config = [&](PlannedSource& data) {
    train::TrainConfig c = sampled_run(data);
    c.steps = 12;
    c.checkpoint = path;
    return c;
  };
  MarkovSource m1(16, 16, 8, 5, 1);
  PlannedSource d1(m1, 39);
  REQUIRE(train::train(config(d1)).status == train::RunStatus::Done);
  REQUIRE(d1.given() == 12);
  const std::string whole = read_bytes(path);
  auto write = [&](const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  };
  // Cut inside the trailer (the run's seconds, after the sampler's position), and past its end.
  for (const std::string& bytes : {whole.substr(0, whole.size() - 4), whole.substr(0, whole.size() - 20), whole + "x"}) {
    write(bytes);
    MarkovSource m(16, 16, 8, 5, 1);
    PlannedSource d(m, 39);
    CHECK_THROWS_WITH(train::train(config(d)), Catch::Contains("is truncated or corrupted"));
    CHECK(d.given() == 0);
  }
  // A curve length no file could hold is refused as corrupt, not allocated.
  std::string huge = whole;
  const size_t magic = 8 + std::string("scalelab-checkpoint-2").size();
  size_t print_size = 0;
  std::memcpy(&print_size, huge.data() + magic, 8);
  const size_t curve_size_at = magic + 8 + print_size + 4 * 8;
  const uint64_t points = uint64_t(1) << 60;
  std::memcpy(&huge[curve_size_at], &points, 8);
  write(huge);
  MarkovSource m(16, 16, 8, 5, 1);
  PlannedSource d(m, 39);
  CHECK_THROWS_WITH(train::train(config(d)), Catch::Contains("is truncated or corrupted"));
  CHECK(d.given() == 0);
  // The whole file resumes the finished run.
  write(whole);
  MarkovSource m2(16, 16, 8, 5, 1);
  PlannedSource d2(m2, 39);
  CHECK(train::train(config(d2)).steps == 12);
  CHECK(d2.given() == 12);
  std::remove(path.c_str());
}

TEST_CASE("a resumed run that the sampler cannot finish is refused with the sampler where it was") {
  const std::string path = std::string(SCALELAB_BINARY) + ".train-test-resume-refused.ckpt";
  std::remove(path.c_str());
  auto config = [&](PlannedSource& data) {
    train::TrainConfig c = sampled_run(data);
    c.steps = 20;
    c.checkpoint = path;
    return c;
  };
  MarkovSource m1(16, 16, 8, 5, 1);
  PlannedSource d1(m1, 40);
  train::TrainConfig first = config(d1);
  first.progress = [](const train::Progress& p) {
    if (p.step == 5) request_interrupt();
  };
  REQUIRE(train::train(first).status == train::RunStatus::Interrupted);
  REQUIRE(d1.given() == 5);
  // Resumed on a sampler that plans 10 batches: 5 left after the checkpoint's 5, 15 needed.
  MarkovSource m2(16, 16, 8, 5, 1);
  PlannedSource d2(m2, 10);
  CHECK_THROWS_WITH(train::train(config(d2)), Catch::Contains("needs 1920 tokens (15 steps of 8 × 16)") &&
                                                  Catch::Contains("only 640 (5 batches) left"));
  CHECK(d2.given() == 0);  // the checkpoint's position was undone: the caller's sampler is as it was
  std::remove(path.c_str());
}

// ---- Robustness: Ctrl-C during evaluations, eval_tokens, checkpoint paths and foreign files ----

namespace {
// A held-out source that counts its batches, can ask for Ctrl-C at its n-th batch (as the host's
// SIGINT handler does, mid-evaluation), and can say it cycles after `pass` batches.
class CountingHeldOut final : public data::BatchSource {
 public:
  CountingHeldOut(MarkovSource& inner, int64_t interrupt_at = 0, int64_t pass = -1)
      : inner_(inner), interrupt_at_(interrupt_at), pass_(pass) {}
  int64_t vocab() const override { return inner_.vocab(); }
  int64_t seq_len() const override { return inner_.seq_len(); }
  int64_t batch() const override { return inner_.batch(); }
  void next_batch(std::vector<int32_t>& tokens) override {
    if (++calls_ == interrupt_at_) request_interrupt();
    inner_.next_batch(tokens);
  }
  int64_t batches_per_pass() const override { return pass_; }
  std::string state() const override { return inner_.state(); }
  void restore(const std::string& s) override { inner_.restore(s); }
  int64_t calls() const { return calls_; }

 private:
  MarkovSource& inner_;
  int64_t interrupt_at_, pass_, calls_ = 0;
};

// 30 steps of 32 rows × 16 tokens, evaluated every 4 steps on 8 held-out batches of 16 × 16.
train::TrainConfig evaluated_run(MarkovSource& data, data::BatchSource& held_out, const std::string& checkpoint) {
  MarkovSource unused(16, 16, 16, 5, 2);
  train::TrainConfig c = markov_run(data, unused, tiny(16, 16, 16, 2, 2), 30);
  c.eval_data = &held_out;
  c.batch = 32;
  c.eval_interval = 32 * 16 * 4;
  c.eval_tokens = 8 * 16 * 16;
  c.checkpoint = checkpoint;
  return c;
}
}  // namespace

TEST_CASE("Ctrl-C during an evaluation stops the run within a batch, and resuming gives the same bits") {
  const std::string base = std::string(SCALELAB_BINARY) + ".train-test-eval-interrupt-";
  const std::string full = base + "full.ckpt", part = base + "part.ckpt";
  std::remove(full.c_str());
  MarkovSource d1(16, 16, 16, 5, 1), h1(16, 16, 16, 5, 2);
  CountingHeldOut c1(h1);
  const train::RunResult a = train::train(evaluated_run(d1, c1, full));
  REQUIRE(a.status == train::RunStatus::Done);
  REQUIRE(a.curve.size() == 9);  // steps 0, 4, ..., 28 and 30
  // Batches 1-8 are the initial evaluation, 9-16 the one after step 4, 17-24 after step 8; Ctrl-C
  // at batch 3 (before any step) or 20 (in the evaluation after step 8).
  for (const int64_t at : {int64_t{3}, int64_t{20}}) {
    INFO("Ctrl-C at held-out batch " << at);
    const int64_t step = at <= 8 ? 0 : 8;
    std::remove(part.c_str());
    MarkovSource d2(16, 16, 16, 5, 1), h2(16, 16, 16, 5, 2);
    CountingHeldOut c2(h2, at);
    const train::RunResult stopped = train::train(evaluated_run(d2, c2, part));
    clear_interrupt();
    CHECK(stopped.status == train::RunStatus::Interrupted);
    CHECK(stopped.steps == step);
    CHECK(c2.calls() == at);  // not one held-out batch more: not the rest of it, nor another evaluation
    CHECK_THAT(stopped.message, Catch::Contains("during the held-out evaluation after " + std::to_string(step)));
    CHECK(stopped.curve.size() == static_cast<size_t>(step / 4));  // the interrupted evaluation made no point
    // Resumed with fresh sources: the evaluation runs again, and the run is the uninterrupted one.
    MarkovSource d3(16, 16, 16, 5, 1), h3(16, 16, 16, 5, 2);
    CountingHeldOut c3(h3);
    const train::RunResult resumed = train::train(evaluated_run(d3, c3, part));
    CHECK(resumed.status == train::RunStatus::Done);
    REQUIRE(resumed.curve.size() == a.curve.size());
    for (size_t i = 0; i < a.curve.size(); ++i) {
      INFO("point " << i);
      CHECK(resumed.curve[i].tokens == a.curve[i].tokens);
      CHECK(resumed.curve[i].train_loss == a.curve[i].train_loss);
      CHECK(resumed.curve[i].eval_loss == a.curve[i].eval_loss);
    }
    CHECK(resumed.best_loss == a.best_loss);
    const std::string fa = read_bytes(full), fb = read_bytes(part);
    CHECK(without_clock(fa) == without_clock(fb));
  }
  std::remove(full.c_str());
  std::remove(part.c_str());
}

TEST_CASE("an eval_tokens beyond what the held-out data gives is refused before any work, with the bound") {
  // A held-out source that cycles after 8 batches of 16 × 16 (2,048 tokens): at most 16 passes.
  MarkovSource d(16, 16, 16, 5, 1), h(16, 16, 16, 5, 2);
  CountingHeldOut held_out(h, 0, 8);
  PlannedSource data(d, 1000);
  MarkovSource unused(16, 16, 16, 5, 2);
  train::TrainConfig c = markov_run(d, unused, tiny(16, 16, 16, 2, 2), 1);
  c.data = &data;
  c.eval_data = &held_out;
  c.eval_tokens = 16 * 2048 + 1;  // 129 batches: just past 16 passes
  REQUIRE_THROWS_WITH(train::train(c), Catch::Contains("eval_tokens = 32769 asks each evaluation for 129 batches") &&
                                           Catch::Contains("holds 128 sequences of 16 tokens (2048 tokens, 8 batches) "
                                                           "and then repeats them") &&
                                           Catch::Contains("Give eval_tokens <= 2048 (the whole split; up to 32768, "
                                                           "16 passes of 8 batches, reads it once too)"));
  c.eval_tokens = 1'000'000'000'000;
  CHECK_THROWS_WITH(train::train(c), Catch::Contains("eval_tokens = 1000000000000 asks each evaluation for "
                                                     "3906250000 batches") &&
                                         Catch::Contains("Give eval_tokens <= 2048"));
  CHECK(data.given() == 0);
  CHECK(held_out.calls() == 0);
  c.eval_tokens = 16 * 2048;  // 16 passes: allowed, and read as one (the same batches, each counted once)
  CHECK(train::train(c).status == train::RunStatus::Done);
  CHECK(held_out.calls() == 2 * 8);
  // A source that does not cycle: eval_tokens is bounded by what it has left.
  MarkovSource d2(16, 16, 16, 5, 1), h2(16, 16, 16, 5, 2);
  PlannedSource data2(d2, 1000), finite(h2, 3);
  c.data = &data2;
  c.eval_data = &finite;
  c.eval_tokens = 1'000'000'000'000;
  CHECK_THROWS_WITH(train::train(c), Catch::Contains("eval_tokens = 1000000000000 asks each evaluation") &&
                                         Catch::Contains("eval_data has only 3 batches (768 tokens) to give") &&
                                         Catch::Contains("give eval_tokens <= 768"));
  CHECK(data2.given() == 0);
}

namespace {
// A held-out split of `rows` fixed sequences read in batches of `batch`, going round it as the data
// module's held-out source does. `tells` false hides how many rows a pass holds, as an earlier
// trainer saw such a split: it read its evaluations round it.
class CyclingHeldOut final : public data::BatchSource {
 public:
  CyclingHeldOut(int64_t T, int64_t batch, int64_t rows, bool tells) : T_(T), batch_(batch), rows_(rows), tells_(tells) {
    MarkovSource all(16, T, rows, 5, 2);
    all.next_batch(tokens_);
  }
  int64_t vocab() const override { return 16; }
  int64_t seq_len() const override { return T_; }
  int64_t batch() const override { return batch_; }
  void next_batch(std::vector<int32_t>& tokens) override {
    tokens.resize(static_cast<size_t>(batch_ * (T_ + 1)));
    for (int64_t b = 0; b < batch_; ++b, ++at_)
      std::copy_n(tokens_.begin() + (at_ % rows_) * (T_ + 1), T_ + 1, tokens.begin() + b * (T_ + 1));
  }
  int64_t batches_per_pass() const override { return tells_ ? (rows_ + batch_ - 1) / batch_ : -1; }
  int64_t rows_per_pass() const override { return tells_ ? rows_ : -1; }
  std::string state() const override { return std::to_string(at_); }
  void restore(const std::string& s) override { at_ = std::stoll(s); }

 private:
  int64_t T_, batch_, rows_;
  bool tells_;
  int64_t at_ = 0;
  std::vector<int32_t> tokens_;
};

// Replaces the fingerprint a checkpoint file holds by what `edit` makes of it.
void edit_fingerprint(const std::string& path, const std::function<std::string(const std::string&)>& edit) {
  std::string bytes = read_bytes(path);
  uint64_t magic_size = 0, print_size = 0;
  std::memcpy(&magic_size, bytes.data(), 8);
  const size_t at = 8 + magic_size;
  std::memcpy(&print_size, bytes.data() + at, 8);
  const std::string print = edit(bytes.substr(at + 8, print_size));
  const uint64_t size = print.size();
  bytes.replace(at, 8 + print_size, std::string(reinterpret_cast<const char*>(&size), 8) + print);
  std::ofstream(path, std::ios::binary) << bytes;
}
}  // namespace

// A held-out split smaller than an evaluation is read once, every sequence weighted equally (train.h):
// 15 sequences in batches of 8 are a batch of 8 and one whose first 7 rows count, so the held-out
// loss is (8·mean₈ + 7·mean₇)/15. The reference: a CpuGpt initialised with the run's seed (17) takes
// the 15 sequences in one pass. Counting the partial batch as a whole one gave (mean₈ + mean₇)/(15/8).
TEST_CASE("a held-out split read whole weighs its partial last batch by its rows: the loss is the mean over its sequences") {
  const GptConfig shape = tiny(16, 16, 16, 2, 2);
  MarkovSource all(16, 16, 15, 5, 2);  // the sequences CyclingHeldOut(16, 8, 15) holds
  std::vector<int32_t> sequences;
  all.next_batch(sequences);
  CpuGpt reference(shape, 15, 1);
  reference.init(17);
  const double expected = reference.forward(sequences.data(), 15, 16);
  MarkovSource data(16, 16, 16, 5, 1), unused(16, 16, 16, 5, 2);
  CyclingHeldOut held(16, 8, 15, true);
  train::TrainConfig c = markov_run(data, unused, shape, 1);
  c.eval_data = &held;
  c.eval_tokens = 0;  // the default 16 batches: more than the split, which is read once
  const train::RunResult r = train::train(c);
  REQUIRE(r.status == train::RunStatus::Done);
  REQUIRE(!r.curve.empty());
  CHECK(r.curve[0].eval_loss == Approx(expected).epsilon(1e-6));  // the initial parameters'
}

TEST_CASE("a checkpoint that an earlier version made of a run on a small held-out split resumes\, measuring as it did") {
  const std::string part = std::string(SCALELAB_BINARY) + ".train-test-old-measure.ckpt";
  // 15 held-out sequences of 16 tokens in batches of 8: earlier versions went round them (the
  // default's 16 batches, or eval_tokens' 3), counting some twice as often as others; this one
  // reads the 15 once. The checkpoint's identity held that measure, and it was refused.
  for (const int64_t eval_tokens : {int64_t{0}, int64_t{3 * 8 * 16}}) {
    INFO("eval_tokens = " << eval_tokens);
    auto run = [&](bool tells, const std::string& path, int64_t stop_at) {
      MarkovSource d(16, 16, 16, 5, 1), unused(16, 16, 16, 5, 2);
      CyclingHeldOut held(16, 8, 15, tells);
      train::TrainConfig c = markov_run(d, unused, tiny(16, 16, 16, 2, 2), 12);
      c.eval_data = &held;
      c.eval_tokens = eval_tokens;
      c.eval_interval = 16 * 16 * 4;
      c.checkpoint = path;
      if (stop_at > 0)
        c.progress = [stop_at](const train::Progress& p) {
          if (p.step == stop_at) request_interrupt();
        };
      return train::train(c);
    };
    const train::RunResult old_whole = run(false, "", 0), new_whole = run(true, "", 0);
    REQUIRE(old_whole.status == train::RunStatus::Done);
    CHECK(old_whole.final_loss != new_whole.final_loss);  // two measures
    // An earlier version's run stopped at step 6 (its checkpoint: 16 or 3 batches of 8 × 16), resumed here.
    std::remove(part.c_str());
    REQUIRE(run(false, part, 6).status == train::RunStatus::Interrupted);
    clear_interrupt();
    CHECK_THAT(read_bytes(part), Catch::Contains(eval_tokens == 0 ? "; held-out 16 x 8 x 16" : "; held-out 3 x 8 x 16"));
    const train::RunResult resumed = run(true, part, 0);
    REQUIRE(resumed.status == train::RunStatus::Done);
    // The run it would have been: its curve and best loss measured alike throughout.
    REQUIRE(resumed.curve.size() == old_whole.curve.size());
    for (size_t i = 0; i < resumed.curve.size(); ++i) CHECK(resumed.curve[i].eval_loss == old_whole.curve[i].eval_loss);
    CHECK(resumed.final_loss == old_whole.final_loss);
    CHECK(resumed.best_loss == old_whole.best_loss);
    CHECK_THAT(resumed.note, Catch::Contains(std::string("resumed from a checkpoint made by an earlier scalelab, whose "
                                                         "evaluations read ") +
                                             (eval_tokens == 0 ? "16 batches of 8 × 16 (the default)"
                                                               : "3 batches of 8 × 16 (eval_tokens = 384)") +
                                             " going round the held-out data's 15 sequences") &&
                                 Catch::Contains("resume = false starts it over") &&
                                 !Catch::Contains("reads every held-out sequence once, each weighted equally"));
    // This version's checkpoint of the run resumes as this version's run.
    std::remove(part.c_str());
    REQUIRE(run(true, part, 6).status == train::RunStatus::Interrupted);
    clear_interrupt();
    CHECK_THAT(read_bytes(part), Catch::Contains("; held-out 2 x 8 x 16, 15 rows"));
    const train::RunResult again = run(true, part, 0);
    CHECK(again.final_loss == new_whole.final_loss);
    CHECK_THAT(again.note, !Catch::Contains("earlier scalelab"));
    // The default's whole split as the version before this one wrote it (without its rows) resumes too.
    if (eval_tokens == 0) {
      std::remove(part.c_str());
      REQUIRE(run(true, part, 6).status == train::RunStatus::Interrupted);
      clear_interrupt();
      edit_fingerprint(part, [](const std::string& print) {
        const size_t rows = print.find(", 15 rows");
        REQUIRE(rows != std::string::npos);
        return print.substr(0, rows) + print.substr(rows + 9);
      });
      const train::RunResult before = run(true, part, 0);
      CHECK(before.status == train::RunStatus::Done);
      CHECK(before.final_loss == new_whole.final_loss);
      CHECK_THAT(before.note, !Catch::Contains("earlier scalelab"));
    }
    // Another measure is still another run's (4 batches: no version measured this run so).
    std::remove(part.c_str());
    REQUIRE(run(false, part, 6).status == train::RunStatus::Interrupted);
    clear_interrupt();
    edit_fingerprint(part, [](const std::string& print) {
      const size_t at = print.find("; held-out ");
      return print.substr(0, at) + "; held-out 4 x 8 x 16" + print.substr(print.find(" x 16", at) + 5);
    });
    CHECK_THROWS_WITH(run(true, part, 0), Catch::Contains("belongs to another run: it was made with held-out 4 x 8 x 16, "
                                                          "this run has held-out 2 x 8 x 16, 15 rows (the held-out measure") &&
                                              Catch::Contains("give eval_tokens = 512 (4 batches) to resume it"));
  }
  std::remove(part.c_str());
}

TEST_CASE("a run resumed from an earlier version's measure keeps it over later resumes\, and so does a checkpoint that records none") {
  // The run resumed from an earlier version's checkpoint (its evaluations going round a 15-sequence
  // split) wrote its own checkpoints as this version's run: stopped and resumed again, it went on
  // reading the split once, its curve then of two measures. A checkpoint of a version that recorded
  // no held-out measure (all of them went round the split) resumed reading it once, mixing them too.
  const std::string part = std::string(SCALELAB_BINARY) + ".train-test-old-measure-kept.ckpt";
  auto run = [&](bool tells, const std::string& path, int64_t stop_at) {
    MarkovSource d(16, 16, 16, 5, 1), unused(16, 16, 16, 5, 2);
    CyclingHeldOut held(16, 8, 15, tells);
    train::TrainConfig c = markov_run(d, unused, tiny(16, 16, 16, 2, 2), 12);
    c.eval_data = &held;
    c.eval_tokens = 0;
    c.eval_interval = 16 * 16 * 2;
    c.checkpoint = path;
    if (stop_at > 0)
      c.progress = [stop_at](const train::Progress& p) {
        if (p.step == stop_at) request_interrupt();
      };
    const train::RunResult r = train::train(c);
    clear_interrupt();
    return r;
  };
  const train::RunResult old_whole = run(false, "", 0), new_whole = run(true, "", 0);
  REQUIRE(old_whole.final_loss != new_whole.final_loss);
  auto same_as_old = [&](const train::RunResult& r) {
    REQUIRE(r.status == train::RunStatus::Done);
    REQUIRE(r.curve.size() == old_whole.curve.size());
    for (size_t i = 0; i < r.curve.size(); ++i) CHECK(r.curve[i].eval_loss == old_whole.curve[i].eval_loss);
    CHECK(r.best_loss == old_whole.best_loss);
  };
  // An earlier version's run stopped at step 4, resumed here and stopped at step 8, resumed again.
  std::remove(part.c_str());
  REQUIRE(run(false, part, 4).status == train::RunStatus::Interrupted);
  const train::RunResult middle = run(true, part, 8);
  REQUIRE(middle.status == train::RunStatus::Interrupted);
  CHECK_THAT(read_bytes(part), Catch::Contains("; held-out 16 x 8 x 16") && !Catch::Contains("15 rows"));
  const train::RunResult twice = run(true, part, 0);
  same_as_old(twice);
  CHECK_THAT(twice.note, Catch::Contains("resumed from a checkpoint made by an earlier scalelab"));
  // A checkpoint of a version that recorded no held-out measure (its fingerprint ends at the seed).
  std::remove(part.c_str());
  REQUIRE(run(false, part, 4).status == train::RunStatus::Interrupted);
  edit_fingerprint(part, [](const std::string& print) { return print.substr(0, print.find("; held-out ")); });
  const train::RunResult legacy = run(true, part, 0);
  same_as_old(legacy);
  CHECK_THAT(legacy.note, Catch::Contains("resumed from a checkpoint made by an earlier scalelab, whose evaluations "
                                          "read 16 batches of 8 × 16 (the default) going round the held-out data's 15 "
                                          "sequences, counting some more often than others (that version's checkpoints "
                                          "do not record the held-out measure: its evaluations are taken to be of this "
                                          "run's eval_tokens); the run goes on measuring so"));
  std::remove(part.c_str());
}

TEST_CASE("a checkpoint's folder is made before the first step, and one that cannot be is refused before it") {
  const std::string base = std::string(SCALELAB_BINARY) + ".train-test-checkpoint-folder";
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(base);
  MarkovSource m1(16, 16, 8, 5, 1);
  PlannedSource d1(m1, 39);
  train::TrainConfig c = sampled_run(d1);
  c.steps = 4;
  // A folder that does not exist yet is made (as a results store's is), and the run saves there.
  c.checkpoint = base + "/new/sub/run.ckpt";
  CHECK(train::train(c).status == train::RunStatus::Done);
  CHECK(std::filesystem::is_regular_file(c.checkpoint));
  // Under a file, no folder can be made: refused before any batch is drawn, naming the path.
  { std::ofstream(base + "/file") << "x"; }
  MarkovSource m2(16, 16, 8, 5, 1);
  PlannedSource d2(m2, 39);
  c.data = &d2;
  c.checkpoint = base + "/file/run.ckpt";
  CHECK_THROWS_WITH(train::train(c), Catch::Contains("checkpoint = \"" + c.checkpoint + "\"") &&
                                         Catch::Contains("give a checkpoint path in a folder you can write"));
  c.checkpoint = base + "/file/more/run.ckpt";
  CHECK_THROWS_WITH(train::train(c), Catch::Contains("cannot create the folder '" + base + "/file/more'") &&
                                         Catch::Contains("give a checkpoint path in a folder you can write"));
  // A folder given as the checkpoint: refused, with a file path in it to give instead.
  c.checkpoint = base + "/new";
  CHECK_THROWS_WITH(train::train(c), Catch::Contains("is a folder; give the path of a file in it (checkpoint = \"" +
                                                     base + "/new/run.ckpt\")"));
  CHECK(d2.given() == 0);
  // A folder that cannot be written: refused before any batch. Root writes anywhere, so the run goes
  // in a child process that, as root, drops to nobody first; the child reports the error it got.
  const std::string read_only = base + "/read-only";
  std::filesystem::create_directories(read_only);
  ::chmod(read_only.c_str(), 0555);
  c.checkpoint = read_only + "/run.ckpt";
  const std::string message = scalelab::testing::in_child_without_root([&] {
    std::string what = "trained";
    try {
      train::train(c);
    } catch (const std::exception& e) {
      what = e.what();
    }
    if (d2.given() != 0) what += " (after drawing a batch)";
    return what;
  });
  INFO(message);
  CHECK(message.find("checkpoint = \"" + c.checkpoint + "\" cannot be written") != std::string::npos);
  CHECK(message.find("give a checkpoint path in a folder you can write") != std::string::npos);
  CHECK(message.find("after drawing a batch") == std::string::npos);
  ::chmod(read_only.c_str(), 0755);
  std::filesystem::remove_all(base);
}

TEST_CASE("a checkpoint path holding another file, or a broken checkpoint, is refused with what to do") {
  const std::string path = std::string(SCALELAB_BINARY) + ".train-test-foreign.ckpt";
  auto config = [&](PlannedSource& data) {
    train::TrainConfig c = sampled_run(data);
    c.steps = 4;
    c.checkpoint = path;
    return c;
  };
  auto write = [&](const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  };
  // Some other file: not called a corrupt checkpoint, and not to be written over unasked.
  for (const std::string& other : {std::string("step,loss\n1,2.5\n"), std::string(64, '\xff')}) {
    write(other);
    MarkovSource m(16, 16, 8, 5, 1);
    PlannedSource d(m, 39);
    CHECK_THROWS_WITH(train::train(config(d)),
                      Catch::Contains("checkpoint = \"" + path + "\" is not a scalelab checkpoint but some other file") &&
                          Catch::Contains("give another checkpoint path, or delete that file") &&
                          !Catch::Contains("truncated"));
    CHECK(d.given() == 0);
    CHECK(read_bytes(path) == other);  // left as it was
  }
  // A real checkpoint cut short (at its start, in its middle) or emptied: truncated, with the fix.
  MarkovSource m1(16, 16, 8, 5, 1);
  PlannedSource d1(m1, 39);
  std::remove(path.c_str());
  REQUIRE(train::train(config(d1)).status == train::RunStatus::Done);
  const std::string whole = read_bytes(path);
  for (const size_t keep : {size_t{0}, size_t{12}, whole.size() / 2}) {
    INFO("first " << keep << " bytes");
    write(whole.substr(0, keep));
    MarkovSource m(16, 16, 8, 5, 1);
    PlannedSource d(m, 39);
    CHECK_THROWS_WITH(train::train(config(d)),
                      Catch::Contains("checkpoint " + path + " is truncated or corrupted; delete it or pass resume = "
                                      "false to start over") &&
                          Catch::Contains("or give another checkpoint path"));
    CHECK(d.given() == 0);
  }
  // A later format: said to be a newer scalelab's, with its version and this binary's, and what to do
  // (it said "another version of scalelab (format 'scalelab-checkpoint-9', this one reads ...)").
  std::string later = whole;
  later[8 + std::string("scalelab-checkpoint-").size()] = '9';
  write(later);
  MarkovSource m(16, 16, 8, 5, 1);
  PlannedSource d(m, 39);
  CHECK_THROWS_WITH(train::train(config(d)),
                    Catch::Contains("checkpoint " + path + " was written by a newer scalelab, format v9; this binary "
                                    "reads up to v4: resume it with that scalelab (or a newer one)") &&
                        Catch::Contains("pass resume = false to start over") && !Catch::Contains("held-out") &&
                        !Catch::Contains("another run"));
  CHECK(d.given() == 0);
  // A version of two digits, its length prefix one longer: the same.
  const std::string tag = "scalelab-checkpoint-4";
  const uint64_t longer = tag.size() + 1;
  std::string v12(reinterpret_cast<const char*>(&longer), 8);
  write(v12 + "scalelab-checkpoint-12" + whole.substr(8 + tag.size()));
  MarkovSource m12(16, 16, 8, 5, 1);
  PlannedSource d12(m12, 39);
  CHECK_THROWS_WITH(train::train(config(d12)), Catch::Contains("was written by a newer scalelab, format v12; this binary "
                                                               "reads up to v4"));
  // An earlier one it does not know (none is below 1) is still another version's.
  std::string zero = whole;
  zero[8 + std::string("scalelab-checkpoint-").size()] = '0';
  write(zero);
  MarkovSource m0(16, 16, 8, 5, 1);
  PlannedSource d0(m0, 39);
  CHECK_THROWS_WITH(train::train(config(d0)), Catch::Contains("was written by another version of scalelab (format "
                                                              "'scalelab-checkpoint-0'"));
  std::remove(path.c_str());
}

TEST_CASE("a checkpoint records its thread count: a resume on another says it is not the bitwise continuation\, and older checkpoints still resume") {
  const std::string dir = scalelab::testing::temp_dir();
  const std::string path = dir + "/run.ckpt";
  auto config = [&](PlannedSource& data, int threads) {
    train::TrainConfig c = sampled_run(data);
    c.steps = 12;
    c.threads = threads;
    c.checkpoint = path;
    c.checkpoint_interval = 16 * 8;  // every step
    return c;
  };
  // Stopped after 5 of 12 steps on 1 thread (the progress function throws, as a Lua one raising does).
  auto stop_at_5 = [&](int threads) {
    std::remove(path.c_str());
    MarkovSource m(16, 16, 8, 5, 1);
    PlannedSource d(m, 39);
    train::TrainConfig c = config(d, threads);
    c.progress = [](const train::Progress& p) {
      if (p.step == 5) throw Error("stop here");
    };
    CHECK_THROWS_WITH(train::train(c), "stop here");
  };
  MarkovSource m0(16, 16, 8, 5, 1);
  PlannedSource d0(m0, 39);
  train::TrainConfig whole = config(d0, 1);
  whole.checkpoint.clear();
  whole.checkpoint_interval = 0;
  const train::RunResult one_thread = train::train(whole);
  CHECK(one_thread.note.empty());

  // Resumed on the same count: bitwise the uninterrupted run, nothing to say.
  stop_at_5(1);
  const std::string at_5 = read_bytes(path);
  MarkovSource m1(16, 16, 8, 5, 1);
  PlannedSource d1(m1, 39);
  const train::RunResult same = train::train(config(d1, 1));
  REQUIRE(same.status == train::RunStatus::Done);
  CHECK(same.note.empty());
  CHECK(same.final_train_loss == one_thread.final_train_loss);

  // Resumed on 2 threads: it goes on (a checkpoint must move to another machine) and says so.
  std::ofstream(path, std::ios::binary | std::ios::trunc) << at_5;
  MarkovSource m2(16, 16, 8, 5, 1);
  PlannedSource d2(m2, 39);
  const train::RunResult other = train::train(config(d2, 2));
  REQUIRE(other.status == train::RunStatus::Done);
  CHECK(other.steps == 12);
  CHECK(other.note ==
        "resumed on 2 threads from a checkpoint made on 1: the continuation is not bitwise the one 1 thread gives; "
        "threads = 1 for that");
  CHECK_THAT(other.BriefReport(), Catch::Contains("(note: resumed on 2 threads from a checkpoint made on 1"));
  // Its checkpoints are now of a run on 2 threads: resuming them on 2 says nothing more.
  MarkovSource m3(16, 16, 8, 5, 1);
  PlannedSource d3(m3, 39);
  CHECK(train::train(config(d3, 2)).note.empty());
  MarkovSource m4(16, 16, 8, 5, 1);
  PlannedSource d4(m4, 39);
  CHECK_THAT(train::train(config(d4, 1)).note, Catch::StartsWith("resumed on 1 thread from a checkpoint made on 2: "
                                                                 "the continuation is not bitwise the one 2 threads give"));

  // Checkpoints of the formats before still resume as they did: 3 (no held-out source's state at its
  // end: an empty one here, 8 bytes of length), and 2 (no thread count after the run's seconds either),
  // on any count then, as what it was made on is not known.
  const size_t version_at = 8 + std::string("scalelab-checkpoint-").size();
  REQUIRE(at_5.substr(8, version_at - 8 + 1) == "scalelab-checkpoint-4");
  REQUIRE(at_5.substr(at_5.size() - 8) == std::string(8, '\0'));
  for (const auto& [version, cut] : {std::pair{'3', size_t{8}}, std::pair{'2', size_t{16}}}) {
    INFO("format " << version);
    std::string older = at_5.substr(0, at_5.size() - cut);
    older[version_at] = version;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << older;
    MarkovSource m5(16, 16, 8, 5, 1);
    PlannedSource d5(m5, 39);
    const train::RunResult legacy = train::train(config(d5, 1));
    REQUIRE(legacy.status == train::RunStatus::Done);
    CHECK(legacy.final_train_loss == one_thread.final_train_loss);
    CHECK(legacy.note.empty());
  }

  // The simulated backend's numbers do not depend on the threads: nothing to say.
  train::TrainConfig s = simulated_small(64 * 8 * 64);
  s.checkpoint = dir + "/simulated.ckpt";
  s.threads = 1;
  s.progress = [](const train::Progress& p) {
    if (p.step >= 8) throw Error("stop here");
  };
  CHECK_THROWS_WITH(train::train(s), "stop here");
  s.progress = nullptr;
  s.threads = 2;
  const train::RunResult simulated = train::train(s);
  CHECK(simulated.status == train::RunStatus::Done);
  CHECK(simulated.note.empty());
}

TEST_CASE("a checkpoint that cannot be written does not lose the run: its result comes back with a note") {
  const std::string dir = scalelab::testing::temp_dir();
  const std::string folder = dir + "/checkpoints";
  const std::string path = folder + "/run.ckpt";
  auto config = [&](PlannedSource& data) {
    train::TrainConfig c = sampled_run(data);
    c.steps = 12;
    c.checkpoint = path;
    return c;
  };
  MarkovSource m0(16, 16, 8, 5, 1);
  PlannedSource d0(m0, 39);
  train::TrainConfig plain = config(d0);
  plain.checkpoint.clear();
  const train::RunResult expected = train::train(plain);

  // The final checkpoint: its folder replaced by a file during the last step.
  std::filesystem::remove_all(folder);
  MarkovSource m1(16, 16, 8, 5, 1);
  PlannedSource d1(m1, 39);
  train::TrainConfig c = config(d1);
  c.progress = [&](const train::Progress& p) {
    if (p.step == p.steps) {
      std::filesystem::remove_all(folder);
      std::ofstream(folder) << "in the way";
    }
  };
  train::RunResult r;
  REQUIRE_NOTHROW(r = train::train(c));
  CHECK(r.status == train::RunStatus::Done);
  CHECK(r.steps == 12);
  CHECK(r.final_train_loss == expected.final_train_loss);
  CHECK(r.checkpoint_failed);
  CHECK_THAT(r.note, Catch::StartsWith("the checkpoint " + path + " could not be written at step 12 (cannot write the "
                                       "checkpoint " + path + ".tmp (Not a directory)") &&
                         Catch::EndsWith("; no checkpoint is there now, so a resume starts over; make room, or give a "
                                         "checkpoint path you can write"));
  CHECK_THAT(r.BriefReport(), Catch::Contains("(note: the checkpoint " + path + " could not be written"));

  // Checkpoints along the way: those the run cannot write are skipped, the run goes on, and the next
  // ones (the folder back) are written.
  std::filesystem::remove_all(folder);
  MarkovSource m2(16, 16, 8, 5, 1);
  PlannedSource d2(m2, 39);
  c = config(d2);
  c.checkpoint_interval = 16 * 8;  // every step
  c.progress = [&](const train::Progress& p) {
    if (p.step == 3) std::filesystem::remove_all(folder);
    if (p.step == 6) std::filesystem::create_directories(folder);
  };
  REQUIRE_NOTHROW(r = train::train(c));
  CHECK(r.status == train::RunStatus::Done);
  CHECK(r.final_train_loss == expected.final_train_loss);
  CHECK_FALSE(r.checkpoint_failed);
  CHECK_THAT(r.note, Catch::StartsWith("the checkpoint " + path + " could not be written at step 4, and 2 later ones (") &&
                         Catch::EndsWith("the run went on, and its last checkpoint, of step 12, was written"));
  // Writes that fail to the end leave the last one written, which a resume goes back to.
  std::filesystem::remove(path);
  MarkovSource m4(16, 16, 8, 5, 1);
  PlannedSource d4(m4, 39);
  c = config(d4);
  c.checkpoint_interval = 16 * 8;
  const std::string blocked = path + ".tmp";
  c.progress = [&](const train::Progress& p) {
    if (p.step == 9) std::filesystem::create_directories(blocked);  // the next writes cannot make their file
  };
  REQUIRE_NOTHROW(r = train::train(c));
  std::filesystem::remove_all(blocked);
  CHECK(r.final_train_loss == expected.final_train_loss);
  CHECK(r.checkpoint_failed);
  CHECK_THAT(r.note, Catch::StartsWith("the checkpoint " + path + " could not be written at step 10, and 2 later ones (") &&
                         Catch::EndsWith("; the last one written there is of step 9, where a resume goes back to; "
                                         "make room, or give a checkpoint path you can write"));
  MarkovSource m3(16, 16, 8, 5, 1);
  PlannedSource d3(m3, 39);
  const train::RunResult resumed = train::train(config(d3));
  CHECK(resumed.final_train_loss == expected.final_train_loss);
  CHECK(resumed.steps == 12);  // from the checkpoint of step 9, to the same end

  // A disk that fills: in a child whose files may not grow past 4 KiB, every write of the checkpoint
  // (tens of KiB) fails; the run ends with its numbers and says why.
  std::filesystem::remove_all(folder);
  const std::string message = scalelab::testing::in_child([&] {
    std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit {};
    limit.rlim_cur = limit.rlim_max = 4096;
    ::setrlimit(RLIMIT_FSIZE, &limit);
    MarkovSource m(16, 16, 8, 5, 1);
    PlannedSource d(m, 39);
    const train::RunResult full = train::train(config(d));
    return str(train::status_name(full.status), " ", full.final_train_loss == expected.final_train_loss ? "same" : "other", " ",
               full.note);
  });
  CHECK_THAT(message, Catch::StartsWith("done same the checkpoint " + path + " could not be written at step 12") &&
                          Catch::Contains("File too large"));
}
