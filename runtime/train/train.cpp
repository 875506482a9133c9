#include "train/train.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/units.h"
#include "train/bytes.h"

namespace scalelab::train {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const char* const kCheckpointMagic = "scalelab-checkpoint-1";

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Everything the run's trajectory depends on: a checkpoint only resumes the same run.
std::string fingerprint(const TrainConfig& c, const std::string& backend, int64_t batch, int64_t T,
                        int64_t steps) {
  const OptimizerOptions& o = c.optimizer;
  return str(c.model.Summary(), "; backend ", backend, "; batch ", batch, " x ", T, "; steps ", steps,
             "; lr ", c.lr, " warmup ", c.warmup, " min ", c.min_lr_ratio, "; adamw ", o.beta1, " ",
             o.beta2, " ", o.eps, " wd ", o.weight_decay, " clip ", o.clip, "; seed ", c.seed);
}

struct RunState {
  int64_t step = 0;
  double train_sum = 0;
  int64_t train_count = 0;
  double best = kNaN;
  std::vector<CurvePoint> curve;
};

void write_checkpoint(const std::string& path, const std::string& print, const RunState& s,
                      const data::BatchSource* data, const Backend& backend) {
  ByteWriter w;
  w.string(kCheckpointMagic);
  w.string(print);
  w.i64(s.step);
  w.f64(s.train_sum);
  w.i64(s.train_count);
  w.f64(s.best);
  w.u64(s.curve.size());
  for (const CurvePoint& p : s.curve) {
    w.i64(p.tokens);
    w.f64(p.train_loss);
    w.f64(p.eval_loss);
  }
  w.string(data ? data->state() : std::string());
  w.string(backend.save());
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail("cannot write the checkpoint ", tmp, ": check that its folder exists and is writable");
    out.write(w.bytes().data(), static_cast<std::streamsize>(w.bytes().size()));
    out.close();
    if (!out) fail("writing the checkpoint ", tmp, " failed (disk full?)");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    fail("cannot rename ", tmp, " to ", path, " to finish the checkpoint");
}

bool read_checkpoint(const std::string& path, const std::string& print, RunState& s,
                     data::BatchSource* data, Backend& backend) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string bytes = buffer.str();
  ByteReader r(bytes, "checkpoint " + path);
  if (r.string() != kCheckpointMagic) fail(path, " is not a scalelab checkpoint");
  const std::string stored = r.string();
  if (stored != print)
    fail("checkpoint ", path, " belongs to another run (", stored, "), not this one (", print,
         "); delete it, give another checkpoint path, or pass resume = false to start over");
  s.step = r.i64();
  s.train_sum = r.f64();
  s.train_count = r.i64();
  s.best = r.f64();
  s.curve.resize(r.u64());
  for (CurvePoint& p : s.curve) {
    p.tokens = r.i64();
    p.train_loss = r.f64();
    p.eval_loss = r.f64();
  }
  const std::string sampler = r.string();
  if (data) data->restore(sampler);
  backend.load(r.string());
  return true;
}

int64_t interval_steps(int64_t tokens, int64_t tokens_per_step) {
  return std::max<int64_t>(1, (tokens + tokens_per_step / 2) / tokens_per_step);
}

}  // namespace

const char* status_name(RunStatus status) {
  switch (status) {
    case RunStatus::Done: return "done";
    case RunStatus::Diverged: return "diverged";
    case RunStatus::Interrupted: return "interrupted";
  }
  return "?";
}

void TrainConfig::Validate() const {
  model::GptConfig m = model;
  m.Validate();
  if ((tokens > 0) == (steps > 0))
    fail("train: give exactly one of tokens (training tokens D) and steps (optimizer steps); got tokens = ",
         tokens, ", steps = ", steps);
  if (tokens < 0 || steps < 0) fail("train: tokens and steps must be positive");
  if (!data && backend != "simulated")
    fail("train: data is missing: give a sampler (data = ...); only backend = \"simulated\" runs without data");
  if (data) {
    if (data->vocab() > m.vocab)
      fail("train: the data's vocabulary (", data->vocab(), ") is larger than the model's (", m.vocab,
           "); use model.gpt{ vocab = ", data->vocab(), ", ... }");
    if (data->seq_len() > m.ctx)
      fail("train: the data's rows have ", data->seq_len(), " tokens but the model's context is ", m.ctx,
           "; use a sampler with seq_len <= ", m.ctx, " or a model with ctx >= ", data->seq_len());
    if (batch > 0 && batch % data->batch() != 0)
      fail("train: batch (", batch, " rows) must be a multiple of the sampler's batch (", data->batch(),
           " rows), which is the micro-batch; gradients are accumulated over batch / ", data->batch(),
           " micro-batches");
    if (seq_len > 0 && seq_len != data->seq_len())
      fail("train: seq_len (", seq_len, ") differs from the sampler's (", data->seq_len(),
           "); leave seq_len out to use the sampler's");
  } else {
    if (batch <= 0) fail("train: without data, give batch (rows per step)");
    if (seq_len <= 0 || seq_len > m.ctx)
      fail("train: without data, give seq_len between 1 and the model's ctx (", m.ctx, ")");
  }
  if (eval_data) {
    if (eval_data->vocab() > m.vocab)
      fail("train: the held-out data's vocabulary (", eval_data->vocab(), ") is larger than the model's (",
           m.vocab, ")");
    if (eval_data->seq_len() > m.ctx)
      fail("train: the held-out rows have ", eval_data->seq_len(), " tokens, more than the model's ctx (",
           m.ctx, ")");
  }
  if (!(lr > 0) || !std::isfinite(lr)) fail("train: lr must be a positive number (got ", lr, ")");
  if (!(warmup >= 0 && warmup < 1)) fail("train: warmup is a fraction of the run in [0, 1) (got ", warmup, ")");
  if (!(min_lr_ratio >= 0 && min_lr_ratio <= 1))
    fail("train: min_lr_ratio must be in [0, 1] (got ", min_lr_ratio, ")");
  const OptimizerOptions& o = optimizer;
  if (!(o.beta1 >= 0 && o.beta1 < 1) || !(o.beta2 >= 0 && o.beta2 < 1))
    fail("train: betas must be in [0, 1) (got ", o.beta1, ", ", o.beta2, ")");
  if (!(o.eps > 0)) fail("train: eps must be positive (got ", o.eps, ")");
  if (!(o.weight_decay >= 0)) fail("train: weight_decay must be >= 0 (got ", o.weight_decay, ")");
  if (!(o.clip >= 0)) fail("train: clip must be >= 0 (0 disables clipping; got ", o.clip, ")");
  if (eval_interval < 0 || eval_tokens < 0 || checkpoint_interval < 0)
    fail("train: eval_interval, eval_tokens and checkpoint_interval must be >= 0");
  if (threads < 0) fail("train: threads must be >= 0 (0: all cores; got ", threads, ")");
}

double learning_rate(const TrainConfig& c, int64_t step, int64_t steps) {
  const int64_t warmup = static_cast<int64_t>(std::llround(c.warmup * static_cast<double>(steps)));
  if (step < warmup) return c.lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  const double span = static_cast<double>(std::max<int64_t>(1, steps - 1 - warmup));
  const double progress = std::min(1.0, static_cast<double>(step - warmup) / span);
  const double min_lr = c.min_lr_ratio * c.lr;
  return min_lr + (c.lr - min_lr) * 0.5 * (1.0 + std::cos(3.141592653589793 * progress));
}

RunResult train(const TrainConfig& config) {
  config.Validate();
  const auto start = Clock::now();
  model::GptConfig shape = config.model;
  shape.Validate();

  data::BatchSource* data = config.data;
  data::BatchSource* eval = config.eval_data;
  const int64_t micro = data ? data->batch() : config.batch;
  const int64_t T = data ? data->seq_len() : config.seq_len;
  const int64_t batch = config.batch > 0 ? config.batch : micro;
  const int64_t accumulation = batch / micro;
  const int64_t tokens_per_step = batch * T;
  // Whole steps only, rounding down as the data module's samplers do (they plan
  // floor(tokens / (batch·seq_len)) batches), so tokens = D never asks a sampler for more than D.
  const int64_t steps =
      config.steps > 0 ? config.steps : std::max<int64_t>(1, config.tokens / tokens_per_step);

  std::unique_ptr<Backend> backend = make_backend(config.backend, config.threads, config.law);
  const bool feed = data && backend->needs_tokens();
  const int64_t eval_B = eval ? eval->batch() : micro;
  const int64_t eval_T = eval ? eval->seq_len() : T;
  const bool can_eval = eval || !backend->needs_tokens();
  const int64_t eval_batches =
      config.eval_tokens > 0 ? std::max<int64_t>(1, (config.eval_tokens + eval_B * eval_T - 1) / (eval_B * eval_T))
                             : 16;
  const int64_t eval_every = config.eval_interval > 0 ? interval_steps(config.eval_interval, tokens_per_step)
                                                      : std::max<int64_t>(1, steps / 20);
  const int64_t checkpoint_every =
      config.checkpoint_interval > 0 ? interval_steps(config.checkpoint_interval, tokens_per_step) : 0;

  backend->init(shape, config.optimizer, std::max(micro, eval_B), config.seed);
  const std::string eval_start = eval ? eval->state() : std::string();
  const std::string print = fingerprint(config, backend->name(), batch, T, steps);

  RunResult result;
  result.backend = backend->name();
  result.device = backend->device();
  result.model = shape.Summary();
  result.params = shape.params();
  result.non_embedding_params = shape.non_embedding_params();

  std::vector<int32_t> tokens;
  auto evaluate = [&]() -> double {
    if (!can_eval) return kNaN;
    if (eval) eval->restore(eval_start);
    double sum = 0;
    for (int64_t i = 0; i < eval_batches; ++i) {
      if (eval) eval->next_batch(tokens);
      sum += backend->evaluate(eval ? tokens.data() : nullptr, eval_B, eval_T);
    }
    return sum / static_cast<double>(eval_batches);
  };

  RunState state;
  const bool resumed = !config.checkpoint.empty() && config.resume &&
                       read_checkpoint(config.checkpoint, print, state, data, *backend);
  const int64_t first_step = state.step;
  double eval_at_start = kNaN;
  if (!resumed) eval_at_start = evaluate();

  double train_seconds = 0;
  auto finish_point = [&](double eval_loss) {
    CurvePoint p;
    p.tokens = state.step * tokens_per_step;
    p.train_loss = state.train_count ? state.train_sum / static_cast<double>(state.train_count) : kNaN;
    p.eval_loss = eval_loss;
    state.curve.push_back(p);
    state.train_sum = 0;
    state.train_count = 0;
    if (std::isfinite(eval_loss) && !(eval_loss >= state.best)) state.best = eval_loss;
  };

  result.status = RunStatus::Done;
  double last_train = kNaN;
  while (state.step < steps) {
    if (interrupt_requested()) {
      clear_interrupt();
      result.status = RunStatus::Interrupted;
      result.message = str("interrupted by the user after ", state.step, " of ", steps, " steps");
      break;
    }
    const auto step_start = Clock::now();
    double loss_sum = 0;
    for (int64_t a = 0; a < accumulation; ++a) {
      if (data) data->next_batch(tokens);
      loss_sum += backend->accumulate(feed ? tokens.data() : nullptr, micro, T,
                                      1.0f / static_cast<float>(accumulation));
    }
    const double loss = loss_sum / static_cast<double>(accumulation);
    if (!std::isfinite(loss)) {
      result.status = RunStatus::Diverged;
      result.message = str("the training loss became ", loss, " at step ", state.step + 1,
                           "; lower the learning rate (lr = ", config.lr, ")");
      break;
    }
    if (state.step == 0) {  // the curve starts at the initial parameters
      state.train_sum = loss;
      state.train_count = 1;
      finish_point(eval_at_start);
    }
    const double norm = backend->update(learning_rate(config, state.step, steps));
    train_seconds += seconds_since(step_start);
    if (!std::isfinite(norm)) {
      result.status = RunStatus::Diverged;
      result.message = str("the gradient norm became ", norm, " at step ", state.step + 1,
                           "; lower the learning rate (lr = ", config.lr, ")");
      break;
    }
    ++state.step;
    state.train_sum += loss;
    ++state.train_count;
    last_train = loss;
    if (state.step % eval_every == 0 || state.step == steps) {
      const double eval_loss = evaluate();
      finish_point(eval_loss);
      if (can_eval && !std::isfinite(eval_loss)) {
        result.status = RunStatus::Diverged;
        result.message = str("the held-out loss became ", eval_loss, " at step ", state.step);
        break;
      }
    }
    if (checkpoint_every && state.step % checkpoint_every == 0 && state.step < steps &&
        !config.checkpoint.empty())
      write_checkpoint(config.checkpoint, print, state, data, *backend);
    if (config.progress) {
      Progress p;
      p.step = state.step;
      p.steps = steps;
      p.tokens = state.step * tokens_per_step;
      p.total_tokens = steps * tokens_per_step;
      p.train_loss = loss;
      p.eval_loss = state.curve.empty() ? kNaN : state.curve.back().eval_loss;
      p.elapsed_seconds = seconds_since(start);
      p.tokens_per_second =
          train_seconds > 0 ? static_cast<double>((state.step - first_step) * tokens_per_step) / train_seconds : 0;
      config.progress(p);
    }
  }
  if (result.status != RunStatus::Diverged && !config.checkpoint.empty())
    write_checkpoint(config.checkpoint, print, state, data, *backend);

  result.curve = state.curve;
  // Interrupted between evaluations: measure the held-out loss where training stopped, for the
  // result only (the checkpoint keeps the curve of an uninterrupted run, so resuming stays exact).
  if (result.status == RunStatus::Interrupted && can_eval && state.step > 0 &&
      (result.curve.empty() || result.curve.back().tokens < state.step * tokens_per_step)) {
    CurvePoint p;
    p.tokens = state.step * tokens_per_step;
    p.train_loss = state.train_count ? state.train_sum / static_cast<double>(state.train_count) : kNaN;
    p.eval_loss = evaluate();
    result.curve.push_back(p);
    if (std::isfinite(p.eval_loss) && !(p.eval_loss >= state.best)) state.best = p.eval_loss;
  }
  result.steps = state.step;
  result.tokens = state.step * tokens_per_step;
  result.best_loss = state.best;
  result.final_loss = kNaN;
  for (auto p = result.curve.rbegin(); p != result.curve.rend(); ++p)
    if (!std::isnan(p->eval_loss) || !can_eval) {
      result.final_loss = p->eval_loss;
      break;
    }
  result.final_train_loss = result.curve.empty() ? last_train : result.curve.back().train_loss;
  result.flops = shape.flops_per_token(model::FlopConvention::Kaplan) * static_cast<double>(result.tokens);
  result.flops_palm = shape.flops_per_token(model::FlopConvention::PaLM) * static_cast<double>(result.tokens);
  result.wall_seconds = seconds_since(start);
  result.train_seconds = train_seconds;
  const double session_tokens = static_cast<double>((state.step - first_step) * tokens_per_step);
  result.tokens_per_second = train_seconds > 0 ? session_tokens / train_seconds : 0;
  result.flops_per_second =
      result.tokens_per_second * shape.flops_per_token(model::FlopConvention::Kaplan);
  if (const double peak = backend->peak_flops(); peak > 0)
    result.mfu = result.tokens_per_second * shape.hardware_flops_per_token() / peak;
  return result;
}

std::string RunResult::BriefReport() const {
  std::string loss = std::isnan(final_loss) ? str("train loss ", format_significant(final_train_loss, 4))
                                            : str("held-out loss ", format_significant(final_loss, 4),
                                                  " (best ", format_significant(best_loss, 4), ")");
  std::string text = str(status_name(status), ": ", loss, " after ", format_count(static_cast<double>(tokens)),
                         " tokens, ", format_flops(flops), " FLOP, ", format_duration(wall_seconds), ", ",
                         format_count(tokens_per_second), " tokens/s, ", format_flops(flops_per_second),
                         " FLOP/s on ", backend);
  if (mfu > 0) text += str(" (MFU ", format_significant(100 * mfu, 3), "%)");
  if (status != RunStatus::Done && !message.empty()) text += " (" + message + ")";
  return text;
}

}  // namespace scalelab::train
