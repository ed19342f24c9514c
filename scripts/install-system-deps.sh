#!/usr/bin/env bash
# System packages for the tests and the X11 capture path (Debian/Ubuntu):
# Xvfb, Chromium for the UI tests, ImageMagick (screenshot-desktop's `import`
# and the tests' text rendering), xrandr for display geometry, fonts, and the
# libraries OpenCV's wheel loads; cmake and a C++ compiler build llama.cpp
# (llama-cpp-python ships as source on PyPI; pip caches the built wheel).
set -euo pipefail
# The last group: what the native modules load (nut-js, uiohook-napi, node-screenshots).
packages=(xvfb xauth chromium imagemagick x11-xserver-utils x11-utils xdotool fonts-dejavu-core libgl1 libglib2.0-0
  libx11-6 libxtst6 libxrandr2 libxt6 libxext6 libxrender1 libxcb1 libdbus-1-3 libsm6 libice6 cmake g++ make)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
