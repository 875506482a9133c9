#!/usr/bin/env bash
# Benchmark: the Chinchilla fit with the full 4500-start grid on 240 runs drawn from a known law
# (Epoch's values, 2% log-normal noise), ours (2 threads) against scipy's L-BFGS-B minimising
# the same objective (sum of Huber(1e-3) over log residuals, LSE parametrisation) from the same grid on
# the same data, in the same run; then 1000 bootstrap refits. Needs `bash setup.sh --bench` (Debian's
# python3-scipy, run with /usr/bin/python3).
#   bench/fit/run.sh            scipy with numeric gradients (as in the Chinchilla/Epoch analyses)
#   SCIPY_JAC=1 bench/fit/run.sh   also scipy with the analytic gradient
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
build="${BUILD_DIR:-build}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" -j2 --target fit_bench > /dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
data="$work/runs.csv"
/usr/bin/python3 bench/fit/make_data.py "$data" 7

# The fit calls no BLAS, but Ceres's LAPACK loads OpenBLAS, whose thread pool can spin (sched_yield) for
# about 0.1 s of CPU at start-up, competing with the fit's 2 threads on a 2-core machine.
ours="$(OPENBLAS_NUM_THREADS=1 "$build/bench/fit_bench" "$data" 1000 2)"
peer="$(/usr/bin/python3 bench/fit/scipy_peer.py "$data" 2 nojac)"
get() { echo "$1" | awk -v k="$2" '$1 == k { print $2; exit }'; }
our_s="$(get "$ours" fit_seconds)"
our_obj="$(get "$ours" objective)"
boot_s="$(get "$ours" bootstrap_seconds)"
peer_s="$(get "$peer" scipy_seconds)"
peer_obj="$(get "$peer" scipy_objective)"
kernel="$(get "$ours" kernel)"

echo "Chinchilla fit, 4500-start grid, 240 runs, 2 threads/processes ($(date -u +%Y-%m-%d), $(nproc) cores)"
printf "%-44s %12s %22s\n" "" "seconds" "best objective"
printf "%-44s %12.3f %22.15g\n" "scalelab (LM, $kernel kernel; Ceres polish)" "$our_s" "$our_obj"
printf "%-44s %12.3f %22.15g\n" "scipy L-BFGS-B (numeric gradient)" "$peer_s" "$peer_obj"
if [[ "${SCIPY_JAC:-0}" == "1" ]]; then
  jac="$(/usr/bin/python3 bench/fit/scipy_peer.py "$data" 2 jac)"
  printf "%-44s %12.3f %22.15g\n" "scipy L-BFGS-B (analytic gradient)" "$(get "$jac" scipy_seconds)" "$(get "$jac" scipy_objective)"
fi
/usr/bin/python3 - "$our_s" "$peer_s" "$our_obj" "$peer_obj" <<'PY'
import sys
ours, peer, our_obj, peer_obj = map(float, sys.argv[1:])
print(f"speed-up: {peer / ours:.1f}x (target >= 100x)")
rel = (our_obj - peer_obj) / peer_obj
print(f"objective: ours - scipy = {rel:+.3e} relative (target <= 1e-6)")
PY
echo "1000 bootstrap refits: $boot_s s (target < 10 s on 2 cores)"
echo "$ours" | grep -E "^(starts|alpha_95)"
