#!/bin/sh
# Starts the carried Chromium (tools/gpu/pack-chromium.sh) with the carried libraries and font; its own
# log (--enable-logging=stderr) goes to $TABTRON_CHROMIUM_STDERR when that is set. Playwright's pipes
# (file descriptors 3 and 4) pass through exec unchanged.
d=$(dirname "$(readlink -f "$0")")
export LD_LIBRARY_PATH="$d/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" FONTCONFIG_FILE="$d/fonts/fonts.conf"
if [ -n "${TABTRON_CHROMIUM_STDERR:-}" ]; then
  exec "$d/chromium-headless-shell" "$@" 2>>"$TABTRON_CHROMIUM_STDERR"
fi
exec "$d/chromium-headless-shell" "$@"
