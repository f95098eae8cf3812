#!/usr/bin/env bash
# Headless Chromium's WebGPU on a GPU machine with no Chromium and no network, from the folder that
# tools/gpu/pack-chromium.sh's two pieces unpack into (it holds this file as run.sh):
#   bash run.sh recon      # what the machine has (driver, Vulkan ICDs, libraries), Dawn in Node's baseline
#   bash run.sh chromium   # needs piece b: the WebGPU adapter per flag set, the kernel checks in a tab,
#                          # the README's 4-tab run (tiny-3d) and a 25M-parameter TP2 × PP2 run in tabs,
#                          # each against the same layout on Dawn in Node (one process; for 25M also a
#                          # process per rank), in this one call
# Each part's JSON and log go to /tmp/crgpu, packed into $OUT/crgpu.tgz after every part (when $OUT is
# set); summary.json holds the tokens/s ratios. PARTS=probe,tiny,mid,checks,procs picks parts of
# `chromium`, run in that order; DEADLINE_S=n: each part's time limit is cut to end by n seconds from the
# start (parts with less than 15 s left are skipped), so that the summary is out before the call's end.
set -uo pipefail
cd "$(dirname "$0")"
here=$PWD
out=/tmp/crgpu
mkdir -p "$out"
parts=${PARTS:-probe,tiny,mid,checks,procs}
deadline=${DEADLINE_S:-100000}
has() { [[ ",$parts," == *",$1,"* ]]; }
pack() { [ -n "${OUT:-}" ] && tar czf "$OUT/crgpu.tgz" -C /tmp crgpu; }
part() { # name limit_s command...: stdout → name.json, stderr → name.log
  local name=$1 limit=$2
  shift 2
  local t0=$SECONDS left=$((deadline - SECONDS))
  [ "$left" -lt 15 ] && { echo "[crgpu] $name: skipped, ${left} s left" >&2; return 1; }
  [ "$limit" -gt "$((left - 5))" ] && limit=$((left - 5))
  timeout -k 5 "$limit" "$@" > "$out/$name.json" 2> "$out/$name.log"
  local rc=$?
  echo "[crgpu] $name: exit $rc in $((SECONDS - t0)) s: $(tail -c 400 "$out/$name.json")" >&2
  pack
  return $rc
}

# The Vulkan loader and GL dispatch libraries that NVIDIA's Vulkan driver needs (as .gpu/run.sh does for
# Dawn in Node); the driver's ICD file where the image keeps it.
for f in .gpu/debs/*.deb; do dpkg -x "$f" /; done
ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ ! -e /usr/share/vulkan/icd.d/nvidia_icd.json ] && [ -e $icd ]; then
  export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp} TABTRON_LOG_LEVEL=warn
node=.gpu/node

# Chromium's libraries: the machine's own where it has them, the carried Debian ones for the rest, and
# ours too for any of its own that are too old (ldd's "version ... not found").
link_libs() {
  mkdir -p chromium/lib
  for f in chromium/lib-all/*; do
    n=$(basename "$f")
    ldconfig -p | grep -q "^[[:space:]]*$n " || ln -sf "../lib-all/$n" "chromium/lib/$n"
  done
  for _ in 1 2 3; do
    old=$(LD_LIBRARY_PATH=$here/chromium/lib ldd chromium/chromium-headless-shell 2>&1 |
      sed -n 's/^.*: \(\/[^:]*\): version .* not found.*$/\1/p' | xargs -r -n1 basename | sort -u)
    [ -z "$old" ] && break
    for n in $old; do [ -e "chromium/lib-all/$n" ] && ln -sf "../lib-all/$n" "chromium/lib/$n"; done
  done
}

recon() {
  {
    echo "== os"; cat /etc/os-release; uname -a; ldd --version | head -1
    echo "== nvidia-smi"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    echo "== devices"; ls -la /dev/dri /dev/nvidia* 2>&1
    echo "== vulkan icds"; ls -la /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>&1
    cat $icd 2>&1
    echo "== egl vendors"; ls /usr/share/glvnd/egl_vendor.d /usr/local/nvidia/share/glvnd/egl_vendor.d 2>&1
    echo "== driver libraries"; ls /usr/local/nvidia/lib64 2>&1 | head -80
    echo "== ld.so.conf"; cat /etc/ld.so.conf.d/* 2>&1
    echo "== system libraries Chromium needs, missing here"
    for f in chromium/lib-all/*; do n=$(basename "$f"); ldconfig -p | grep -q "^[[:space:]]*$n " || echo "$n"; done
    echo "== env"; env | grep -E '^(VK_|LD_|NVIDIA|__GL|XDG)' | sort
  } > "$out/recon.txt" 2>&1
  pack
}

dawn_layouts() { # name limit_s args...: the layouts in one process on Dawn in Node (bench/train-layouts.ts)
  local name=$1 limit=$2
  shift 2
  part "$name" "$limit" $node .gpu/train-layouts.mjs --json --hardware --no-replay --config configs/tiny-3d.yml "$@"
}
tiny=(--layers 2 --hidden 64 --heads 4 --seq 64 --micro 2 --micro-batches 2)
mid=(--layers 8 --hidden 512 --heads 8 --seq 256 --micro 4 --micro-batches 4)

tabs_run() { # name limit_s configs...: the README's command, its tabs in headless Chromium on the GPU
  local name=$1 limit=$2
  shift 2
  (nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv -l 3 > "$out/$name-gpu-apps.txt" 2>&1 &
    echo $! > "$out/smi.pid")
  TABTRON_CHROMIUM=$here/chromium/headless-shell TABTRON_CHROMIUM_ARGS="$args" TABTRON_WEB=dist \
    TABTRON_CHROMIUM_STDERR=$out/$name-chromium.log \
    part "$name" "$limit" $node .gpu/tabtron.mjs train "$@" --tabs 4 --json --quiet --stall-timeout 120
  kill "$(cat "$out/smi.pid")" 2>/dev/null
}

chromium_parts() {
  chmod +x chromium/chromium-headless-shell chromium/headless-shell chromium/chrome_crashpad_handler
  link_libs
  {
    echo "== libraries linked from the carried set"; ls chromium/lib
    echo "== ldd without them"; LD_LIBRARY_PATH= ldd chromium/chromium-headless-shell | grep -E 'not found' || echo none
    echo "== ldd with them"; LD_LIBRARY_PATH=$here/chromium/lib ldd chromium/chromium-headless-shell | grep -E 'not found' || echo none
    echo "== version"; chromium/headless-shell --version
  } > "$out/libs.txt" 2>&1
  pack
  export TABTRON_CHROMIUM=$here/chromium/headless-shell
  args=""
  if has probe; then
    part adapters 75 $node .gpu/chromium-probe.mjs adapters --first --dist dist --timeout 20
    # the first flag set whose adapter is NVIDIA's, not a fallback, and computes right
    args=$(python3 - "$out/adapters.json" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    i, m = r.get("info") or {}, r.get("matmul") or {}
    if "nvidia" in (i.get("vendor") or "").lower() and not i.get("isFallbackAdapter") and m.get("maxErr", 1) < 1e-4:
        print(r["args"])
        break
else:
    print("NONE")
PY
)
    echo "[crgpu] flags with NVIDIA's adapter: ${args}" >&2
    echo "$args" > "$out/chosen-args.txt"
    [ "$args" = NONE ] && { echo "[crgpu] no flag set gave NVIDIA's adapter: stopping" >&2; pack; return 1; }
  fi
  # the README's run and its baseline first, then the larger model, then the kernel checks
  if has tiny; then
    tabs_run tabs-tiny-3d 100 configs/tiny-3d.yml
    dawn_layouts dawn-tiny-3d 45 --layouts 1rank,tp2-pp2 --steps 20 --warmup 3 "${tiny[@]}"
  fi
  if has mid; then
    tabs_run tabs-25M 150 configs/tiny-3d.yml bench/configs/tabs-3d-25M.yml
    dawn_layouts dawn-25M 45 --layouts 1rank,tp2-pp2 --steps 6 --warmup 2 "${mid[@]}"
  fi
  # --args=…: node's parseArgs takes no separate value that starts with a dash
  has checks && part checks 100 $node .gpu/chromium-probe.mjs checks --args="$args" --dist dist
  # a process per rank, each with its own Dawn device, TCP between them: the tabs' structure in Node
  has procs && part dawn-procs-25M 60 $node .gpu/train-procs.mjs --json --hidden 512 --layers 8 --heads 8 \
    --seq 256 --micro 4 --steps 4 --warmup 2 --layouts single,tp2pp2
  python3 bench/chromium_summary.py "$out" | tee "$out/summary.json"
  pack
}

case "${1:-}" in
  recon)
    recon
    dawn_layouts dawn-tiny-3d-recon 90 --layouts 1rank,tp2-pp2 --steps 20 --warmup 3 "${tiny[@]}"
    ;;
  chromium) chromium_parts ;;
  *)
    echo "usage: bash run.sh recon|chromium" >&2
    exit 2
    ;;
esac
