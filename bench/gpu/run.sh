#!/usr/bin/env bash
# bench/gpu: scalelab's CUDA trainer against PyTorch (torch.compile, bf16 autocast, fused AdamW,
# flash attention) training the same GPT on the same GPU in the same run: tokens/s and MFU.
#
#   bash bench/gpu/run.sh [seconds per config, default 10] [configs...]
#
# Where the project builds (CUDA toolkit + the Debian libraries), it builds bench_gpu in build/ and
# runs it. On a GPU machine without them, pack it first here with `bash bench/gpu/bundle.sh` (it
# writes .device/bench-gpu, ignored by git) and run there with SCALELAB_BUNDLE=.device/bench-gpu;
# with the device tool: carry [".device/bench-gpu"], command
#   SCALELAB_BUNDLE=.device/bench-gpu bash bench/gpu/run.sh
# Configs are L,d,heads,ctx,batch,vocab; the default set is (a) GPT-2 124M and (b) sweep-sized
# models (d 128 to 512, 2 to 8 layers, ctx 256 to 512), 16k tokens per optimizer step each.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-10}"
shift || true
configs=("$@")
if [ ${#configs[@]} -eq 0 ]; then
  configs=(12,768,12,1024,16,50304
           2,128,4,256,64,256 4,256,4,256,64,256 6,384,6,512,32,256 8,512,8,512,32,256
           4,256,4,512,32,50304)
fi

if [ -n "${SCALELAB_BUNDLE:-}" ]; then
  ours_cmd=("$SCALELAB_BUNDLE/run" bench_gpu)
else
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build build -j"$(nproc)" --target bench_gpu > /dev/null
  ours_cmd=(build/bench/gpu/bench_gpu)
fi
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,power.limit --format=csv,noheader 2> /dev/null \
  | sed 's/^/gpu: /' || true

err=$(mktemp)
trap 'rm -f "$err"' EXIT
ours=$("${ours_cmd[@]}" --seconds "$seconds" "${configs[@]}" 2> "$err") || {
  cat "$err" >&2
  exit 1
}
device=$(grep -m1 '^device:' "$err" | cut -d' ' -f2-)
grep -v '^device:' "$err" >&2 || true
peak=$(sed -n 's/.*bf16 peak \([0-9.]*\) TFLOP.*/\1e12/p' <<< "$device")

python=""
for candidate in python3 /usr/bin/python3; do
  if "$candidate" -c "import torch; assert torch.cuda.is_available()" 2> /dev/null; then
    python=$candidate
    break
  fi
done
if [ -n "$python" ]; then
  peer=$("$python" bench/gpu/torch_gpt.py --peak "$peak" --seconds "$seconds" "${configs[@]}")
  grep '^#' <<< "$peer" || true
else
  echo "no python with CUDA-enabled torch here; showing scalelab only" >&2
  peer=""
fi

echo "device: $device; $(date -u +%F)"
echo "MFU: tokens/s x (6(N + V d) + 12 L T d) / dense bf16 peak; one optimizer step = forward,"
echo "backward, clip, AdamW on 'batch' rows of 'ctx' tokens"
printf "%-26s %12s %12s %7s %8s %8s %9s %9s %8s %8s\n" "L,d,heads,ctx,batch,vocab" "ours tok/s" \
  "torch tok/s" "ratio" "ours MFU" "torch" "ours ms" "torch ms" "ours GiB" "torch"
while read -r _ L d h T B V tps mfu ms mem; do
  row=$(awk -v c="$L $d $h $T $B $V" '$1 == "torch" && ($2" "$3" "$4" "$5" "$6" "$7) == c { print $8, $9, $10, $11 }' <<< "$peer")
  read -r ttps tmfu tms tmem <<< "${row:-- - - -}"
  ratio=$(awk -v a="$tps" -v b="$ttps" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2fx", a / b }')
  pct() { awk -v x="$1" 'BEGIN { if (x == "-") print "-"; else printf "%.1f%%", 100 * x }'; }
  printf "%-26s %12s %12s %7s %8s %8s %9s %9s %8s %8s\n" "$L,$d,$h,$T,$B,$V" "$tps" "$ttps" "$ratio" \
    "$(pct "$mfu")" "$(pct "$tmfu")" "$ms" "$tms" "$mem" "$tmem"
done <<< "$ours"
