#!/usr/bin/env bash
# The training benches on the GPU machine, in one go (each part with a time limit); from the folder
# tools/gpu/pack-train.sh makes (it holds .gpu/, configs/, bench/, tools/reference/):
#   bash bench/gpu-train.sh [--quick]
# Writes each part's JSON and log to /tmp/bench-train (packed after every part into
# $OUT/bench-train.tgz when $OUT is set: the GPU machine returns few files), and prints
# train-125M.json: NeoX 125M single-rank tokens/s against PyTorch FP32 (eager attention and
# scaled_dot_product_attention) in the same run. PARTS=readback,torch,single,layouts,procs picks parts;
# PARTS=profile,torch-profile: NeoX 125M single rank (recomputing backward) and PyTorch (eager, SDPA),
# each with the timed steps and then one profiled step (GPU ms per kernel / operator, `--profile`).
set -uo pipefail
out=/tmp/bench-train
mkdir -p "$out"
parts=${PARTS:-readback,torch,single,layouts,procs}
steps=5
[ "${1:-}" = --quick ] && steps=2
has() { [[ ",$parts," == *",$1,"* ]]; }
run() { # name limit_s command...
  local name=$1 limit=$2
  shift 2
  local t0=$SECONDS
  timeout "$limit" "$@" > "$out/$name.json" 2> "$out/$name.log"
  echo "[gpu-train] $name: exit $? in $((SECONDS - t0)) s: $(tail -c 300 "$out/$name.json")" >&2
  [ -n "${OUT:-}" ] && tar czf "$OUT/bench-train.tgz" -C /tmp bench-train
}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$out/gpu.txt" 2>&1
has readback && run readback 40 bash .gpu/run.sh readback.mjs --hardware
if has torch || has torch-profile; then
  export PYTHONUNBUFFERED=1
  tp=()
  has torch-profile && tp=(--profile)
  run torch-eager 110 python3 bench/torch_gpt.py --micro 1 --steps $steps "${tp[@]}"
  run torch-sdpa 110 python3 bench/torch_gpt.py --micro 1 --steps $steps --attention sdpa "${tp[@]}"
fi
has profile && run profile 150 bash .gpu/run.sh train-throughput.mjs bench/configs/125M.yml --micro 1 --steps $steps \
  --attention-backward recompute --profile
if has single; then
  run single-recompute 90 bash .gpu/run.sh train-throughput.mjs bench/configs/125M.yml --micro 1 --steps $steps \
    --attention-backward recompute
  run single-fused 90 bash .gpu/run.sh train-throughput.mjs bench/configs/125M.yml --micro 1 --steps $steps \
    --attention-backward fused
fi
model=(--hidden 512 --layers 16 --heads 8 --seq 256 --micro 4)
has layouts && run layouts 180 bash .gpu/run.sh train-layouts.mjs --json --hardware --no-replay "${model[@]}" \
  --layouts 1rank,dp2,tp2,tp2-pp2,pp2-dp2,pp2-m4,pp2-m16,pp4-m16
has procs && run procs 170 bash .gpu/run.sh train-procs.mjs --json --hidden 512 --layers 8 --heads 8 --seq 256 \
  --micro 4 --steps 4 --warmup 2 --layouts single,dp2,tp2,pp2m4,pp2m16,pp4m16,tp2pp2
python3 - "$out" <<'PY' | tee "$out/train-125M.json"
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
def load(name):
    try:
        return json.loads((out / f"{name}.json").read_text().strip().splitlines()[-1])
    except Exception as e:
        return {"error": repr(e)}
names = ["torch-eager", "torch-sdpa", "single-recompute", "single-fused", "profile"]
r = {k: load(k) for k in names if (out / f"{k}.json").exists()}
for mine in ["single-recompute", "single-fused", "profile"]:
    for base in ["torch-eager", "torch-sdpa"]:
        if mine not in r or base not in r:
            continue
        a, b = r[mine].get("tokens_per_s"), r[base].get("tokens_per_s")
        if a and b:
            r[f"ratio {mine} / {base}"] = round(a / b, 3)
print(json.dumps(r))
PY
[ -n "${OUT:-}" ] && tar czf "$OUT/bench-train.tgz" -C /tmp bench-train
