#include "model/gemm_blocked.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "model/huge_pages.h"

namespace scalelab::model::detail {

namespace {

// Packing space, one per thread, grown on demand, aligned for whole-vector loads (op(A)'s blocks,
// up to 8 MiB, on huge pages), with room for the tests' guard after the n floats asked for.
struct PackBuffer {
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, Free> data;
  int64_t floats = 0;
  float* get(int64_t n) {
    if (n > floats) {
      data.reset(static_cast<float*>(huge_page_alloc(static_cast<size_t>(n + kPackGuardFloats) * sizeof(float))));
      floats = n;
    }
    return data.get();
  }
};

std::atomic<bool> guards_on{false};
std::atomic<int64_t> guard_breaches{0};
constexpr uint32_t kGuardBits = 0x7FC0DEADu;  // a quiet NaN no packer computes

void write_guard(float* p) {
  for (int64_t i = 0; i < kPackGuardFloats; ++i) std::memcpy(p + i, &kGuardBits, sizeof kGuardBits);
}

bool guard_intact(const float* p) {
  for (int64_t i = 0; i < kPackGuardFloats; ++i) {
    uint32_t bits;
    std::memcpy(&bits, p + i, sizeof bits);
    if (bits != kGuardBits) return false;
  }
  return true;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

void gemm_blocked(const Blocking& z, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
                  const GemmEpilogue& epilogue) {
  thread_local PackBuffer a_space, b_space;
  const int64_t mc_max = std::min(m, z.mc), kc_max = std::min(k, z.kc);
  const int64_t a_floats = mc_max * kc_max + z.a_slack;
  const int64_t b_floats = (std::min(n, z.nc) + z.nr - 1) / z.nr * z.nr * kc_max;
  float* ap = a_space.get(a_floats);
  float* bp = b_space.get(b_floats);
  const bool guarded = guards_on.load(std::memory_order_relaxed);
  if (guarded) {
    write_guard(ap + a_floats);
    write_guard(bp + b_floats);
  }
  for (int64_t p0 = 0; p0 < k; p0 += z.kc) {
    const int64_t kc = std::min(z.kc, k - p0);
    const bool first = p0 == 0, last = p0 + kc == k;
    for (int64_t i0 = 0; i0 < m; i0 += z.mc) {
      const int64_t mc = std::min(z.mc, m - i0);
      if (epilogue.a_row_sums)
        z.pack_a_sums(trans_a, a, lda, i0, mc, p0, kc, ap, epilogue.a_row_sums + i0);
      else
        z.pack_a(trans_a, a, lda, i0, mc, p0, kc, ap, nullptr);
      for (int64_t j0 = 0; j0 < n; j0 += z.nc) {
        const int64_t nc = std::min(z.nc, n - j0);
        z.pack_b(trans_b, b, ldb, p0, kc, j0, nc, bp);
        for (int64_t ir = 0; ir < mc; ir += z.mr) {
          const int mr = static_cast<int>(std::min<int64_t>(z.mr, mc - ir));
          const MicroKernel kernel = z.micro_kernels[mr];
          float* c_rows = c + (i0 + ir) * ldc + j0;
          for (int64_t jr = 0; jr < nc; jr += z.nr) {
            TileEpilogue extra;
            if (last) {
              if (epilogue.bias) extra.bias = epilogue.bias + j0 + jr;
              if (epilogue.residual) {
                extra.residual = epilogue.residual + (i0 + ir) * epilogue.ld_residual + j0 + jr;
                extra.ld_residual = epilogue.ld_residual;
              }
            }
            kernel(kc, ap + ir * kc, bp + jr * kc, c_rows + jr, ldc,
                   static_cast<int>(std::min<int64_t>(z.nr, nc - jr)), alpha, beta, first, extra);
          }
        }
      }
    }
  }
  if (guarded && !(guard_intact(ap + a_floats) && guard_intact(bp + b_floats))) guard_breaches.fetch_add(1);
}

void set_pack_guards(bool on) { guards_on.store(on); }

int64_t pack_guard_breaches() { return guard_breaches.load(); }

MicroKernelRate measure_blocking(const Blocking& z, double (*fma_loop)(int64_t), double fma_step_flops,
                                 double seconds) {
  const int64_t panels_a = 1024 / z.mr, panels_b = 256 / z.nr, kc = z.kc, ldc = panels_b * z.nr;
  FloatBuffer a(panels_a * z.mr * kc), b(panels_b * z.nr * kc), c(panels_a * z.mr * ldc);  // 64-byte aligned
  for (size_t i = 0; i < a.size(); ++i) a[i] = 0.001f * static_cast<float>(i % 7);
  for (size_t i = 0; i < b.size(); ++i) b[i] = 0.001f * static_cast<float>(i % 5);
  const TileEpilogue none;
  const MicroKernel kernel = z.micro_kernels[z.mr];
  auto pass = [&] {
    for (int64_t i = 0; i < panels_a; ++i)
      for (int64_t j = 0; j < panels_b; ++j)
        kernel(kc, a.data() + i * z.mr * kc, b.data() + j * z.nr * kc, c.data() + i * z.mr * ldc + j * z.nr, ldc,
               z.nr, 1.0f, 0.0f, true, none);
  };
  pass();  // warm-up
  MicroKernelRate rate;
  int passes = 0;
  const auto t0 = std::chrono::steady_clock::now();
  double elapsed = 0;
  do {
    pass();
    ++passes;
    elapsed = seconds_since(t0);
  } while (elapsed < seconds);
  rate.kernel_gflops = 2.0 * z.mr * z.nr * kc * panels_a * panels_b * passes / elapsed / 1e9;
  // The FMA loop: a short call sizes the timed one.
  int64_t steps = 1 << 20;
  auto t1 = std::chrono::steady_clock::now();
  volatile double sink = fma_loop(steps);
  steps = std::max<int64_t>(steps, static_cast<int64_t>(steps * seconds / seconds_since(t1)));
  t1 = std::chrono::steady_clock::now();
  sink = fma_loop(steps);
  rate.fma_gflops = fma_step_flops * static_cast<double>(steps) / seconds_since(t1) / 1e9;
  (void)sink;
  return rate;
}

}  // namespace scalelab::model::detail
