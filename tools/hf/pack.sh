#!/usr/bin/env bash
# Prepares the transformers check (tools/hf/check_transformers.py) for the GPU machine in
# OUT (default .gpu-hf/, git-ignored): the model commands bundled with node + Dawn (.gpu/),
# the export cases (tools/hf/make-cases.ts: HF folders + text) and the script. Then, there:
#   cd .gpu-hf && python3 check_transformers.py --cases cases --tabtron "bash .gpu/run.sh cli.mjs" \
#     --work /tmp/hfwork --out results.json
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
out=$(realpath -m "${1:-.gpu-hf}")
tmp=$(mktemp -d)
node tools/bundle-node.mjs build tools/hf/cli.ts
node --import tsx --import ./tools/register-raw.mjs tools/hf/make-cases.ts "$tmp/cases" >/dev/null
# ../shared/gpu/pack.sh writes .gpu/ at a git root with a .git folder (a worktree's .git is a file)
mkdir -p "$tmp/root" && git -C "$tmp/root" init -q && ln -s "$PWD/node_modules" "$tmp/root/node_modules"
cp build/cli.mjs "$tmp/root/cli.mjs"
(cd "$tmp/root" && bash "$OLDPWD/../shared/gpu/pack.sh" cli.mjs)
cp build/cli.mjs "$tmp/root/.gpu/cli.mjs" # keep the bundle as built (pack.sh would add a second banner)
rm -rf "$out" && mkdir -p "$out/cases"
mv "$tmp/root/.gpu" "$out/.gpu"
for c in "$tmp"/cases/*; do mkdir -p "$out/cases/$(basename "$c")" && cp -r "$c/hf" "$c/text.txt" "$out/cases/$(basename "$c")/"; done
cp tools/hf/check_transformers.py "$out/"
rm -rf "$tmp"
du -sh "$out"
