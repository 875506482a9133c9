// Ctrl-C for long computations. The host's SIGINT handler calls request_interrupt(); C++ loops
// that may run for long (fits, training steps, sampling) call check_interrupt() now and then, which
// throws scalelab::Interrupted. The binding boundary turns that into a Lua error, so the REPL
// returns to its prompt with everything already computed intact.
#pragma once

namespace scalelab {

void request_interrupt() noexcept;     // async-signal-safe
bool interrupt_requested() noexcept;   // cheap: one relaxed atomic load
void clear_interrupt() noexcept;
void check_interrupt();                // throws Interrupted if requested (and clears the request)

}  // namespace scalelab
