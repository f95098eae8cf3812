#!/usr/bin/env bash
# Bundles bench/kernels.ts and the kernel checks (tools/dev/checks.ts) with esbuild and the ?raw
# plugin, and packs them with node, Dawn (npm `webgpu`) and the Vulkan loader debs into .gpu/
# (git-ignored), as ../shared/gpu/pack.sh does (which also works from a git worktree here).
# On the GPU machine, from a folder holding .gpu/ and bench/:
#   bash bench/gpu-kernels.sh
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
exclude="$(git rev-parse --git-common-dir)/info/exclude"
for p in /build/ /.gpu/; do grep -qx "$p" "$exclude" 2>/dev/null || echo "$p" >> "$exclude"; done
node tools/bundle-node.mjs build bench/kernels.ts
node tools/bundle-node.mjs build tools/dev/checks.ts
out=.gpu
w=node_modules/webgpu
rm -rf $out
mkdir -p $out/debs $out/node_modules/webgpu/dist/linux-x64
xz -T0 -3 -c "$(readlink -f "$(command -v node)")" > $out/node.xz
cp $w/index.js $w/package.json $out/node_modules/webgpu/
xz -T0 -3 -c $w/dist/linux-x64/dawn.node > $out/node_modules/webgpu/dist/linux-x64/dawn.node.xz
lists=$(mktemp -d)
mkdir -p "$lists/partial"
o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$lists"
apt-get $o update -qq >/dev/null 2>&1 || true
(cd $out/debs && apt-get $o download -qq libvulkan1 libglvnd0 libglx0 libegl1 libgl1 libopengl0 libgles2 >/dev/null 2>&1) ||
  echo "pack-bench: could not download the Vulkan loader debs; hoping the GPU machine has them" >&2
rm -rf "$lists"
cp build/kernels.mjs build/checks.mjs $out/
cp ../shared/gpu/on-gpu.sh $out/run.sh
node --check $out/kernels.mjs
node --check $out/checks.mjs
du -sh $out
