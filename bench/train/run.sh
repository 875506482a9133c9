#!/usr/bin/env bash
# bench/train: scalelab's CPU trainer against PyTorch's CPU training of the same GPT, same run, the
# two measured in turns (compare.py: per config, an untimed warm-up on each side, then rounds of
# four turns, ours-PyTorch-PyTorch-ours and back; medians).
#   bash bench/train/run.sh [--rounds 3] [--seconds 2]    (seconds: the timed part of each turn)
# Needs python3-torch (bash setup.sh --bench). Builds bench_train in build/ first.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=3
seconds=2
while (($#)); do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    *) echo "usage: bash bench/train/run.sh [--rounds N] [--seconds S]" >&2; exit 2 ;;
  esac
done
threads=2
configs=(2,64,64,32 4,128,128,16 6,256,256,8 8,512,256,8)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j2 --target bench_train > /dev/null
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; threads $threads; $(date -u '+%F %H:%M UTC')"
echo "ours: $(build/bench/train/bench_train 2>&1 > /dev/null | sed "s/^gemm: //")"
if /usr/bin/python3 -c "import torch" 2> /dev/null; then
  echo "$rounds rounds of 4 turns (ours, PyTorch's, PyTorch's, ours; then the other way), each an untimed step and $seconds s"
  /usr/bin/python3 bench/train/compare.py --ours build/bench/train/bench_train --threads "$threads" \
    --rounds "$rounds" --seconds "$seconds" "${configs[@]}"
  echo "ratio: the median of the rounds' ratios (our mean rate in a round over PyTorch's), with their"
  echo "range; tok/s: the median of a side's turns; cpu: tokens per CPU-second x threads (the"
  echo "idle-machine estimate when other work shares the cores: compare the load average with the cores)"
else
  echo "python3-torch is missing (bash setup.sh --bench): scalelab only, $seconds s per config" >&2
  echo "L d ctx batch tok/s FLOP/s(Kaplan) FLOP/s(PaLM) cpu-estimate"
  build/bench/train/bench_train --threads "$threads" --seconds "$seconds" "${configs[@]}" | cut -d' ' -f2-
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
