#!/usr/bin/env bash
# Pods added, made unready, deleted: ipvs.conf follows, keepalived (pidfile
# mode) is reloaded for each change and never for a non-change, and the file
# always passes keepalived's own configuration check.
. "$(dirname "$0")/lib.sh"

start_fakeapi
start_keepalived
METRICS_PORT=$(free_port)
start_controller --selector app=web --virtual-server 10.1.1.1:80 \
    --keepalived-pidfile "$T/keepalived.pid" --metrics-address "127.0.0.1:$METRICS_PORT"

ctl pod-add web-1 172.16.1.11
ctl pod-add web-2 172.16.1.12
ctl pod-add web-3 172.16.2.13
ctl pod-add other 172.16.9.9 --labels app=db
wait_until 10 "three real servers" rs_count_is 3
has_rs 172.16.1.11 80 && has_rs 172.16.1.12 80 && has_rs 172.16.2.13 80 || fail "wrong servers"
grep -q 172.16.9.9 "$T/ipvs.conf" && fail "a pod outside the selector was rendered"
keepalived --config-test -f "$T/keepalived.conf" >"$T/config-test.log" 2>&1 ||
    fail "rendered file fails keepalived --config-test"
wait_until 5 "keepalived reload" '[ "$(reloads)" -ge 1 ]'
pass "three ready pods rendered, keepalived reloaded"

ctl pod-ready web-2 false
wait_until 10 "unready pod removed" rs_count_is 2
has_rs 172.16.1.12 80 && fail "unready pod still rendered"
pass "unready pod removed"

ctl pod-del web-3
wait_until 10 "deleted pod removed" rs_count_is 1
has_rs 172.16.1.11 80 || fail "the remaining pod is missing"
pass "deleted pod removed"

ctl pod-terminating web-1
wait_until 10 "terminating pod removed" rs_count_is 0
grep -q "no ready endpoints" "$T/ipvs.conf" || fail "scale to zero not rendered"
pass "terminating pod drained; scale to zero renders no real servers"

ctl pod-ready web-2 true
wait_until 10 "pod ready again" rs_count_is 1
wait_until 5 "the reload for web-2" '[ "$(metric ipvs_controller_reloads_total)" -ge 4 ]'
before=$(reloads)
writes=$(grep -c 'msg="configuration written"' "$T/controller.log")
ctl pod-add web-4 172.16.3.14 --ready false # ADDED, not ready: no endpoint
ctl pod-labels web-2 app=web,tier=y         # MODIFIED, same endpoint
sleep 0.5                                   # time for a wrong render to happen
# a real change after them: the watch is ordered, so once web-5 is in the
# file the two events above were handled
ctl pod-add web-5 172.16.3.15
wait_until 10 "web-5 rendered" has_rs 172.16.3.15 80
has_rs 172.16.3.14 80 && fail "a pod that is not ready was rendered"
[ "$(rs_count)" = 2 ] || fail "want web-2 and web-5 only, got $(rs_count) real servers"
[ "$(grep -c 'msg="configuration written"' "$T/controller.log")" = $((writes + 1)) ] ||
    fail "the file was written for events that changed no endpoint"
wait_until 5 "keepalived reloaded for web-5" "[ \"\$(reloads)\" -ge $((before + 1)) ]"
holds_for 0.5 "one reload only" "[ \"\$(reloads)\" = $((before + 1)) ]"
pass "no write and no reload when nothing changed"

[ "$(metric ipvs_controller_endpoints)" = 2 ] || fail "metrics endpoints != 2"
[ "$(metric ipvs_controller_reloads_total)" -ge 4 ] || fail "reloads_total too low"
in_ns curl -sf "http://127.0.0.1:$METRICS_PORT/readyz" >/dev/null || fail "/readyz not ready"
grep -q 'level=info prog=ipvs-controller msg="configuration written"' "$T/controller.log" ||
    fail "no logfmt line for the write"
pass "metrics and logs"
