#!/usr/bin/env bash
# On the GPU machine, from the repo root, with .gpu carried (see tools/gpu/pack-bench.sh):
#   bash bench/gpu-kernels.sh [kernels.mjs options...]
# Runs the kernel checks (every kernel against its f64 reference on this GPU; CHECKS=0 skips
# them), the WebGPU kernel bench, and PyTorch FP32 (TF32 off) at the same shapes, then prints
# one combined JSON object (last line of stdout) with the WebGPU / PyTorch ratios; logs and the
# raw JSON of every part go to $OUT (or /tmp/bench-kernels).
set -uo pipefail
out=${OUT:-/tmp/bench-kernels}
mkdir -p "$out"
if [ "${CHECKS:-1}" != 0 ] && [ -f .gpu/checks.mjs ]; then
  bash .gpu/run.sh checks.mjs > "$out/checks.txt" 2>&1
  echo "[gpu-kernels] kernel checks exit $?: $(tail -1 "$out/checks.txt")" >&2
fi
bash .gpu/run.sh kernels.mjs "$@" > "$out/webgpu.json" 2> >(tee "$out/webgpu.log" >&2)
echo "[gpu-kernels] webgpu bench exit $?" >&2
PYTHONUNBUFFERED=1 python3 bench/torch_matmul.py > "$out/torch.json" 2> >(tee "$out/torch.log" >&2)
echo "[gpu-kernels] torch matmul exit $?" >&2
PYTHONUNBUFFERED=1 python3 bench/torch_attention.py > "$out/torch-attention.json" 2> >(tee -a "$out/torch.log" >&2)
echo "[gpu-kernels] torch attention exit $?" >&2
python3 bench/combine_results.py "$out/webgpu.json" "$out/torch.json" "$out/torch-attention.json" | tee "$out/combined.json"
