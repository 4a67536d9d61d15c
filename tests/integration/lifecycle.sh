#!/usr/bin/env bash
# Make-before-break on deletion, in the ipvs container's order: once its
# preStop hook (ipvs-entrypoint prestop) starts, /readyz answers 503
# "stopping" (the metric names it); the hook does not return before the
# exabgp side reports the withdrawal (the file exabgp-helper cleanup writes)
# and the drain has passed; keepalived, supervised by the controller, runs
# all along and after the hook returned, and stops only with the
# controller's SIGTERM.  When the exabgp side never reports, the timeout
# bounds the hook.  A stop file left by an earlier hook does not keep a new
# controller from serving; bad timeouts exit 2.  keepalived runs VRRP-only
# (-P): this host has no IPVS.
. "$(dirname "$0")/lib.sh"

LB=$T/lb # the volume both containers mount at /run/lb
mkdir -p "$LB"
STOP=$LB/stopping WITHDRAWN=$LB/withdrawn
METRICS_PORT=$(free_port)
ENTRYPOINT=$SRC/images/ipvs/ipvs-entrypoint

readyz() { in_ns curl -s --max-time 3 -w ' %{http_code}' "http://127.0.0.1:$METRICS_PORT/readyz"; }
readyz_is() { local r; r=$(readyz) && [ "${r##* }" = "$1" ] && [[ $r == *"$2"* ]]; }
keepalived_alive() { kill -0 "$(cat "$T/keepalived.pid" 2>/dev/null)" 2>/dev/null; }
alive() { kill -0 "$1" 2>/dev/null; }
# prestop NAME TIMEOUT DRAIN: the hook in the background as the kubelet runs it
prestop() {
    bg "$1" env IPVS_CONTROLLER_STOP_FILE="$STOP" IPVS_WITHDRAWN_FILE="$WITHDRAWN" \
        IPVS_WITHDRAW_TIMEOUT="$2" IPVS_DRAIN_SECONDS="$3" sh "$ENTRYPOINT" prestop
}
start() {
    start_controller --selector app=web --virtual-server 10.1.1.1:80 \
        --keepalived-cmd "keepalived $(KEEPALIVED_ARGS)" --metrics-address "127.0.0.1:$METRICS_PORT" \
        --stop-file "$STOP"
    wait_until 10 "keepalived started by the controller" keepalived_alive
    wait_until 10 "/readyz 200" readyz_is 200 serving
}
stop_controller() {
    kill -TERM "$PID_controller"
    wait "$PID_controller" || fail "the controller exited $? on SIGTERM"
}
secs_since() { _assert_fmt_us $(($(_assert_us) - $1)); }

start_fakeapi
ctl pod-add web-1 172.16.1.11
write_keepalived_conf
echo stopping >"$STOP" # as an earlier preStop (a liveness restart) would leave it
start
[ ! -e "$STOP" ] || fail "the controller left the stale stop file"
pass "a stop file from an earlier preStop is removed at start: 200"

# --- the hook: 503 at once, then it waits for the exabgp side
t_hook=$(_assert_us)
prestop prestop 30 3
wait_until 3 "/readyz 503 stopping" readyz_is 503 "not serving: the pod is stopping"
echo "    503 stopping ${WAITED}s after the hook started"
[ "$(metric 'ipvs_controller_serving_reason{reason="stopping"}')" = 1 ] ||
    fail "ipvs_controller_serving_reason{reason=\"stopping\"} is not 1"
grep -q 'msg="not serving" reason=stopping' "$T/controller.log" || fail "no log line for stopping"
holds_for 2 "no withdrawal reported: the hook waits, keepalived runs, /readyz stays 503" \
    'alive "$PID_prestop" && keepalived_alive && readyz_is 503 stopping'
pass "preStop: /readyz 503 \"stopping\" at once; no return while the withdrawal is not reported"

# --- the exabgp side reports (exabgp-helper cleanup, WITHDRAWN_FILE): drain
echo withdrawn >"$WITHDRAWN"
t_w=$(_assert_us)
# (1.5 s of the 3 s drain: a slow try near the end must not meet the hook's return)
holds_for 1.5 "draining: the hook waits, keepalived runs, /readyz stays 503" \
    'alive "$PID_prestop" && keepalived_alive && readyz_is 503 stopping'
wait_until 5 "the hook returning after the drain" '! alive "$PID_prestop"'
drained=$(secs_since "$t_w")
wait "$PID_prestop" || fail "the hook exited $?"
[ "${drained%.*}" -ge 3 ] || fail "the hook returned ${drained}s after the withdrawal, before the 3 s drain"
grep -q "withdrawal reported after" "$T/prestop.log" || fail "the hook did not log the withdrawal: $(cat "$T/prestop.log")"
echo "    the hook returned ${drained}s after the withdrawal (drain 3 s), $(secs_since "$t_hook")s after it started"
pass "preStop: returns only after the withdrawal was reported and the drain passed"

holds_for 1 "after the hook, until SIGTERM: keepalived runs, /readyz stays 503" \
    'keepalived_alive && readyz_is 503 stopping'
kpid=$(cat "$T/keepalived.pid")
stop_controller
wait_until 6 "keepalived stopped with the controller" "! alive $kpid"
pass "keepalived runs until the controller's SIGTERM, and stops with it"

# --- the exabgp side never reports: the timeout bounds the hook
rm -f "$WITHDRAWN"
start # also: the previous hook's stop file is gone again
t_hook=$(_assert_us)
prestop prestop2 3 1
wait_until 3 "/readyz 503 stopping" readyz_is 503 "not serving: the pod is stopping"
# until 3.5 s after the start, of the hook's 3 + 1 s, however long the 503 took
holds_for "$(_assert_fmt_us $((3500000 - ($(_assert_us) - t_hook))))" \
    "no report: the hook waits out the timeout and the drain" \
    'alive "$PID_prestop2" && keepalived_alive'
wait_until 3 "the hook returning after timeout + drain" '! alive "$PID_prestop2"'
took=$(secs_since "$t_hook")
wait "$PID_prestop2" || fail "the hook exited $? after its timeout"
if [ "${took%.*}" -lt 4 ] || [ "${took%.*}" -ge 6 ]; then
    fail "the hook took ${took}s, want 4 s (timeout 3 + drain 1) plus a little"
fi
grep -q "no withdrawal reported within 3s" "$T/prestop2.log" || fail "the timeout was not logged: $(cat "$T/prestop2.log")"
keepalived_alive || fail "keepalived stopped before SIGTERM"
echo "    the hook returned ${took}s after it started (timeout 3 s + drain 1 s)"
stop_controller
pass "preStop without a report from the exabgp side: bounded by its timeout, then the drain"

# --- bad values: exit 2, one line naming the variable, nothing created
rm -f "$STOP"
set +e
out=$(IPVS_CONTROLLER_STOP_FILE="$STOP" IPVS_WITHDRAW_TIMEOUT=5s sh "$ENTRYPOINT" prestop 2>&1)
rc=$?
set -e
[ "$rc" = 2 ] || fail "IPVS_WITHDRAW_TIMEOUT=5s: exit $rc, want 2"
if [ "$(printf '%s\n' "$out" | wc -l)" != 1 ] ||
    [[ $out != *"IPVS_WITHDRAW_TIMEOUT: '5s' is not a number of seconds"* ]]; then
    fail "IPVS_WITHDRAW_TIMEOUT=5s: got: $out"
fi
[ ! -e "$STOP" ] || fail "a refused hook created the stop file"
pass "a bad timeout: exit 2 naming it, /readyz untouched"
