#!/usr/bin/env bash
# bench/train: scalelab's CPU trainer against PyTorch's CPU training of the same GPT, same run, the
# two measured in turns (compare.py: per config, an untimed warm-up each, then rounds alternating
# ours and PyTorch's; medians of the rounds).
#   bash bench/train/run.sh [rounds, default 3] [seconds per turn, default 4]
# Needs python3-torch (bash setup.sh --bench). Builds bench_train in build/ first.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-3}"
seconds="${2:-4}"
threads=2
configs=(2,64,64,32 4,128,128,16 6,256,256,8 8,512,256,8)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j2 --target bench_train > /dev/null
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; threads $threads; $(date -u '+%F %H:%M UTC')"
echo "rounds $rounds of $seconds s per side and config; ours: $(build/bench/train/bench_train 2>&1 > /dev/null | sed "s/^gemm: //")"
if /usr/bin/python3 -c "import torch" 2> /dev/null; then
  /usr/bin/python3 bench/train/compare.py --ours build/bench/train/bench_train --threads "$threads" \
    --rounds "$rounds" --seconds "$seconds" "${configs[@]}"
else
  echo "python3-torch is missing (bash setup.sh --bench); showing scalelab only" >&2
  echo "L d ctx batch tok/s FLOP/s(Kaplan) FLOP/s(PaLM) cpu-estimate"
  build/bench/train/bench_train --threads "$threads" --seconds "$seconds" "${configs[@]}" | cut -d' ' -f2-
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ratio: of the medians; round ratios: ours over PyTorch's turn in the same round (the machine's"
echo "swing); cpu: tokens per CPU-second x threads (the idle-machine estimate when other work shares"
echo "the cores: compare the load average with the core count)"
