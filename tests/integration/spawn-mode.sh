#!/usr/bin/env bash
# --keepalived-cmd: keepalived is started once the first file is written,
# reloaded by SIGHUP on changes, restarted when it dies, stopped with the
# controller; a keepalived that cannot run makes the controller exit 1.
. "$(dirname "$0")/lib.sh"

start_fakeapi
write_keepalived_conf
ctl pod-add web-1 172.16.1.11
METRICS_PORT=$(free_port)
start_controller --selector app=web --virtual-server 10.1.1.1:80 \
    --metrics-address "127.0.0.1:$METRICS_PORT" \
    --keepalived-cmd "keepalived $(KEEPALIVED_ARGS)"
wait_until 10 "first file" has_rs 172.16.1.11 80
wait_until 10 "keepalived started by the controller" test -s "$T/keepalived.pid"
kpid=$(cat "$T/keepalived.pid")
# keepalived's log goes to the controller's stderr in this mode
# wait on the line asserted: keepalived logs it some time after it starts
wait_until 10 "keepalived reading ipvs.conf" grep -q "Opening file '$T/ipvs.conf'" "$T/controller.log"
pass "keepalived started after the first file, with it"

sleep 1.2 # past the start-up grace
ctl pod-add web-2 172.16.1.12
wait_until 10 "second server" has_rs 172.16.1.12 80
wait_until 10 "keepalived reloaded" grep -q "Reloading" "$T/controller.log"
[ "$(cat "$T/keepalived.pid")" = "$kpid" ] || fail "keepalived was restarted instead of reloaded"
pass "change reloads the supervised keepalived by SIGHUP"

kill -KILL "$kpid" # started by this test's controller
wait_until 15 "keepalived restarted" sh -c "[ -s '$T/keepalived.pid' ] && [ \"\$(cat '$T/keepalived.pid')\" != '$kpid' ] && kill -0 \$(cat '$T/keepalived.pid')"
grep -q 'msg="keepalived exited"' "$T/controller.log" || fail "exit not logged"
[ "$(metric ipvs_controller_keepalived_restarts_total)" = 1 ] || fail "restart not counted"
pass "killed keepalived is restarted"

kpid=$(cat "$T/keepalived.pid")
kill -TERM "$PID_controller"
wait "$PID_controller" && rc=0 || rc=$?
[ "$rc" = 0 ] || fail "controller exited $rc on SIGTERM"
kill -0 "$kpid" 2>/dev/null && fail "keepalived still running after the controller stopped"
pass "SIGTERM stops keepalived and exits 0"

# A command that cannot stay up: the controller gives up with status 1.
in_ns "$CONTROLLER" --apiserver "$API" --output "$T/ipvs2.conf" --selector app=web \
    --virtual-server 10.1.1.1:80 --keepalived-cmd "keepalived --no-such-flag" \
    >"$T/doomed.log" 2>&1 && rc=0 || rc=$?
[ "$rc" = 1 ] || fail "controller exited $rc, want 1, when keepalived cannot run"
grep -q "keepalived keeps exiting; giving up" "$T/doomed.log" || fail "no clear message"
pass "keepalived that keeps dying: exit 1 with a clear message"
