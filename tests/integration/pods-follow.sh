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
wait_for 10 "three real servers" rs_count_is 3
has_rs 172.16.1.11 80 && has_rs 172.16.1.12 80 && has_rs 172.16.2.13 80 || fail "wrong servers"
grep -q 172.16.9.9 "$T/ipvs.conf" && fail "a pod outside the selector was rendered"
keepalived --config-test -f "$T/keepalived.conf" >"$T/config-test.log" 2>&1 ||
    fail "rendered file fails keepalived --config-test"
wait_for 5 "keepalived reload" test "$(reloads)" -ge 1
pass "three ready pods rendered, keepalived reloaded"

ctl pod-ready web-2 false
wait_for 10 "unready pod removed" rs_count_is 2
has_rs 172.16.1.12 80 && fail "unready pod still rendered"
pass "unready pod removed"

ctl pod-del web-3
wait_for 10 "deleted pod removed" rs_count_is 1
has_rs 172.16.1.11 80 || fail "the remaining pod is missing"
pass "deleted pod removed"

ctl pod-terminating web-1
wait_for 10 "terminating pod removed" rs_count_is 0
grep -q "no ready endpoints" "$T/ipvs.conf" || fail "scale to zero not rendered"
pass "terminating pod drained; scale to zero renders no real servers"

ctl pod-ready web-2 true
wait_for 10 "pod ready again" rs_count_is 1
sleep 0.5
before=$(reloads)
sum=$(md5sum <"$T/ipvs.conf")
ctl pod-add web-4 172.16.3.14 --ready false # not ready: no change to the file
ctl pod-labels other app=db,tier=x
sleep 1.5
[ "$(md5sum <"$T/ipvs.conf")" = "$sum" ] || fail "file changed without a change in endpoints"
[ "$(reloads)" = "$before" ] || fail "keepalived reloaded without a change"
pass "no write and no reload when nothing changed"

[ "$(metric ipvs_controller_endpoints)" = 1 ] || fail "metrics endpoints != 1"
[ "$(metric ipvs_controller_reloads_total)" -ge 4 ] || fail "reloads_total too low"
in_ns curl -sf "http://127.0.0.1:$METRICS_PORT/readyz" >/dev/null || fail "/readyz not ready"
grep -q 'level=info prog=ipvs-controller msg="configuration written"' "$T/controller.log" ||
    fail "no logfmt line for the write"
pass "metrics and logs"
