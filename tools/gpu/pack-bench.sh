#!/usr/bin/env bash
# Bundles bench/kernels.ts (esbuild with the ?raw plugin → build/kernels.mjs) and packs it
# with node + Dawn into .gpu/ (git-ignored) for the GPU machine; then, there:
#   bash bench/gpu-kernels.sh
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
grep -qx '/build/' .git/info/exclude 2>/dev/null || echo '/build/' >> .git/info/exclude
node tools/bundle-node.mjs build bench/kernels.ts
bash ../shared/gpu/pack.sh build/kernels.mjs
# pack.sh bundles its entry again and adds a second createRequire banner; keep ours as built
cp build/kernels.mjs .gpu/kernels.mjs
node --check .gpu/kernels.mjs
