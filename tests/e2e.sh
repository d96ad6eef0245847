#!/usr/bin/env bash
# End-to-end: the real Loquat binary in a real X window (Xvfb) against a throwaway Prosody.
# A person's path: type the address, password and server settings into the sign-in form,
# sign in, get a message from Bob, open the conversation, answer, and Bob receives it.
# Then quit, start again: Loquat signs in from the keyring without asking, and the
# conversation is still there. Screenshots go to $LOQUAT_E2E_OUT (default: under the
# build folder), e2e-*.png.
#
# Run by tests/run-all.sh inside a D-Bus session with an unlocked gnome-keyring.
# Needs: xvfb xdotool imagemagick prosody (installed by tests/run-all.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tests/xvfb.sh
source tests/xvfb.sh

: "${CARGO_TARGET_DIR:=$HOME/.cache/loquat/target}"
OUT=${LOQUAT_E2E_OUT:-$CARGO_TARGET_DIR/e2e}
mkdir -p "$OUT"
rm -f "$OUT"/e2e-*.png

cargo build --bin loquat --example peer
APP=$CARGO_TARGET_DIR/debug/loquat
PEER=$CARGO_TARGET_DIR/debug/examples/peer

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "E2E FAILED: $*"
    [[ -n "${DISPLAY:-}" ]] && import -window root "$OUT/e2e-failure.png" 2>/dev/null || true
    echo "--- app log"; tail -n 40 "$WORK/app.log" 2>/dev/null || true
    echo "--- server log"; tail -n 20 "$WORK/server.log" 2>/dev/null || true
    echo "screenshot: $OUT/e2e-failure.png"
    exit 1
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- a throwaway Prosody with alice and bob, on free ports
BASE=""
for _ in $(seq 1 50); do
    candidate=$((20000 + RANDOM % 30000))
    if port_free "$candidate" && port_free $((candidate + 1)) && port_free $((candidate + 2)) && port_free $((candidate + 3)); then
        BASE=$candidate
        break
    fi
done
[[ -n "$BASE" ]] || fail "no free ports"
LOQUAT_DEV_PORT=$BASE bash packaging/dev-server.sh >"$WORK/server.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
    grep -q "Prosody is running" "$WORK/server.log" && break
    sleep 0.2
done
grep -q "Prosody is running" "$WORK/server.log" || fail "the test server did not start"
ALICE_PW=$(awk '/alice@localhost/ {print $3}' "$WORK/server.log")
BOB_PW=$(awk '/bob@localhost/ {print $3}' "$WORK/server.log")
CA=$(awk '/extra trusted root:/ {print $4}' "$WORK/server.log")
[[ -n "$ALICE_PW" && -n "$BOB_PW" && -f "$CA" ]] || fail "could not read the test server's accounts"

# --- a virtual screen
start_xvfb "$WORK/xvfb.log" || fail "Xvfb did not start"
PIDS+=("$XVFB_PID")
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$WORK/run}
mkdir -p "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"

DATA=$WORK/data
start_app() {
    LOQUAT_LANG=${APP_LANG:-en} LOQUAT_DATA_DIR=$DATA "$APP" >>"$WORK/app.log" 2>&1 &
    APP_PID=$!
    PIDS+=("$APP_PID")
    WIN=$(timeout 30 xdotool search --sync --onlyvisible --class loquat | head -n 1) ||
        fail "the Loquat window did not appear"
    sleep 2
    # No window manager under Xvfb: give the window the keyboard focus ourselves.
    xdotool windowfocus --sync "$WIN"
}
shot() { import -window root "$OUT/e2e-$1.png"; }
type_text() { xdotool type --delay 15 "$1"; }
key() {
    xdotool key "$@"
    sleep 0.4 # focus moves asynchronously; let it land before typing on
}
click() { xdotool mousemove "$1" "$2" click 1; sleep 0.3; }

# --- 1. first start: the sign-in form
start_app
shot 1-onboarding
# Positions in the 1100x720 window at the top-left corner of the screen (no banner:
# the keyring works). Tab moves between text fields.
click 550 212 # address
type_text "alice@localhost"
key Tab
type_text "$ALICE_PW"
click 383 316 # "Advanced" opens the server settings
shot 2-advanced
click 490 377 # server host
type_text "127.0.0.1"
key Tab
type_text "$BASE"
key Tab
type_text "$CA"
shot 3-filled
key Return

# Bob (the scripted peer) writes SAYS and waits for Alice's REPLY; returns once he sent.
bob_writes() { # LOG SAYS REPLY
    "$PEER" --jid bob@localhost --password "$BOB_PW" --host 127.0.0.1 --port "$BASE" --ca "$CA" \
        --send-to alice@localhost --send "$2" \
        --expect-from alice@localhost --expect "$3" \
        --timeout 90 >"$1" 2>&1 &
    PEER_PID=$!
    PIDS+=("$PEER_PID")
    for _ in $(seq 1 100); do
        grep -q "sent to alice@localhost" "$1" && break
        kill -0 "$PEER_PID" 2>/dev/null || fail "the peer stopped: $(cat "$1")"
        sleep 0.2
    done
    grep -q "sent to alice@localhost" "$1" || fail "the peer did not send its message"
    sleep 2
}

# Alice opens the newest conversation (first line of the list, below the search field
# and the account card: under "Requests" the first time, under "Conversations" after the
# reply made Bob a contact) and answers.
alice_answers() { # LOG REPLY
    click "${E2E_CONVERSATION_X:-100}" "${E2E_CONVERSATION_Y:-255}"
    type_text "$2"
    key Return
    if ! wait "$PEER_PID"; then
        fail "Bob did not receive Alice's message: $(cat "$1")"
    fi
    sleep 1
}

# --- 2. signed in: Bob writes, Alice answers from the window
bob_writes "$WORK/peer.log" "Hello Alice, 你好" "Hi Bob, sent from the window"
shot 4-incoming
alice_answers "$WORK/peer.log" "Hi Bob, sent from the window"
shot 6-sent

# --- 3. quit and start again: signed in from the keyring (no password asked), history
# still there, and the conversation goes on.
kill "$APP_PID"
wait "$APP_PID" 2>/dev/null || true
start_app
sleep 3
shot 7-restarted
bob_writes "$WORK/peer2.log" "Still there?" "Yes, after a restart"
alice_answers "$WORK/peer2.log" "Yes, after a restart"
shot 8-history

# Search in the real window: Ctrl+Shift+F, a word being typed finds the message
# (the screenshot is for review), Esc empties the field again.
key ctrl+shift+f
type_text "restar"
sleep 2
shot 8-search
key Escape
sleep 1

# --- 4. a second launch with an xmpp: link hands it to the running window (which opens
# the chat with the link's text as a draft) and exits; there is still one window.
LOQUAT_DATA_DIR=$DATA timeout 20 "$APP" "xmpp:bob@localhost?message;body=Draft%20from%20a%20link" \
    >"$WORK/second.log" 2>&1 || fail "the second launch did not hand over: $(cat "$WORK/second.log")"
grep -q "already running" "$WORK/second.log" || fail "the second launch did not say it handed over"
sleep 1
WINDOWS=$(xdotool search --onlyvisible --class loquat | wc -l)
[[ "$WINDOWS" == 1 ]] || fail "expected one Loquat window, found $WINDOWS"
shot 9-link

# --- 5. the same window in Simplified Chinese (fonts-noto-cjk)
kill "$APP_PID"
wait "$APP_PID" 2>/dev/null || true
APP_LANG=zh_CN start_app
sleep 3
shot 10-zh-cn
key ctrl+shift+f
type_text "你好"
sleep 2
shot 11-zh-search
echo "end-to-end passed; screenshots in $OUT"
