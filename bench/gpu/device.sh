#!/usr/bin/env bash
# Everything issue 7 leaves for a GPU, in one call on the GPU machine: the GPU tests, then the
# benchmark. Prepare here with `bash bench/gpu/bundle.sh`, then with the device tool:
#   carry [".device/bench-gpu"], command  bash bench/gpu/device.sh [seconds per config]
# Full logs go to $OUT (when set) as test_kernels.log and bench.log; the tail of the output is a
# short summary: test totals, then the benchmark table.
set -uo pipefail
cd "$(dirname "$0")/../.."
bundle=${SCALELAB_BUNDLE:-.device/bench-gpu}
out=${OUT:-/tmp}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | sed 's/^/gpu: /'
"$bundle/run" test_kernels --durations yes > "$out/test_kernels.log" 2>&1
tests=$?
SCALELAB_BUNDLE=$bundle bash bench/gpu/run.sh "${1:-10}" > "$out/bench.log" 2>&1
bench=$?
echo "---- test_kernels (exit $tests; log $out/test_kernels.log)"
grep -E "FAILED|REQUIRE|CHECK|with expansion|passed|failed|SKIPPED" "$out/test_kernels.log" | tail -40
echo "---- bench (exit $bench; log $out/bench.log)"
tail -15 "$out/bench.log"
