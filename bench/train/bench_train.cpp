// bench/train: tokens/s of scalelab's CPU trainer (forward, backward, clipping, AdamW: one full
// optimizer step) on the GPT configs of issue 6, with random byte tokens. Prints one line per
// config: "scalelab L d ctx batch tokens_per_second flops_per_second_kaplan flops_per_second_palm
// cpu_estimate", the last being tokens per CPU-second times the threads (the idle-machine rate).
//
// usage: bench_train [--threads 2] [--seconds 8] 2,64,64,32 4,128,128,16 ...
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "model/gemm.h"
#include "model/rng.h"
#include "train/cpu_backend.h"

using namespace scalelab;

namespace {
double cpu_seconds() {  // user + system time of the whole process, all threads
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}
}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  double seconds = 8;
  std::vector<std::string> configs;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = std::atof(argv[++i]);
    else configs.push_back(argv[i]);
  }
  std::fprintf(stderr, "gemm: %s\n", model::gemm_backend().c_str());
  for (const std::string& spec : configs) {
    int layers = 0, d = 0, ctx = 0, batch = 0;
    if (std::sscanf(spec.c_str(), "%d,%d,%d,%d", &layers, &d, &ctx, &batch) != 4) {
      std::fprintf(stderr, "bad config %s (want L,d,ctx,batch)\n", spec.c_str());
      return 2;
    }
    model::GptConfig c;
    c.vocab = 256;
    c.ctx = ctx;
    c.d_model = d;
    c.n_layer = layers;
    c.n_head = d >= 128 ? d / 64 : 2;  // the same heads as torch_gpt.py
    c.Validate();
    auto backend = train::make_cpu_backend(threads);
    backend->init(c, train::OptimizerOptions{}, batch, 1);
    model::Rng rng(3);
    std::vector<int32_t> tokens(static_cast<size_t>(batch) * (ctx + 1));
    for (auto& t : tokens) t = static_cast<int32_t>(rng.next() % 256);
    auto step = [&] {
      backend->accumulate(tokens.data(), batch, ctx, 1.0f);
      backend->update(1e-3);
    };
    step();  // warm-up
    int steps = 0;
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = cpu_seconds();
    double elapsed = 0;
    do {
      step();
      ++steps;
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    } while (elapsed < seconds || steps < 2);
    const double cpu = cpu_seconds() - cpu_start;
    const double trained = static_cast<double>(steps) * batch * ctx;
    const double tps = trained / elapsed;
    // On a machine shared with other work, wall-clock rates understate what the code does on an
    // idle one; tokens per CPU-second times the thread count estimates the idle-machine rate.
    const double cpu_tps = cpu > 0 ? trained / cpu * threads : 0;
    std::printf("scalelab %d %d %d %d %.1f %.4g %.4g %.1f\n", layers, d, ctx, batch, tps,
                tps * c.flops_per_token(model::FlopConvention::Kaplan),
                tps * c.flops_per_token(model::FlopConvention::PaLM), cpu_tps);
    std::fflush(stdout);
  }
  return 0;
}
