// bench/train: tokens/s of scalelab's CPU trainer (forward, backward, clipping, AdamW: one full
// optimizer step) on the GPT configs of issue 6, with random byte tokens. Prints one line per
// config: "scalelab L d ctx batch tokens_per_second flops_per_second_kaplan flops_per_second_palm".
//
// usage: bench_train [--threads 2] [--seconds 8] 2,64,64,32 4,128,128,16 ...
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
    double elapsed = 0;
    do {
      step();
      ++steps;
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    } while (elapsed < seconds || steps < 2);
    const double tps = static_cast<double>(steps) * batch * ctx / elapsed;
    std::printf("scalelab %d %d %d %d %.1f %.4g %.4g\n", layers, d, ctx, batch, tps,
                tps * c.flops_per_token(model::FlopConvention::Kaplan),
                tps * c.flops_per_token(model::FlopConvention::PaLM));
    std::fflush(stdout);
  }
  return 0;
}
