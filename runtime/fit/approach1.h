// Chinchilla approach 1, the lower envelope of the training curves: each run's loss curve read
// against compute C = 6·N·tokens, the run with the lowest loss at each compute found (the
// compute-efficient frontier), and power laws N_opt = k·C^a and D_opt = C/(6·N_opt) = k'·C^b fitted
// through the computes where the frontier passes from one size to the next. The one implementation
// that fit.approach1 and a study's "approach1" fit share.
//
//   std::vector<fit::TrainingCurve> runs = ...;      // N and the (tokens, loss) points of each run
//   fit::Approach1Options options;
//   options.bootstrap = 200;
//   fit::Approach1Result r = fit::fit_approach1(runs, options);
//   std::cout << r.Summary();                         // the envelope, the laws, intervals, warnings
//
// How the envelope is read (after Hoffmann et al. 2022, §3.1): each curve smoothed (a local parabola
// in ln C, Approach1Options::smoothing), then at compute values spaced evenly in log C
// (points_per_decade per decade) each curve that reaches that compute gives its loss there,
// interpolated linearly in ln C between its points (never extrapolated past its ends); the lowest
// is the frontier. A compute value counts only where the winning size is bracketed, a smaller and a
// larger model also reaching it: at the ends of the compute range the only curves present win by
// default. The frontier is a staircase of the sizes tried; where it passes from one size to the
// next their losses are equal, so the optimum lies between them, and the power laws go through
// those switches (at the sizes' geometric mean) rather than through the steps.
//
// A curve's points before its end come from a learning-rate schedule that has not yet decayed, so
// Chinchilla trained each size for several token counts (4 over a 16× range); with one run per size
// the envelope favours, at each compute, the run nearest its own end (with one token count for all,
// the smaller sizes), and the result warns of it.
//
// The bootstrap keeps every run (the design as run: drawing whole runs with replacement lost sizes,
// and with them the switches) and redraws each curve as its smoothed curve times (1 + o + r_j),
// smoothed again, then reads the envelope and fits the line as above. Two noises move a switch:
// r_j, each point's own (evaluation) noise, drawn from the residuals of every curve about its
// smoothed curve pooled (each divided by √(1 − its weight in its own smoothed loss)); and o, an
// offset the run keeps along its whole curve (its seed, its data order), which the smoothing does
// not average away, so that it decides which of two neighbouring sizes is lower more than r does.
// A run's offset cannot be told from its own curve; it is read across sizes: at each compute, each
// size's lowest smoothed ln loss against the quadratic in ln N through the two sizes below and two
// above (the law's bend over five neighbouring sizes is nearly quadratic; where sizes are far
// apart, 5× and more, what it is not adds to the offsets, and the intervals are wider than need
// be), averaged over computes. o is drawn from those offsets, scaled in each resample by
// √(ν/χ²_ν), ν = their number − 1 (few runs estimate their spread). Runs of the two smallest and
// two largest sizes have no offset of their own (they draw from the others'); where fewer than two
// sizes have two on each side reaching the same compute, there are no offsets, and a warning says
// the intervals cover the points' noise only (unsmoothed, smoothing = 0, there are no point
// residuals, and the offsets read from the raw curves carry that noise). Resamples whose envelope has fewer than two switches (no line) are
// left out, and counted.
// Measured on Chinchilla's law, 300 simulated studies a design (one curve a size, 80 points from 1e8
// to 1e12 tokens; 8, 12, 16 and 24 sizes from 1M to 100B with noise 0.5% a point and 0.2% a run,
// 0.2% and 0.5%, or 1% and none; and from 30M to 3B with 0.5% and 0.2%): every study with a fit had
// intervals, and the 95% interval of a held the truth in 92-99% of them with 8 sizes and 96-100%
// with 12-24, 1.1-1.4 times as wide as the spread of a over studies (8 sizes 5x apart, with
// offsets: 2.2-2.9), keeping 89-100% of resamples. Drawing whole runs (before) kept 20-22% with 8
// sizes from 1M to 100B and held the truth in 36-46%, intervals 0.27-0.39 times the spread (8 from
// 30M to 3B: 99%, 5.5 times); with 12-24 sizes 95-100%, 1.2-2.4 times the spread, keeping 64-65%
// with 12 from 1M to 100B.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fit/law.h"

namespace scalelab::fit {

// One run's loss curve. A point's loss is missing (kMissing) where that curve has none, as an eval
// loss between evaluations.
struct TrainingCurve {
  double N = 0;                     // parameters, counted as the other fits count them
  std::vector<double> tokens;       // tokens seen at each point, increasing
  std::vector<double> train_loss;   // empty, or one per point
  std::vector<double> eval_loss;    // empty, or one per point
};

enum class CurveLoss {
  Auto,   // held-out loss where every run has at least two eval points, else training loss
  Train,
  Eval,
};

struct Approach1Options {
  CurveLoss loss = CurveLoss::Auto;
  int points_per_decade = 100;   // compute values per decade at which the envelope is read
  // Each curve smoothed before it is read: the least-squares parabola in ln C through the points
  // within this many decades of compute on either side (0: as they are). Noise in the curves
  // otherwise decides which of the sizes near the optimum wins. Measured on Chinchilla's law, one
  // curve per size of 80 points over 4 decades, 12 noise draws each: with 1% noise per point and 24
  // sizes, the RMS error of a is 0.045 unsmoothed, 0.030 at 0.3 and 0.021 at 0.5, and the 95%
  // interval holds the truth in 1, 11 and 12 of 12 draws; at 0.1-0.3% noise, 0.012-0.015 unsmoothed
  // and 0.003-0.010 at 0.5. A parabola, unlike a line, follows the curve's bend, so smoothing adds
  // no bias where the envelope reads a run's end: noise-free, a 12-size grid of 4 token counts gives
  // 0.4517 unsmoothed and 0.4523 at 0.5 (a line over ±0.3 decades gave 0.457).
  double smoothing = 0.5;
  int bootstrap = 0;             // resamples of the runs' curves, every run kept (0: none; above)
  uint64_t seed = 1;             // the resamples' generator (mt19937_64, portable draws)
  // What the runs' N counts, "all" or "non_embedding" ("": not said), carried to the power laws
  // (FittedLaw::N_counts) and so to the rule's answers.
  std::string N_counts;
  void Validate() const;
};

// The frontier at one compute value.
struct EnvelopePoint {
  double C = 0, N = 0, D = 0, loss = 0;   // D = C/(6N): the winning run's tokens there
  size_t run = 0;                          // its index in the runs given
};

// A compute at which the frontier passes from one size to another (between two neighbouring compute
// values where it is read): there the two sizes' losses are equal, so the compute-optimal size lies
// between them; N is their geometric mean.
struct FrontierSwitch {
  double C = 0, N_before = 0, N_after = 0, N = 0;
};

struct Approach1Result {
  std::string loss;                        // "eval" or "train": the loss read off the curves
  size_t runs = 0, sizes = 0;              // curves with 2+ points of that loss, and their distinct N
  std::vector<EnvelopePoint> envelope;     // the bracketed frontier, by C ascending
  size_t frontier_sizes = 0;               // distinct N on it
  std::vector<FrontierSwitch> switches;    // by C ascending
  // Power laws through the switches' (C, N), and (C, C/(6N)): fitted when there are two or more. (A
  // line through the envelope's own points, a staircase, would come out flatter by 1/n² for n steps,
  // more for the bootstrap's resamples, which drop sizes.)
  FittedLaw N_law, D_law;
  std::string unfitted;                    // else why not, with what to change
  std::vector<std::string> warnings;
  std::vector<std::string> notes;      // what casts no doubt on the result (runs left out by design), printed as "note:"
  // Bootstrap: resamples drawn, and the samples of those that gave an envelope to fit.
  int bootstrap_drawn = 0;
  std::vector<double> a_samples, k_samples, b_samples;
  std::string Summary() const;
};

Approach1Result fit_approach1(const std::vector<TrainingCurve>& runs, const Approach1Options& options = {});

}  // namespace scalelab::fit
