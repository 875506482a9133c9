#include "train/adamw.h"
#include "core/vector_targets.h"

#include "model/parallel.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace scalelab::train {

namespace {

constexpr int64_t kChunk = 1 << 14;


SCALELAB_CLONES
void adamw_range(float* w, const float* g, float* m, float* v, int64_t n, float grad_scale,
                 float beta1, float beta2, float correction1, float correction2, float eps, float lr,
                 float decay) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i] * grad_scale;
    m[i] = beta1 * m[i] + (1.0f - beta1) * gi;
    v[i] = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    const float mhat = m[i] / correction1, vhat = v[i] / correction2;
    w[i] = w[i] * decay - lr * mhat / (std::sqrt(vhat) + eps);
  }
}

// Σ g² in double with 8 partial sums in a fixed order (vectorised, deterministic).
SCALELAB_CLONES
double sum_squares(const float* g, int64_t n) {
  double acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) acc[k] += static_cast<double>(g[i + k]) * static_cast<double>(g[i + k]);
  for (int k = 0; i < n; ++i, ++k) acc[k] += static_cast<double>(g[i]) * static_cast<double>(g[i]);
  for (int width = 4; width > 0; width /= 2)
    for (int k = 0; k < width; ++k) acc[k] += acc[k + width];
  return acc[0];
}

SCALELAB_CLONES
void add_into(float* total, const float* other, int64_t n) {
  for (int64_t i = 0; i < n; ++i) total[i] += other[i];
}

}  // namespace

double grad_norm_squared(const float* grads, int64_t n, int threads) {
  return reduce_gradients_norm_squared(const_cast<float*>(grads), nullptr, 0, n, threads);
}

double reduce_gradients_norm_squared(float* total, const float* const* others, int count, int64_t n,
                                     int threads) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<size_t>(chunks), 0.0);
  model::parallel_run(n > (1 << 20) ? threads : 1, [&](int index, int parts) {
    int64_t first, last;
    model::split_range(chunks, parts, index, first, last);
    for (int64_t c = first; c < last; ++c) {
      const int64_t begin = c * kChunk, end = std::min(n, begin + kChunk);
      for (int r = 0; r < count; ++r) add_into(total + begin, others[r] + begin, end - begin);
      partial[c] = sum_squares(total + begin, end - begin);
    }
  });
  double sum = 0;
  for (double p : partial) sum += p;
  return sum;
}

namespace {

template <class Range, class Grad>
void adamw_kinds(const model::ParameterLayout& layout, float* params, Grad* grads, float* m,
                 float* v, const OptimizerOptions& o, double lr, int64_t step, float grad_scale,
                 int threads, Range range) {
  const float beta1 = static_cast<float>(o.beta1), beta2 = static_cast<float>(o.beta2);
  const float correction1 = static_cast<float>(1.0 - std::pow(o.beta1, static_cast<double>(step)));
  const float correction2 = static_cast<float>(1.0 - std::pow(o.beta2, static_cast<double>(step)));
  const float eps = static_cast<float>(o.eps), flr = static_cast<float>(lr);
  for (int kind = 0; kind < model::kParamKinds; ++kind) {
    const model::Param p = static_cast<model::Param>(kind);
    const float decay = model::param_decays(p) ? static_cast<float>(1.0 - lr * o.weight_decay) : 1.0f;
    const int64_t begin = layout.offset[kind], n = layout.size[kind];
    float* w = params + begin;
    Grad* g = grads + begin;
    float* mk = m + begin;
    float* vk = v + begin;
    model::parallel_run(n > (1 << 18) ? threads : 1, [&](int index, int count) {
      int64_t first, last;
      model::split_range(n, count, index, first, last);
      range(w + first, g + first, mk + first, vk + first, last - first, grad_scale, beta1, beta2,
            correction1, correction2, eps, flr, decay);
    });
  }
}

}  // namespace

void adamw_update(const model::ParameterLayout& layout, float* params, const float* grads, float* m,
                  float* v, const OptimizerOptions& o, double lr, int64_t step, float grad_scale,
                  int threads) {
  adamw_kinds(layout, params, grads, m, v, o, lr, step, grad_scale, threads, adamw_range);
}

}  // namespace scalelab::train
