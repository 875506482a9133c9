// bench/gpu: training throughput of scalelab's CUDA backend (the train::Backend the trainer runs:
// forward, backward, global-norm clipping, AdamW, one full optimizer step) on a GPT shape, with
// random tokens. One line per config on stdout:
//   ours L d heads ctx batch vocab tokens_per_second mfu step_ms memory_gib
// MFU = tokens/s × GptConfig::hardware_flops_per_token() (6·(N + V·d) + 12·L·T·d, the logits and
// the full T×T attention products counted) ÷ the device's dense bf16 peak; the PyTorch script
// counts the same FLOPs.
//
// usage: bench_gpu [--seconds 10] L,d,heads,ctx,batch,vocab ...
#include <cuda_runtime.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/cuda_backend.h"
#include "kernels/device.h"
#include "model/gpt.h"
#include "model/rng.h"

using namespace scalelab;

int main(int argc, char** argv) {
  double seconds = 10;
  std::vector<std::string> configs;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = std::atof(argv[++i]);
    else configs.push_back(argv[i]);
  }
  const cuda::DeviceInfo device = cuda::device_info();
  if (!device.available) {
    std::fprintf(stderr, "bench_gpu: needs a CUDA GPU: %s\n", device.Summary().c_str());
    return 4;
  }
  std::fprintf(stderr, "device: %s\n", device.Summary().c_str());
  for (const std::string& spec : configs) {
    long L, d, heads, ctx, batch, vocab;
    if (std::sscanf(spec.c_str(), "%ld,%ld,%ld,%ld,%ld,%ld", &L, &d, &heads, &ctx, &batch, &vocab) != 6) {
      std::fprintf(stderr, "bench_gpu: config \"%s\" is not L,d,heads,ctx,batch,vocab\n", spec.c_str());
      return 2;
    }
    model::GptConfig c;
    c.vocab = vocab;
    c.ctx = ctx;
    c.d_model = d;
    c.n_layer = L;
    c.n_head = heads;
    c.Validate();
    try {
      size_t free0 = 0, total = 0;
      cudaMemGetInfo(&free0, &total);
      auto backend = cuda::make_cuda_backend();
      backend->init(c, train::OptimizerOptions{}, batch, 1);
      // A few distinct batches, rotated, so that nothing is measured on one cached input.
      constexpr int kBatches = 4;
      std::vector<std::vector<int32_t>> tokens(kBatches);
      model::Rng rng(7);
      for (auto& t : tokens) {
        t.resize(static_cast<size_t>(batch * (ctx + 1)));
        for (auto& x : t) x = static_cast<int32_t>(rng.next() % static_cast<uint64_t>(vocab));
      }
      auto step = [&](int i) {
        backend->accumulate(tokens[i % kBatches].data(), batch, ctx, 1.0f);
        backend->update(1e-4);  // waits for the device (the norm is read back)
      };
      for (int i = 0; i < 3; ++i) step(i);  // warm-up: cuBLASLt heuristics, first-touch
      size_t free1 = 0;
      cudaMemGetInfo(&free1, &total);
      int steps = 0;
      const auto start = std::chrono::steady_clock::now();
      double elapsed = 0;
      while (elapsed < seconds || steps < 5) {
        step(steps);
        ++steps;
        elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      }
      const double tps = static_cast<double>(steps) * batch * ctx / elapsed;
      const double mfu = tps * c.hardware_flops_per_token() / device.peak_bf16_flops;
      std::printf("ours %ld %ld %ld %ld %ld %ld %.1f %.4f %.3f %.2f\n", L, d, heads, ctx, batch, vocab, tps,
                  mfu, 1e3 * elapsed / steps, static_cast<double>(free0 - free1) / (1 << 30));
      std::fflush(stdout);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench_gpu: %s: %s\n", spec.c_str(), e.what());
      std::printf("ours %ld %ld %ld %ld %ld %ld - - - -\n", L, d, heads, ctx, batch, vocab);
    }
  }
  return 0;
}
