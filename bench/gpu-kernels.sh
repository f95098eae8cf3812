#!/usr/bin/env bash
# On the GPU machine, from the repo root, with .gpu carried (see tools/gpu/pack-bench.sh):
#   bash bench/gpu-kernels.sh [kernels.mjs options...]
# Runs the WebGPU kernel bench and torch's cuBLAS FP32 at the same shapes, then prints one
# combined JSON object (last line of stdout) with WebGPU/cuBLAS per shape; logs and the raw
# JSON of both halves go to $OUT (or /tmp/bench-kernels).
set -uo pipefail
out=${OUT:-/tmp/bench-kernels}
mkdir -p "$out"
bash .gpu/run.sh kernels.mjs "$@" > "$out/webgpu.json" 2> >(tee "$out/webgpu.log" >&2)
echo "[gpu-kernels] webgpu bench exit $?" >&2
PYTHONUNBUFFERED=1 python3 bench/torch_matmul.py > "$out/torch.json" 2> >(tee "$out/torch.log" >&2)
echo "[gpu-kernels] torch bench exit $?" >&2
python3 bench/combine_results.py "$out/webgpu.json" "$out/torch.json" | tee "$out/combined.json"
