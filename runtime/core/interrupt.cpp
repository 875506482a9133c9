#include "core/interrupt.h"

#include <atomic>

#include "core/error.h"

namespace scalelab {

namespace {
std::atomic<bool> g_interrupt{false};
std::atomic<bool> g_pending{false};
std::atomic<bool> g_stopped{false};
std::atomic<bool> g_ends_script{true};
std::atomic<int> g_deferred{0};
std::atomic<bool> g_repeated_kills{true};
std::atomic<int> g_signal{SIGINT};
static_assert(std::atomic<bool>::is_always_lock_free, "the SIGINT handler needs a lock-free flag");
}  // namespace

void request_interrupt(int signal) noexcept {
  g_signal.store(signal, std::memory_order_relaxed);
  g_pending.store(true, std::memory_order_relaxed);
  g_interrupt.store(true, std::memory_order_relaxed);
}
bool interrupt_pending() noexcept { return g_pending.load(std::memory_order_relaxed); }
void settle_interrupt() noexcept {
  g_pending.store(false, std::memory_order_relaxed);
  g_interrupt.store(false, std::memory_order_relaxed);
}
void note_stopped_by_interrupt() noexcept { g_stopped.store(true, std::memory_order_relaxed); }
bool stopped_by_interrupt() noexcept { return g_stopped.load(std::memory_order_relaxed); }
void forget_stopped_by_interrupt() noexcept { g_stopped.store(false, std::memory_order_relaxed); }
bool interrupt_requested() noexcept { return g_interrupt.load(std::memory_order_relaxed); }
void clear_interrupt() noexcept { g_interrupt.store(false, std::memory_order_relaxed); }

const char* interrupt_cause() noexcept {
  return g_signal.load(std::memory_order_relaxed) == SIGTERM ? "interrupted by SIGTERM" : "interrupted by the user";
}

void set_interrupt_ends_script(bool ends) noexcept { g_ends_script.store(ends, std::memory_order_relaxed); }
bool interrupt_ends_script() noexcept { return g_ends_script.load(std::memory_order_relaxed); }

DeferInterrupt::DeferInterrupt() noexcept { g_deferred.fetch_add(1, std::memory_order_relaxed); }
DeferInterrupt::~DeferInterrupt() { g_deferred.fetch_sub(1, std::memory_order_relaxed); }
bool interrupt_deferred() noexcept { return g_deferred.load(std::memory_order_relaxed) > 0; }

void set_repeated_interrupt_kills(bool kills) noexcept { g_repeated_kills.store(kills, std::memory_order_relaxed); }
bool repeated_interrupt_kills() noexcept { return g_repeated_kills.load(std::memory_order_relaxed); }

void check_interrupt() {
  if (g_interrupt.exchange(false, std::memory_order_relaxed)) throw Interrupted();
}

}  // namespace scalelab
