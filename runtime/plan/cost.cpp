#include "plan/cost.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

#include "core/error.h"
#include "core/units.h"
#include "plan/plan.h"

namespace scalelab::plan {

namespace {
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}
}  // namespace

const std::vector<Gpu>& gpus() {
  static const std::vector<Gpu> table = {
      {"A100", 312e12, "NVIDIA A100 (SXM), 312 TFLOP/s dense bf16"},
      {"H100", 989e12, "NVIDIA H100 SXM, 989 TFLOP/s dense bf16"},
      {"H200", 989e12, "NVIDIA H200, 989 TFLOP/s dense bf16 (the H100's compute, more and faster memory)"},
  };
  return table;
}

const Gpu& gpu(const std::string& name) {
  std::vector<std::string> names;
  for (const Gpu& g : gpus()) {
    if (lower(g.name) == lower(name)) return g;
    names.push_back(g.name);
  }
  std::string suggestion = closest_name(name, names);
  fail("unknown GPU '", name, "'", suggestion.empty() ? "" : "; did you mean '" + suggestion + "'?",
       " (known: A100, H100, H200; or give peak = FLOP/s for another accelerator)");
}

void CostOptions::Validate(const std::string& caller) const {
  // A percentage where the fraction belongs (mfu = 40 for 40%) is a unit error: said with the fraction.
  // Just above 1 (1.2) is more likely a fraction overshot than 1.2%: the plain range error.
  if (mfu >= 2 && mfu <= 100)
    fail(caller, ": mfu = ", format_number(mfu, 6), " is a percentage; mfu (model FLOP utilisation) is a fraction of "
         "peak in (0, 1]: for ", format_number(mfu, 6), "% give mfu = ", format_number(mfu / 100, 6));
  if (!(mfu > 0 && mfu <= 1))
    fail(caller, ": mfu (model FLOP utilisation) must be in (0, 1], e.g. 0.4 (got ", format_number(mfu, 6), ")");
  if (!(gpus >= 1) || !std::isfinite(gpus)) fail(caller, ": gpus must be at least 1 (got ", format_number(gpus, 6), ")");
  if (gpus != std::floor(gpus)) fail(caller, ": gpus must be a whole number of GPUs (got ", format_number(gpus, 6), ")");
  // Beyond any cluster built (the largest hold a few hundred thousand GPUs): 1e300 GPUs priced a
  // run at "2.53e-291 ms".
  if (gpus > kMaxGpus)
    fail(caller, ": gpus = ", format_flops(gpus, 6), " is more GPUs than any cluster has; give from 1 to ",
         format_flops(kMaxGpus, 3), " (the largest clusters hold about 1e5)");
  if (peak < 0 || !std::isfinite(peak)) fail(caller, ": peak must be a positive FLOP/s (got ", format_number(peak, 6), ")");
  // A peak no accelerator has: peak = 1e-300 gave inf GPU-hours. 0 is "no peak given".
  if (peak > 0 && (peak < kMinPeak || peak > kMaxPeak))
    fail(caller, ": peak = ", format_flops(peak, 6), " FLOP/s is no accelerator's peak; give one from ",
         format_flops(kMinPeak, 3), " to ", format_flops(kMaxPeak, 3),
         " FLOP/s (the H100's is 989e12), or leave it out for the GPU's own peak");
  if (peak == 0) {  // the named GPU gives the peak; given a peak, the name is only a label
    try {
      (void)plan::gpu(gpu);
    } catch (const Error& e) {
      fail(caller, ": ", e.what());
    }
  }
}

Cost cost(double flops, const CostOptions& options) {
  options.Validate();
  if (!(flops > 0) || !std::isfinite(flops)) fail("plan.cost: flops must be positive and finite (got ", format_number(flops, 6), ")");
  Cost c;
  c.flops = flops;
  if (options.peak > 0) {
    c.peak = options.peak;
    c.gpu = options.gpu.empty() || lower(options.gpu) == "custom" ? "custom GPU" : options.gpu;
    // A GPU of the table named with another peak: priced at the peak given, and the summary says so.
    for (const Gpu& g : gpus())
      if (lower(g.name) == lower(options.gpu) && g.peak != options.peak) c.peak_overridden = true;
  } else {
    const Gpu& g = gpu(options.gpu);
    c.peak = g.peak;
    c.gpu = g.name;
  }
  c.mfu = options.mfu;
  c.gpus = options.gpus;
  c.gpu_hours = flops / (c.peak * c.mfu) / 3600.0;
  c.hours = c.gpu_hours / c.gpus;
  c.days = c.hours / 24.0;
  c.pf_days = flops / kPetaflopDay;
  c.notes = options.Notes();
  return c;
}

std::vector<std::string> CostOptions::Notes() const {
  std::vector<std::string> notes;
  if (mfu > kMaxMeasuredMfu)
    notes.push_back(str("mfu = ", format_number(mfu, 6), " (", format_number(mfu * 100, 4),
                        "% of peak) is above what any training run has reached (the best measured is about 80%, "
                        "790 of the H100's 989 TFLOP/s; large runs report 40-60%): the GPU-hours and days are likely "
                        "too few; price at a measured MFU, e.g. mfu = 0.4"));
  return notes;
}

std::string CostOptions::Describe() const {
  std::string name = gpu;
  double at = peak;
  if (peak <= 0) {
    const Gpu& g = plan::gpu(gpu);
    name = g.name;
    at = g.peak;
  } else if (name.empty() || lower(name) == "custom") {
    name = "custom GPU";
  }
  return str(format_number(gpus, 6), " ", name, gpus == 1 ? "" : "s", " at ", format_number(mfu * 100, 3),
             "% MFU (", format_number(at / 1e12, 4), " TFLOP/s peak)");
}

std::string Cost::Summary() const {
  std::string out = Line();
  for (const auto& note : notes) out += "\n  note: " + note;
  return out;
}

std::string Cost::Line() const {
  std::ostringstream out;
  // The FLOPs to three digits, as the PF-days beside them: at two, 5.76e23 read "5.8e23 FLOP = 6.67k
  // PF-days", which 5.8e23 is not (6.71k). As answers print a FLOP count (format_quantity): under an
  // answer's "FLOP 1.00e22" its cost line said "1e22 FLOP", and a study report's "compute-optimal
  // allocation at 1.00e20 FLOP (isoflop): cost: 1e20 FLOP = ...".
  out << format_quantity(flops, Unit::Flops) << " FLOP = " << (pf_days >= 1000 ? format_count(pf_days) : format_number(pf_days, 3)) << " PF-days: "
      << format_count(gpu_hours) << " " << gpu << "-hours at " << format_number(mfu * 100, 3)
      << "% MFU (" << format_number(peak / 1e12, 4) << " TFLOP/s peak"
      << (peak_overridden ? ", as given, not the " + gpu + "'s own" : "") << "), "
      << format_duration(hours * 3600.0) << " on " << format_number(gpus, 6) << " GPU"
      << (gpus == 1 ? "" : "s");
  return out.str();
}

}  // namespace scalelab::plan
