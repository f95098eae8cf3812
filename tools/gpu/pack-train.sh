#!/usr/bin/env bash
# Packs the training benches for the GPU machine into one self-contained folder DEST (default
# .gpu-train/, git-ignored): .gpu/ (node, Dawn, the Vulkan loader debs, the bundles
# train-throughput / train-layouts / train-procs / readback / dispatch-floor / device-concurrency)
# plus the files they read at run time (configs/tiny.yml, bench/configs/125M.yml, bench/torch_gpt.py,
# bench/torch_dispatch_floor.py, tools/reference/gpt_reference.py) and bench/gpu-train.sh. Works from a
# git worktree. On the GPU machine, with DEST carried:
#   cd DEST && bash bench/gpu-train.sh
set -euo pipefail
source "$(dirname "$0")/pack-runtime.sh"
cd "$(git rev-parse --show-toplevel)"
dest=${1:-.gpu-train}
exclude="$(git rev-parse --git-common-dir)/info/exclude"
for p in /build/ /.gpu/ "/${dest#./}/"; do grep -qx "$p" "$exclude" 2>/dev/null || echo "$p" >> "$exclude"; done
entries=(bench/train-throughput.ts bench/train-layouts.ts bench/train-procs.ts bench/readback.ts bench/dispatch-floor.ts
  bench/device-concurrency.ts)
TABTRON_NO_BANNER=1 node tools/bundle-node.mjs build "${entries[@]}"
rm -rf "$dest"
mkdir -p "$dest/.gpu/debs" "$dest/.gpu/node_modules/webgpu/dist/linux-x64" "$dest/configs" "$dest/bench/configs" "$dest/tools/reference"
pack_node_dawn "$dest/.gpu"
pack_vulkan_debs "$dest/.gpu/debs" pack-train
for e in "${entries[@]}"; do
  name=$(basename "${e%.*}")
  node_modules/.bin/esbuild "build/$name.mjs" --bundle --platform=node --format=esm --target=node20 \
    --external:webgpu --log-level=warning --outfile="$dest/.gpu/$name.mjs" \
    --banner:js="import{createRequire as __cr}from'module';const require=__cr(import.meta.url);"
  node --check "$dest/.gpu/$name.mjs"
done
cp ../shared/gpu/on-gpu.sh "$dest/.gpu/run.sh" 2>/dev/null || cp /work/shared/gpu/on-gpu.sh "$dest/.gpu/run.sh"
cp configs/tiny.yml "$dest/configs/"
cp bench/configs/125M.yml "$dest/bench/configs/"
cp bench/torch_gpt.py bench/torch_dispatch_floor.py bench/gpu-train.sh "$dest/bench/"
cp tools/reference/gpt_reference.py "$dest/tools/reference/"
du -sh "$dest"
