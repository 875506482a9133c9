#include "train/cpu_backend.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/gemm.h"
#include "model/gpt_cpu.h"
#include "model/huge_pages.h"
#include "model/parallel.h"
#include "model/rng.h"
#include "train/adamw.h"
#include "train/bytes.h"

namespace scalelab::train {

namespace {

// Two ways to use several threads, chosen once per model:
//   within ops   one model; every layer splits its work over the threads (large models, where
//                each matrix product is big enough to share);
//   over rows    one replica of the model per thread, each taking a contiguous share of the batch's
//                rows; the gradients are summed in a fixed order before the update and the new
//                parameters copied back to the replicas (small models, where a layer's work is too
//                small to split but a step synchronises only twice instead of at every layer).
// Both are deterministic for a given thread count.
class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(int threads) : threads_(std::max(1, threads)) {}

  std::string name() const override { return "cpu"; }
  std::string device() const override {
    return str(threads_, threads_ == 1 ? " thread" : " threads",
               threads_ > 1 ? (replicas_.size() > 1 ? " (over rows)" : " (within ops)") : "", ", ",
               model::gemm_backend());
  }

  void init(const model::GptConfig& config, const OptimizerOptions& options, int64_t max_batch,
            uint64_t seed) override {
    // The matrix-product kernel is chosen here, on the caller's thread: a bad SCALELAB_GEMM fails
    // with its message now, not inside a worker thread later.
    model::gemm_selected();
    replicas_.clear();
    const int count = threads_ > 1 && split_rows(config, max_batch) ? threads_ : 1;
    const int64_t rows = (max_batch + count - 1) / count;
    for (int r = 0; r < count; ++r)
      replicas_.emplace_back(std::make_unique<model::CpuGpt>(config, rows, count > 1 ? 1 : threads_));
    for (int r = 1; r < count; ++r) replicas_[r]->share_parameters(main());
    main().init(seed);
    fresh_.assign(static_cast<size_t>(count), 0);
    options_ = options;
    m_.assign(static_cast<size_t>(main().num_params()), 0.0f);
    v_.assign(static_cast<size_t>(main().num_params()), 0.0f);
    step_ = 0;
  }

  double accumulate(const int32_t* tokens, int64_t B, int64_t T, float scale) override {
    return run_rows(tokens, B, T, [&](model::CpuGpt& m, const int32_t* rows, int64_t b, int r) {
      const double loss = m.forward(rows, b, T);
      if (std::isfinite(loss)) {
        // A replica's first rows since the last update overwrite its gradients (nothing zeroes
        // them in between); later micro-batches add to them.
        m.backward(scale * static_cast<float>(b) / static_cast<float>(B), !fresh_[r]);
        fresh_[r] = 1;
      }
      return loss;
    });
  }

  double update(double lr) override {
    model::CpuGpt& m = main();
    // The gradients of the replicas that took rows since the last update summed into the first's
    // (in replica order) and the global norm, in one pass; then AdamW. The next micro-batch
    // overwrites the gradients, so nothing zeroes them. The replicas share the first's parameters:
    // nothing to copy back.
    if (!fresh_[0]) m.zero_grad();  // no rows since the last update (not reached by train.run)
    std::vector<const float*> others;
    for (size_t r = 1; r < replicas_.size(); ++r)
      if (fresh_[r]) others.push_back(replicas_[r]->grads());
    std::fill(fresh_.begin(), fresh_.end(), 0);
    const double norm = std::sqrt(reduce_gradients_norm_squared(
        m.grads(), others.data(), static_cast<int>(others.size()), m.num_params(), threads_));
    if (!std::isfinite(norm)) return norm;
    const float scale =
        options_.clip > 0 && norm > options_.clip ? static_cast<float>(options_.clip / norm) : 1.0f;
    ++step_;
    adamw_update(m.layout(), m.params(), m.grads(), m_.data(), v_.data(), options_, lr, step_, scale,
                 threads_);
    return norm;
  }

  double evaluate(const int32_t* tokens, int64_t B, int64_t T) override {
    return run_rows(tokens, B, T, [&](model::CpuGpt& m, const int32_t* rows, int64_t b, int) {
      return m.forward(rows, b, T);
    });
  }

  int rounding_threads() const override { return threads_; }

  std::string save() const override {
    const model::CpuGpt& m = main();
    ByteWriter w;
    w.string("cpu-adamw-1");
    w.i64(step_);
    w.floats(m.params(), m.num_params());
    w.floats(m_.data(), m.num_params());
    w.floats(v_.data(), m.num_params());
    return w.bytes();
  }

  void load(const std::string& state) override {
    model::CpuGpt& m = main();
    ByteReader r(state, "the cpu backend's checkpoint state");
    if (r.string() != "cpu-adamw-1") fail("the checkpoint was not written by the cpu backend");
    step_ = r.i64();
    r.floats(m.params(), m.num_params());
    r.floats(m_.data(), m.num_params());
    r.floats(v_.data(), m.num_params());
    std::fill(fresh_.begin(), fresh_.end(), 0);  // the next rows overwrite the gradients
  }

  std::vector<float> parameters() const override {
    const model::CpuGpt& m = main();
    return std::vector<float>(m.params(), m.params() + m.num_params());
  }

 private:
  // Rows rather than ops unless the replicas would need too much memory.
  // SCALELAB_CPU_PARALLEL = "rows" or "ops" overrides the choice (for measuring).
  bool split_rows(const model::GptConfig& config, int64_t max_batch) const {
    if (max_batch < threads_) return false;
    if (const char* mode = std::getenv("SCALELAB_CPU_PARALLEL")) {
      if (std::string(mode) == "rows") return true;
      if (std::string(mode) == "ops") return false;
    }
    // Measured on 2 cores (bench/train): rows win at every size of issue 6's benchmark, up to
    // d_model 512. The replicas' parameters and gradients cost memory: beyond 2 GiB of them, ops.
    const double replica_bytes = 8.0 * static_cast<double>(config.params()) * threads_;
    return replica_bytes <= 2.0 * (1 << 30);
  }

  model::CpuGpt& main() {
    SCALELAB_CHECK(!replicas_.empty());
    return *replicas_[0];
  }
  const model::CpuGpt& main() const {
    SCALELAB_CHECK(!replicas_.empty());
    return *replicas_[0];
  }

  // Runs fn(replica, its rows, row count, replica index) on each replica's share of the batch;
  // returns the mean loss over all rows, summed in replica order.
  template <class Fn>
  double run_rows(const int32_t* tokens, int64_t B, int64_t T, Fn fn) {
    const int count = static_cast<int>(replicas_.size());
    if (count == 1) return fn(main(), tokens, B, 0);
    std::vector<double> losses(static_cast<size_t>(count), 0.0);
    std::vector<int64_t> sizes(static_cast<size_t>(count), 0);
    std::vector<std::string> errors(static_cast<size_t>(count));  // one per thread: no sharing
    model::parallel_run(count, [&](int r, int) {
      int64_t begin, end;
      model::split_range(B, count, r, begin, end);
      sizes[r] = end - begin;
      if (sizes[r] == 0) return;
      try {
        losses[r] = fn(*replicas_[r], tokens + begin * (T + 1), sizes[r], r);
      } catch (const std::exception& e) {  // bad token ids: reported after the join
        losses[r] = std::numeric_limits<double>::quiet_NaN();
        errors[r] = e.what();
      }
    });
    for (const std::string& error : errors)  // the first replica's error, as one thread would see
      if (!error.empty()) throw Error(error);
    double total = 0;
    for (int r = 0; r < count; ++r) total += losses[r] * static_cast<double>(sizes[r]);
    return total / static_cast<double>(B);
  }

  int threads_;
  std::vector<std::unique_ptr<model::CpuGpt>> replicas_;
  OptimizerOptions options_;
  model::FloatBuffer m_, v_;  // AdamW moments: the optimizer state
  // Per replica: it has computed gradients since the last update. Bytes, not vector<bool>: the
  // replicas' threads write their own entries at once, and vector<bool> packs them into one word.
  std::vector<uint8_t> fresh_;
  int64_t step_ = 0;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(int threads) { return std::make_unique<CpuBackend>(threads); }

}  // namespace scalelab::train
