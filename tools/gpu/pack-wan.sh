#!/usr/bin/env bash
# Packs bench:wan and bench:wan-loss for a GPU machine into one self-contained folder DEST (default
# .gpu-wan/, git-ignored): .gpu/ (node, Dawn, the Vulkan loader debs, the bundles wan.mjs and
# wan-loss.mjs, run.sh), the configs they read (configs/tiny.yml, bench/configs/wan*.yml) and
# bench/gpu-wan.sh. A machine without iproute2: set IPROUTE2_DIR to a folder holding `ip`, `tc` and
# lib/ (the libraries they need); it is copied to DEST/iproute2 and gpu-wan.sh points
# TABTRON_IPROUTE2_DIR at it (tools/netns/iproute2.ts). Works from a git worktree.
#   IPROUTE2_DIR=../main/.gpu-net tools/gpu/pack-wan.sh [DEST]
# On the GPU machine, as root, with DEST carried:   cd DEST && bash bench/gpu-wan.sh
# Here (SwiftShader, a few steps):                  cd DEST && bash bench/gpu-wan.sh --smoke
set -euo pipefail
source "$(dirname "$0")/pack-runtime.sh"
cd "$(git rev-parse --show-toplevel)"
dest=${1:-.gpu-wan}
exclude="$(git rev-parse --git-common-dir)/info/exclude"
case "$dest" in /*) ;; *) p="/${dest#./}/" && { grep -qx "$p" "$exclude" 2>/dev/null || echo "$p" >> "$exclude"; } ;; esac
rm -rf "$dest"
mkdir -p "$dest/.gpu/debs" "$dest/.gpu/node_modules/webgpu/dist/linux-x64" "$dest/configs" "$dest/bench/configs"
# bench/wan.ts starts its ranks as `node <this bundle> --child JOB` inside `ip netns exec`
node tools/bundle-node.mjs "$dest/.gpu" bench/wan.ts bench/wan-loss.ts
node --check "$dest/.gpu/wan.mjs"
node --check "$dest/.gpu/wan-loss.mjs"
pack_node_dawn "$dest/.gpu"
pack_vulkan_debs "$dest/.gpu/debs" pack-wan
cp /work/shared/gpu/on-gpu.sh "$dest/.gpu/run.sh" 2>/dev/null || cp ../shared/gpu/on-gpu.sh "$dest/.gpu/run.sh"
cp configs/tiny.yml "$dest/configs/"
cp bench/configs/wan.yml bench/configs/wan-gpu.yml "$dest/bench/configs/"
cp bench/gpu-wan.sh "$dest/bench/"
if [ -n "${IPROUTE2_DIR:-}" ]; then
  [ -x "$IPROUTE2_DIR/ip" ] && [ -x "$IPROUTE2_DIR/tc" ] || { echo "pack-wan: $IPROUTE2_DIR lacks ip or tc" >&2; exit 1; }
  mkdir -p "$dest/iproute2"
  cp -r "$IPROUTE2_DIR/ip" "$IPROUTE2_DIR/tc" "$dest/iproute2/"
  [ -d "$IPROUTE2_DIR/lib" ] && cp -r "$IPROUTE2_DIR/lib" "$dest/iproute2/"
fi
du -sh "$dest"
