#!/usr/bin/env bash
# Loquat's whole test suite: the one command for developers and CI (.ci/run).
#
#   bash tests/run-all.sh            everything (CI runs this as root on a clean Debian 12)
#   bash tests/run-all.sh --quick    skip rustfmt and clippy
#
# Environment:
#   CARGO_TARGET_DIR        build folder (default ~/.cache/loquat/target, outside the clone)
#   LOQUAT_ONLY_INSTALL=1   stop after checking/installing the Debian packages
#
# Steps: Debian packages -> cargo fmt --check -> clippy -D warnings -> the core library
# without the GUI (build + unit tests) -> every test target inside a private D-Bus
# session with an unlocked gnome-keyring -> tests/e2e.sh when present -> the Debian
# package (packaging/deb.sh: validate, build, install, start under Xvfb).
set -euo pipefail

cd "$(dirname "$0")/.."
# One stream, so CI logs show compiler errors next to the test summaries.
exec 2>&1

QUICK=0
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=1 ;;
        -h | --help)
            sed -n '2,13p' "$0"
            exit 0
            ;;
        *)
            echo "unknown argument: $arg (try --help)"
            exit 2
            ;;
    esac
done

START_ALL=$(date +%s)

banner() {
    printf '\n==================== %s ====================\n' "$*"
}

# run_step "title" command...: runs it, prints the time it took, stops the script on failure.
# ", build folder N GB, M GB free" once the build folder is known.
free_gb() { df -P -BG "$CARGO_TARGET_DIR" | awk 'NR == 2 { sub("G", "", $4); print $4 }'; }
disk_figures() {
    [[ -n "${CARGO_TARGET_DIR:-}" && -d "${CARGO_TARGET_DIR:-}" ]] || return 0
    printf ', build folder %s GB, %s GB free' \
        "$(du -s -BG "$CARGO_TARGET_DIR" 2>/dev/null | cut -f1 | tr -d G)" "$(free_gb)"
}
run_step() {
    local title=$1
    shift
    banner "$title"
    local start rc
    start=$(date +%s)
    if "$@"; then
        echo "---- ok: $title ($(($(date +%s) - start)) s$(disk_figures))"
    else
        rc=$?
        echo "---- FAILED: $title (exit $rc, $(($(date +%s) - start)) s$(disk_figures))"
        echo "---- total: $(($(date +%s) - START_ALL)) s"
        exit "$rc"
    fi
}

# ---------------------------------------------------------------- Debian packages
# Servers for integration tests (lua-dbi-sqlite3: Prosody storage on SQLite for
# benches/delivery.rs), a Secret Service for the keyring tests, X11/Vulkan/fonts
# for the real window under Xvfb, a C compiler for the crypto crates, and libomemo-c (the
# Signal protocol under OMEMO, src/omemo; linked through pkg-config by build.rs).
PACKAGES=(
    prosody lua-unbound lua-sec lua-dbi-sqlite3 ejabberd openssl
    dbus gnome-keyring
    xvfb xdotool imagemagick x11-apps fonts-noto-cjk fonts-noto-color-emoji
    mesa-vulkan-drivers libvulkan1 libgl1-mesa-dri libegl1
    libx11-6 libx11-xcb1 libxcursor1 libxi6 libxkbcommon-x11-0
    curl ca-certificates gcc libc6-dev
    libomemo-c-dev pkg-config
    desktop-file-utils appstream
    python3 python3-venv
)

install_packages() {
    local missing=() p status
    for p in "${PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        if [[ "$status" != "install ok installed" ]]; then
            missing+=("$p")
        fi
    done
    if ((${#missing[@]} == 0)); then
        echo "all ${#PACKAGES[@]} Debian packages are installed"
        return 0
    fi
    echo "missing Debian packages: ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then
        echo "Install them as root, then run this again:"
        echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
        return 1
    fi
    # (errexit is off inside run_step's condition: check each command.)
    apt-get update || return 1
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" ||
        return 1
    # Installing the servers may start system instances on 5222. Our tests use their own
    # ports, so these only cost memory: stop them if that is quick, never fail on it.
    for p in "${missing[@]}"; do
        case "$p" in
            prosody | ejabberd) timeout 30 service "$p" stop >/dev/null 2>&1 || true ;;
        esac
    done
}

run_step "Debian packages" install_packages
if [[ "${LOQUAT_ONLY_INSTALL:-0}" == 1 ]]; then
    echo "LOQUAT_ONLY_INSTALL=1: stopping after the package check"
    exit 0
fi

# ---------------------------------------------------------------- clients we did not write
# slixmpp (PyPI) plays the other side in interoperability tests (tests/peers), from a
# venv outside the clone, with slixmpp-omemo (python-omemo and its oldmemo backend) for
# the OMEMO tests (tests/omemo.rs). Pinned: a new release must not change a test's peer
# unseen.
SLIXMPP_VERSION=1.8.5
SLIXMPP_OMEMO_VERSION=2.2.0
PY_PACKAGES=(
    "slixmpp==$SLIXMPP_VERSION"
    "slixmpp-omemo==$SLIXMPP_OMEMO_VERSION" "OMEMO==2.1.0" "Oldmemo==2.1.0" "Twomemo==2.1.0"
    "DoubleRatchet==1.3.0" "X3DH==1.3.0" "XEdDSA==1.2.0"
)
export LOQUAT_VENV="${LOQUAT_VENV:-$HOME/.cache/loquat/venv}"
make_venv() {
    if "$LOQUAT_VENV/bin/python" -c "import slixmpp, slixmpp_omemo, sys; sys.exit(slixmpp.__version__ != '$SLIXMPP_VERSION' or slixmpp_omemo.__version__ != '$SLIXMPP_OMEMO_VERSION')" 2>/dev/null; then
        echo "slixmpp $SLIXMPP_VERSION and slixmpp-omemo $SLIXMPP_OMEMO_VERSION are in $LOQUAT_VENV"
        return 0
    fi
    if [[ ! -x "$LOQUAT_VENV/bin/pip" ]]; then
        /usr/bin/python3 -m venv "$LOQUAT_VENV" || return 1
    fi
    "$LOQUAT_VENV/bin/pip" install --quiet --disable-pip-version-check "${PY_PACKAGES[@]}" || return 1
    "$LOQUAT_VENV/bin/python" -c "import slixmpp, slixmpp_omemo; print('slixmpp', slixmpp.__version__, 'and slixmpp-omemo', slixmpp_omemo.__version__, 'in $LOQUAT_VENV')"
}
run_step "slixmpp and slixmpp-omemo venv (the other side of interoperability tests)" make_venv

# ---------------------------------------------------------------- Rust toolchain
# Kept explicit: the keyring step below gives the tests a private HOME, which would
# otherwise hide rustup's toolchains.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export PATH="$CARGO_HOME/bin:$PATH"
if ! command -v cargo >/dev/null 2>&1; then
    if [[ $(id -u) -eq 0 ]]; then
        banner "installing Rust with rustup"
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
            sh -s -- -y --profile minimal --component clippy,rustfmt
    else
        echo "cargo is not installed. Install Rust from https://rustup.rs, then run this again."
        exit 1
    fi
fi
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    rustup component add rustfmt clippy
fi

CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/loquat/target}"
case "$CARGO_TARGET_DIR" in
    /*) ;;
    *) CARGO_TARGET_DIR="$PWD/$CARGO_TARGET_DIR" ;;
esac
export CARGO_TARGET_DIR
mkdir -p "$CARGO_TARGET_DIR"
# Incremental build data is of no use to a run that builds everything once (CI on a clean
# clone) and took as much disk as the build itself (6-18 GB): off unless asked for.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# A full disk shows up as a linker error deep in the build: say it in plain words first.
# A run from an empty build folder grew it to 11 GB (CI run of 2026-12-05): ask for some room above.
NEED_GB=14
echo "free disk for the build folder: $(free_gb) GB"
if (($(du -s -BG "$CARGO_TARGET_DIR" | cut -f1 | tr -d G) + $(free_gb) < NEED_GB)); then
    echo "warning: less than $NEED_GB GB for the build folder ($CARGO_TARGET_DIR);" \
        "the build may stop with 'No space left on device'"
fi
# Headless UI snapshots: one renderer everywhere (wgpu and tiny-skia differ slightly).
export ICED_TEST_BACKEND=tiny-skia
export RUST_BACKTRACE=1
echo "cargo $(cargo --version | cut -d' ' -f2), target dir $CARGO_TARGET_DIR"

# ---------------------------------------------------------------- keyring session
# with_keyring CMD...: runs CMD with a private session bus and an unlocked login keyring
# (gnome-keyring's Secret Service), in a throwaway HOME and XDG_RUNTIME_DIR.
KEYRING_TMP=$(mktemp -d "${TMPDIR:-/tmp}/loquat-keyring.XXXXXX")
export KEYRING_TMP
# gnome-keyring-daemon forks away and may outlive its bus for a while: stop the ones
# started here (recognised by their private HOME), and nothing else.
stop_keyring() {
    local p
    for p in /proc/[0-9]*; do
        [[ "$(cat "$p/comm" 2>/dev/null)" == gnome-keyring-d ]] || continue
        if { tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qxF "HOME=$KEYRING_TMP/home"; then
            kill "${p#/proc/}" 2>/dev/null || true
        fi
    done
}
trap 'stop_keyring; rm -rf "$KEYRING_TMP"' EXIT
with_keyring() {
    local rc=0
    dbus-run-session -- bash -c '
        set -euo pipefail
        mkdir -p -m 700 "$KEYRING_TMP/home" "$KEYRING_TMP/run"
        export HOME="$KEYRING_TMP/home" XDG_RUNTIME_DIR="$KEYRING_TMP/run"
        eval "$(printf loquat-ci-password | gnome-keyring-daemon --unlock --components=secrets)"
        export GNOME_KEYRING_CONTROL
        exec "$@"' bash "$@" || rc=$?
    stop_keyring
    return "$rc"
}

# ---------------------------------------------------------------- the steps
if ((QUICK)); then
    echo "--quick: skipping rustfmt and clippy"
else
    run_step "rustfmt" cargo fmt --all -- --check
    run_step "clippy" cargo clippy --all-targets -- -D warnings
    # Tests and benches that need the window say so (`gui`): without it they build too.
    run_step "clippy without GUI" cargo clippy --no-default-features --all-targets -- -D warnings
fi
# The core library must build and test without the GUI (no iced in the core).
run_step "core library without GUI: build" cargo build --lib --no-default-features
run_step "core library without GUI: unit tests" cargo test --no-default-features --lib
run_step "all tests (unit, integration, UI) with a Secret Service" with_keyring cargo test --all-targets
# Bounded fuzzing: every target 8 s after replaying its corpus (17 targets, as many at
# once as there are cores: about 70 s on 2 cores).
run_step "fuzzing (tests/fuzz.rs, 8 s per target)" \
    env LOQUAT_FUZZ_MS=8000 cargo test --test fuzz -- --nocapture
if [[ -f tests/e2e.sh ]]; then
    run_step "end-to-end (tests/e2e.sh)" with_keyring bash tests/e2e.sh
fi
# The keyring session has its own HOME: name the tools folder outside it.
export LOQUAT_TOOLS_DIR="${LOQUAT_TOOLS_DIR:-$HOME/.cache/loquat/tools}"
run_step "Debian package: build, install, start from its .desktop entry" \
    with_keyring bash packaging/deb.sh

banner "all steps passed"
echo "total: $(($(date +%s) - START_ALL)) s"
