#include "kernels/gpt_cuda.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/units.h"
#include "kernels/check.h"
#include "kernels/matmul.h"
#include "model/rng.h"

namespace scalelab::cuda {

namespace {

using model::Param;

// Sub-buffers of one allocation, each aligned to 256 bytes (cuBLASLt's and the 16-byte vector
// loads' needs). First pass: take() records sizes with a null base; then the base is set and a
// second pass hands out the pointers in the same order.
class Carver {
 public:
  explicit Carver(char* base) : base_(base) {}
  template <class T>
  T* take(int64_t count) {
    at_ = (at_ + 255) / 256 * 256;
    T* p = base_ ? reinterpret_cast<T*>(base_ + at_) : nullptr;
    at_ += count * static_cast<int64_t>(sizeof(T));
    return p;
  }
  int64_t bytes() const { return (at_ + 255) / 256 * 256; }

 private:
  char* base_;
  int64_t at_ = 0;
};

template <class T>
T* device_alloc(int64_t count, const char* what, const DeviceInfo& device) {
  void* p = nullptr;
  const size_t bytes = static_cast<size_t>(std::max<int64_t>(count, 1)) * sizeof(T);
  const cudaError_t status = cudaMalloc(&p, bytes);
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    size_t free = 0, total = 0;
    cudaMemGetInfo(&free, &total);
    fail("the GPU (", device.name, ") has ", format_count(static_cast<double>(free)),
         "B free, too little for the ", what, " (", format_count(static_cast<double>(bytes)),
         "B); use a smaller batch (rows per micro-batch) or model");
  }
  if (status != cudaSuccess) throw_cuda_error(status, "cudaMalloc", __FILE__, __LINE__);
  return static_cast<T*>(p);
}

}  // namespace

void init_parameters(const model::GptConfig& config, const model::ParameterLayout& layout,
                     uint64_t seed, float* params) {
  // The same generator and order as model::CpuGpt::init.
  model::Rng rng(seed);
  const double residual_std = 0.02 / std::sqrt(2.0 * static_cast<double>(config.n_layer));
  for (int i = 0; i < model::kParamKinds; ++i) {
    const Param p = static_cast<Param>(i);
    float* w = params + layout.offset[i];
    const int64_t n = layout.size[i];
    const bool gain = p == Param::Ln1W || p == Param::Ln2W || p == Param::LnfW;
    if (gain) {
      std::fill(w, w + n, 1.0f);
    } else if (model::param_decays(p)) {
      const double std = model::param_is_residual_projection(p) ? residual_std : 0.02;
      for (int64_t j = 0; j < n; ++j) w[j] = static_cast<float>(std * rng.normal());
    } else {
      std::fill(w, w + n, 0.0f);
    }
  }
}

CudaGpt::CudaGpt(const model::GptConfig& config, int64_t max_batch, const CudaGptOptions& options)
    : config_(config), layout_((config_.Validate(), config_)), max_batch_(max_batch),
      options_(options) {
  if (max_batch < 1) fail("CudaGpt: max_batch must be at least 1 (got ", max_batch, ")");
  device_ = device_info(options.device);
  require_device(options.device);
  const int64_t C = config_.d_model, NH = config_.n_head;
  if (!attention_supports(C / NH))
    fail("the CUDA backend's attention supports head sizes 32, 64 and 128; d_model ", C,
         " / n_head ", NH, " = ", C / NH, ". Choose n_head so that the head size is one of them, or "
         "use backend = \"cpu\"");
  if (C % 8 != 0) fail("the CUDA backend needs d_model to be a multiple of 8 (got ", C, ")");
  try {
    allocate();
  } catch (const std::exception&) {
    release();  // a constructor that throws runs no destructor: free what was allocated
    throw;
  }
}

void CudaGpt::allocate() {
  const int64_t C = config_.d_model, NH = config_.n_head;
  const int64_t max_batch = max_batch_;
  const CudaGptOptions& options = options_;
  SCALELAB_CUDA(cudaSetDevice(options.device));
  SCALELAB_CUDA(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  SCALELAB_CUDA(cudaEventCreateWithFlags(&loss_ready_, cudaEventDisableTiming));
  SCALELAB_CUDA(cudaEventCreateWithFlags(&plan_copied_, cudaEventDisableTiming));
  matmul_ = std::make_unique<Matmul>(stream_, options.fuse_epilogues);

  const int64_t P = layout_.total;
  params_ = device_alloc<float>(P, "parameters", device_);
  params_bf16_ = device_alloc<bf16>(P, "bf16 parameters", device_);
  grads_ = device_alloc<float>(P, "gradients", device_);
  moments_ = device_alloc<float>(2 * P, "AdamW moments", device_);
  device_bytes_ = P * (4 + 2 + 4 + 8);

  const int64_t L = config_.n_layer, F = config_.ff(), V = config_.vocab, T = config_.ctx,
                N = max_batch * T;
  const int64_t widest = std::max({3 * C, F, C});
  auto carve = [&](Carver& c) {
    encoded_ = c.take<float>(N * C);
    ln1_ = c.take<bf16>(L * N * C);
    ln1_mean_ = c.take<float>(L * N);
    ln1_rstd_ = c.take<float>(L * N);
    qkv_ = c.take<bf16>(L * N * 3 * C);
    atty_ = c.take<bf16>(L * N * C);
    lse_ = c.take<float>(L * N * NH);
    residual2_ = c.take<float>(L * N * C);
    ln2_ = c.take<bf16>(L * N * C);
    ln2_mean_ = c.take<float>(L * N);
    ln2_rstd_ = c.take<float>(L * N);
    fch_ = c.take<bf16>(L * N * F);
    fch_gelu_ = c.take<bf16>(L * N * F);
    residual3_ = c.take<float>(L * N * C);
    lnf_ = c.take<bf16>(N * C);
    lnf_mean_ = c.take<float>(N);
    lnf_rstd_ = c.take<float>(N);
    logits_ = c.take<bf16>(N * V);
    losses_ = c.take<float>(N);
    proj_ = c.take<float>(N * C);
    dres_ = c.take<float>(N * C);
    dres_bf16_ = c.take<bf16>(N * C);
    dbt_ = c.take<float>(N * C);
    dqkv_ = c.take<bf16>(N * 3 * C);
    datty_ = c.take<bf16>(N * C);
    dfch_ = c.take<bf16>(N * F);
    delta_ = c.take<float>(N * NH);
    scratch_ = c.take<float>(
        std::max(column_sum_scratch_floats(N, widest), layernorm_backward_scratch_floats(N, C)));
    norm_ = c.take<double>(1);
    norm_partial_ = c.take<double>(kNormBlocks);
    inputs_ = c.take<int32_t>(N);
    targets_ = c.take<int32_t>(N);
    plan_ = c.take<int32_t>(3 * N + 1);
  };
  Carver sizing(nullptr);
  carve(sizing);
  acts_ = device_alloc<char>(sizing.bytes(), "activations", device_);
  Carver real(static_cast<char*>(acts_));
  carve(real);
  device_bytes_ += sizing.bytes();

  SCALELAB_CUDA(cudaMallocHost(&host_pinned_, static_cast<size_t>(5 * N + 1) * sizeof(int32_t) +
                                                  static_cast<size_t>(N) * sizeof(float)));
  host_ints_ = static_cast<int32_t*>(host_pinned_);
  host_losses_ = reinterpret_cast<float*>(host_ints_ + 5 * N + 1);

  SCALELAB_CUDA(cudaMemsetAsync(grads_, 0, P * sizeof(float), stream_));
  SCALELAB_CUDA(cudaMemsetAsync(moments_, 0, 2 * P * sizeof(float), stream_));
  sync();
}

CudaGpt::~CudaGpt() { release(); }

void CudaGpt::release() {
  // Errors cannot be reported from here (a destructor); everything is released either way.
  if (stream_) cudaStreamSynchronize(stream_);
  matmul_.reset();
  cudaFree(params_);
  cudaFree(params_bf16_);
  cudaFree(grads_);
  cudaFree(moments_);
  cudaFree(acts_);
  if (host_pinned_) cudaFreeHost(host_pinned_);
  if (loss_ready_) cudaEventDestroy(loss_ready_);
  if (plan_copied_) cudaEventDestroy(plan_copied_);
  if (stream_) cudaStreamDestroy(stream_);
  params_ = grads_ = moments_ = nullptr;
  params_bf16_ = nullptr;
  acts_ = host_pinned_ = nullptr;
  loss_ready_ = plan_copied_ = nullptr;
  stream_ = nullptr;
}

int CudaGpt::matmul_fallbacks() const { return matmul_->fallbacks(); }

void CudaGpt::sync() const { SCALELAB_CUDA(cudaStreamSynchronize(stream_)); }

void CudaGpt::init(uint64_t seed) {
  std::vector<float> host(static_cast<size_t>(layout_.total));
  init_parameters(config_, layout_, seed, host.data());
  set_parameters(host.data());
  zero_grad();
  SCALELAB_CUDA(cudaMemsetAsync(moments_, 0, 2 * layout_.total * sizeof(float), stream_));
  sync();
}

void CudaGpt::zero_grad() {
  SCALELAB_CUDA(cudaMemsetAsync(grads_, 0, layout_.total * sizeof(float), stream_));
}

double CudaGpt::forward(const int32_t* tokens, int64_t B, int64_t T, bool for_backward) {
  forward_async(tokens, B, T, for_backward);
  return loss();
}

double CudaGpt::loss() {
  if (!loss_pending_) throw SystemError("CudaGpt::loss needs a forward_async(...) before");
  loss_pending_ = false;
  SCALELAB_CUDA(cudaEventSynchronize(loss_ready_));
  const int64_t N = B_ * T_;
  double sum = 0;
  for (int64_t n = 0; n < N; ++n) sum += host_losses_[n];
  return sum / static_cast<double>(N);
}

void CudaGpt::forward_async(const int32_t* tokens, int64_t B, int64_t T, bool for_backward) {
  if (B < 1 || B > max_batch_)
    fail("CudaGpt: batch of ", B, " rows, but the model was sized for 1 to ", max_batch_);
  if (T < 1 || T > config_.ctx)
    fail("CudaGpt: sequences of ", T, " tokens, but the model's context is ", config_.ctx,
         "; use seq_len ≤ ctx");
  const int64_t L = config_.n_layer, C = config_.d_model, F = config_.ff(), V = config_.vocab,
                NH = config_.n_head, N = B * T, maxN = max_batch_ * config_.ctx;
  if (loss_pending_) loss();  // the staging buffers are reused: let the previous pass finish
  have_gradient_forward_ = have_logits_ = false;

  // Inputs, targets and the encoder's backward plan, staged in pinned memory: one copy.
  int32_t* in = host_ints_;
  int32_t* tg = host_ints_ + N;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t <= T; ++t) {
      const int32_t id = tokens[b * (T + 1) + t];
      if (id < 0 || id >= V)
        fail("token id ", id, " at row ", b, ", position ", t, " is outside the vocabulary [0, ", V,
             "); the data and model.gpt{ vocab = ", V, " } disagree");
      if (t < T) in[b * T + t] = id;
      if (t > 0) tg[b * T + t - 1] = id;
    }
  SCALELAB_CUDA(cudaMemcpyAsync(inputs_, in, N * sizeof(int32_t), cudaMemcpyHostToDevice, stream_));
  SCALELAB_CUDA(cudaMemcpyAsync(targets_, tg, N * sizeof(int32_t), cudaMemcpyHostToDevice, stream_));
  B_ = B;
  T_ = T;
  const cudaStream_t s = stream_;
  auto w32 = [&](Param p) { return params_ + layout_.offset_of(p); };
  auto w16 = [&](Param p) { return params_bf16_ + layout_.offset_of(p); };
  Matmul& mm = *matmul_;

  encoder_forward(encoded_, inputs_, w32(Param::Wte), w32(Param::Wpe), B, T, C, s);
  residual_layernorm_forward(nullptr, ln1_, ln1_mean_, ln1_rstd_, encoded_, nullptr,
                             w32(Param::Ln1W), w32(Param::Ln1B), N, C, s);
  for (int64_t l = 0; l < L; ++l) {
    const float* residual = l == 0 ? encoded_ : residual3_ + (l - 1) * maxN * C;
    bf16* ln1 = ln1_ + l * maxN * C;
    bf16* qkv = qkv_ + l * maxN * 3 * C;
    bf16* atty = atty_ + l * maxN * C;
    float* lse = lse_ + l * maxN * NH;
    float* residual2 = residual2_ + l * maxN * C;
    bf16* ln2 = ln2_ + l * maxN * C;
    bf16* fch = fch_ + l * maxN * F;
    bf16* fch_gelu = fch_gelu_ + l * maxN * F;
    float* residual3 = residual3_ + l * maxN * C;

    mm.run(qkv, CUDA_R_16BF, ln1, false, w16(Param::QkvW) + l * 3 * C * C, true, N, 3 * C, C, 1.0f,
           0.0f, Epilogue::Bias, w16(Param::QkvB) + l * 3 * C);
    attention_forward(atty, lse, qkv, B, T, C, NH, s);
    mm.run(proj_, CUDA_R_32F, atty, false, w16(Param::AttProjW) + l * C * C, true, N, C, C, 1.0f,
           0.0f, Epilogue::Bias, w32(Param::AttProjB) + l * C);
    residual_layernorm_forward(residual2, ln2, ln2_mean_ + l * maxN, ln2_rstd_ + l * maxN, residual,
                               proj_, w32(Param::Ln2W) + l * C, w32(Param::Ln2B) + l * C, N, C, s);
    mm.run(fch_gelu, CUDA_R_16BF, ln2, false, w16(Param::FcW) + l * F * C, true, N, F, C, 1.0f, 0.0f,
           Epilogue::GeluBias, w16(Param::FcB) + l * F, fch);
    mm.run(proj_, CUDA_R_32F, fch_gelu, false, w16(Param::FcProjW) + l * C * F, true, N, C, F, 1.0f,
           0.0f, Epilogue::Bias, w32(Param::FcProjB) + l * C);
    // x += fcproj(...), then the next LayerNorm (the next layer's ln1, or lnf) in the same pass.
    if (l + 1 < L)
      residual_layernorm_forward(residual3, ln1_ + (l + 1) * maxN * C, ln1_mean_ + (l + 1) * maxN,
                                 ln1_rstd_ + (l + 1) * maxN, residual2, proj_,
                                 w32(Param::Ln1W) + (l + 1) * C, w32(Param::Ln1B) + (l + 1) * C, N,
                                 C, s);
    else
      residual_layernorm_forward(residual3, lnf_, lnf_mean_, lnf_rstd_, residual2, proj_,
                                 w32(Param::LnfW), w32(Param::LnfB), N, C, s);
  }
  mm.run(logits_, CUDA_R_16BF, lnf_, false, w16(Param::Wte), true, N, V, C);
  crossentropy_forward_backward(logits_, losses_, targets_,
                                for_backward ? 1.0f / static_cast<float>(N) : 0.0f, N, V, s);
  SCALELAB_CUDA(cudaMemcpyAsync(host_losses_, losses_, N * sizeof(float), cudaMemcpyDeviceToHost, s));
  SCALELAB_CUDA(cudaEventRecord(loss_ready_, s));
  loss_pending_ = true;
  have_gradient_forward_ = for_backward;
  have_logits_ = !for_backward;
  if (for_backward) {
    // The encoder's backward plan (a sort of the rows by token), made while the device runs the
    // forward pass; the copy is queued behind it, ahead of backward().
    SCALELAB_CUDA(cudaEventSynchronize(plan_copied_));  // the previous plan has left the buffer
    const int64_t plan_len = encoder_backward_plan(host_ints_ + 2 * N, unique_, in, N);
    SCALELAB_CUDA(cudaMemcpyAsync(plan_, host_ints_ + 2 * N, plan_len * sizeof(int32_t),
                                  cudaMemcpyHostToDevice, s));
    SCALELAB_CUDA(cudaEventRecord(plan_copied_, s));
  }
}

void CudaGpt::backward(float scale) {
  if (!have_gradient_forward_)
    throw SystemError("CudaGpt::backward needs a forward(..., for_backward = true) just before");
  have_gradient_forward_ = false;
  const int64_t B = B_, T = T_, L = config_.n_layer, C = config_.d_model, F = config_.ff(),
                V = config_.vocab, NH = config_.n_head, N = B * T, maxN = max_batch_ * config_.ctx;
  const cudaStream_t s = stream_;
  auto w32 = [&](Param p) { return params_ + layout_.offset_of(p); };
  auto w16 = [&](Param p) { return params_bf16_ + layout_.offset_of(p); };
  auto g = [&](Param p) { return grads_ + layout_.offset_of(p); };
  Matmul& mm = *matmul_;

  // logits_ holds ∂(mean loss)/∂logits; `scale` enters here and flows through linearly.
  mm.run(dbt_, CUDA_R_32F, logits_, false, w16(Param::Wte), false, N, C, V, scale, 0.0f);
  mm.run(g(Param::Wte), CUDA_R_32F, logits_, true, lnf_, false, V, C, N, scale, 1.0f);
  SCALELAB_CUDA(cudaMemsetAsync(dres_, 0, N * C * sizeof(float), s));
  layernorm_backward(dres_, dres_bf16_, g(Param::LnfW), g(Param::LnfB), dbt_,
                     residual3_ + (L - 1) * maxN * C, w32(Param::LnfW), lnf_mean_, lnf_rstd_,
                     scratch_, N, C, s);
  for (int64_t l = L - 1; l >= 0; --l) {
    const float* residual = l == 0 ? encoded_ : residual3_ + (l - 1) * maxN * C;
    const bf16* ln1 = ln1_ + l * maxN * C;
    const bf16* qkv = qkv_ + l * maxN * 3 * C;
    const bf16* atty = atty_ + l * maxN * C;
    const float* lse = lse_ + l * maxN * NH;
    const float* residual2 = residual2_ + l * maxN * C;
    const bf16* ln2 = ln2_ + l * maxN * C;
    bf16* fch = fch_ + l * maxN * F;
    const bf16* fch_gelu = fch_gelu_ + l * maxN * F;

    // dres holds ∂loss/∂residual3 of this layer (fp32, and its bf16 copy).
    mm.run(dfch_, CUDA_R_16BF, dres_bf16_, false, w16(Param::FcProjW) + l * C * F, false, N, F, C,
           1.0f, 0.0f, Epilogue::DGelu, nullptr, fch);
    mm.run(g(Param::FcProjW) + l * C * F, CUDA_R_32F, dres_bf16_, true, fch_gelu, false, C, F, N,
           1.0f, 1.0f);
    bias_backward(g(Param::FcProjB) + l * C, dres_, scratch_, N, C, s);
    mm.run(dbt_, CUDA_R_32F, dfch_, false, w16(Param::FcW) + l * F * C, false, N, C, F, 1.0f, 0.0f);
    mm.run(g(Param::FcW) + l * F * C, CUDA_R_32F, dfch_, true, ln2, false, F, C, N, 1.0f, 1.0f);
    bias_backward(g(Param::FcB) + l * F, dfch_, scratch_, N, F, s);
    layernorm_backward(dres_, dres_bf16_, g(Param::Ln2W) + l * C, g(Param::Ln2B) + l * C, dbt_,
                       residual2, w32(Param::Ln2W) + l * C, ln2_mean_ + l * maxN,
                       ln2_rstd_ + l * maxN, scratch_, N, C, s);
    // dres now holds ∂loss/∂residual2.
    mm.run(datty_, CUDA_R_16BF, dres_bf16_, false, w16(Param::AttProjW) + l * C * C, false, N, C, C,
           1.0f, 0.0f);
    mm.run(g(Param::AttProjW) + l * C * C, CUDA_R_32F, dres_bf16_, true, atty, false, C, C, N, 1.0f,
           1.0f);
    bias_backward(g(Param::AttProjB) + l * C, dres_, scratch_, N, C, s);
    attention_backward(dqkv_, delta_, datty_, qkv, atty, lse, B, T, C, NH, s);
    mm.run(dbt_, CUDA_R_32F, dqkv_, false, w16(Param::QkvW) + l * 3 * C * C, false, N, C, 3 * C,
           1.0f, 0.0f);
    mm.run(g(Param::QkvW) + l * 3 * C * C, CUDA_R_32F, dqkv_, true, ln1, false, 3 * C, C, N, 1.0f,
           1.0f);
    bias_backward(g(Param::QkvB) + l * 3 * C, dqkv_, scratch_, N, 3 * C, s);
    layernorm_backward(dres_, dres_bf16_, g(Param::Ln1W) + l * C, g(Param::Ln1B) + l * C, dbt_,
                       residual, w32(Param::Ln1W) + l * C, ln1_mean_ + l * maxN,
                       ln1_rstd_ + l * maxN, scratch_, N, C, s);
  }
  encoder_backward(g(Param::Wte), g(Param::Wpe), dres_, plan_, unique_, B, T, C, s);
}

double CudaGpt::grad_norm() {
  grad_norm_squared(norm_, norm_partial_, grads_, layout_.total, stream_);
  double host = 0;
  SCALELAB_CUDA(cudaMemcpyAsync(&host, norm_, sizeof host, cudaMemcpyDeviceToHost, stream_));
  sync();
  return std::sqrt(host);
}

void CudaGpt::adamw(const train::OptimizerOptions& o, double lr, int64_t step, float grad_scale) {
  // The scalar factors exactly as train::adamw_update computes them.
  const float beta1 = static_cast<float>(o.beta1), beta2 = static_cast<float>(o.beta2);
  const float correction1 = static_cast<float>(1.0 - std::pow(o.beta1, static_cast<double>(step)));
  const float correction2 = static_cast<float>(1.0 - std::pow(o.beta2, static_cast<double>(step)));
  const float eps = static_cast<float>(o.eps), flr = static_cast<float>(lr);
  float* m = moments_;
  float* v = moments_ + layout_.total;
  for (int kind = 0; kind < model::kParamKinds; ++kind) {
    const Param p = static_cast<Param>(kind);
    const float decay =
        model::param_decays(p) ? static_cast<float>(1.0 - lr * o.weight_decay) : 1.0f;
    const int64_t begin = layout_.offset[kind], n = layout_.size[kind];
    adamw_update(params_ + begin, params_bf16_ + begin, grads_ + begin, m + begin, v + begin, n,
                 beta1, beta2, correction1, correction2, eps, flr, decay, grad_scale, stream_);
  }
}

std::vector<float> CudaGpt::parameters() const {
  std::vector<float> host(static_cast<size_t>(layout_.total));
  SCALELAB_CUDA(cudaMemcpyAsync(host.data(), params_, host.size() * sizeof(float),
                                cudaMemcpyDeviceToHost, stream_));
  sync();
  return host;
}

void CudaGpt::set_parameters(const float* host) {
  SCALELAB_CUDA(cudaMemcpyAsync(params_, host, layout_.total * sizeof(float), cudaMemcpyHostToDevice,
                                stream_));
  to_bf16(params_bf16_, params_, layout_.total, stream_);
  sync();
}

std::vector<float> CudaGpt::gradients() const {
  std::vector<float> host(static_cast<size_t>(layout_.total));
  SCALELAB_CUDA(cudaMemcpyAsync(host.data(), grads_, host.size() * sizeof(float),
                                cudaMemcpyDeviceToHost, stream_));
  sync();
  return host;
}

void CudaGpt::set_gradients(const float* host) {
  SCALELAB_CUDA(cudaMemcpyAsync(grads_, host, layout_.total * sizeof(float), cudaMemcpyHostToDevice,
                                stream_));
  sync();
}

void CudaGpt::moments(float* m, float* v) const {
  SCALELAB_CUDA(cudaMemcpyAsync(m, moments_, layout_.total * sizeof(float), cudaMemcpyDeviceToHost,
                                stream_));
  SCALELAB_CUDA(cudaMemcpyAsync(v, moments_ + layout_.total, layout_.total * sizeof(float),
                                cudaMemcpyDeviceToHost, stream_));
  sync();
}

void CudaGpt::set_moments(const float* m, const float* v) {
  SCALELAB_CUDA(cudaMemcpyAsync(moments_, m, layout_.total * sizeof(float), cudaMemcpyHostToDevice,
                                stream_));
  SCALELAB_CUDA(cudaMemcpyAsync(moments_ + layout_.total, v, layout_.total * sizeof(float),
                                cudaMemcpyHostToDevice, stream_));
  sync();
}

std::vector<float> CudaGpt::logits() const {
  if (!have_logits_)
    throw SystemError("CudaGpt::logits needs a forward(..., for_backward = false) just before");
  const int64_t n = B_ * T_ * config_.vocab;
  float* tmp = nullptr;
  SCALELAB_CUDA(cudaMallocAsync(&tmp, n * sizeof(float), stream_));
  to_float(tmp, logits_, n, stream_);
  std::vector<float> host(static_cast<size_t>(n));
  SCALELAB_CUDA(cudaMemcpyAsync(host.data(), tmp, n * sizeof(float), cudaMemcpyDeviceToHost, stream_));
  SCALELAB_CUDA(cudaFreeAsync(tmp, stream_));
  sync();
  return host;
}

}  // namespace scalelab::cuda
