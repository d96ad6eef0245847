#!/usr/bin/env bash
# Builds Loquat's Debian package, installs it, starts the installed app from its .desktop
# entry under Xvfb and checks that its window appears. Also validates the .desktop and
# AppStream files. Run by tests/run-all.sh after the tests.
#
#   bash packaging/deb.sh            CI: package the debug build the tests just made
#   LOQUAT_DEB_PROFILE=release bash packaging/deb.sh
#                                    a release package (20-30 minutes to build on 2 cores)
#
# As root the package is installed with apt (which also installs its dependencies);
# otherwise it is unpacked into a temporary folder and started from there.
# The package lands in $CARGO_TARGET_DIR/debian/, a screenshot in $LOQUAT_E2E_OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tests/xvfb.sh
source tests/xvfb.sh

: "${CARGO_TARGET_DIR:=$HOME/.cache/loquat/target}"
export CARGO_TARGET_DIR
PROFILE=${LOQUAT_DEB_PROFILE:-dev}
OUT=${LOQUAT_E2E_OUT:-$CARGO_TARGET_DIR/e2e}
TOOLS=${LOQUAT_TOOLS_DIR:-$HOME/.cache/loquat/tools}
CARGO_DEB_VERSION=3.8.0
mkdir -p "$OUT"

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
    echo "DEB CHECK FAILED: $*"
    [[ -n "${DISPLAY:-}" ]] && import -window root "$OUT/deb-failure.png" 2>/dev/null || true
    echo "--- app log"; tail -n 30 "$WORK/app.log" 2>/dev/null || true
    exit 1
}

echo "--- desktop-file-validate and appstreamcli"
desktop-file-validate packaging/im.loquat.Loquat.desktop || fail "the .desktop file is not valid"
appstreamcli validate --no-net packaging/im.loquat.Loquat.metainfo.xml ||
    fail "the AppStream metainfo is not valid"

echo "--- cargo-deb $CARGO_DEB_VERSION (kept in $TOOLS)"
if [[ "$("$TOOLS/bin/cargo-deb" --version 2>/dev/null || true)" != *"$CARGO_DEB_VERSION"* ]]; then
    cargo install --locked --quiet --root "$TOOLS" --version "$CARGO_DEB_VERSION" cargo-deb
fi

echo "--- building the package (profile $PROFILE)"
if [[ "$PROFILE" == dev ]]; then
    # CI packages the debug binary the test step built: a second, optimised build of
    # the whole stack would cost 20-30 minutes on 2 cores with an empty cache.
    # (The same targets as tests/e2e.sh: one feature set, so nothing is rebuilt.)
    cargo build --bin loquat --example peer
    DEB=$("$TOOLS/bin/cargo-deb" --no-build --profile dev --quiet -o "$CARGO_TARGET_DIR/debian/" 2>"$WORK/deb.log") ||
        { cat "$WORK/deb.log"; fail "cargo deb failed"; }
else
    DEB=$("$TOOLS/bin/cargo-deb" --profile "$PROFILE" -o "$CARGO_TARGET_DIR/debian/")
fi
DEB=$(echo "$DEB" | tail -n 1)
[[ -f "$DEB" ]] || fail "no package was written ($DEB)"
echo "package: $DEB ($(du -h "$DEB" | cut -f1))"
dpkg-deb --info "$DEB" | sed -n '/Package:/,/Description:/p'
dpkg-deb --contents "$DEB" | awk '{print $6}' >"$WORK/contents"
for want in ./usr/bin/loquat ./usr/share/applications/im.loquat.Loquat.desktop \
    ./usr/share/metainfo/im.loquat.Loquat.metainfo.xml \
    ./usr/share/icons/hicolor/scalable/apps/im.loquat.Loquat.svg \
    ./usr/share/icons/hicolor/256x256/apps/im.loquat.Loquat.png; do
    grep -qxF "$want" "$WORK/contents" || fail "the package lacks $want"
done

echo "--- installing"
if [[ $(id -u) -eq 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$DEB" >"$WORK/apt.log" 2>&1 ||
        { tail -n 20 "$WORK/apt.log"; fail "the package does not install"; }
    ROOT=""
    export PATH="/usr/bin:$PATH"
else
    echo "(not root: unpacking into a temporary folder instead of installing)"
    dpkg-deb -x "$DEB" "$WORK/root"
    ROOT=$WORK/root
    export PATH="$ROOT/usr/bin:$PATH"
fi
DESKTOP=$ROOT/usr/share/applications/im.loquat.Loquat.desktop
desktop-file-validate "$DESKTOP" || fail "the installed .desktop file is not valid"
# What a launcher runs: Exec= without its field codes (%u: no link given).
EXEC=$(sed -n 's/^Exec=//p' "$DESKTOP" | head -n 1 | sed 's/ *%[uUfF]//g')
[[ -n "$EXEC" ]] || fail "the .desktop entry has no Exec="
command -v "${EXEC%% *}" >/dev/null || fail "the .desktop entry runs '$EXEC', which is not on PATH"
loquat --version | grep -q "loquat " || fail "the installed loquat does not run"

echo "--- starting the installed app from its .desktop entry under Xvfb"
start_xvfb "$WORK/xvfb.log" || fail "Xvfb did not start"
PIDS+=("$XVFB_PID")
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$WORK/run}
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
LOQUAT_LANG=zh_CN LOQUAT_DATA_DIR=$WORK/data bash -c "exec $EXEC" >"$WORK/app.log" 2>&1 &
PIDS+=($!)
WIN=$(timeout 30 xdotool search --sync --onlyvisible --class im.loquat.Loquat | head -n 1) ||
    fail "the installed Loquat's window did not appear"
sleep 2
import -window root "$OUT/deb-installed-zh-cn.png"
echo "window $WIN ($(xdotool getwindowname "$WIN")); screenshot $OUT/deb-installed-zh-cn.png"
echo "deb check passed: $DEB"
