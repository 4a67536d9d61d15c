#!/usr/bin/env bash
# The API misbehaves; the controller recovers and never loses the last good
# file: API down (file unchanged), 410 on resume (relist), a stalled watch
# (idle timeout, reconnect), a dropped stream, garbage in the stream, and a
# whole API server restart.
. "$(dirname "$0")/lib.sh"

start_fakeapi
METRICS_PORT=$(free_port)
ctl pod-add web-1 172.16.1.11
ctl pod-add web-2 172.16.1.12
start_controller --selector app=web --virtual-server 10.1.1.1:80 --watch-idle-timeout 2 \
    --metrics-address "127.0.0.1:$METRICS_PORT"
wait_until 10 "initial file" rs_count_is 2

# API down: the file stays byte for byte; the controller keeps trying.
stop_fakeapi
sum=$(md5sum <"$T/ipvs.conf")
sleep 3
[ "$(md5sum <"$T/ipvs.conf")" = "$sum" ] || fail "file changed while the API was down"
kill -0 "$PID_controller" || fail "controller died while the API was down"
[ "$(metric 'ipvs_controller_errors_total{kind="api_connect"}')" -ge 1 ] || fail "errors not counted"
pass "API down: file unchanged, controller alive"

# The API comes back on the same port with different pods: a new server has
# none of the old history, so the resume gets 410 and the controller relists.
start_fakeapi
ctl pod-add web-3 172.16.1.13
wait_until 15 "converged after API restart" sh -c "grep -q 172.16.1.13 '$T/ipvs.conf' && ! grep -q 172.16.1.11 '$T/ipvs.conf'"
pass "API restart: converged to the new state"

# A stalled watch (headers, then silence) while the history is compacted:
# the idle timeout reconnects, the resume is too old (410), so it relists.
relists=$(metric ipvs_controller_relists_total) || fail "no relists metric"
ctl fault stall --target watch
ctl shutdown-connections
sleep 0.5
ctl pod-add web-4 172.16.1.14
ctl compact
wait_until 15 "web-4 after stall and 410" has_rs 172.16.1.14 80
grep -q 'watch silent too long' "$T/controller.log" || fail "stall not detected as such"
wait_until 10 "relist counted" metric_gt ipvs_controller_relists_total "$relists"
pass "stalled stream reconnected after the idle timeout; 410 on resume relisted"

# 410 delivered by a fault on the next watch: it must relist, then follow.
relist_after() {
    local kind=$1 pod=$2 ip=$3 relists
    relists=$(metric ipvs_controller_relists_total) || fail "no relists metric"
    ctl fault "$kind" --target watch
    ctl shutdown-connections
    wait_until 10 "relist after $kind" metric_gt ipvs_controller_relists_total "$relists"
    ctl pod-add "$pod" "$ip"
    wait_until 10 "$pod after $kind" has_rs "$ip" 80
}
relist_after error410event web-5 172.16.1.15
pass "ERROR event 410 in the stream: relisted"
relist_after http410 web-6 172.16.1.16
pass "HTTP 410 on the watch: relisted"

# Dropped mid-stream and garbage mid-stream: resume, nothing lost.
ctl fault drop --target watch --after 1
ctl shutdown-connections
ctl pod-add web-7 172.16.1.17
ctl pod-add web-8 172.16.1.18
wait_until 10 "web-7 and web-8 after a drop" sh -c "grep -q 172.16.1.17 '$T/ipvs.conf' && grep -q 172.16.1.18 '$T/ipvs.conf'"
ctl fault garbage --target watch
ctl shutdown-connections
ctl pod-del web-7
wait_until 10 "web-7 removed after garbage" sh -c "! grep -q 172.16.1.17 '$T/ipvs.conf'"
grep -q 'watch stream is not a sequence of JSON objects\|invalid watch event' "$T/controller.log" ||
    fail "garbage not reported"
pass "dropped and garbage streams: resumed without loss"

# A list that fails (500, garbage) at relist time never empties the file.
# An HTTP 410 on the next watch forces the relist; the stats prove that the
# queued failing lists were really served before the file is compared.
faulted_lists() {
    "${CTL[@]}" stats | "$PY" -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin)["requests"] if r["verb"] == "list" and r["fault"]))'
}
sum=$(md5sum <"$T/ipvs.conf")
servers=$(rs_count)
in_ns curl -sf -X DELETE "$API/_fake/stats" >/dev/null || fail "cannot clear the fake API's stats"
ctl fault status500 --target list --count 3 # HTTP 500 with a Status
ctl fault garbage --target list --count 3   # 200 with a body that is not JSON
ctl fault http410 --target watch
ctl shutdown-connections
# kept_through N: the file is compared on every try, not just at the end
kept_through() {
    [ "$(md5sum <"$T/ipvs.conf")" = "$sum" ] && [ "$(rs_count)" = "$servers" ] ||
        echo "$(rs_count) real servers" >>"$T/changed"
    [ "$(faulted_lists)" -ge "$1" ]
}
wait_until 30 "six failed relists served" kept_through 6
[ -e "$T/changed" ] && fail "a failed relist changed the file: $(head -1 "$T/changed")"
ctl pod-add web-9 172.16.1.19
wait_until 20 "web-9 after failed lists" has_rs 172.16.1.19 80
kill -0 "$PID_controller" || fail "controller died"
pass "failed relists keep the last good file"
