#!/usr/bin/env bash
# bench/train/gemm.sh: the CPU trainer's matrix-product kernels (ours on AVX-512 or AVX2, OpenBLAS) side by
# side in the same run: our micro-kernel alone against the core's FMA peak, one layer's products of
# the largest issue-6 config on 2 threads, then whole training steps with the kernels alternating.
#   bash bench/train/gemm.sh [steps per kernel, default 12]
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j2 --target bench_gemm > /dev/null
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $(date -u +%F)"
build/bench/train/bench_gemm "${1:-12}"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
