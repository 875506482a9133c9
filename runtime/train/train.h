// Training a GPT: one TrainConfig in, one RunResult out, on any backend (train/backend.h).
//
//   train::TrainConfig config;
//   config.model = model::shape_for({.params = 1e6});
//   config.data = &sampler;            // training batches (data::BatchSource)
//   config.eval_data = &held_out;      // held-out batches, rewound before every evaluation
//   config.tokens = 20'000'000;
//   train::RunResult result = train::train(config);
//   std::cout << result.BriefReport();
//
// The schedule: AdamW (β = 0.9, 0.95; weight decay 0.1 on matrices and embeddings only), linear
// warmup over the first `warmup` fraction of the steps, then cosine decay to min_lr_ratio·lr that
// ends exactly at the run's last step (Chinchilla: a longer cycle than the run biases the loss),
// gradients clipped to global norm `clip`. A batch larger than the data source's rows is made of
// several of its batches whose gradients are accumulated, and each of those goes through the
// backend in passes of micro_batch rows (chosen to fit memory on the cpu backend unless given).
//
// Determinism: the same config, seed, data, thread count and micro-batches give bitwise identical losses. A
// checkpoint holds the parameters, the optimizer state, the sampler's position, the random state
// and the curve so far; resuming from it continues bitwise identically to an uninterrupted run. It
// records the held-out source's state at the run's start: resumed with other held-out data, refused.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "data/batch_source.h"
#include "model/gpt.h"
#include "train/backend.h"

namespace scalelab::train {

enum class RunStatus { Done, Diverged, Interrupted };
const char* status_name(RunStatus status);  // "done", "diverged", "interrupted"

struct Progress {
  int64_t step = 0, steps = 0;     // optimizer steps done, planned
  int64_t tokens = 0, total_tokens = 0;
  double train_loss = 0;           // mean over the last step's micro-batches
  double eval_loss = 0;            // the latest held-out loss (NaN before the first)
  double elapsed_seconds = 0;
  double tokens_per_second = 0;    // training steps only
  // The rest of the run at this session's pace so far, evaluations and checkpoints included (a
  // time left from tokens_per_second alone leaves them out: 2 to 3 times short with the default
  // 20 evaluations of a small run); 0 at the end and for a backend that draws its losses.
  double eta_seconds = 0;
};

struct TrainConfig {
  model::GptConfig model;
  data::BatchSource* data = nullptr;       // not owned; may be null for the simulated backend
  data::BatchSource* eval_data = nullptr;  // not owned; null: no held-out loss (simulated: drawn)
  // What leaving eval_data out would evaluate on, for the errors that advise it: the training data's
  // own held-out split ("data:held_out()": a sampler made with validation > 0, a Lua source with a
  // held_out method), or "" where it has none (a Lua source without held_out(), a sampler that holds
  // nothing out) or eval_data was left out already; then they advise giving eval_data.
  std::string eval_data_default;

  int64_t tokens = 0;      // training tokens D (rounded down to whole steps; at least one step); or
  int64_t steps = 0;       // optimizer steps (exactly one of the two)
  int64_t batch = 0;       // rows per optimizer step; 0: the source's batch. A multiple of it.
  int64_t seq_len = 0;     // tokens per row; 0: the source's seq_len (needed without data)
  int64_t micro_batch = 0; // rows per forward and backward pass, a divisor of the source's batch;
                           // 0: the source's batch, or on the cpu backend the largest divisor of it
                           // whose activations fit in the memory available (gradients accumulated)

  double lr = 1e-3;            // peak learning rate
  double warmup = 0.01;        // fraction of the steps spent warming up linearly
  double min_lr_ratio = 0.1;   // the cosine ends at min_lr_ratio·lr
  OptimizerOptions optimizer;
  uint64_t seed = 1;

  int64_t eval_interval = 0;   // tokens between evaluations; 0: about 20 per run, at most 20 after
                               // the initial one (simulated: at most 1000 per run, the interval
                               // widened to fit)
  int64_t eval_tokens = 0;     // held-out tokens per evaluation; 0: 16 batches of eval_data. At
                               // most a held-out split that cycles: asked for more, an evaluation
                               // reads the whole split once (each sequence weighted equally)

  std::string checkpoint;           // path; empty: no checkpoints
  int64_t checkpoint_interval = 0;  // tokens between checkpoints (only with a checkpoint path); 0: only at the end or on Ctrl-C
                                    // (simulated: at most 1000 per run, the interval widened to fit)
  bool resume = true;               // continue from `checkpoint` when the file exists

  std::string backend = "cpu";      // "cpu", "simulated", "cuda", "auto"; the simulated backend
                                    // never reads data and costs the same whatever the step count
  int threads = 0;                  // CPU threads; 0: all cores
  LossLaw law;                      // the simulated backend's law

  std::function<void(const Progress&)> progress;  // after every step (keep it cheap)
  // Asked before every step: true stops the run there as Ctrl-C does (status Interrupted, the
  // checkpoint written). train.run's: its progress function raised an error.
  std::function<bool()> stop;
  // Called once, before the first step, with the notes known then (RunResult::note so far: a resume's,
  // the configuration's, such as a held-out split smaller than one evaluation), where there are any:
  // train.run says them as the run starts, where the user can still act on them, rather than after it.
  std::function<void(const std::string&)> notes;

  // Throws scalelab::Error naming the first bad field and the fix.
  void Validate() const;
};

struct CurvePoint {
  int64_t tokens = 0;
  double train_loss = 0;  // mean training loss since the previous point (the first batch at 0)
  double eval_loss = 0;   // held-out loss at `tokens` (NaN without held-out data)
};

struct RunResult {
  RunStatus status = RunStatus::Done;
  std::string message;          // why it diverged or was interrupted
  // What else the caller should know of the run, whatever its status ("" when nothing): resumed on
  // another thread count than its checkpoint was made on (not the bitwise continuation), or a
  // checkpoint that could not be written (checkpoint_failed).
  std::string note;
  bool checkpoint_failed = false;  // the last checkpoint write failed: the file holds an earlier one, or none

  int64_t micro_batch = 0;      // rows per forward and backward pass (split_for_memory: chosen to fit)
  bool split_for_memory = false;
  double final_loss = 0;        // held-out loss at the end (NaN without held-out data, and for a diverged run)
  double best_loss = 0;         // lowest held-out loss seen (a diverged run's, before it diverged)
  double final_train_loss = 0;  // mean training loss over the last curve interval
  std::vector<CurvePoint> curve;

  int64_t params = 0;                // N, all parameters (Chinchilla)
  int64_t non_embedding_params = 0;  // N without embeddings (Kaplan)
  int64_t tokens = 0;                // D: training tokens processed
  int64_t requested_tokens = 0;      // tokens as asked (0: steps were given); tokens rounds it down
  int64_t steps = 0;
  double flops = 0;                  // D·flops_per_token, Kaplan convention (6N + 6·L·T·d)
  double flops_palm = 0;             // D·flops_per_token, PaLM convention (6N + 12·L·T·d)
  // The whole run's, over every session of a resumed run; the simulated backend reports no speed
  // (tokens_per_second, flops_per_second and mfu are 0: drawing losses says nothing about speed).
  double wall_seconds = 0;           // the whole run, evaluations and checkpoints included
  double train_seconds = 0;          // training steps only
  double tokens_per_second = 0;      // tokens / train_seconds
  double flops_per_second = 0;       // flops / train_seconds (Kaplan convention)
  // Model FLOPs utilisation: tokens/s · hardware_flops_per_token() (6(N + V·d) + 12·L·T·d) ÷ the
  // backend's peak_flops(); 0 when the backend does not know its peak (cpu, simulated).
  double mfu = 0;

  std::string backend, device;
  std::string model;                 // GptConfig::Summary()

  // The data's repetition where the data is a repetition sampler (data::RepetitionSampler, set by
  // the caller that knows it: the Lua binding); 0 otherwise, and for a simulated run, which reads
  // no data. unique_tokens is U, the unique tokens the sampler cycles over (its U in use), and
  // epochs = tokens / unique_tokens (D = epochs × U).
  int64_t unique_tokens = 0;
  double epochs = 0;

  // "done: held-out loss 1.234 (best 1.230) after 20M tokens, 1.2e15 FLOP, 3.2 min, 104k tokens/s";
  // a run whose tokens were rounded down to whole steps says so, and one that repeated its data
  // (epochs > 1) says how often: "after 100k tokens, 3.33 epochs of 30k unique tokens, ...".
  std::string BriefReport() const;
  std::string Summary() const { return BriefReport(); }
};

// Rows per forward and backward pass, for training and for evaluation. `rows` is the data source's
// batch, `eval_rows` the held-out source's, `micro_batch` the config's (0: choose). available_bytes
// > 0 (the cpu backend: the memory available) bounds the rows to those whose activations fit
// (cpu_backend_bytes): without a micro_batch given, the largest divisor of `rows` that fits, and of
// `eval_rows` the largest that fits beside it. Throws scalelab::Error naming the fix when a given
// micro_batch does not divide `rows`, or when not even one row fits.
struct MicroBatches {
  int64_t train = 0, eval = 0;
  bool split_for_memory = false;  // fewer rows than the sources' batches, chosen to fit
};
MicroBatches plan_micro_batches(const model::GptConfig& model, int64_t rows, int64_t eval_rows, int64_t micro_batch,
                                double available_bytes);
// A lower bound on the bytes the CPU backend allocates for `rows` rows of ctx tokens: 16 bytes per
// parameter (weights, gradients, two AdamW moments) and the activations kept for the backward pass
// (attention probabilities included); *activations gets the latter.
double cpu_backend_bytes(const model::GptConfig& model, int64_t rows, double* activations);

// The learning rate at optimizer step `step` (0-based) of `steps`.
double learning_rate(const TrainConfig& config, int64_t step, int64_t steps);

// A data source's error part-way through a run (its next_batch, state or restore threw
// scalelab::Error: a data source written in Lua raised one). The run stopped as Ctrl-C stops it,
// before the step it was reading for (the step's batches read so far are dropped) or at the
// evaluation it was reading for, wrote its checkpoint of the state before (the parameters, the
// optimizer and the training source's position before that step, so that a resume with a source
// that works continues bitwise as the uninterrupted run), and throws this, saying where it stopped.
class SourceFailed : public Error {
 public:
  SourceFailed(const std::string& what, std::string source, std::string method, std::string step, std::string cause,
               RunResult result)
      : Error(what), source(std::move(source)), method(std::move(method)), step(std::move(step)),
        cause(std::move(cause)), result(std::move(result)) {}
  std::string source;  // "data" or "eval_data" (the held-out source, given or the data's own)
  std::string method;  // "next_batch", "state" or "restore"
  std::string step;    // " for step 10 of 20" (the training data's), "" (an evaluation's), or " measuring the
                       // held-out loss where the run stopped" (the evaluation an interrupted run makes for its result)
  std::string cause;   // the source's error message
  RunResult result;    // the run as it stopped: status Interrupted, its message where
};

// Where a run that stopped on an error left its training, for that error's message: "; the
// checkpoint P holds it, from which <caller> resumes when called again (unless resume = false)", the
// note of a checkpoint that could not be written, or " without a checkpoint, so its training is
// lost (give <caller> checkpoint = ...)". `caller` is the function the user called (train.run).
std::string where_kept(const std::string& caller, const TrainConfig& config, const RunResult& result);

// The held-out measure that the checkpoint at `path` records, as its run's identity gives it ("16 x 8 x
// 16", "2 x 8 x 16, 15 rows": each evaluation's batches x rows x tokens, and the rows it weighs of a
// split read whole); "" for a checkpoint of a version that recorded none (every such version went
// round a held-out split smaller than an evaluation, as train() goes on doing on resuming it);
// nullopt where `path` holds no scalelab checkpoint. Reads only the start of the file.
std::optional<std::string> checkpoint_held_out_measure(const std::string& path);

// Where the run of the checkpoint at `path` stands: the optimizer steps done, of the run's `steps`,
// each of batch rows of seq_len tokens, as its identity gives them; nullopt where `path` holds no
// scalelab checkpoint or one cut short. Reads only the start of the file.
struct CheckpointPosition {
  int64_t step = 0, steps = 0, batch = 0, seq_len = 0;
};
std::optional<CheckpointPosition> checkpoint_position(const std::string& path);

// Runs the training. Errors in the configuration or data throw scalelab::Error before any work
// (among them a run of more tokens than int64 counts, steps × batch × seq_len >= 2^63, a sampler that plans fewer batches than the run needs, a held-out source too short
// for one evaluation, and a model the cpu backend cannot fit in the memory available);
// NaN/Inf ends the run with status Diverged, Ctrl-C (core/interrupt.h) with status Interrupted
// (after writing the checkpoint, when there is one). A data source's error during the run throws
// SourceFailed after the checkpoint is written.
RunResult train(const TrainConfig& config);

}  // namespace scalelab::train
