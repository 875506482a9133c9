// Benchmark: the Chinchilla fit (full 4500-start grid) on a synthetic data set, and bootstrap refits.
// Usage: fit_bench <data.csv> [bootstrap]   (CSV columns N, D, loss). Prints JSON-ish lines.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "fit/chinchilla_kernel.h"
#include "fit/fit.h"

int main(int argc, char** argv) {
  using namespace scalelab::fit;
  if (argc < 2) {
    std::fprintf(stderr, "usage: fit_bench data.csv [bootstrap] [threads]\n");
    return 2;
  }
  Observations obs = read_csv(argv[1], {});
  int bootstrap = argc > 2 ? std::atoi(argv[2]) : 1000;
  int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  FitOptions options;
  options.threads = threads;
  options.covariance = false;
  auto t0 = std::chrono::steady_clock::now();
  FittedLaw law = fit_law(Law::Make(LawKind::Chinchilla), obs, options);
  double fit_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("fit_seconds %.6f\n", fit_s);
  std::printf("kernel %s\n", kernels::chinchilla_normal_name());
  std::printf("objective %.17g\n", law.objective);
  std::printf("starts %d converged %d at_best %d\n", law.starts, law.starts_converged, law.starts_at_best);
  std::printf("params");
  for (double v : law.law.values()) std::printf(" %.10g", v);
  std::printf("\n");
  if (bootstrap > 0) {
    options.bootstrap = bootstrap;
    auto t1 = std::chrono::steady_clock::now();
    FittedLaw b = fit_law(Law::Make(LawKind::Chinchilla), obs, options);
    double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    std::printf("bootstrap_seconds %.6f (total %.6f including the %.6f s grid fit)\n", total - fit_s, total, fit_s);
    std::printf("bootstrap_samples %zu\n", b.samples.size());
    Interval a = b.interval("alpha"), be = b.interval("beta");
    std::printf("alpha_95 %.4f %.4f beta_95 %.4f %.4f\n", a.lo, a.hi, be.lo, be.hi);
  }
  std::cout << law.Summary() << "\n";
  return 0;
}
