#!/usr/bin/env bash
# The serving state on /readyz with the kernel check, fed a fixture in
# place of /proc/net/ip_vs (this host has no IPVS): 503 before the first
# sync; 503 while the table is missing, lacks the virtual server, has no real server of
# non-zero weight, or the service has no ready endpoints; 200 when the
# table can serve, each time naming the reason in the body, in
# ipvs_controller_serving_reason and in one log line per change; still 200
# with the API server stopped; 503 when keepalived dies, by pidfile and
# under supervision (then 200 again once it is restarted).
. "$(dirname "$0")/lib.sh"

TABLE=$T/ip_vs
HEADER='IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn'
# table LINES...: the fixture becomes the header and LINES, replaced at once
table() {
    printf '%s\n' "$HEADER" "$@" >"$TABLE.tmp"
    mv "$TABLE.tmp" "$TABLE"
}
VS='TCP  0A010101:0050 rr  '                                   # 10.1.1.1:80
rs() { printf '  -> %s:0050      Masq    %-6s 0          0         ' "$1" "$2"; }
WEB1=AC10010B WEB2=AC10010C                                     # 172.16.1.11, .12

readyz() { in_ns curl -s --max-time 3 -w ' %{http_code}' "http://127.0.0.1:$METRICS_PORT/readyz"; }
# readyz_is CODE TEXT: /readyz answers CODE with TEXT in its body
readyz_is() { local r; r=$(readyz) && [ "${r##* }" = "$1" ] && [[ $r == *"$2"* ]]; }
reason_is() { [ "$(metric "ipvs_controller_serving_reason{reason=\"$1\"}")" = 1 ]; }
# expect_not_serving REASON TEXT: 503 naming TEXT, the metric naming REASON
expect_not_serving() {
    wait_until 5 "/readyz 503 with \"$2\"" readyz_is 503 "not serving: $2"
    local waited=$WAITED
    reason_is "$1" || fail "ipvs_controller_serving_reason{reason=\"$1\"} is not 1"
    [ "$(metric ipvs_controller_serving)" = 0 ] || fail "ipvs_controller_serving is not 0"
    echo "    503 ($1) after ${waited}s"
}
expect_serving() {
    wait_until 5 "/readyz 200" readyz_is 200 serving
    echo "    200 after ${WAITED}s"
    [ "$(metric ipvs_controller_serving)" = 1 ] || fail "ipvs_controller_serving is not 1"
}
# logged MSG REASON: log lines with this message and reason (logfmt quotes only when needed)
logged() { grep -cE "msg=(\"$1\"|$1) reason=$2( |\$)" "$T/controller.log" || true; }

# The API server is not up yet: the controller cannot sync.
API_PORT=$(free_port)
API="http://127.0.0.1:$API_PORT"
METRICS_PORT=$(free_port)
start_keepalived
table
start_controller --selector app=web --virtual-server 10.1.1.1:80 \
    --keepalived-pidfile "$T/keepalived.pid" --metrics-address "127.0.0.1:$METRICS_PORT" \
    --serving-check kernel --ipvs-table "$TABLE"
wait_until 10 "/healthz" in_ns curl -sf "http://127.0.0.1:$METRICS_PORT/healthz"
expect_not_serving not_synced "the first sync with the API server is not done"
pass "503 before the first sync"

start_fakeapi
ctl pod-add web-1 172.16.1.11
ctl pod-add web-2 172.16.1.12
wait_until 10 "two real servers rendered" rs_count_is 2
expect_not_serving virtual_server_missing "virtual server 10.1.1.1:80 TCP is not in the kernel's IPVS table"
pass "synced, but the kernel's table lacks the virtual server: 503"

rm "$TABLE"
expect_not_serving ipvs_table_unreadable "the kernel's IPVS table is unreadable: cannot read $TABLE: No such file or directory (is ip_vs loaded?"
pass "no table at all (no IPVS in the kernel): 503 naming the likely cause"

table "$VS" "$(rs $WEB1 1)" "$(rs $WEB2 1)"
expect_serving
pass "the table holds the virtual server with live real servers: 200"

serving0=$(logged serving serving) weight0=$(logged "not serving" no_live_real_server)
noeps0=$(logged "not serving" no_endpoints)
table "$VS" "$(rs $WEB1 0)" "$(rs $WEB2 0)"
expect_not_serving no_live_real_server "virtual server 10.1.1.1:80 TCP has no real server with weight > 0 (2 in the table)"
table "$VS" "$(rs $WEB1 0)" "$(rs $WEB2 1)"
expect_serving
table "$VS"
expect_not_serving no_live_real_server "virtual server 10.1.1.1:80 TCP has no real server with weight > 0 (0 in the table)"
table "$VS" "$(rs $WEB1 1)"
expect_serving
pass "real servers at weight 0 or gone: 503; one back: 200"

ctl pod-del web-1
ctl pod-del web-2
expect_not_serving no_endpoints "virtual server 10.1.1.1:80 TCP has no ready endpoints"
ctl pod-add web-3 172.16.1.13
expect_serving
pass "no ready endpoints at all: 503 naming them, whatever the table says"

# three times back to serving, twice without live real servers, once without endpoints
[ "$(logged serving serving)" = $((serving0 + 3)) ] ||
    fail "want $((serving0 + 3)) 'serving' lines, got $(logged serving serving)"
[ "$(logged "not serving" no_live_real_server)" = $((weight0 + 2)) ] ||
    fail "want $((weight0 + 2)) no_live_real_server lines, got $(logged "not serving" no_live_real_server)"
[ "$(logged "not serving" no_endpoints)" = $((noeps0 + 1)) ] ||
    fail "want $((noeps0 + 1)) no_endpoints lines, got $(logged "not serving" no_endpoints)"
pass "each transition logged once with its reason"

stop_fakeapi
wait_until 10 "the controller noticing the API is gone" \
    '[ "$(metric "ipvs_controller_errors_total{kind=\"api_connect\"}")" -gt 0 ]'
holds_for 3 "/readyz 200 with the API server stopped" readyz_is 200 serving
pass "the API server stopped: still 200"

kpid=$(cat "$T/keepalived.pid")
kill -KILL "$PID_keepalived" # started by this test
wait "$PID_keepalived" 2>/dev/null || true
expect_not_serving keepalived_not_running "keepalived is not running: pid $kpid from $T/keepalived.pid is not running"
pass "keepalived (pidfile) killed: 503"

# Under supervision: the controller restarts keepalived, and serves again.
kill -TERM "$PID_controller"
wait "$PID_controller" || true
start_fakeapi
ctl pod-add web-1 172.16.1.11
rm -f "$T/keepalived.pid"
start_controller --selector app=web --virtual-server 10.1.1.1:80 \
    --keepalived-cmd "keepalived $(KEEPALIVED_ARGS)" --metrics-address "127.0.0.1:$METRICS_PORT" \
    --serving-check kernel --ipvs-table "$TABLE"
wait_until 10 "keepalived started by the controller" test -s "$T/keepalived.pid"
expect_serving
kpid=$(cat "$T/keepalived.pid")
kill -KILL "$kpid" # started by this test's controller
wait_until 5 "/readyz 503 once keepalived is killed" readyz_is 503 "not serving: keepalived is"
echo "    503 after ${WAITED}s"
wait_until 15 "keepalived restarted" sh -c "[ \"\$(cat '$T/keepalived.pid' 2>/dev/null)\" != '$kpid' ] && kill -0 \$(cat '$T/keepalived.pid')"
expect_serving
grep -q 'msg="not serving" reason=keepalived_not_running' "$T/controller.log" ||
    fail "no log line for keepalived not running"
pass "supervised keepalived killed: 503 until it is restarted, then 200"
