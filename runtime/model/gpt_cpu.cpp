#include "model/gpt_cpu.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "model/layers.h"
#include "model/rng.h"

namespace scalelab::model {

CpuGpt::CpuGpt(const GptConfig& config, int64_t max_batch, int threads)
    : config_(config), layout_((config_.Validate(), config_)), max_batch_(max_batch),
      threads_(threads) {
  if (max_batch < 1) fail("CpuGpt: max_batch must be at least 1 (got ", max_batch, ")");
  if (threads < 1) fail("CpuGpt: threads must be at least 1 (got ", threads, ")");
  const int64_t L = config_.n_layer, C = config_.d_model, F = config_.ff(), V = config_.vocab,
                T = config_.ctx, NH = config_.n_head, N = max_batch * T;
  own_params_.assign(static_cast<size_t>(layout_.total), 0.0f);
  params_ = own_params_.data();
  grads_.assign(static_cast<size_t>(layout_.total), 0.0f);

  // One allocation for the activations; the views are laid out in the order of the forward pass.
  const int64_t act_sizes[] = {N * C,          L * N * C, L * N,     L * N,     L * N * 3 * C,
                               L * N * C,      L * max_batch * NH * T * T,     L * N * C,
                               L * N * C,      L * N,     L * N,     L * N * F, L * N * F,
                               L * N * C,      N * C,     N,         N,         N * V, N};
  float** act_views[] = {&encoded_, &ln1_,       &ln1_mean_, &ln1_rstd_, &qkv_,      &atty_,
                         &att_,     &residual2_, &ln2_,      &ln2_mean_, &ln2_rstd_, &fch_,
                         &fch_gelu_, &residual3_, &lnf_,     &lnf_mean_, &lnf_rstd_, &logits_,
                         &losses_};
  int64_t total = 0;
  for (int64_t s : act_sizes) total += s;
  acts_.assign(static_cast<size_t>(total), 0.0f);
  int64_t at = 0;
  for (size_t i = 0; i < std::size(act_sizes); ++i) {
    *act_views[i] = acts_.data() + at;
    at += act_sizes[i];
  }
  const int64_t dact_sizes[] = {N * C, N * C, N * 3 * C, N * F, attention_scratch_floats(T, threads)};
  float** dact_views[] = {&dres_, &dbt_c_, &dqkv_, &dfch_, &scratch_};
  total = 0;
  for (int64_t s : dact_sizes) total += s;
  dacts_.assign(static_cast<size_t>(total), 0.0f);
  at = 0;
  for (size_t i = 0; i < std::size(dact_sizes); ++i) {
    *dact_views[i] = dacts_.data() + at;
    at += dact_sizes[i];
  }
  inputs_.assign(static_cast<size_t>(N), 0);
  targets_.assign(static_cast<size_t>(N), 0);
}

void CpuGpt::init(uint64_t seed) {
  Rng rng(seed);
  const double residual_std = 0.02 / std::sqrt(2.0 * static_cast<double>(config_.n_layer));
  for (int i = 0; i < kParamKinds; ++i) {
    const Param p = static_cast<Param>(i);
    float* w = param(p);
    const int64_t n = layout_.size[i];
    const bool gain = p == Param::Ln1W || p == Param::Ln2W || p == Param::LnfW;
    if (gain) {
      std::fill(w, w + n, 1.0f);
    } else if (param_decays(p)) {
      const double std = param_is_residual_projection(p) ? residual_std : 0.02;
      for (int64_t j = 0; j < n; ++j) w[j] = static_cast<float>(std * rng.normal());
    } else {
      std::fill(w, w + n, 0.0f);
    }
  }
  zero_grad();
}

void CpuGpt::zero_grad() { std::fill(grads_.begin(), grads_.end(), 0.0f); }

void CpuGpt::share_parameters(CpuGpt& owner) {
  if (owner.layout_.total != layout_.total)
    fail("CpuGpt::share_parameters: the models have ", layout_.total, " and ", owner.layout_.total,
         " parameters");
  params_ = owner.params();
  FloatBuffer().swap(own_params_);
}

double CpuGpt::forward(const int32_t* tokens, int64_t B, int64_t T) {
  if (B < 1 || B > max_batch_)
    fail("CpuGpt: batch of ", B, " rows, but the model was sized for 1 to ", max_batch_);
  if (T < 1 || T > config_.ctx)
    fail("CpuGpt: sequences of ", T, " tokens, but the model's context is ", config_.ctx,
         "; use seq_len ≤ ctx");
  const int64_t L = config_.n_layer, C = config_.d_model, F = config_.ff(), V = config_.vocab,
                NH = config_.n_head, N = B * T, maxN = max_batch_ * config_.ctx;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t <= T; ++t) {
      const int32_t id = tokens[b * (T + 1) + t];
      if (id < 0 || id >= V)
        fail("token id ", id, " at row ", b, ", position ", t, " is outside the vocabulary [0, ", V,
             "); the data and model.gpt{ vocab = ", V, " } disagree");
      if (t < T) inputs_[b * T + t] = id;
      if (t > 0) targets_[b * T + t - 1] = id;
    }
  B_ = B;
  T_ = T;
  const int th = threads_;

  encoder_forward(encoded_, inputs_.data(), param(Param::Wte), param(Param::Wpe), B, T, C, th);
  for (int64_t l = 0; l < L; ++l) {
    const float* residual = l == 0 ? encoded_ : residual3_ + (l - 1) * maxN * C;
    float* ln1 = ln1_ + l * maxN * C;
    float* ln1_mean = ln1_mean_ + l * maxN;
    float* ln1_rstd = ln1_rstd_ + l * maxN;
    float* qkv = qkv_ + l * maxN * 3 * C;
    float* atty = atty_ + l * maxN * C;
    float* att = att_ + l * max_batch_ * NH * config_.ctx * config_.ctx;
    float* residual2 = residual2_ + l * maxN * C;
    float* ln2 = ln2_ + l * maxN * C;
    float* ln2_mean = ln2_mean_ + l * maxN;
    float* ln2_rstd = ln2_rstd_ + l * maxN;
    float* fch = fch_ + l * maxN * F;
    float* fch_gelu = fch_gelu_ + l * maxN * F;
    float* residual3 = residual3_ + l * maxN * C;

    layernorm_forward(ln1, ln1_mean, ln1_rstd, residual, param(Param::Ln1W) + l * C,
                      param(Param::Ln1B) + l * C, N, C, th);
    matmul_forward(qkv, ln1, param(Param::QkvW) + l * 3 * C * C, param(Param::QkvB) + l * 3 * C, N,
                   C, 3 * C, th);
    attention_forward(atty, att, qkv, B, T, C, NH, th);
    matmul_forward(residual2, atty, param(Param::AttProjW) + l * C * C,
                   param(Param::AttProjB) + l * C, N, C, C, th, residual);
    layernorm_forward(ln2, ln2_mean, ln2_rstd, residual2, param(Param::Ln2W) + l * C,
                      param(Param::Ln2B) + l * C, N, C, th);
    matmul_forward(fch, ln2, param(Param::FcW) + l * F * C, param(Param::FcB) + l * F, N, C, F, th);
    gelu_forward(fch_gelu, fch, N * F, th);
    matmul_forward(residual3, fch_gelu, param(Param::FcProjW) + l * C * F,
                   param(Param::FcProjB) + l * C, N, F, C, th, residual2);
  }
  const float* last = residual3_ + (L - 1) * maxN * C;
  layernorm_forward(lnf_, lnf_mean_, lnf_rstd_, last, param(Param::LnfW), param(Param::LnfB), N, C, th);
  matmul_forward(logits_, lnf_, param(Param::Wte), nullptr, N, C, V, th);
  crossentropy_forward(losses_, logits_, targets_.data(), N, V, th);
  double sum = 0;
  for (int64_t n = 0; n < N; ++n) sum += losses_[n];
  have_forward_ = true;
  return sum / static_cast<double>(N);
}

void CpuGpt::backward(float scale, bool overwrite) {
  SCALELAB_CHECK(have_forward_);
  have_forward_ = false;
  const int64_t B = B_, T = T_, L = config_.n_layer, C = config_.d_model, F = config_.ff(),
                V = config_.vocab, NH = config_.n_head, N = B * T, maxN = max_batch_ * config_.ctx;
  const int th = threads_;
  // Overwriting: the weight matrices' products store their gradients (written before anything is
  // added to them: the tied Wte's first by the output layer); every other tensor (biases, norms,
  // positions: about 1/(2·d_model) of the parameters) is zeroed and added to as usual.
  const bool accumulate = !overwrite;
  if (overwrite)
    for (int kind = 0; kind < kParamKinds; ++kind) {
      const Param p = static_cast<Param>(kind);
      if (p == Param::Wte || p == Param::QkvW || p == Param::AttProjW || p == Param::FcW ||
          p == Param::FcProjW)
        continue;
      std::fill(grad(p), grad(p) + layout_.size[kind], 0.0f);
    }

  crossentropy_backward(logits_, logits_, losses_, targets_.data(), scale / static_cast<float>(N), N, V, th);
  matmul_backward(dbt_c_, grad(Param::Wte), nullptr, logits_, lnf_, param(Param::Wte), N, C, V, th,
                  accumulate);
  std::fill(dres_, dres_ + N * C, 0.0f);
  layernorm_backward(dres_, grad(Param::LnfW), grad(Param::LnfB), dbt_c_,
                     residual3_ + (L - 1) * maxN * C, param(Param::LnfW), lnf_mean_, lnf_rstd_, N, C,
                     th);
  for (int64_t l = L - 1; l >= 0; --l) {
    const float* residual = l == 0 ? encoded_ : residual3_ + (l - 1) * maxN * C;
    const float* ln1 = ln1_ + l * maxN * C;
    const float* qkv = qkv_ + l * maxN * 3 * C;
    const float* atty = atty_ + l * maxN * C;
    const float* att = att_ + l * max_batch_ * NH * config_.ctx * config_.ctx;
    const float* residual2 = residual2_ + l * maxN * C;
    const float* ln2 = ln2_ + l * maxN * C;
    const float* fch = fch_ + l * maxN * F;
    const float* fch_gelu = fch_gelu_ + l * maxN * F;

    // dres holds ∂loss/∂residual3 of this layer.
    matmul_backward(dfch_, grad(Param::FcProjW) + l * C * F, grad(Param::FcProjB) + l * C, dres_,
                    fch_gelu, param(Param::FcProjW) + l * C * F, N, F, C, th, accumulate);
    gelu_backward(dfch_, fch, dfch_, N * F, th);
    matmul_backward(dbt_c_, grad(Param::FcW) + l * F * C, grad(Param::FcB) + l * F, dfch_, ln2,
                    param(Param::FcW) + l * F * C, N, C, F, th, accumulate);
    layernorm_backward(dres_, grad(Param::Ln2W) + l * C, grad(Param::Ln2B) + l * C, dbt_c_, residual2,
                       param(Param::Ln2W) + l * C, ln2_mean_ + l * maxN, ln2_rstd_ + l * maxN, N, C, th);
    // dres now holds ∂loss/∂residual2.
    matmul_backward(dbt_c_, grad(Param::AttProjW) + l * C * C, grad(Param::AttProjB) + l * C, dres_,
                    atty, param(Param::AttProjW) + l * C * C, N, C, C, th, accumulate);
    attention_backward(dqkv_, dbt_c_, qkv, att, scratch_, B, T, C, NH, th);
    matmul_backward(dbt_c_, grad(Param::QkvW) + l * 3 * C * C, grad(Param::QkvB) + l * 3 * C, dqkv_,
                    ln1, param(Param::QkvW) + l * 3 * C * C, N, C, 3 * C, th, accumulate);
    layernorm_backward(dres_, grad(Param::Ln1W) + l * C, grad(Param::Ln1B) + l * C, dbt_c_, residual,
                       param(Param::Ln1W) + l * C, ln1_mean_ + l * maxN, ln1_rstd_ + l * maxN, N, C, th);
  }
  encoder_backward(grad(Param::Wte), grad(Param::Wpe), dres_, inputs_.data(), B, T, C, th);
}

}  // namespace scalelab::model
