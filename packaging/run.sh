#!/usr/bin/env bash
# Builds and opens Loquat on Debian/Ubuntu: checks the libraries the window loads at run
# time and libomemo-c (OMEMO, linked at build time) (as root it installs the missing ones, otherwise it prints the exact install line
# and stops), then `cargo run --release`. Extra arguments go to Loquat.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
    libx11-6 libx11-xcb1 libxcursor1 libxi6 libxkbcommon-x11-0
    libvulkan1 mesa-vulkan-drivers libgl1-mesa-dri libegl1 fonts-noto-cjk fonts-noto-color-emoji
    dbus gnome-keyring gcc libc6-dev ca-certificates
    libomemo-c-dev pkg-config
)
missing=()
for p in "${PACKAGES[@]}"; do
    if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]]; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "Loquat needs these Debian packages first:"
        echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
        exit 1
    fi
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo is not installed: install Rust (1.88 or newer) from https://rustup.rs first."
    exit 1
fi
exec cargo run --release -- "$@"
