#include "train/adamw.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace scalelab::train {

namespace {
constexpr int64_t kChunk = 1 << 14;
}

double grad_norm_squared(const float* grads, int64_t n, int threads) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<size_t>(chunks), 0.0);
#pragma omp parallel for num_threads(std::max(1, threads)) schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t begin = c * kChunk, end = std::min(n, begin + kChunk);
    double sum = 0;
    for (int64_t i = begin; i < end; ++i) sum += static_cast<double>(grads[i]) * grads[i];
    partial[c] = sum;
  }
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

void adamw_update(const model::ParameterLayout& layout, float* params, const float* grads, float* m,
                  float* v, const OptimizerOptions& o, double lr, int64_t step, float grad_scale,
                  int threads) {
  const float beta1 = static_cast<float>(o.beta1), beta2 = static_cast<float>(o.beta2);
  const float correction1 = static_cast<float>(1.0 - std::pow(o.beta1, static_cast<double>(step)));
  const float correction2 = static_cast<float>(1.0 - std::pow(o.beta2, static_cast<double>(step)));
  const float eps = static_cast<float>(o.eps), flr = static_cast<float>(lr);
  for (int kind = 0; kind < model::kParamKinds; ++kind) {
    const model::Param p = static_cast<model::Param>(kind);
    const float decay = model::param_decays(p) ? static_cast<float>(1.0 - lr * o.weight_decay) : 1.0f;
    const int64_t begin = layout.offset[kind], n = layout.size[kind];
    float* w = params + begin;
    const float* g = grads + begin;
    float* mk = m + begin;
    float* vk = v + begin;
#pragma omp parallel for num_threads(std::max(1, threads)) schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) {
      const float gi = g[i] * grad_scale;
      mk[i] = beta1 * mk[i] + (1.0f - beta1) * gi;
      vk[i] = beta2 * vk[i] + (1.0f - beta2) * gi * gi;
      const float mhat = mk[i] / correction1, vhat = vk[i] / correction2;
      w[i] = w[i] * decay - flr * mhat / (std::sqrt(vhat) + eps);
    }
  }
}

}  // namespace scalelab::train
