#!/usr/bin/env bash
# Makes sure Debian's headless Chromium is installed (tabtron drives it with playwright-core;
# it never downloads a browser of its own).
set -euo pipefail
if [ -n "${TABTRON_CHROMIUM:-}" ] && [ -x "$TABTRON_CHROMIUM" ]; then exit 0; fi
if [ -x /usr/lib/chromium/chromium-headless-shell ] || [ -x /usr/lib/chromium/chromium ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "tabtron: installing Debian's chromium-headless-shell (WebGPU via SwiftShader when there is no GPU)…" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium-headless-shell >/dev/null
else
  echo "tabtron: Chromium is missing. Install it with: sudo apt-get install -y chromium-headless-shell (or set TABTRON_CHROMIUM to a Chromium binary)" >&2
  exit 1
fi
