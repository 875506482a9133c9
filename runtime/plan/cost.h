// The cost of a training run: FLOPs to GPU-hours, wall-clock days on k GPUs at a model FLOP
// utilisation (MFU), and PF-days.
//
//   plan::Cost c = plan::cost(1.2e22, {.gpu = "H100", .gpus = 1024, .mfu = 0.4});
//   c.gpu_hours;   // 1.2e22 / (989e12 · 0.4) / 3600 = 8.4k H100-hours
//   c.days;        // wall clock on 1024 GPUs
//   c.pf_days;     // 1.2e22 / 8.64e19 = 139
#pragma once

#include <string>
#include <vector>

namespace scalelab::plan {

constexpr double kPetaflopDay = 8.64e19;  // FLOP in one PF-day (1e15 FLOP/s for 86400 s)
// The highest model FLOP utilisation measured in training (REFERENCE.md: about 790 of the H100's 989
// TFLOP/s, 80%; large runs report 40-60%). A cost at a higher MFU carries a note naming it.
constexpr double kMaxMeasuredMfu = 0.8;
// The range of a per-GPU peak (FLOP/s) and of a GPU count that CostOptions accepts: from a 1 GFLOP/s
// processor to 1 EFLOP/s (1000 times a B200's), and up to ten million GPUs (the largest clusters
// hold about 1e5). Outside them a cost is no run's: peak = 1e-300 gave inf GPU-hours.
constexpr double kMinPeak = 1e9;
constexpr double kMaxPeak = 1e18;
constexpr double kMaxGpus = 1e7;

// A named accelerator and its dense bf16 peak (FLOP/s).
struct Gpu {
  std::string name;
  double peak = 0;
  std::string doc;
};
// A100 (312 TFLOP/s bf16 dense), H100 SXM (989), H200 (989).
const std::vector<Gpu>& gpus();
const Gpu& gpu(const std::string& name);  // case-insensitive; throws naming the known GPUs

struct CostOptions {
  std::string gpu = "H100";   // a name from gpus(), or "custom" with `peak`
  double peak = 0;            // FLOP/s; overrides the named GPU's peak when > 0
  double gpus = 1;            // GPUs running in parallel, a whole number (wall clock = GPU-hours / gpus)
  double mfu = 0.4;           // model FLOP utilisation in (0, 1]
  // Throws naming `caller` (the function the user called, e.g. "plan.optimal") and the option.
  void Validate(const std::string& caller = "plan.cost") const;
  // Remarks on these inputs, whatever the compute priced: an MFU above what any training run has
  // reached (kMaxMeasuredMfu), with the GPU-hours it then understates. Cost::notes holds them.
  std::vector<std::string> Notes() const;
  // "64 H100s at 40% MFU (989 TFLOP/s peak)": what a question declared with these options is priced on.
  std::string Describe() const;
};

struct Cost {
  double flops = 0;
  std::string gpu;
  double peak = 0, mfu = 0, gpus = 0;
  bool peak_overridden = false;  // a named GPU priced at another peak than its own (CostOptions.peak)
  double gpu_hours = 0;       // flops / (peak · mfu) / 3600
  double hours = 0;           // wall clock on `gpus` GPUs
  double days = 0;
  double pf_days = 0;         // flops / 8.64e19
  // Remarks on the inputs: an MFU above what any training run has reached (kMaxMeasuredMfu), with
  // the GPU-hours it then understates.
  std::vector<std::string> notes;
  // "1.20e22 FLOP = 139 PF-days: 8.43k H100-hours at 40% MFU (989 TFLOP/s peak), 8.23 h on 1024 GPUs"
  // (test_plan's cost case checks this line)
  std::string Line() const;
  // The line, then a "  note: ..." line for each note.
  std::string Summary() const;
};

Cost cost(double flops, const CostOptions& options = {});

}  // namespace scalelab::plan
