#!/usr/bin/env bash
# bench:wan on a GPU machine (as root), from the folder tools/gpu/pack-wan.sh makes:
#   bash bench/gpu-wan.sh            # the measured run: bench:wan at 10 and 50 Mbit/s, then bench:wan-loss
#   bash bench/gpu-wan.sh --smoke    # a few steps of each (checks namespaces, tbf, the rank children)
#   bash bench/gpu-wan.sh --sweep    # bench:wan-loss only, over the candidate models and outer settings
# Each rank of bench:wan is a Node process (the bundled node and wan.mjs) inside `ip netns exec`, all
# on the one GPU: what is shaped is each rank's link. Writes each part's JSON and log to /tmp/gpu-wan,
# packed after every part into $OUT/gpu-wan.tgz when $OUT is set (the GPU machine returns few files).
# Knobs (env): STEPS, H, MBIT, OUTER (bench:wan's --outer list), CONFIG.
set -uo pipefail
cd "$(dirname "$0")/.."
[ -d iproute2 ] && export TABTRON_IPROUTE2_DIR=$PWD/iproute2
out=/tmp/gpu-wan
mkdir -p "$out"
config=${CONFIG:-configs/tiny.yml,bench/configs/wan-gpu.yml}
steps=${STEPS:-300}
h=${H:-30}
mbit=${MBIT:-10,50}
outer=${OUTER:-nesterov:0.7:0.9,sgd:1:0}
job() { # name limit_s bundle args...
  local name=$1 limit=$2 t0=$SECONDS
  shift 2
  timeout "$limit" bash .gpu/run.sh "$@" > "$out/$name.json" 2> "$out/$name.log"
  echo "[gpu-wan] $name: exit $? in $((SECONDS - t0)) s: $(tail -c 400 "$out/$name.json")" >&2
  [ -n "${OUT:-}" ] && tar czf "$OUT/gpu-wan.tgz" -C /tmp gpu-wan
}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$out/gpu.txt" 2>&1
case "${1:-}" in
  --smoke)
    job wan-smoke 120 wan.mjs --json --config "$config" --mbit 50 --steps 4 --inner-steps 2 --eval-iters 2 \
      --outer "$outer"
    job wan-loss-smoke 60 wan-loss.mjs --json --config "$config" --steps 4 --inner-steps 2 --eval-iters 2 \
      --modes sync,diloco-int8
    ;;
  --sweep)
    # what the loss gap depends on, without a network: models (over tiny.yml), steps and outer settings
    mkdir -p /tmp/gpu-wan-configs
    for m in "4 64 4" "4 64 8" "2 64 8"; do
      set -- $m
      c=/tmp/gpu-wan-configs/l$1-h$2-m$3.yml
      printf '{"num-layers": %s, "hidden-size": %s, "train_micro_batch_size_per_gpu": %s}\n' "$1" "$2" "$3" > "$c"
      n=$([ "$1" = 2 ] && echo 600 || echo 300)
      job "sweep-l$1-h$2-m$3" 100 wan-loss.mjs --json --config "configs/tiny.yml,$c" --steps $n --inner-steps 30 \
        --modes sync,diloco-int8,diloco-int8-fedavg
      job "sweep-l$1-h$2-m$3-nesterov-1-0.5" 50 wan-loss.mjs --json --config "configs/tiny.yml,$c" --steps $n \
        --inner-steps 30 --modes diloco-int8 --outer nesterov:1:0.5
    done
    ;;
  *)
    job wan 500 wan.mjs --json --config "$config" --mbit "$mbit" --steps "$steps" --inner-steps "$h" --outer "$outer"
    job wan-loss 100 wan-loss.mjs --json --config "$config" --steps "$steps" --inner-steps "$h" \
      --modes sync,diloco-f32,diloco-int8,diloco-int8-fedavg,diloco-int8-no-feedback
    # the CPU runs' model (bench/configs/wan.yml, 0.83M): its 60 steps (2 rounds), then 300 (10 rounds)
    for n in 60 300; do
      job "wan-loss-wan-yml-$n" 100 wan-loss.mjs --json --steps $n --inner-steps 30 \
        --modes sync,diloco-int8,diloco-int8-fedavg
    done
    ;;
esac
