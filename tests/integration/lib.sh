# SPDX-License-Identifier: Apache-2.0
# lib.sh - shared helpers for the integration tests.
#
# Each test runs in a network namespace of its own (unique name, removed by
# a trap whatever happens), with the fake API server, the controller and
# keepalived on that namespace's loopback.  Only processes started here are
# ever signalled.  Sourced by the test scripts; needs BUILD and SRC.

set -euo pipefail

: "${BUILD:?BUILD must point at the build directory}"
: "${SRC:?SRC must point at the source tree}"
# shellcheck source=../lib/assert.sh
. "$SRC/tests/lib/assert.sh"
CONTROLLER="$BUILD/controller/ipvs-controller"
FAKEAPI="$SRC/tests/fakeapi/fake_apiserver.py"
FAKECTL="$SRC/tests/fakeapi/fakectl.py"
PY=/usr/bin/python3

T=$(mktemp -d "/tmp/ipvsctl-test.XXXXXX")
NS="ipvsctl-$(basename "$0" .sh | cut -c1-12)-$$"
STARTED_PIDS=()
EXTRA_NS=() # more namespaces of this test (add_ns), removed like $NS
HELPER="$BUILD/exabgp-helper/exabgp-helper"

cleanup() {
    local rc=$?
    for pid in "${STARTED_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${STARTED_PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    for ns in "$NS" "${EXTRA_NS[@]}"; do
        ip netns pids "$ns" 2>/dev/null | while read -r p; do kill -KILL "$p" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    done
    if [ "$rc" -ne 0 ]; then
        echo "--- logs kept in $T"
        for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done
    else
        rm -rf "$T"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS"
ip -n "$NS" link set lo up

in_ns() { ip netns exec "$NS" "$@"; }

# add_ns SUFFIX: one more namespace, $NS-SUFFIX, deleted by the trap.
add_ns() {
    ip netns add "$NS-$1"
    EXTRA_NS+=("$NS-$1")
    ip -n "$NS-$1" link set lo up
}

# bg NAME COMMAND...: start COMMAND in the namespace, log to $T/NAME.log.
bg() {
    local name=$1; shift
    # exec chain (bash -> ip -> program): $! is the program itself
    ip netns exec "$NS" "$@" >>"$T/$name.log" 2>&1 &
    STARTED_PIDS+=("$!")
    eval "PID_${name//-/_}=$!"
}

# start_fakeapi [--tls]: the fake API server; sets API (URL) and CTL (fakectl command).
start_fakeapi() {
    local tls=${1:-}
    rm -f "$T/api.port"
    if [ "$tls" = --tls ]; then
        [ -f "$T/certs/ca.crt" ] || bash "$SRC/tests/fakeapi/gen-certs.sh" "$T/certs" >/dev/null
        [ -f "$T/token" ] || echo "token-$RANDOM$RANDOM" >"$T/token"
        bg fakeapi "$PY" "$FAKEAPI" --listen "127.0.0.1:${API_PORT:-0}" --port-file "$T/api.port" \
            --tls-cert "$T/certs/server.crt" --tls-key "$T/certs/server.key" \
            --token-file "$T/token" --bookmark-interval 1 ${FAKEAPI_ARGS:-}
        wait_until 10 "fake API server" test -s "$T/api.port"
        API_PORT=$(cat "$T/api.port")
        API="https://127.0.0.1:$API_PORT"
        CTL=(in_ns "$PY" "$FAKECTL" --server "$API" --cacert "$T/certs/ca.crt" --token "$T/token")
    else
        bg fakeapi "$PY" "$FAKEAPI" --listen "127.0.0.1:${API_PORT:-0}" --port-file "$T/api.port" \
            --bookmark-interval 1 ${FAKEAPI_ARGS:-}
        wait_until 10 "fake API server" test -s "$T/api.port"
        API_PORT=$(cat "$T/api.port")
        API="http://127.0.0.1:$API_PORT"
        CTL=(in_ns "$PY" "$FAKECTL" --server "$API")
    fi
}

stop_fakeapi() {
    kill -TERM "$PID_fakeapi" 2>/dev/null || true
    wait "$PID_fakeapi" 2>/dev/null || true
}

ctl() { "${CTL[@]}" "$@" >/dev/null; }

# keepalived in VRRP-only mode: this kernel has no IPVS for the checker,
# but the parent process reloads (and re-reads ipvs.conf) on SIGHUP.
write_keepalived_conf() {
    cat >"$T/keepalived.conf" <<KEOF
global_defs {
    router_id ipvsctl_test
}
include $T/ipvs.conf
KEOF
}

KEEPALIVED_ARGS() {
    echo "-P -n -l -D -f $T/keepalived.conf -p $T/keepalived.pid -r $T/vrrp.pid -c $T/checkers.pid"
}

start_keepalived() {
    write_keepalived_conf
    [ -f "$T/ipvs.conf" ] || echo "# empty" >"$T/ipvs.conf"
    # shellcheck disable=SC2046
    bg keepalived keepalived $(KEEPALIVED_ARGS)
    wait_until 10 "keepalived pidfile" test -s "$T/keepalived.pid"
    wait_until 10 "keepalived started" grep -q "Warning - keepalived has no configuration" "$T/keepalived.log"
}

reloads() { grep -c "Reloading" "$T/keepalived.log" 2>/dev/null || true; }

# start_controller ARGS...: the controller on this test's API and files.
# This host has no IPVS, so /readyz leaves the kernel's table out
# (--serving-check none) unless ARGS choose otherwise: a later flag wins.
start_controller() {
    bg controller "$CONTROLLER" --apiserver "$API" --output "$T/ipvs.conf" \
        --backoff-max-ms 1000 --debounce-ms 20 --max-delay-ms 200 --min-reload-interval-ms 100 \
        --serving-check none "$@"
}

# has_rs IP PORT: the rendered file has that real server.
has_rs() { grep -q "real_server $1 $2 {" "$T/ipvs.conf" 2>/dev/null; }
rs_count() { grep -c "real_server" "$T/ipvs.conf" 2>/dev/null || true; }
rs_count_is() { [ "$(rs_count)" = "$1" ]; }

# metric NAME: the value of one sample on the controller's /metrics.
metric() {
    local v
    v=$(in_ns curl -sf --max-time 5 "http://127.0.0.1:$METRICS_PORT/metrics" |
        awk -v m="$1" '$1 == m { print $2 }') || true
    [ -n "$v" ] || { echo "metric $1 not served" >&2; return 1; }
    echo "$v"
}
metric_gt() { local v; v=$(metric "$1") && [ "$v" -gt "$2" ]; }

free_port() { echo $((20000 + RANDOM % 20000)); }
