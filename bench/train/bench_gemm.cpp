// bench/train/bench_gemm: the CPU trainer's matrix-product kernels side by side, in the same run.
//
// 0. Our widest micro-kernel (AVX-512, else AVX2) alone against a loop of independent FMAs (the core's peak), on one thread,
//    then on two at once.
// 1. Each product shape of one layer of the largest issue-6 config (L 8, d 512, ctx 256, batch 8:
//    1024 rows per replica), on 2 threads at once as the trainer runs them, every kernel timed in
//    turn (best of 8 alternations), GFLOP/s per thread.
// 2. Whole training steps of that config, the kernels alternating step by step, median step time.
//
// usage: bench_gemm [steps per kernel, default 12]
#include <algorithm>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "model/gemm.h"
#include "model/gemm_avx2.h"
#include "model/gemm_avx512.h"
#include "model/rng.h"
#include "train/cpu_backend.h"

using namespace scalelab;
using model::GemmKernel;

namespace {

struct Shape {
  const char* name;
  bool trans_a, trans_b;
  int64_t m, n, k;
  bool bias, residual;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int steps = argc > 1 ? std::atoi(argv[1]) : 12;
  std::vector<GemmKernel> kernels;
  std::vector<const char*> names;
  for (auto [kernel, name] : {std::pair{GemmKernel::Avx512, "avx512 (ours)"}, std::pair{GemmKernel::Avx2, "avx2 (ours)"},
                              std::pair{GemmKernel::OpenBlas, "openblas"}})
    if (model::gemm_available(kernel)) {
      kernels.push_back(kernel);
      names.push_back(name);
    }
  if (kernels.empty()) {
    std::printf("neither our kernels nor OpenBLAS is available here: nothing to compare\n");
    return 0;
  }
  for (size_t w = 0; w < kernels.size(); ++w) {
    model::gemm_select(kernels[w]);
    std::printf("%-14s = %s\n", names[w], model::gemm_backend().c_str());
  }

  // Our widest micro-kernel: 14x32 on AVX-512, else 6x16 on AVX2.
  const bool wide = model::gemm_available(GemmKernel::Avx512);
  if (wide || model::gemm_available(GemmKernel::Avx2)) {
    auto measure = [wide] {
      return wide ? model::detail::measure_micro_kernel(2.0) : model::detail::measure_micro_kernel_avx2(2.0);
    };
    const auto rate = measure();
    std::printf("\nour %s micro-kernel alone (packed, in cache, one thread): %.1f GFLOP/s; a loop of "
                "independent FMAs on the same thread: %.1f GFLOP/s (%.0f%%)\n",
                wide ? "14x32 AVX-512" : "6x16 AVX2", rate.kernel_gflops, rate.fma_gflops,
                100 * rate.kernel_gflops / rate.fma_gflops);
    // The same on both cores at once, as the trainer runs: the clock may be lower with two busy.
    model::detail::MicroKernelRate both[2];
    std::thread other([&] { both[1] = measure(); });
    both[0] = measure();
    other.join();
    std::printf("the same on 2 threads at once, per thread: micro-kernel %.1f and %.1f GFLOP/s; FMA loop "
                "%.1f and %.1f GFLOP/s\n",
                both[0].kernel_gflops, both[1].kernel_gflops, both[0].fma_gflops, both[1].fma_gflops);
  }

  // One layer's products for 1024 rows, d 512, d_ff 2048 (forward, input gradient, weight gradient).
  const Shape shapes[] = {
      {"fwd qkv", false, true, 1024, 1536, 512, true, false},
      {"fwd attproj", false, true, 1024, 512, 512, true, true},
      {"fwd fc", false, true, 1024, 2048, 512, true, false},
      {"fwd fcproj", false, true, 1024, 512, 2048, true, true},
      {"dx qkv", false, false, 1024, 512, 1536, false, false},
      {"dx attproj", false, false, 1024, 512, 512, false, false},
      {"dx fc", false, false, 1024, 512, 2048, false, false},
      {"dx fcproj", false, false, 1024, 2048, 512, false, false},
      {"dw qkv", true, false, 1536, 512, 1024, false, false},
      {"dw attproj", true, false, 512, 512, 1024, false, false},
      {"dw fc", true, false, 2048, 512, 1024, false, false},
      {"dw fcproj", true, false, 512, 2048, 1024, false, false},
  };
  constexpr int kThreads = 2, kTrials = 8, kReps = 6;
  std::printf("\nproducts (M x N x K), %d threads at once, GFLOP/s per thread, best of %d:\n", kThreads,
              kTrials);
  std::printf("%-12s %16s", "shape", "M x N x K");
  for (const char* name : names) std::printf(" %14s", name);
  std::printf("\n");
  std::vector<double> total_seconds(kernels.size(), 0.0);
  double total_flop = 0;
  for (const Shape& s : shapes) {
    const double flop = 2.0 * s.m * s.n * s.k;
    std::vector<double> best(kernels.size(), 1e30);
    std::barrier sync(kThreads);
    auto work = [&](int thread) {
      std::vector<float> a(s.m * s.k, 0.01f), b(s.k * s.n, 0.02f), c(s.m * s.n), bias(s.n, 0.1f),
          residual(s.m * s.n, 0.5f);
      model::GemmEpilogue extra;
      if (s.bias) extra.bias = bias.data();
      if (s.residual) {
        extra.residual = residual.data();
        extra.ld_residual = s.n;
      }
      for (int trial = 0; trial <= kTrials; ++trial)
        for (size_t w = 0; w < kernels.size(); ++w) {
          if (thread == 0) model::gemm_select(kernels[w]);
          sync.arrive_and_wait();
          const auto t0 = std::chrono::steady_clock::now();
          for (int r = 0; r < kReps; ++r)
            model::gemm(s.trans_a, s.trans_b, s.m, s.n, s.k, 1.0f, a.data(), s.trans_a ? s.m : s.k,
                        b.data(), s.trans_b ? s.k : s.n, 0.0f, c.data(), s.n, extra);
          const double dt = seconds_since(t0) / kReps;
          sync.arrive_and_wait();
          if (thread == 0 && trial > 0) best[w] = std::min(best[w], dt);  // trial 0 warms up
        }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) threads.emplace_back(work, t);
    for (auto& t : threads) t.join();
    std::printf("%-12s %5ld x%5ld x%5ld", s.name, s.m, s.n, s.k);
    for (size_t w = 0; w < kernels.size(); ++w) {
      std::printf(" %14.1f", flop / best[w] / 1e9);
      total_seconds[w] += best[w];
    }
    std::printf("\n");
    total_flop += flop;
  }
  std::printf("%-12s %16s", "all", "");
  for (size_t w = 0; w < kernels.size(); ++w) std::printf(" %14.1f", total_flop / total_seconds[w] / 1e9);
  std::printf("\n");

  // Whole steps of the largest config, the kernels alternating step by step.
  model::GptConfig config;
  config.vocab = 256;
  config.ctx = 256;
  config.d_model = 512;
  config.n_layer = 8;
  config.n_head = 8;
  config.Validate();
  const int64_t batch = 8, ctx = 256;
  auto backend = train::make_cpu_backend(kThreads);
  backend->init(config, train::OptimizerOptions{}, batch, 1);
  model::Rng rng(3);
  std::vector<int32_t> tokens(batch * (ctx + 1));
  for (auto& t : tokens) t = static_cast<int32_t>(rng.next() % 256);
  std::vector<std::vector<double>> times(kernels.size());
  for (int s = 0; s < (steps + 1) * static_cast<int>(kernels.size()); ++s) {
    const size_t w = s % kernels.size();
    model::gemm_select(kernels[w]);
    const auto t0 = std::chrono::steady_clock::now();
    backend->accumulate(tokens.data(), batch, ctx, 1.0f);
    backend->update(1e-3);
    if (s >= static_cast<int>(kernels.size())) times[w].push_back(seconds_since(t0));  // 1st: warm-up
  }
  std::printf("\ntraining steps (L 8, d 512, ctx 256, batch 8), kernels alternating, median of %d:\n",
              steps);
  for (size_t w = 0; w < kernels.size(); ++w) {
    std::sort(times[w].begin(), times[w].end());
    const double median = times[w][times[w].size() / 2];
    std::printf("%-14s %8.4f s per step %8.0f tokens/s\n", names[w], median, batch * ctx / median);
  }
  return 0;
}
