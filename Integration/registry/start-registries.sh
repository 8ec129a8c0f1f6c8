#!/usr/bin/env bash
# shellcheck shell=bash
# Starts three local Docker registries (distribution's `docker-registry`) and
# a token server on 127.0.0.1, for the registry tests and benchmarks.
#
# Sourced:   . Integration/registry/start-registries.sh
#            start_registries W [plain|tls|token]...   (default: all three)
#            ...                                       (variables below are exported)
#            stop_registries W
# Executed:  Integration/registry/start-registries.sh W [plain|tls|token]...
#            (leaves them running, prints W/registries.env)
#            Integration/registry/stop-registries.sh W
#
# W is a work directory (created if missing); everything goes below it and
# runs as the calling user. W/registries.env (shell syntax) then sets:
#   PLAIN=127.0.0.1:PORT    plain HTTP, no auth
#   TLS=127.0.0.1:PORT      HTTPS (certificate for IP:127.0.0.1 and
#                           DNS:localhost signed by a fresh test CA) with
#                           Basic auth from W/htpasswd (bcrypt)
#   TOKEN=127.0.0.1:PORT    plain HTTP with Bearer tokens (`auth: token`)
#                           from Integration/registry/token-server.py
#   TOKEN_REALM=http://127.0.0.1:PORT/token
#   CA_CERT=W/ca/ca.crt     the test CA (signs the TLS and token certificates)
#   REG_USER=tester REG_PASS=s3cret-pass   valid on TLS and TOKEN
#   TOKEN_REQUESTS=W/token-requests.log    one line per token request:
#                           "USER SCOPE..." (USER: name, anonymous, rejected:NAME)
#   PLAIN_LOG, TLS_LOG, TOKEN_LOG          the registries' application logs
#   PLAIN_ACCESS_LOG, TLS_ACCESS_LOG, TOKEN_ACCESS_LOG
#                           their access logs, one line per HTTP request, in
#                           Apache combined format:
#     127.0.0.1 - - [02/Jan/2025:03:04:05 +0000] "GET /v2/REPO/blobs/sha256:HEX HTTP/1.1" 200 1234 "" "UA"
#   REGISTRIES_DIR=W
# Storage: W/NAME/storage; configuration: W/NAME/config.yml; process ids
# (PID NAME per line): W/pids. Needs docker-registry, openssl, htpasswd
# (apache2-utils) and /usr/bin/python3; no curl.

REG_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REG_PY=/usr/bin/python3
REG_USER_NAME=tester
REG_USER_PASS=s3cret-pass
REG_SERVICE=husk-test-registry
REG_ISSUER=husk-test-token-issuer

reg_die() { echo "start-registries: $*" >&2; return 1; }

reg_free_port() {
    "$REG_PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# reg_wait URL PID [CAFILE]: until URL answers (any HTTP status but 5xx),
# at most 30 s; fails at once when PID exits or TLS verification fails.
reg_wait() {
    "$REG_PY" - "$@" <<'EOF'
import os, ssl, sys, time, urllib.error, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
cafile = sys.argv[3] if len(sys.argv) > 3 else None
handlers = [urllib.request.ProxyHandler({})]
if cafile:
    handlers.append(urllib.request.HTTPSHandler(
        context=ssl.create_default_context(cafile=cafile)))
opener = urllib.request.build_opener(*handlers)

def alive():
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False

deadline = time.time() + 30
while True:
    try:
        opener.open(url, timeout=5).close()
        sys.exit(0)
    except urllib.error.HTTPError as e:
        if e.code < 500:
            sys.exit(0)
        why = 'HTTP %d' % e.code
    except urllib.error.URLError as e:
        if isinstance(e.reason, ssl.SSLError):
            sys.exit('start-registries: %s: %s' % (url, e.reason))
        why = str(e.reason)
    except OSError as e:
        why = str(e)
    if not alive():
        sys.exit(1)  # the caller looks at the log
    if time.time() > deadline:
        sys.exit('start-registries: %s did not answer in 30 s (%s)' % (url, why))
    time.sleep(0.1)
EOF
}

# reg_certs W: test CA, server certificate (127.0.0.1, localhost), token
# signing certificate, all signed by the CA; W/htpasswd.
reg_certs() {
    local w=$1 ca=$1/ca
    mkdir -p "$ca"
    (
        set -e
        cd "$ca"
        openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
            -keyout ca.key -out ca.crt -subj "/CN=Husk test CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign"
        printf '%s\n' "basicConstraints=CA:FALSE" \
            "keyUsage=critical,digitalSignature,keyEncipherment" \
            "extendedKeyUsage=serverAuth" \
            "subjectAltName=IP:127.0.0.1,DNS:localhost" >server.ext
        openssl req -newkey rsa:2048 -nodes -sha256 -keyout server.key \
            -out server.csr -subj "/CN=localhost"
        openssl x509 -req -sha256 -days 825 -in server.csr -CA ca.crt \
            -CAkey ca.key -CAcreateserial -extfile server.ext -out server.crt
        printf '%s\n' "basicConstraints=CA:FALSE" \
            "keyUsage=critical,digitalSignature" >token.ext
        openssl req -newkey rsa:2048 -nodes -sha256 -keyout token.key \
            -out token.csr -subj "/CN=Husk test token signer"
        openssl x509 -req -sha256 -days 825 -in token.csr -CA ca.crt \
            -CAkey ca.key -CAcreateserial -extfile token.ext -out token.crt
        chmod 0644 ca.crt server.crt token.crt
        chmod 0600 ca.key server.key token.key
    ) >"$w/openssl.log" 2>&1 || { cat "$w/openssl.log" >&2; reg_die "openssl failed"; return 1; }
    htpasswd -Bbn "$REG_USER_NAME" "$REG_USER_PASS" >"$w/htpasswd" ||
        { reg_die "htpasswd failed"; return 1; }
}

# reg_config NAME PORT W [TOKEN_REALM]: writes W/NAME/config.yml.
reg_config() {
    local name=$1 port=$2 w=$3 realm=${4:-} tls="" auth=""
    mkdir -p "$w/$name/storage"
    case $name in
    tls)
        tls="  tls:
    certificate: \"$w/ca/server.crt\"
    key: \"$w/ca/server.key\""
        auth="auth:
  htpasswd:
    realm: husk-test
    path: \"$w/htpasswd\""
        ;;
    token)
        auth="auth:
  token:
    realm: \"$realm\"
    service: $REG_SERVICE
    issuer: $REG_ISSUER
    rootcertbundle: \"$w/ca/ca.crt\""
        ;;
    esac
    cat >"$w/$name/config.yml" <<EOF
version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
  fields:
    service: registry-$name
storage:
  filesystem:
    rootdirectory: "$w/$name/storage"
  delete:
    enabled: true
  redirect:
    disable: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  secret: husk-test-secret-$name
  headers:
    X-Content-Type-Options: [nosniff]
$tls
health:
  storagedriver:
    enabled: false
$auth
EOF
}

# reg_start_one NAME W [TOKEN_REALM]: starts it on a free port (retrying
# when the port was taken meanwhile); prints the port.
reg_start_one() {
    local name=$1 w=$2 realm=${3:-} port pid attempt scheme=http ca=()
    [ "$name" = tls ] && scheme=https ca=("$w/ca/ca.crt")
    for attempt in 1 2 3 4 5; do
        port=$(reg_free_port) || return 1
        reg_config "$name" "$port" "$w" "$realm"
        docker-registry serve "$w/$name/config.yml" \
            >>"$w/$name.access.log" 2>>"$w/$name.log" </dev/null &
        pid=$!
        if reg_wait "$scheme://127.0.0.1:$port/v2/" "$pid" "${ca[@]}"; then
            echo "$pid $name" >>"$w/pids"
            echo "$port"
            return 0
        fi
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        echo "start-registries: $name registry on port $port failed (attempt $attempt)" >>"$w/$name.log"
    done
    tail -n 20 "$w/$name.log" >&2
    reg_die "the $name registry did not start; see $w/$name.log"
}

# reg_start_token_server W: prints its port.
reg_start_token_server() {
    local w=$1 pid
    rm -f "$w/token-server.port"
    : >>"$w/token-requests.log"
    "$REG_PY" "$REG_HERE/token-server.py" --key "$w/ca/token.key" \
        --cert "$w/ca/token.crt" --htpasswd "$w/htpasswd" --issuer "$REG_ISSUER" \
        --service "$REG_SERVICE" --port-file "$w/token-server.port" \
        --log "$w/token-requests.log" >>"$w/token-server.log" 2>&1 </dev/null &
    pid=$!
    for _ in $(seq 1 300); do
        if [ -s "$w/token-server.port" ]; then
            echo "$pid token-server" >>"$w/pids"
            cat "$w/token-server.port"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    cat "$w/token-server.log" >&2
    reg_die "the token server did not start; see $w/token-server.log"
}

start_registries() { # W [plain|tls|token]...
    local w=${1:?usage: start_registries W [plain|tls|token]...}
    shift
    local which=("$@") tool name port tport="" realm=""
    [ ${#which[@]} -gt 0 ] || which=(plain tls token)
    for tool in docker-registry openssl htpasswd "$REG_PY"; do
        command -v "$tool" >/dev/null || { reg_die "$tool not found"; return 1; }
    done
    mkdir -p "$w"
    w=$(cd "$w" && pwd)
    [ ! -s "$w/pids" ] || { reg_die "$w/pids exists: registries already running? (stop_registries $w)"; return 1; }
    reg_certs "$w" || return 1
    {
        echo "# written by start-registries.sh"
        printf 'REGISTRIES_DIR=%q\n' "$w"
        printf 'CA_CERT=%q\n' "$w/ca/ca.crt"
        printf 'REG_USER=%q\nREG_PASS=%q\n' "$REG_USER_NAME" "$REG_USER_PASS"
    } >"$w/registries.env.tmp"
    for name in "${which[@]}"; do
        case $name in
        plain | tls) ;;
        token)
            tport=$(reg_start_token_server "$w") || { stop_registries "$w"; return 1; }
            realm=http://127.0.0.1:$tport/token
            printf 'TOKEN_REALM=%q\nTOKEN_REQUESTS=%q\n' "$realm" "$w/token-requests.log" >>"$w/registries.env.tmp"
            ;;
        *) reg_die "unknown registry kind $name (plain, tls or token)"; stop_registries "$w"; return 1 ;;
        esac
        port=$(reg_start_one "$name" "$w" "$realm") || { stop_registries "$w"; return 1; }
        local var
        var=$(echo "$name" | tr '[:lower:]' '[:upper:]')
        printf '%s=127.0.0.1:%s\n%s_LOG=%q\n%s_ACCESS_LOG=%q\n' "$var" "$port" \
            "$var" "$w/$name.log" "$var" "$w/$name.access.log" >>"$w/registries.env.tmp"
    done
    mv "$w/registries.env.tmp" "$w/registries.env"
    # Sourced: the variables are the caller's too.
    set -a
    # shellcheck disable=SC1091
    . "$w/registries.env"
    set +a
}

# reg_start_proxy W NAME SCRIPT ARGS...: runs a forwarder script that writes
# its port to --port-file; prints 127.0.0.1:PORT. stop_registries W stops it.
reg_start_proxy() {
    local w=$1 name=$2 script=$3 pid n
    shift 3
    w=$(cd "$w" && pwd)
    n=$(grep -c "$name" "$w/pids" 2>/dev/null || true)
    local portfile=$w/$name-${n:-0}.port log=$w/$name-${n:-0}.log
    rm -f "$portfile"
    "$REG_PY" "$REG_HERE/$script" "$@" --port-file "$portfile" >>"$log" 2>&1 </dev/null &
    pid=$!
    for _ in $(seq 1 100); do
        if [ -s "$portfile" ]; then
            echo "$pid $name" >>"$w/pids"
            echo "127.0.0.1:$(cat "$portfile")"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    reg_die "$script did not start; see $log"
}

# start_slow_proxy W HOST:PORT RATE: a TCP forwarder to HOST:PORT that sends
# the answers at most RATE bytes/s (slow-proxy.py).
start_slow_proxy() {
    reg_start_proxy "${1:?usage: start_slow_proxy W HOST:PORT RATE}" slow-proxy slow-proxy.py \
        --target "${2:?}" --rate "${3:?}"
}

# start_flaky_proxy W HOST:PORT N: an HTTP forwarder to HOST:PORT that
# answers 503 to the first N blob requests (flaky-proxy.py; its refusals are
# lines in W/flaky-proxy-K.log).
start_flaky_proxy() {
    reg_start_proxy "${1:?usage: start_flaky_proxy W HOST:PORT N}" flaky-proxy flaky-proxy.py \
        --target "${2:?}" --failures "${3:?}"
}

# reg_is_ours PID W: the process is still one this script started for W
# (not a reused pid) and not a zombie.
reg_is_ours() {
    local pid=$1 w=$2 state
    [ -r "/proc/$pid/stat" ] || return 1
    state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
    [ -n "$state" ] && [ "$state" != Z ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$w/"
}

stop_registries() { # W
    local w=${1:?usage: stop_registries W} pid name
    [ -d "$w" ] || return 0
    w=$(cd "$w" && pwd)
    [ -f "$w/pids" ] || return 0
    while read -r pid name; do
        reg_is_ours "$pid" "$w" && kill -TERM "$pid" 2>/dev/null
    done <"$w/pids"
    for _ in $(seq 1 50); do
        local left=0
        while read -r pid name; do
            reg_is_ours "$pid" "$w" && left=1
        done <"$w/pids"
        [ "$left" -eq 0 ] && break
        sleep 0.1
    done
    while read -r pid name; do
        reg_is_ours "$pid" "$w" && kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null || true # reaps it when it is our child
    done <"$w/pids"
    rm -f "$w/pids"
    return 0
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    [ $# -ge 1 ] || { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
    start_registries "$@"
    cat "$REGISTRIES_DIR/registries.env"
fi
