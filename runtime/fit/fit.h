// Fitting scaling laws with Ceres: the Chinchilla/Epoch method by default.
//
// The objective is Σ_i w_i·Huber_δ(ln L̂_i − ln L_i) with δ = 1e-3 (a SUM, not a mean), minimised
// over the law's fit coordinates (ln of scale parameters, the LogSumExp parametrisation) from every
// point of a start grid (for Chinchilla the 4500-point grid of Hoffmann et al.: α, β ∈ {0, 0.5, …, 2},
// e ∈ {−1, −0.5, …, 1}, a, b ∈ {0, 5, …, 25}); the best start is kept. Starts run on `threads`
// threads (custom laws with a Lua predict run on the calling thread).
//
//   fit::FitOptions options;
//   options.bootstrap = 200;                       // percentile intervals
//   options.ties = {{"alpha", "beta"}};
//   fit::FittedLaw law = fit::fit_law(fit::Law::Make(fit::LawKind::Chinchilla), obs, options);
//   std::cout << law.Summary();
#pragma once

#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "fit/approach1.h"
#include "fit/isoflop.h"
#include "fit/law.h"
#include "fit/observations.h"

namespace scalelab::fit {

struct FitOptions {
  // Parameters to fit; empty = all. The others are held at the initial law's values (e.g. fit only
  // R_D, R_N of a data-constrained law with the base law frozen).
  std::vector<std::string> free;
  // Groups of parameters fitted as one value, e.g. {{"alpha", "beta"}}.
  std::vector<std::vector<std::string>> ties;
  // Bounds in natural units (e.g. {"alpha", {0, 3}}); override the law's defaults.
  std::map<std::string, std::pair<double, double>> bounds;
  // Start grid override, per parameter, in fit coordinates (ln value for log-scale parameters);
  // the grid is the product over free parameters. Parameters not named keep the default grid.
  std::map<std::string, std::vector<double>> grid;
  // Explicit starts (natural units, full parameter vectors in names() order); when non-empty they
  // replace the grid.
  std::vector<std::vector<double>> starts;
  // Robust loss: Huber with this δ on log residuals; infinity = plain least squares (½r²).
  double huber_delta = 1e-3;
  int threads = 2;
  // Iterations per start (and per bootstrap refit). At 200, 65 of bench/fit's 4500 grid starts
  // and 2 of the quickstart's 100 bootstrap refits with E held stopped short of convergence; at
  // 1000 none did, and the fit took no measurably longer (0.17 s).
  int max_iterations = 1000;
  double function_tolerance = 1e-9;    // relative change of the objective (per step)
  // Stop a start once it reaches an optimum another start already converged to (within 1e-3 in
  // every fit coordinate, objective within 1e-4): it counts as converged there. False runs every
  // start to its own convergence.
  bool merge_starts = true;
  double gradient_tolerance = 1e-12;
  double parameter_tolerance = 1e-10;
  // Bootstrap: resample observations with replacement this many times and refit each from the
  // best few distinct optima of the main fit (not the whole grid).
  int bootstrap = 0;
  int bootstrap_starts = 4;
  unsigned seed = 1;
  // Covariance-based standard errors (from the Jacobian's SVD at the optimum).
  bool covariance = true;
  // Fewest observations accepted; 0 = one more than the free parameters (so that residual scatter
  // exists). fit_power_law sets 2: a power law through two points is exact but well defined.
  size_t min_observations = 0;

  void Validate() const;
};

// Fits `law` (its kind, and the values of parameters held fixed) to `obs`.
FittedLaw fit_law(const Law& law, const Observations& obs, const FitOptions& options = {});

// The same fit in natural coordinates (E, A, B, ... directly, not their logarithms) with
// ln L̂ = ln(E + A/N^α + B/D^β): a cross-check of the LogSumExp parametrisation.
FittedLaw fit_law_direct(const Law& law, const Observations& obs, const FitOptions& options = {});

// The objective Σ w·Huber_δ(ln L̂ − ln L) at the law's current values (for cross-checks).
double objective(const Law& law, const Observations& obs, double huber_delta = 1e-3);

// The 4500-point Chinchilla start grid in fit coordinates (e, a, b, alpha, beta) order E, A, B,
// alpha, beta: ln E, ln A, ln B, alpha, beta.
std::vector<std::vector<double>> chinchilla_grid();

// Extrapolation check: fit on the runs with compute < threshold, predict those at or above it.
struct Extrapolation {
  FittedLaw fit;                  // fitted on the runs below the threshold
  double threshold = 0;
  size_t train_runs = 0, test_runs = 0;
  std::vector<double> predicted, actual;   // on the held-out runs (loss)
  double rmse_log = kMissing;     // RMSE of ln L̂ − ln L on held-out runs
  double mean_abs_relative = kMissing;   // mean |L̂ − L| / L
  double max_abs_relative = kMissing;
  std::string Summary() const;
};
Extrapolation extrapolate(const Law& law, const Observations& obs, double compute_threshold,
                          const FitOptions& options = {});

// IsoFLOP analysis (Chinchilla approach 2): fit/isoflop.h. The lower envelope of the training curves
// (Chinchilla approach 1): fit/approach1.h.

// The least-squares line through (ln x, ln y): y = e^intercept·x^slope, in closed form (x and y
// positive). False when every x is the same.
bool fit_log_line(const std::vector<double>& x, const std::vector<double>& y, double& slope, double& intercept);

// A draw from [0, n) for the bootstraps of approaches 1 and 2: the generator's 64-bit output scaled
// by n, so that a seed gives the same resamples everywhere (mt19937_64's outputs are fixed by the
// standard; uniform_int_distribution's mapping differs between standard libraries).
size_t draw_below(std::mt19937_64& rng, size_t n);

// A standard normal draw for the residual bootstraps of approaches 1 and 2 (Box-Muller on the
// generator's 53-bit outputs: the same everywhere, which std::normal_distribution is not).
double draw_normal(std::mt19937_64& rng);

// The noise's scale relative to residuals' on `dof` degrees of freedom: √(dof/χ²_dof), a draw from
// the spread that a scale estimated from so few residuals has about the true one.
double draw_scale(std::mt19937_64& rng, size_t dof);

// Subtracts their mean from the values: the residual pools the bootstraps of approaches 1 and 2 draw
// from are centred, so that a resample's losses scatter about the fit and not about a shifted one.
void centre(std::vector<double>& values);

// The fewest bootstrap resamples a 95% percentile interval is taken from: its 2.5th and 97.5th
// percentiles are the extreme draws below that. Fits refuse bootstrap = 1 to 19, and approaches 1
// and 2, whose resamples can fail, give no intervals when fewer than this many were kept.
constexpr int kMinBootstrap = 20;

// Fails, naming `who` ("fit", "fit.isoflop"), unless bootstrap is 0 (none) or at least kMinBootstrap.
void check_bootstrap(int bootstrap, const char* who);

// Approaches 1 and 2, after their bootstrap: where fewer than kMinBootstrap of the `drawn` resamples
// were kept, drops the samples (there are no intervals) and returns the warning that says so (why
// the others were left out: `left_out`, and what to do: `remedy`); otherwise returns "".
std::string drop_too_few_samples(std::vector<double>& a_samples, std::vector<double>& k_samples,
                                 std::vector<double>& b_samples, int drawn, const std::string& left_out,
                                 const std::string& remedy);

// "N_opt = k·C^a, D_opt = k'·C^b  (a 95% [..], b 95% [..]; n of m resamples)": how approaches 1 and 2
// state their allocation laws (fitted) and the bootstrap's intervals (when it kept samples).
std::string allocation_line(const FittedLaw& N_law, const FittedLaw& D_law, const std::vector<double>& a_samples,
                            const std::vector<double>& b_samples, int bootstrap_drawn);

// Approaches 1 and 2: their bootstrap resamples (N_opt = k·C^a each) as the samples of the power laws
// they fitted, N_law {k, a} and D_law {1/(6k), 1 − a} (D_opt = C/(6·N_opt)), so that the laws carry
// their intervals wherever they go (law.intervals, plan.allocation{ N = iso.N_law, D = iso.D_law }).
void set_allocation_samples(FittedLaw& N_law, FittedLaw& D_law, const std::vector<double>& k_samples,
                            const std::vector<double>& a_samples);

// A power law y = k·x^a fitted by least squares in log space (Chinchilla approaches 1 and 2).
FittedLaw fit_power_law(const std::vector<double>& x, const std::vector<double>& y, Input input = Input::C,
                        const std::string& output = "N_opt", int bootstrap = 0, unsigned seed = 1);

}  // namespace scalelab::fit
