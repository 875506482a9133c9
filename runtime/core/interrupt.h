// Ctrl-C for long computations. The host's SIGINT handler calls request_interrupt(); C++ loops
// that may run for long (fits, training steps, sampling) call check_interrupt() now and then, which
// throws scalelab::Interrupted. The binding boundary turns that into a Lua error, so the REPL
// returns to its prompt with everything already computed intact.
#pragma once

#include <csignal>

namespace scalelab {

void request_interrupt(int signal = SIGINT) noexcept;  // async-signal-safe
bool interrupt_requested() noexcept;   // cheap: one relaxed atomic load
void clear_interrupt() noexcept;
void check_interrupt();                // throws Interrupted if requested (and clears the request)

// For Lua code: a request is pending from request_interrupt until settled, whoever took it (a C++
// loop's check_interrupt, the host's hook on one Lua thread). The host arms a hook, when the signal
// comes, on the main thread and on each coroutine being resumed; while the request is pending each
// of them raises it once, so that a coroutine.resume catching its coroutine's interruption does not
// end it (the resuming thread raises it too). Threads not running Lua at the signal are not armed,
// and a thread raises once only (as lua.c's hook): Lua code that catches the error goes on, until a
// second signal, which the host then raises at every instruction of Lua code up to its call. Settled
// when the host's call ends, or by a computation that stopped cleanly on it and returns its result
// (train.run in the REPL). settle_interrupt also clears the request.
bool interrupt_pending() noexcept;
void settle_interrupt() noexcept;

// Whether Ctrl-C has stopped a computation that returned its result (train.run in the REPL, status
// "interrupted") since the host's call began: the rest of the typed line goes on, so that
// r = train.run{...} keeps the run, but starts no other run (a loop of runs returns to the prompt
// rather than training the next one). Noted by that computation as it settles the interruption;
// forgotten by the host at each call's start.
void note_stopped_by_interrupt() noexcept;
bool stopped_by_interrupt() noexcept;
void forget_stopped_by_interrupt() noexcept;

// Who asked, in the words of a message: "interrupted by the user" (SIGINT: Ctrl-C) or "interrupted
// by SIGTERM" (kill, timeout, a batch scheduler's end of job). The host treats both alike: the
// computation stops cleanly, and a script ends with status 128 + the signal.
const char* interrupt_cause() noexcept;

// What Ctrl-C ends: the whole script (true, the default: a script runs unattended, and its next
// step must not start after the user asked it to stop) or only the computation in progress (false:
// the REPL, which returns to its prompt). A binding that stops cleanly on Ctrl-C and returns a
// partial result instead of throwing (train.run, status "interrupted") throws Interrupted after
// stopping when this is true, so that the script unwinds to the host (exit status 130).
void set_interrupt_ends_script(bool ends) noexcept;
bool interrupt_ends_script() noexcept;

// While one lives, Ctrl-C is left to the C++ computation in progress, which stops cleanly by
// itself (train.run: it sees interrupt_requested() before its next step, writes its checkpoint and
// returns its result): the host's hook does not raise its Lua error in Lua code that computation
// calls back (a data source written in Lua, a progress function). That error would unwind the
// computation from inside the callback, losing the checkpoint and the result it would have kept.
class DeferInterrupt {
 public:
  DeferInterrupt() noexcept;
  ~DeferInterrupt();
  DeferInterrupt(const DeferInterrupt&) = delete;
  DeferInterrupt& operator=(const DeferInterrupt&) = delete;
};
bool interrupt_deferred() noexcept;  // async-signal-safe

// What a second Ctrl-C does while the first is being handled: kill the process (true, the default: a
// person whose program does not stop presses it again), or nothing (false: a study's worker, which
// the terminal's Ctrl-C and then its executor both interrupt; it is stopping already, writing its
// checkpoint, and its executor kills it itself if it does not end).
void set_repeated_interrupt_kills(bool kills) noexcept;
bool repeated_interrupt_kills() noexcept;

}  // namespace scalelab
