#!/usr/bin/env bash
# bench/train: scalelab's CPU trainer against PyTorch's CPU training of the same GPT, same run.
#   bash bench/train/run.sh [seconds per config, default 8]
# Needs python3-torch (bash setup.sh --bench). Builds bench_train in build/ first.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-8}"
threads=2
configs=(2,64,64,32 4,128,128,16 6,256,256,8 8,512,256,8)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j2 --target bench_train > /dev/null
ours=$(build/bench/train/bench_train --threads "$threads" --seconds "$seconds" "${configs[@]}")
if /usr/bin/python3 -c "import torch" 2> /dev/null; then
  peer=$(/usr/bin/python3 bench/train/torch_gpt.py --threads "$threads" --seconds "$seconds" "${configs[@]}")
else
  echo "python3-torch is missing (bash setup.sh --bench); showing scalelab only" >&2
  peer=""
fi
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; threads $threads; $(date -u +%F)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wall: measured tokens/s; cpu: tokens per CPU-second x threads (the idle-machine estimate when"
echo "other work shares the cores: compare the load average with the core count)"
printf "%-14s %12s %12s %7s %14s %12s %12s %12s %7s %12s\n" "L,d,T,B" "ours wall" "torch wall" "ratio" \
  "GFLOP/s Kaplan" "GFLOP/s PaLM" "ours cpu" "torch cpu" "ratio" "GFLOP/s cpu"
while read -r _ L d T B tps fk fp cpu; do
  row=$(awk -v c="$L $d $T $B" '$1 == "torch" && ($2" "$3" "$4" "$5) == c { print $6, $7 }' <<< "$peer")
  read -r torch torch_cpu <<< "${row:-- -}"
  ratio() { [[ "$2" != "-" ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }' || echo "-"; }
  printf "%-14s %12.0f %12s %7s %14.1f %12.1f %12.0f %12s %7s %12.1f\n" "$L,$d,$T,$B" "$tps" "$torch" \
    "$(ratio "$tps" "$torch")" "$(awk -v x="$fk" 'BEGIN { print x / 1e9 }')" \
    "$(awk -v x="$fp" 'BEGIN { print x / 1e9 }')" "$cpu" "$torch_cpu" "$(ratio "$cpu" "$torch_cpu")" \
    "$(awk -v x="$fk" -v a="$cpu" -v b="$tps" 'BEGIN { print x / b * a / 1e9 }')"
done <<< "$ours"
