#!/usr/bin/env bash
# Makes sure Mesa's lavapipe (≥ 25) is installed: the CPU Vulkan driver whose WebGPU device (Dawn
# in Node) has shader-f16. The f16 arithmetic tests (src/gpu/kernels/matmul-f16.test.ts,
# src/train/f16-arithmetic.test.ts) run on it and fail without it. Dawn refuses Debian 12's Mesa
# 22.3, so on bookworm it comes from backports (25.x).
set -euo pipefail
lavapipe_ok() {
  ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 &&
    dpkg --compare-versions "$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || echo 0)" ge 25
}
lavapipe_ok && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "tabtron: Mesa's lavapipe ≥ 25 is missing (the f16 tests need it). Install it with:" >&2
  echo "  sudo apt-get install -y mesa-vulkan-drivers   # Debian 12: -t bookworm-backports" >&2
  exit 1
fi
echo "tabtron: installing mesa-vulkan-drivers (lavapipe) ≥ 25…" >&2
export DEBIAN_FRONTEND=noninteractive
target=()
if grep -q '^VERSION_CODENAME=bookworm' /etc/os-release; then
  grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ ||
    echo 'deb http://deb.debian.org/debian bookworm-backports main' >/etc/apt/sources.list.d/bookworm-backports.list
  target=(-t bookworm-backports)
fi
apt-get update -qq
apt-get install -y -qq "${target[@]}" mesa-vulkan-drivers >/dev/null
lavapipe_ok || { echo "tabtron: lavapipe (mesa-vulkan-drivers ≥ 25) is still missing" >&2; exit 1; }
