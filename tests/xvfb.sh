# A virtual X screen for the scripts that start the real window (tests/e2e.sh,
# packaging/deb.sh). Source it, then:
#
#   start_xvfb LOG      starts Xvfb, waits until it accepts connections (at most
#                       XVFB_TIMEOUT seconds, default 30), exports DISPLAY and sets
#                       XVFB_PID (the caller stops it). On failure it stops its Xvfb
#                       and returns 1 with the reason on stderr.
#
# Xvfb picks the display itself (-displayfd): it takes the first free number with its
# lock file atomically and writes that number to the fd once it is ready. Choosing a
# number here and then starting Xvfb on it raced with any other X server starting at
# the same time (CI saw "Xvfb did not start on :90").

start_xvfb() {
    local log=$1 timeout=${XVFB_TIMEOUT:-30} dir fifo fd disp="" waited=0
    dir=$(mktemp -d "${TMPDIR:-/tmp}/loquat-xvfb.XXXXXX") || return 1
    fifo=$dir/display
    mkfifo "$fifo" || return 1
    # Opened read-write, so neither this open nor Xvfb's blocks; Xvfb's copy of the fd
    # is the write end it reports on.
    exec {fd}<>"$fifo"
    rm -rf "$dir"
    # -noreset: by default Xvfb resets itself when its last client leaves. The end-to-end
    # run quits Loquat and starts it again at once; a connection made during that reset
    # failed ("Can't open display", CI run 27), and the restarted window never appeared.
    Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp -noreset 3>&"$fd" >"$log" 2>&1 &
    XVFB_PID=$!
    while ((waited < timeout)); do
        if read -r -t 1 -u "$fd" disp; then
            break
        fi
        disp=""
        if ! kill -0 "$XVFB_PID" 2>/dev/null; then
            exec {fd}>&-
            wait "$XVFB_PID" 2>/dev/null || true
            echo "Xvfb exited before it was ready: $(tail -n 5 "$log")" >&2
            return 1
        fi
        waited=$((waited + 1))
    done
    exec {fd}>&-
    if [[ ! "$disp" =~ ^[0-9]+$ ]]; then
        stop_xvfb
        echo "Xvfb did not report a display within ${timeout} s: $(tail -n 5 "$log")" >&2
        return 1
    fi
    export DISPLAY=":$disp"
    # Xvfb writes the number once it listens; check that a client really gets in.
    local _
    for _ in $(seq 1 50); do
        xdotool getdisplaygeometry >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    stop_xvfb
    echo "Xvfb reported $DISPLAY but no client could connect: $(tail -n 5 "$log")" >&2
    return 1
}

stop_xvfb() {
    kill "$XVFB_PID" 2>/dev/null || true
    wait "$XVFB_PID" 2>/dev/null || true
}
