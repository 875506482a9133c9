#!/usr/bin/env bash
# The repetition sampler's throughput on one core from a memory-mapped corpus (GCIDE, byte tokens,
# and a uint16 copy), beside memcpy of the same rows and nanoGPT's numpy get_batch, all measured in
# this run. Target: at least 1 GB/s of int32 token ids delivered. Figures are per CPU-second of
# the measuring thread (pinned to core 0), so they hold on a shared machine.
#   bash bench/data/run.sh [seconds per figure]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${BUILD:-$root/build}"
seconds="${1:-1.5}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" -j2 --target bench_data_sampler scalelab > /dev/null
corpus="$("$build/scalelab" -e 'print(data.corpus("gcide").path)')"  # prepared once, then cached
trap 'rm -f "$corpus.u16.tok"' EXIT  # the uint16 copy the benchmark writes
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; one core used; $(date -u +%F)"
taskset -c 0 "$build/bench/bench_data_sampler" "$corpus" "$seconds"
if /usr/bin/python3 -c 'import numpy' 2> /dev/null; then
  taskset -c 0 /usr/bin/python3 "$root/bench/data/numpy_peer.py" "$corpus" "$seconds"
  taskset -c 0 /usr/bin/python3 "$root/bench/data/numpy_peer.py" "$corpus.u16.tok" "$seconds"
else
  echo "peer: numpy not installed (bash setup.sh --bench)"
fi
