#!/usr/bin/env bash
# /healthz and /readyz: alive at once, ready only after the first sync; a
# list over --max-list-bytes or an event over --max-event-bytes is refused,
# counted, and never reaches the file.
. "$(dirname "$0")/lib.sh"

API_PORT=$(free_port)
API="http://127.0.0.1:$API_PORT"
METRICS_PORT=$(free_port)
start_controller --selector app=web --virtual-server 10.1.1.1:80 \
    --metrics-address "127.0.0.1:$METRICS_PORT" --max-list-bytes 8K --max-event-bytes 4K
wait_until 10 "/healthz" in_ns curl -sf "http://127.0.0.1:$METRICS_PORT/healthz"
code=$(in_ns curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS_PORT/readyz")
[ "$code" = 503 ] || fail "/readyz answered $code before any sync, want 503"
[ -e "$T/ipvs.conf" ] && fail "a file was written with no API"
pass "alive but not ready while the API is unreachable"

# The API comes up already holding more than 8K of pods.
kill -TERM "$PID_controller"
wait "$PID_controller" || true
start_fakeapi
ctl bulk-pods 40 web --ip-base 10.9.0.0
start_controller --selector app=web --virtual-server 10.1.1.1:80 \
    --metrics-address "127.0.0.1:$METRICS_PORT" --max-list-bytes 8K --max-event-bytes 4K
wait_until 15 "oversize list reported" grep -q "list response over the size cap" "$T/controller.log"
[ -e "$T/ipvs.conf" ] && fail "a file was written from a truncated list"
code=$(in_ns curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS_PORT/readyz")
[ "$code" = 503 ] || fail "/readyz answered $code after an oversize list, want 503"
metric_gt 'ipvs_controller_errors_total{kind="oversize"}' 0 || fail "oversize not counted"
pass "a list over the cap is refused and never rendered"

ctl reset
ctl pod-add small 10.9.1.1
wait_until 15 "ready after a list that fits" in_ns curl -sf "http://127.0.0.1:$METRICS_PORT/readyz"
# the retry may list between the reset and the add: the watch then brings it
wait_until 10 "the small pod rendered" has_rs 10.9.1.1 80
pass "ready after the first sync"

# an event over 4K: a pod with a long label value set
long=$(printf 'x%.0s' $(seq 60))
labels="app=web"
for i in $(seq 1 80); do labels="$labels,k$i=$long"; done
ctl pod-add fat 10.9.1.2 --labels "$labels"
wait_until 10 "oversize event reported" grep -q "watch event over the size cap" "$T/controller.log"
has_rs 10.9.1.2 80 && fail "an oversize event was applied"
has_rs 10.9.1.1 80 || fail "the file lost its endpoint after an oversize event"
pass "an event over the cap is refused; the file keeps what it had"
