#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# health-gate.sh - HEALTH_URL gates the announcement: with a stand-in
# health endpoint in the pod (a tiny HTTP server whose answer the test sets
# through a file), the router has no nexthop while it answers 503, gets the
# pod's node after 200 (the time printed beside the 1.5 s goal), loses it
# on 503, on a refused connection and on a hung endpoint, and gets it back
# each time; the RR's session with
# the pod stays Established throughout (sampled at every try).  cleanup
# withdraws through the gate and nothing comes back after it.  A bad
# HEALTH_URL is refused with exit 2 and one line naming it.
. "$(dirname "$0")/lib.sh"

PREFIX=10.1.1.0/24
NEXT_HOP=10.0.0.105 # node 1
POD_IP=172.16.1.2   # the first pod on node 1
PORT=9101
URL="http://127.0.0.1:$PORT/readyz"
BOUND=1.5 # seconds, from the issue: announce and withdraw within it
STATES=""

cat >"$RIG_DIR/health.py" <<'PY'
# The stand-in /readyz: answers the status in the file (a number), or
# never answers ("hang").
import http.server, pathlib, sys, time
port, state = int(sys.argv[1]), pathlib.Path(sys.argv[2])
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        s = state.read_text().strip()
        if s == "hang":
            time.sleep(30)
            return
        body = b"ready\n" if s == "200" else b"stand-in: not ready\n"
        self.send_response(int(s))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer.daemon_threads = True
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY

answer() { T0=$(_rig_now); echo "$1" >"$RIG_DIR/health.state"; }
health_listening() { [ -n "$(ip netns exec "$RIG-lb1" ss -Hltn "sport = :$PORT")" ]; }
health_start() {
    T0=$(_rig_now)
    _rig_bg lb1.health "$RIG-lb1" "$RIG_PY" "$RIG_DIR/health.py" "$PORT" "$RIG_DIR/health.state"
    wait_until 10 "the stand-in health endpoint listening" health_listening
}
health_stop() {
    local pid st
    read -r pid st <<<"$(_rig_pid lb1.health)"
    T0=$(_rig_now) # an upper bound: it stops listening during the next line
    _rig_terminate "$pid" "$st" 5
    _rig_forget "$pid"
    ! health_listening || fail "the stand-in health endpoint still listens"
}

# sample: the RR's view of the pod's session, kept for the final check.
sample() { STATES+="$(rig_rr_state "$POD_IP") "; }
sessions_stayed_up() {
    [ -z "$(tr -d ' ' <<<"${STATES//established/}")" ] ||
        fail "the session left Established: $STATES"
}

# wait_nexthops WANT SECS WHAT: until the router's nexthops for PREFIX are
# WANT ("" for none), sampling the session at every try; WAITED is the time
# since T0 (set by answer, health_stop and health_start: the change).
wait_nexthops() {
    local want=$1 secs=$2 what=$3 t0=$T0 got
    while :; do
        sample
        got=$(rig_nexthops "$PREFIX" | tr '\n' ' ')
        [ "${got% }" != "$want" ] || break
        awk -v t="$(_rig_since "$t0")" -v s="$secs" 'BEGIN { exit !(t < s) }' ||
            fail "$what: router nexthops [${got% }] after ${secs}s, want [$want]"
        sleep 0.02
    done
    WAITED=$(_rig_since "$t0")
}
# within_bound T WHAT: the figure against the issue's bound, printed, not
# asserted: a wall-clock limit would fail on a loaded machine with nothing
# wrong (the gate's timing itself is a unit test: test_helper_health).
within_bound() {
    awk -v t="$1" -v b="$BOUND" 'BEGIN { exit !(t <= b) }' ||
        echo "    note: $2 took ${1}s, over the ${BOUND}s goal (a loaded machine?)"
}
# rr_uptime: seconds the RR's session with the pod has been up (a drop and
# a quick reconnect between two samples still resets it).
rr_uptime() {
    local t
    t=$(rig_gobgp neighbor "$POD_IP" | sed -n 's/.*up for \([0-9:]*\).*/\1/p')
    [ -n "$t" ] || { echo -1; return; }
    IFS=: read -r h m s <<<"$t"
    echo $((10#$h * 3600 + 10#$m * 60 + 10#$s))
}
log_lines() { grep -c "$1" "$RIG_DIR/lb1.exabgp.log" || true; }

rig_up
rig_pod_add 1 lb1 >/dev/null

# --- a bad HEALTH_URL: refused before anything is touched
bad_url_refused() {
    local how=$1 url=$2 out rc=0
    _rig_helper_env lb1 1 "$PREFIX"
    if [ "$how" = env ]; then
        out=$(ip netns exec "$RIG-lb1" env "${RIG_HELPER_ENV[@]}" HEALTH_URL="$url" "$RIG_HELPER" run 2>&1) || rc=$?
    else
        out=$(ip netns exec "$RIG-lb1" env "${RIG_HELPER_ENV[@]}" "$RIG_HELPER" --health-url "$url" --dry-run 2>&1) || rc=$?
    fi
    [ "$rc" = 2 ] || fail "HEALTH_URL=$url ($how): exit $rc, want 2: $out"
    [ "$(wc -l <<<"$out")" = 1 ] || fail "HEALTH_URL=$url ($how): want one line, got: $out"
    case "$how:$out" in
        env:*"HEALTH_URL: invalid value"*|flag:*"--health-url: invalid value"*) ;;
        *) fail "HEALTH_URL=$url ($how): the line does not name it: $out" ;;
    esac
}
bad_url_refused env "https://127.0.0.1:$PORT/readyz"
bad_url_refused env "http://controller:$PORT/readyz"
bad_url_refused flag "http://127.0.0.1/readyz"
bad_url_refused flag "http://127.0.0.1:$PORT"
[ -z "$(ip -n "$RIG-node1" route show proto 201)" ] || fail "a refused HEALTH_URL left a route"
[ ! -e "$RIG_DIR/lb1/exabgp.conf" ] || fail "a refused HEALTH_URL left exabgp.conf"
pass "a bad HEALTH_URL: exit 2, one line naming it, nothing installed"

# --- 503 from the start: the session comes up, nothing is announced
answer 503
health_start
rig_lb_start lb1 1 "$PREFIX" HEALTH_URL="$URL"
rig_wait_rr_state "$POD_IP" established 20
upA=$(rr_uptime) sA=$SECONDS
grep -q 'process health-gate' "$RIG_DIR/lb1/exabgp.conf" || fail "exabgp.conf has no health gate"
! grep -q 'route ' "$RIG_DIR/lb1/exabgp.conf" || fail "the gated exabgp.conf has static routes"
gate_decided() { [ "$(log_lines 'announcing:\|withdrawing:')" -ge 1 ]; }
wait_until 5 "the gate's first decision" gate_decided
t0=$SECONDS
while [ $((SECONDS - t0)) -lt 3 ]; do
    sample
    [ -z "$(rig_nexthops "$PREFIX")" ] || fail "announced while the endpoint answers 503"
    sleep 0.1
done
grep 'withdrawing:' "$RIG_DIR/lb1.exabgp.log" | grep -q 'HTTP 503: stand-in: not ready' ||
    fail "the gate's log line does not say HTTP 503 and why"
pass "503 from the start: session Established, nothing announced for 3 s"

# --- 200: announced
answer 200
wait_nexthops "$NEXT_HOP" 10 "announce after 200"
echo "    announced ${WAITED}s after the endpoint answered 200"
within_bound "$WAITED" "announcing"
pass "200: the node's nexthop in the router"

# --- 503 again: withdrawn, and back on 200
answer 503
wait_nexthops "" 10 "withdraw after 503"
echo "    withdrawn ${WAITED}s after the endpoint answered 503"
within_bound "$WAITED" "withdrawing on 503"
answer 200
wait_nexthops "$NEXT_HOP" 10 "re-announce after 200"
echo "    re-announced ${WAITED}s after 200"
within_bound "$WAITED" "re-announcing"
pass "503 withdraws, 200 announces again"

# --- unreachable: nobody listens (connection refused), then back
health_stop
wait_nexthops "" 10 "withdraw when the endpoint stops listening"
echo "    withdrawn ${WAITED}s after the endpoint stopped listening"
within_bound "$WAITED" "withdrawing on a refused connection"
grep 'withdrawing:' "$RIG_DIR/lb1.exabgp.log" | grep -q 'connection refused' ||
    fail "the gate's log line does not say connection refused"
health_start
wait_nexthops "$NEXT_HOP" 10 "re-announce when the endpoint is back"
echo "    re-announced ${WAITED}s after the endpoint listened again"
within_bound "$WAITED" "re-announcing"
pass "unreachable withdraws, back announces again"

# --- hung: accepts, never answers (the probe's timeout)
answer hang
wait_nexthops "" 10 "withdraw when the endpoint hangs"
echo "    withdrawn ${WAITED}s after the endpoint stopped answering"
within_bound "$WAITED" "withdrawing on a hung endpoint"
grep 'withdrawing:' "$RIG_DIR/lb1.exabgp.log" | grep -q 'timed out' ||
    fail "the gate's log line does not say timed out"
answer 200
wait_nexthops "$NEXT_HOP" 10 "re-announce after the hang"
pass "a hung endpoint withdraws, answers announce again"

# one log line per change: 4 announcements, 4 withdrawals (503 at start included)
[ "$(log_lines 'announcing:')" = 4 ] || fail "want 4 'announcing' lines: $(grep 'announcing:' "$RIG_DIR/lb1.exabgp.log")"
[ "$(log_lines 'withdrawing:')" = 4 ] || fail "want 4 'withdrawing' lines: $(grep 'withdrawing:' "$RIG_DIR/lb1.exabgp.log")"
sessions_stayed_up
up1=$(rr_uptime)
[ "$up1" -ge $((upA + SECONDS - sA - 1)) ] ||
    fail "the session was re-established: up ${upA}s, then ${up1}s $((SECONDS - sA))s later"
pass "the session stayed Established throughout ($(wc -w <<<"$STATES") samples); one log line per change"

# --- the gate killed: exabgp starts a new one, which does not flap the route
gate_pid() {
    local ex
    read -r ex _ <<<"$(_rig_pid lb1.exabgp)"
    pgrep -P "$ex" -f 'health-gate' || true
}
g1=$(gate_pid)
[ -n "$g1" ] || fail "no health-gate process under exabgp"
kill -KILL "$g1"
t0=$SECONDS
until g2=$(gate_pid) && [ -n "$g2" ] && [ "$g2" != "$g1" ] &&
    [ "$(log_lines 'health gate started')" -ge 2 ] && [ $((SECONDS - t0)) -ge 2 ]; do
    sample
    nexthops_are "$PREFIX" "$NEXT_HOP"
    [ $((SECONDS - t0)) -lt 15 ] || fail "exabgp did not start a new gate (old $g1, now '${g2:-}')"
    sleep 0.05
done
nexthops_are "$PREFIX" "$NEXT_HOP"
sessions_stayed_up
pass "the gate killed: exabgp started a new one ($g1 -> $g2), the nexthop stayed"

# --- cleanup withdraws through the gate, and nothing comes back
up0=$(rr_uptime) s0=$SECONDS
T0=$(_rig_now)
# WITHDRAWN_FILE: what the ipvs container's preStop waits for, written
# before the drain (so while cleanup still runs: its drain is 2 s here)
WITHDRAWN="$RIG_DIR/lb1/lb-run/withdrawn"
mkdir -p "$RIG_DIR/lb1/lb-run"
rig_helper lb1 1 "$PREFIX" --health-url "$URL" --drain-seconds 2 --withdrawn-file "$WITHDRAWN" \
    cleanup >>"$RIG_DIR/cleanup.log" 2>&1 &
cleanup_pid=$!
wait_nexthops "" 10 "withdraw on cleanup"
echo "    withdrawn ${WAITED}s after cleanup started"
# the session through the reload and the drain
reported_while_draining=
while kill -0 "$cleanup_pid" 2>/dev/null; do
    sample
    [ -e "$WITHDRAWN" ] && kill -0 "$cleanup_pid" 2>/dev/null && reported_while_draining=1
    sleep 0.05
done
wait "$cleanup_pid" || fail "cleanup failed: $(cat "$RIG_DIR/cleanup.log")"
[ -n "$reported_while_draining" ] ||
    fail "cleanup did not create WITHDRAWN_FILE before its drain ended: $(cat "$RIG_DIR/cleanup.log")"
[ "$(cat "$WITHDRAWN")" = withdrawn ] || fail "WITHDRAWN_FILE holds '$(cat "$WITHDRAWN")', want withdrawn"
grep -q 'the health gate withdrew' "$RIG_DIR/cleanup.log" || fail "cleanup did not see the gate withdraw: $(cat "$RIG_DIR/cleanup.log")"
grep -q 'asked exabgp to withdraw' "$RIG_DIR/cleanup.log" || fail "cleanup did not reload exabgp: $(cat "$RIG_DIR/cleanup.log")"
grep -q 'process health-gate' "$RIG_DIR/lb1/exabgp.conf" || fail "the drained exabgp.conf lost the gate"
! grep -q 'route ' "$RIG_DIR/lb1/exabgp.conf" || fail "the drained exabgp.conf announces"
t0=$SECONDS
while [ $((SECONDS - t0)) -lt 2 ]; do
    sample
    [ -z "$(rig_nexthops "$PREFIX")" ] || fail "announced again after cleanup (the endpoint answers 200)"
    sleep 0.1
done
sessions_stayed_up
up1=$(rr_uptime)
[ "$up1" -ge $((up0 + SECONDS - s0 - 1)) ] ||
    fail "the session was re-established during cleanup: up ${up0}s before, ${up1}s $((SECONDS - s0))s later"
pass "cleanup: withdrawn through the gate, reported in WITHDRAWN_FILE before the drain, not announced again, session Established"

# --- exabgp stopped (the kubelet's SIGTERM): the gate stops with it; a new
# run in the same pod is not silenced by the old cleanup's marker
rig_lb_stop lb1
grep -q 'msg="health gate stopped"' "$RIG_DIR/lb1.exabgp.log" || fail "the gate did not log its stop"
[ -z "$(ip netns pids "$RIG-lb1" | xargs -r ps -o args= -p | grep health-gate || true)" ] ||
    fail "a health-gate process outlived exabgp"
[ -e "$RIG_DIR/lb1/exabgp.conf.withdraw" ] || fail "cleanup left no marker (the check below would prove nothing)"
T0=$(_rig_now)
rig_lb_start lb1 1 "$PREFIX" HEALTH_URL="$URL" WITHDRAWN_FILE="$WITHDRAWN"
wait_nexthops "$NEXT_HOP" 20 "announce after a restart in the same pod"
[ ! -e "$RIG_DIR/lb1/exabgp.conf.withdraw" ] || fail "run left cleanup's marker"
[ ! -e "$WITHDRAWN" ] || fail "run left cleanup's WITHDRAWN_FILE (the next preStop would not wait)"
echo "    announced ${WAITED}s after a new run started (session set-up included)"
pass "exabgp stopped: the gate stopped with it; a new run announces again"
