// bench/train: tokens/s of scalelab's CPU trainer (forward, backward, clipping, AdamW: one full
// optimizer step) on the GPT configs of issue 6, with random byte tokens. Prints one line per
// config: "scalelab L d ctx batch tokens_per_second flops_per_second_kaplan flops_per_second_palm
// cpu_estimate", the last being tokens per CPU-second times the threads (the idle-machine rate).
//
// usage: bench_train [--threads 2] [--seconds 8] 2,64,64,32 4,128,128,16 ...
//        bench_train [--threads 2] --serve
// With --serve it reads requests "L,d,ctx,batch seconds" from stdin, one per line, and answers each
// with the line above, keeping the last config's model (warm) between requests: compare.py uses it
// to interleave our measurements with PyTorch's.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
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

struct Config {
  int layers = 0, d = 0, ctx = 0, batch = 0;
  bool operator==(const Config& o) const {
    return layers == o.layers && d == o.d && ctx == o.ctx && batch == o.batch;
  }
};

bool parse_config(const char* spec, Config& config) {
  return std::sscanf(spec, "%d,%d,%d,%d", &config.layers, &config.d, &config.ctx, &config.batch) == 4;
}

// One config's trainer with its tokens, built once and warmed up by one step.
class Bench {
 public:
  Bench(const Config& config, int threads) : config_(config), threads_(threads) {
    model_.vocab = 256;
    model_.ctx = config.ctx;
    model_.d_model = config.d;
    model_.n_layer = config.layers;
    model_.n_head = config.d >= 128 ? config.d / 64 : 2;  // the same heads as torch_gpt.py
    model_.Validate();
    backend_ = train::make_cpu_backend(threads);
    backend_->init(model_, train::OptimizerOptions{}, config.batch, 1);
    model::Rng rng(3);
    tokens_.resize(static_cast<size_t>(config.batch) * (config.ctx + 1));
    for (auto& t : tokens_) t = static_cast<int32_t>(rng.next() % 256);
    step();  // warm-up
  }
  const Config& config() const { return config_; }

  // One untimed step (caches and pages back after whatever ran in between), then steps for at
  // least `seconds` (and 2 steps); prints the result line.
  void run(double seconds) {
    step();
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
    const double trained = static_cast<double>(steps) * config_.batch * config_.ctx;
    const double tps = trained / elapsed;
    // On a machine shared with other work, wall-clock rates understate what the code does on an
    // idle one; tokens per CPU-second times the thread count estimates the idle-machine rate.
    const double cpu_tps = cpu > 0 ? trained / cpu * threads_ : 0;
    std::printf("scalelab %d %d %d %d %.1f %.4g %.4g %.1f\n", config_.layers, config_.d, config_.ctx,
                config_.batch, tps, tps * model_.flops_per_token(model::FlopConvention::Kaplan),
                tps * model_.flops_per_token(model::FlopConvention::PaLM), cpu_tps);
    std::fflush(stdout);
  }

 private:
  void step() {
    backend_->accumulate(tokens_.data(), config_.batch, config_.ctx, 1.0f);
    backend_->update(1e-3);
  }
  Config config_;
  int threads_;
  model::GptConfig model_;
  std::unique_ptr<train::Backend> backend_;
  std::vector<int32_t> tokens_;
};

}  // namespace

int run(int argc, char** argv) {
  int threads = 2;
  double seconds = 8;
  bool serve = false;
  std::vector<std::string> configs;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--serve")) serve = true;
    else configs.push_back(argv[i]);
  }
  if (!serve) std::fprintf(stderr, "gemm: %s\n", model::gemm_backend().c_str());
  if (serve) {
    std::unique_ptr<Bench> bench;
    std::string line;
    for (int c; (c = std::getchar()) != EOF;) {
      if (c != '\n') {
        line += static_cast<char>(c);
        continue;
      }
      char spec[128];
      int used = 0;
      Config config;
      if (line.size() >= 120 || std::sscanf(line.c_str(), "%127s %lf %n", spec, &seconds, &used) != 2 ||
          used != static_cast<int>(line.size()) || seconds <= 0 || !parse_config(spec, config)) {
        std::fprintf(stderr, "bench_train: bad request \"%s\" (want \"L,d,ctx,batch seconds\")\n",
                     line.c_str());
        return 2;
      }
      line.clear();
      if (!bench || !(bench->config() == config)) {
        bench.reset();  // free the last config's model first
        bench = std::make_unique<Bench>(config, threads);
      }
      bench->run(seconds);
    }
    return 0;
  }
  for (const std::string& spec : configs) {
    Config config;
    if (!parse_config(spec.c_str(), config)) {
      std::fprintf(stderr, "bad config %s (want L,d,ctx,batch)\n", spec.c_str());
      return 2;
    }
    Bench(config, threads).run(seconds);
  }
  return 0;
}

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {  // e.g. a config the model rejects
    std::fprintf(stderr, "bench_train: %s\n", e.what());
    return 2;
  }
}
