#!/usr/bin/env bash
# A throwaway Prosody on 127.0.0.1 for trying Loquat by hand.
#
#   bash packaging/dev-server.sh          ports 15222 (STARTTLS), 15223 (direct TLS),
#                                          15280 (HTTP), 15281 (HTTPS, file upload)
#   LOQUAT_DEV_PORT=25222 bash packaging/dev-server.sh     another base port
#   LOQUAT_DEV_KEEP=1 ...                  keep the folder (accounts, history) on exit
#
# It makes a private CA and a certificate for localhost, writes the same configuration as
# the test harness (tests/support/prosody.cfg.lua.in), creates alice@localhost and
# bob@localhost with fresh passwords, and prints how to sign in. Ctrl-C stops it.
# Needs the Debian packages prosody, lua-unbound, lua-sec and openssl.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TEMPLATE="$ROOT/tests/support/prosody.cfg.lua.in"

C2S=${LOQUAT_DEV_PORT:-15222}
DIRECT_TLS=$((C2S + 1))
HTTP=$((C2S + 58))
HTTPS=$((C2S + 59))

for cmd in prosody prosodyctl openssl; do
    if ! command -v "$cmd" >/dev/null 2>&1; then
        echo "$cmd is not installed. As root:"
        echo "  apt-get install -y --no-install-recommends prosody lua-unbound lua-sec openssl"
        exit 1
    fi
done
for port in "$C2S" "$DIRECT_TLS" "$HTTP" "$HTTPS"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "Port $port is already in use. Choose other ports, e.g.:"
        echo "  LOQUAT_DEV_PORT=25222 bash $0"
        exit 1
    fi
done

DIR=$(mktemp -d "${TMPDIR:-/tmp}/loquat-dev.XXXXXX")
PROSODY_PID=""
cleanup() {
    if [[ -n "$PROSODY_PID" ]]; then
        kill "$PROSODY_PID" 2>/dev/null || true
        wait "$PROSODY_PID" 2>/dev/null || true
    fi
    if [[ "${LOQUAT_DEV_KEEP:-0}" == 1 ]]; then
        echo "kept $DIR"
    else
        rm -rf "$DIR"
    fi
}
trap cleanup EXIT
trap 'exit 0' INT TERM

mkdir -p "$DIR/certs" "$DIR/data"
chmod 755 "$DIR"

# A CA and a leaf certificate it signs (rustls refuses a self-signed CA as server cert).
(
    cd "$DIR/certs"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
        -subj "/CN=Loquat Dev CA" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout ca.key -out ca.crt
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -subj "/CN=localhost" -keyout localhost.key -out localhost.csr
    cat >leaf.ext <<'EOF'
subjectAltName=DNS:localhost,DNS:upload.localhost,DNS:conference.localhost,DNS:example.test,IP:127.0.0.1
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth,clientAuth
EOF
    openssl x509 -req -in localhost.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
        -days 825 -extfile leaf.ext -out localhost.crt
) >"$DIR/openssl.log" 2>&1 || {
    cat "$DIR/openssl.log"
    exit 1
}

CONFIG="$DIR/prosody.cfg.lua"
sed -e "s|@DIR@|$DIR|g" -e "s|@LOG_LEVEL@|info|g" \
    -e "s|@PLUGINS@|$ROOT/tests/support/prosody-plugins|g" \
    -e "s|@C2S_PORT@|$C2S|g" -e "s|@DIRECT_TLS_PORT@|$DIRECT_TLS|g" \
    -e "s|@HTTP_PORT@|$HTTP|g" -e "s|@HTTPS_PORT@|$HTTPS|g" \
    "$TEMPLATE" >"$CONFIG"

ALICE_PW=$(openssl rand -hex 8)
BOB_PW=$(openssl rand -hex 8)
prosodyctl --config "$CONFIG" register alice localhost "$ALICE_PW" >/dev/null
prosodyctl --config "$CONFIG" register bob localhost "$BOB_PW" >/dev/null

prosody --config "$CONFIG" -F >"$DIR/prosody.log" 2>&1 &
PROSODY_PID=$!
for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$C2S") 2>/dev/null; then
        break
    fi
    if ! kill -0 "$PROSODY_PID" 2>/dev/null; then
        echo "Prosody stopped at start-up:"
        cat "$DIR/prosody.log"
        exit 1
    fi
    sleep 0.2
done
if grep -q "Failed to open server port" "$DIR/prosody.log"; then
    echo "Prosody could not open all its ports:"
    grep "Failed to open server port" "$DIR/prosody.log"
    exit 1
fi

cat <<EOF

Prosody is running (folder $DIR).

Accounts:
  alice@localhost   password: $ALICE_PW
  bob@localhost     password: $BOB_PW

To sign in with Loquat, add an account with these advanced settings:
  server host:           127.0.0.1
  port:                  $C2S   (STARTTLS; direct TLS is on port $DIRECT_TLS)
  extra trusted root:    $DIR/certs/ca.crt
                         (the PEM file of this server's private CA; TLS is still verified)

Also available: group chats on conference.localhost, file upload on upload.localhost
(served at https://localhost:$HTTPS/), a second domain example.test (add users with
  prosodyctl --config $CONFIG register NAME example.test PASSWORD).

Log: $DIR/prosody.log        Ctrl-C stops the server and deletes the folder.
EOF

wait "$PROSODY_PID"
