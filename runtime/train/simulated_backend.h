// The simulated backend: losses drawn from a law (train/backend.h's LossLaw) instead of computed,
// for trying a study's plan, its fits and its questions in seconds before spending compute.
//
// Its cost does not depend on the number of steps: the trainer asks it for whole stretches of
// steps at once (Backend::advance), and it returns the stretch's mean training loss in closed form
// (the first 64 steps summed, the rest integrated exactly, the ln(vocab) cap included) with one
// noise draw of the right spread (noise/√steps). Every draw comes from a counter-based generator
// keyed by the seed and the token position, so the same seed gives the same losses, and a
// held-out loss at a position does not depend on how the run was cut into stretches.
#pragma once

#include <memory>

#include "train/backend.h"

namespace scalelab::train {

// Draws losses from `law` (see LossLaw) instead of training; never reads the tokens.
std::unique_ptr<Backend> make_simulated_backend(const LossLaw& law);

// The mean of min(cap, law(n, t0 + i·s)) over steps i = 1 … k: the expected training loss of k
// steps of s tokens each after t0 tokens. Exact for the first 64 steps, then the integral of the
// law over the rest (its error is below 1e-6 relative for the laws of a scaling study).
double mean_law_loss(const LossLaw& law, double n, double cap, int64_t t0, int64_t s, int64_t k);

}  // namespace scalelab::train
