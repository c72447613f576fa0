#!/usr/bin/env bash
# Installs the Debian packages the tests and benchmarks use, when they are missing
# (idempotent; a quick dpkg check when everything is there). Needs root and Debian's mirrors.
#
#   scripts/debian-packages.sh            everything below
#   scripts/debian-packages.sh PKG...     only these
#
#   chromium                 the browser tests (driven by playwright-core)
#   xvfb x11vnc x11-xserver-utils xdotool xterm xclip
#                            a real VNC desktop on loopback for the HTML5 tests (xclip: its clipboard)
#   websockify socat         reference bridges for the benchmarks
#   fonts-dejavu-core        readable text in the browser screenshots
set -euo pipefail

readonly DEFAULT_PACKAGES=(chromium xvfb x11vnc x11-xserver-utils xdotool xterm xclip websockify socat fonts-dejavu-core)
packages=("$@")
[ "${#packages[@]}" -gt 0 ] || packages=("${DEFAULT_PACKAGES[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

die() {
  echo "debian-packages: $*" >&2
  exit 1
}
command -v apt-get >/dev/null 2>&1 || die "${missing[*]} missing and apt-get is not available: install them by hand"
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "${missing[*]} missing and this user cannot install them: run apt-get install ${missing[*]}"
  SUDO=(sudo -n)
fi
echo "debian-packages: installing ${missing[*]} (a few minutes the first time)" >&2
export DEBIAN_FRONTEND=noninteractive
# A stale package index makes apt-get fail on moved packages: refresh it first.
"${SUDO[@]}" apt-get update -qq >/dev/null
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
