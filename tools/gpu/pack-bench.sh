#!/usr/bin/env bash
# Bundles bench/kernels.ts and the kernel checks (tools/dev/checks.ts) with esbuild and the ?raw
# plugin, and packs them with node, Dawn (npm `webgpu`) and the Vulkan loader debs into .gpu/
# (git-ignored), as ../shared/gpu/pack.sh does (which also works from a git worktree here).
# On the GPU machine, from a folder holding .gpu/ and bench/:
#   bash bench/gpu-kernels.sh
set -euo pipefail
source "$(dirname "$0")/pack-runtime.sh"
cd "$(git rev-parse --show-toplevel)"
exclude="$(git rev-parse --git-common-dir)/info/exclude"
for p in /build/ /.gpu/; do grep -qx "$p" "$exclude" 2>/dev/null || echo "$p" >> "$exclude"; done
node tools/bundle-node.mjs build bench/kernels.ts
node tools/bundle-node.mjs build tools/dev/checks.ts
out=.gpu
rm -rf $out
mkdir -p $out/debs $out/node_modules/webgpu/dist/linux-x64
pack_node_dawn $out
pack_vulkan_debs $out/debs pack-bench
cp build/kernels.mjs build/checks.mjs $out/
cp ../shared/gpu/on-gpu.sh $out/run.sh
node --check $out/kernels.mjs
node --check $out/checks.mjs
du -sh $out
