#include "kernels/cuda_backend.h"

#include <cublasLt.h>

#include <cmath>
#include <optional>

#include "core/error.h"
#include "train/bytes.h"

namespace scalelab::cuda {

namespace {

constexpr const char* kStateTag = "cuda-adamw-1";
constexpr const char* kCpuStateTag = "cpu-adamw-1";  // same layout: a CPU checkpoint loads here

class CudaBackend final : public train::Backend {
 public:
  explicit CudaBackend(const CudaGptOptions& options) : options_(options) {
    require_device(options.device);
    device_ = device_info(options.device);
  }

  std::string name() const override { return "cuda"; }
  std::string device() const override {
    const size_t version = cublasLtGetVersion();
    return str(device_.Summary(), ", cuBLASLt ", version / 10000, ".", (version / 100) % 100);
  }

  double peak_flops() const override { return device_.peak_bf16_flops; }

  void init(const model::GptConfig& config, const train::OptimizerOptions& options,
            int64_t max_batch, uint64_t seed) override {
    model_.reset();  // free the old model's memory before allocating the new one
    model_ = std::make_unique<CudaGpt>(config, max_batch, options_);
    model_->init(seed);
    optimizer_ = options;
    step_ = 0;
  }

  double accumulate(const int32_t* tokens, int64_t B, int64_t T, float scale) override {
    // The backward pass is queued behind the forward before the loss is read, so the device never
    // waits for the host. A NaN loss then leaves a NaN gradient, which update() refuses (its norm
    // is not finite) and the trainer stops the run as diverged, as with the CPU backend.
    CudaGpt& m = model();
    m.forward_async(tokens, B, T, true);
    m.backward(scale);
    return m.loss();
  }

  double update(double lr) override {
    CudaGpt& m = model();
    const double norm = m.grad_norm();
    if (!std::isfinite(norm)) return norm;
    const float scale = optimizer_.clip > 0 && norm > optimizer_.clip
                            ? static_cast<float>(optimizer_.clip / norm)
                            : 1.0f;
    ++step_;
    m.adamw(optimizer_, lr, step_, scale);
    m.zero_grad();
    return norm;
  }

  double evaluate(const int32_t* tokens, int64_t B, int64_t T) override {
    return model().forward(tokens, B, T, false);
  }

  std::string save() const override {
    const CudaGpt& m = model();
    const int64_t n = m.num_params();
    std::vector<float> mo(static_cast<size_t>(n)), ve(static_cast<size_t>(n));
    m.moments(mo.data(), ve.data());
    const std::vector<float> params = m.parameters();
    train::ByteWriter w;
    w.string(kStateTag);
    w.i64(step_);
    w.floats(params.data(), n);
    w.floats(mo.data(), n);
    w.floats(ve.data(), n);
    return w.bytes();
  }

  void load(const std::string& state) override {
    CudaGpt& m = model();
    train::ByteReader r(state, "the cuda backend's checkpoint state");
    const std::string tag = r.string();
    if (tag != kStateTag && tag != kCpuStateTag)
      fail("the checkpoint was not written by the cuda or cpu backend");
    const int64_t n = m.num_params();
    std::vector<float> params(static_cast<size_t>(n)), mo(params.size()), ve(params.size());
    const int64_t step = r.i64();
    r.floats(params.data(), n);
    r.floats(mo.data(), n);
    r.floats(ve.data(), n);
    step_ = step;
    m.set_parameters(params.data());
    m.set_moments(mo.data(), ve.data());
    m.zero_grad();
  }

  std::vector<float> parameters() const override { return model().parameters(); }

 private:
  CudaGpt& model() {
    SCALELAB_CHECK(model_ != nullptr);
    return *model_;
  }
  const CudaGpt& model() const {
    SCALELAB_CHECK(model_ != nullptr);
    return *model_;
  }

  CudaGptOptions options_;
  DeviceInfo device_;
  std::unique_ptr<CudaGpt> model_;
  train::OptimizerOptions optimizer_;
  int64_t step_ = 0;
};

}  // namespace

std::unique_ptr<train::Backend> make_cuda_backend(const CudaGptOptions& options) {
  return std::make_unique<CudaBackend>(options);
}

void register_cuda_backend() {
  train::register_backend(
      "cuda", [](int, const train::LossLaw&) { return make_cuda_backend(); },
      [] { return device_info().available; });
}

}  // namespace scalelab::cuda
