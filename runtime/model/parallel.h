// The CPU trainer's threads: a small pool that runs one function on `threads` threads at once
// (fork-join), with a static split chosen by the caller, so results never depend on timing.
//
// Workers spin briefly for the next job (a training step issues thousands of small ones), then
// sleep on a condition variable, so an idle pool costs nothing and a busy machine (other processes
// on the same cores) does not make every join wait for a time slice, as spinning OpenMP barriers do.
#pragma once

#include <cstdint>
#include <functional>

namespace scalelab::model {

// Runs fn(index, count) for index = 0 .. count−1 concurrently, count = max(1, threads); the
// calling thread runs index 0. Returns when all have finished. Calls from inside fn run serially.
// fn must not throw.
void parallel_run(int threads, const std::function<void(int index, int count)>& fn);

// [begin, end) of part `index` when `n` items are split into `parts` contiguous ranges.
inline void split_range(int64_t n, int parts, int index, int64_t& begin, int64_t& end) {
  const int64_t base = n / parts, extra = n % parts;
  begin = index * base + (index < extra ? index : extra);
  end = begin + base + (index < extra ? 1 : 0);
}

}  // namespace scalelab::model
