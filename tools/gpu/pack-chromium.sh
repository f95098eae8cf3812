#!/usr/bin/env bash
# Packs what the README's multi-tab command needs on a GPU machine that has no Chromium, no node and no
# network: this machine's Debian chromium-headless-shell with the shared libraries it loads (those that
# are not glibc) and a font, node, Dawn (npm webgpu), the Vulkan loader debs, and, bundled by esbuild,
# the tabtron CLI, the adapter and kernel-check probe (tools/gpu/chromium-probe.ts) and the Dawn-in-Node
# layout benches (bench/train-layouts.ts, bench/train-procs.ts), plus the web app built with the kernel-check page
# (tools/gpu/vite.pages.config.ts) for the coordinator to serve (`--web dist`). One call to the GPU
# machine carries at most 64 MiB, so it comes in two xz pieces, each under 59 MiB:
#   DEST/a/a.tar.xz   everything but Chromium's executable; DEST/b/b.tar.xz   the executable
#   tools/gpu/pack-chromium.sh [DEST]        # DEST default: the main checkout's .gpu-chromium/
# On the GPU machine, from the repo root: one call carries DEST/a, the next (while the machine is still
# warm: it keeps ignored files between calls) DEST/b:
#   mkdir -p build/crgpu && tar xJf .gpu-chromium/a/a.tar.xz -C build/crgpu && bash build/crgpu/run.sh recon
#   tar xJf .gpu-chromium/b/b.tar.xz -C build/crgpu && cp .gpu-chromium/b/run.sh build/crgpu/ &&
#     DEADLINE_S=500 bash build/crgpu/run.sh chromium
set -euo pipefail
source "$(dirname "$0")/pack-runtime.sh"
cd "$(git rev-parse --show-toplevel)"
common=$(cd "$(git rev-parse --git-common-dir)" && pwd)
dest=${1:-$(dirname "$common")/.gpu-chromium}
for p in /build/ /.gpu-chromium/; do grep -qx "$p" "$common/info/exclude" 2>/dev/null || echo "$p" >> "$common/info/exclude"; done
chrome=$(readlink -f "${TABTRON_CHROMIUM:-/usr/lib/chromium/chromium-headless-shell}")
cdir=$(dirname "$chrome")
work=build/chromium-gpu
stage=$work/stage
rm -rf "$work"
mkdir -p "$stage/.gpu/debs" "$stage/chromium/lib-all" "$stage/chromium/fonts" "$stage/chromium/locales" \
  "$stage/configs" "$stage/bench/configs" "$stage/.gpu/node_modules"

# bundles: native and dev-only packages stay outside (better-sqlite3 is carried, Vite is never loaded)
for entry in cli/main.ts:tabtron tools/gpu/chromium-probe.ts:chromium-probe bench/train-layouts.ts:train-layouts \
  bench/train-procs.ts:train-procs; do
  name=${entry##*:}
  TABTRON_BUNDLE_EXTERNAL=better-sqlite3,vite node tools/bundle-node.mjs "$work/bundle-$name" "${entry%%:*}"
  mv "$work/bundle-$name/$(basename "${entry%%:*}" .ts).mjs" "$stage/.gpu/$name.mjs"
  node --check "$stage/.gpu/$name.mjs"
done
cp "$(readlink -f "$(command -v node)")" "$stage/.gpu/node"
m=node_modules
mkdir -p "$stage/.gpu/$m/webgpu/dist/linux-x64" "$stage/.gpu/$m/better-sqlite3/build/Release"
cp $m/webgpu/index.js $m/webgpu/package.json "$stage/.gpu/$m/webgpu/"
cp $m/webgpu/dist/linux-x64/dawn.node "$stage/.gpu/$m/webgpu/dist/linux-x64/"
cp -r $m/better-sqlite3/package.json $m/better-sqlite3/lib "$stage/.gpu/$m/better-sqlite3/"
cp $m/better-sqlite3/build/Release/better_sqlite3.node "$stage/.gpu/$m/better-sqlite3/build/Release/"
cp -r $m/bindings $m/file-uri-to-path "$stage/.gpu/$m/"
mkdir -p "$stage/.gpu/$m/playwright-core"
(cd $m/playwright-core && cp -r package.json index.js index.mjs cli.js browsers.json lib "$OLDPWD/$stage/.gpu/$m/playwright-core/")

# the Vulkan loader and GL dispatch libraries NVIDIA's Vulkan driver loads (as tools/gpu/pack-train.sh)
pack_vulkan_debs "$stage/.gpu/debs" pack-chromium

# the web app with the kernel-check page, the configs the runs read, the runner
VITE_CONFIG_NATIVE_IGNORE_WARNING=true npx vite build --config tools/gpu/vite.pages.config.ts --outDir "$PWD/$stage/dist" --emptyOutDir --logLevel warn
cp configs/tiny-3d.yml configs/tiny.yml "$stage/configs/"
cp bench/configs/tabs-3d-25M.yml "$stage/bench/configs/"
cp bench/chromium_summary.py "$stage/bench/"
cp tools/gpu/on-gpu-chromium.sh "$stage/run.sh"

# Chromium: the files the headless shell reads (not the full browser's resources.pak and
# chrome_*_percent.pak, 21 MB: the probe and the 4-tab run work without them), not the Vulkan validation
# layer nor the mock driver; the wrapper; a font
cp "$cdir"/headless_*.pak "$cdir"/icudtl.dat "$cdir"/*.bin "$cdir"/libvulkan.so.1 "$cdir"/libvk_swiftshader.so \
  "$cdir"/vk_swiftshader_icd.json "$cdir"/libEGL.so "$cdir"/libGLESv2.so "$cdir"/chrome_crashpad_handler "$stage/chromium/"
cp "$cdir"/locales/en-US.pak "$stage/chromium/locales/"
cp tools/gpu/chromium-wrapper.sh "$stage/chromium/headless-shell"
cp /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf "$stage/chromium/fonts/"
cat > "$stage/chromium/fonts/fonts.conf" << 'EOF'
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir prefix="relative">.</dir><cachedir>/tmp/tabtron-fontconfig</cachedir></fontconfig>
EOF
# Shared libraries: what ldd lists for Chromium, plus what it opens at run time (seen with LD_DEBUG=libs:
# X11-xcb, xcb-shm and wayland-client from SwiftShader's Vulkan driver; NSS's modules), with their own
# dependencies; not glibc, which the GPU machine has in a newer version.
glibc='^(libc|libm|libdl|libpthread|librt|libresolv|libutil|ld-linux-x86-64)\.so'
libs() { ldd "$@" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3}'; }
extra=()
for n in libX11-xcb.so.1 libxcb-shm.so.0 libwayland-client.so.0 libsoftokn3.so libfreebl3.so libfreeblpriv3.so \
  libnssckbi.so; do
  p=$(ldconfig -p | awk -v n="$n" '$1 == n && /x86-64/ {print $NF; exit}')
  [ -n "$p" ] && extra+=("$p")
done
{ libs "$chrome" "$cdir/libvk_swiftshader.so"; printf '%s\n' "${extra[@]}"; libs "${extra[@]}"; } | sort -u |
  while read -r p; do
    n=$(basename "$p")
    [[ $n =~ $glibc ]] || cp -L "$p" "$stage/chromium/lib-all/$n"
  done
cp "$chrome" "$work/chromium-headless-shell"

mkdir -p "$dest/a" "$dest/b"
rm -f "$dest/a/a.tar.xz"
tar -C "$stage" -cf - . | xz -9 -T2 > "$dest/a/a.tar.xz"
# piece b only when the executable changed (xz -9e takes minutes)
stamp="$(stat -c '%s %Y' "$chrome") $chrome"
if [ ! -s "$dest/b/b.tar.xz" ] || [ "$(cat "$dest/b/chromium.stamp" 2> /dev/null)" != "$stamp" ]; then
  rm -f "$dest/b/b.tar.xz" "$dest/b/chromium.stamp"
  tar -C "$work" --transform 's,^,chromium/,' -cf - chromium-headless-shell | xz -9e -T2 > "$dest/b/b.tar.xz"
  echo "$stamp" > "$dest/b/chromium.stamp"
fi
# the runner travels with the later piece too, so that an edit to it needs no new piece a
cp tools/gpu/on-gpu-chromium.sh "$dest/b/run.sh"
for f in "$dest/a/a.tar.xz" "$dest/b/b.tar.xz"; do
  size=$(stat -c %s "$f")
  echo "pack-chromium: $f $((size / 1048576)) MiB"
  [ "$size" -lt $((59 * 1048576)) ] || { echo "pack-chromium: $f is over 59 MiB: it will not travel" >&2; exit 1; }
done
