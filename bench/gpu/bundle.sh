#!/usr/bin/env bash
# Packs bench_gpu and test_kernels (built here, for sm_80 and sm_90) with the libraries they need
# into .device/bench-gpu, for a GPU machine that has CUDA but not the project's Debian libraries
# (../shared/tools/device-bundle). Then, on that machine (device tool: carry [".device/bench-gpu"]):
#   SCALELAB_BUNDLE=.device/bench-gpu bash bench/gpu/run.sh              the benchmark
#   .device/bench-gpu/run test_kernels                                   the GPU tests (all of them)
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="80;90" > /dev/null
cmake --build build -j"$(nproc)" --target bench_gpu test_kernels > /dev/null
tool=${DEVICE_BUNDLE:-../shared/tools/device-bundle}
[ -x "$tool" ] || tool=/work/shared/tools/device-bundle
rm -rf .device/bench-gpu
"$tool" .device/bench-gpu build/bench/gpu/bench_gpu build/tests/test_kernels
