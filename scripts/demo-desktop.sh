#!/usr/bin/env bash
# A demo VNC desktop on this machine, from Debian's packages, for trying desktops in the
# browser with the demo site (README, "Desktops in the browser"): an X display painted blue
# with an xterm on it, served by x11vnc on 127.0.0.1:5900 without a password (loopback only).
# Ctrl-C stops it.
#
#   scripts/demo-desktop.sh [PORT]        (default 5900; the demo site expects 5900)
set -euo pipefail

port="${1:-5900}"
bash "$(dirname "$0")/debian-packages.sh" xvfb x11vnc x11-xserver-utils xterm fonts-dejavu-core

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

# The first free display from :90; -noreset keeps the colour when a client disconnects.
display=90
while [ -e "/tmp/.X11-unix/X${display}" ] || [ -e "/tmp/.X${display}-lock" ]; do
  display=$((display + 1))
done
Xvfb ":${display}" -noreset -screen 0 1280x800x24 -nolisten tcp 2>/dev/null &
pids+=("$!")
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X${display}" ] && break; sleep 0.1; done
export DISPLAY=":${display}"

xsetroot -solid '#3366cc'
xterm -fa 'DejaVu Sans Mono' -geometry 80x24+40+40 -T 'deskbroker demo desktop' &
pids+=("$!")
# X11VNC_AVOID_WINDOWS=never: the clipboard works from the first connection (x11vnc otherwise
# waits for a display manager to go away first).
X11VNC_AVOID_WINDOWS=never x11vnc -display "$DISPLAY" -localhost -rfbport "$port" \
  -forever -shared -nopw -quiet &
pids+=("$!")

echo "demo desktop: display $DISPLAY, VNC on 127.0.0.1:$port (Ctrl-C stops it)"
wait "${pids[@]}"
