#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# health.sh OUT - issue 11's experiment inside the VM (real IPVS): the
# announcement follows the load balancer's ability to serve.  A client
# sends requests through the VIP without pause (echo.py load: one new
# connection per request, so ECMP hashes each afresh) while three load
# balancer pods carry them, and one event at a time happens:
#
#   keepalived    keepalived SIGKILLed in lb1; its controller restarts it
#   controller    lb1's controller SIGKILLed; the container's other
#                 processes (keepalived) die with it, as when a container's
#                 PID 1 dies; then the kubelet starts the container again
#   partition     lb2 cut off from every web pod (a DROP rule in its
#                 OUTPUT chain); keepalived's checks remove them all; the
#                 rule removed again
#   api-down      the API server stops (its port refuses: a REJECT with TCP
#                 reset on the master, so the fake API keeps its objects)
#                 and a new pod lb4 starts on node 4: it must not announce
#                 before it has synced, and the three others must keep
#                 serving (their controllers say so); then the API comes back
#   graceful      lb4 deleted gracefully (k8s_lb_delete: both containers'
#                 preStop hooks as in the manifest, the withdrawal through
#                 the gate, the drain, IPVS stopping last), and a
#                 replacement started; GRACEFUL times
#
# Raw results into OUT for testbed/report.sh:
#
#   health.csv        per event: seconds from the event to the nexthop
#                     leaving the router, from the recovery to its return,
#                     and the client's requests and failures before the
#                     nexthop left, while it was out, after it was back
#   start-stages.csv  per start of a whole load balancer pod: seconds from
#                     the start to each stage (controller synced, keepalived
#                     started, virtual server in IPVS, all real servers in
#                     IPVS, serving, BGP session Established on the route
#                     reflector, the gate's announcement, route in the
#                     router): Fig. 13c's start delay broken down
#   health-flaps.csv  per pod: withdrawals by its gate's probe timing out
#                     while nothing was wrong (an overloaded box)
#   health-client.log every request: start, end, answer or FAIL:<error>
#   health-events.txt each event's times (event, pod, start, nexthop left,
#                     recovery, nexthop back; seconds since the epoch)
#   health-gate.log   every gate decision of every pod, with its reason
#
# Asserted (each can fail): the nexthop leaves and returns for every event;
# no announcement before the first sync while the API is down, and the
# others' controllers keep serving; a graceful deletion fails no request
# from its start until the pod is gone.  The times and the other failures are figures, not
# pass marks (TCG's speed is the host's).
#
# On a kernel without IPVS (the development host) it runs with keepalived's
# checker off and --serving-check none, echo servers answering in the load
# balancer pods, and without the partition event (which needs the checks).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
: "${BUILD:=$SRC/build/testbed}"
OUT=${1:?usage: health.sh OUTDIR}
GRACEFUL=${GRACEFUL:-3}
SETTLE=${SETTLE:-3}      # seconds of traffic after a nexthop is back, before the next event
DRAIN=${DRAIN:-2}        # the manifest's DRAIN_SECONDS
# the client's pause between two requests of one of its 3 workers
# (LOAD_PAUSE, default 0.1 s): under TCG the client shares the VM's 2 CPUs
export BUILD SRC
. "$SRC/testbed/rig/rig.sh"
. "$SRC/testbed/rig/k8s.sh"
. "$SRC/testbed/rig/stages.sh"
# shellcheck source=../../tests/lib/assert.sh
. "$SRC/tests/lib/assert.sh"
RIG=tbh
RIG_NODES=4
RIG_DIR=$(mktemp -d /tmp/testbed-health.XXXXXX)
export RIG RIG_DIR RIG_NODES
IPVS=1
if [ ! -e /proc/net/ip_vs ] && ! modprobe -q ip_vs 2>/dev/null; then
    IPVS=""
    K8S_KEEPALIVED_OPTS=-P
fi
finish() {
    local rc=$?
    [ "$rc" = 0 ] || for f in "$RIG_DIR"/*.log; do echo "--- $f"; tail -n 12 "$f"; done
    rig_down || true
    exit "$rc"
}
trap finish EXIT
START=$SECONDS
step() { printf '[%4ds] %s\n' $((SECONDS - START)) "$*"; }
A=10.1.1.0/24
VIP=10.1.1.10
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
EVENTS="$RIG_DIR/events"
LOAD_LOG="$RIG_DIR/client.load.log"
: >"$EVENTS"

# ---------------------------------------------------------------- helpers

# hop POD: the router's nexthop for POD (its node's address)
hop() { _rig_node_ip "$(_rig_pod_get "$1" node)"; }

# has_hop ADDR: the router's route for the service has nexthop ADDR
has_hop() { stage_has_hop "$A" "$1"; }

# wait_hop ADDR present|absent SECONDS WHAT: poll the router's kernel table
# until nexthop ADDR is (not) there; HOP_AT is when it was seen so.
wait_hop() {
    local addr=$1 want=$2 deadline=$((SECONDS + $3)) st
    while :; do
        if has_hop "$addr"; then st=present; else st=absent; fi
        if [ "$st" = "$want" ]; then
            HOP_AT=$EPOCHREALTIME
            return 0
        fi
        [ $SECONDS -lt $deadline ] ||
            fail "$4: nexthop $addr is still $st after $3s (router: $(rig_nexthops "$A" | tr '\n' ' '))"
        sleep 0.05
    done
}

# pod_pid POD PART: the recorded pid of POD's PART (controller, exabgp)
pod_pid() {
    local rec
    rec=$(_rig_pid "$1.$2")
    echo "${rec%% *}"
}

# event NAME POD T0 T_LEFT T_RECOVERY T_BACK: one row for health.csv, made
# at the end once every request of the window has ended
event() { echo "$*" >>"$EVENTS"; }

# settle: traffic for SETTLE seconds after a nexthop came back, so that a
# pod announcing before it can serve shows as failures after its return
settle() { sleep "$SETTLE"; }

# kill_container_rest POD: what a container runtime does when the ipvs
# container's PID 1 (the controller) dies: the kernel SIGKILLs the rest of
# its PID namespace, keepalived and its children.  Only keepalived
# processes inside this rig's pod namespace, which this scenario started.
kill_container_rest() {
    local p comm
    for p in $(ip netns pids "$RIG-$1"); do
        comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
        [ "$comm" != keepalived ] || kill -KILL "$p" 2>/dev/null || true
    done
}

# -------------------------------------------------------------- the rig

noipvs=""
[ -n "$IPVS" ] || noipvs=" (no IPVS on this kernel: checker off, echo servers answer)"
step "boxes: router (FRR), route reflector, master, 4 nodes, client$noipvs"
rig_up >/dev/null
k8s_up
WEBS=3
for n in 1 2 3; do k8s_web_add "$n" "web$n"; done
step "three load balancer pods on nodes 1-3"
for n in 1 2 3; do
    rig_pod_add "$n" "lb$n" >/dev/null
    k8s_lb_start "lb$n" "$n" "$A" "$VIP"
    [ -n "$IPVS" ] || rig_echo_start "lb$n"
done
rig_wait_nexthops "$A" 3 180
[ -z "$IPVS" ] || k8s_wait_ipvs "$WEBS" 60 lb1 lb2 lb3
mode=(--http)
[ -n "$IPVS" ] || mode=()
_rig_bg client.load "$RIG-client" "$RIG_PY" "$SRC/testbed/rig/echo.py" load "$VIP:80" \
    --workers 3 --pause "${LOAD_PAUSE:-0.1}" --timeout 2 "${mode[@]}"
CLIENT=$RIG_LAST_PID
wait_until 60 "the client's first answers" '[ "$(grep -vc FAIL "$LOAD_LOG")" -ge 20 ]'
echo "$STAGE_COLUMNS" >"$OUT/start-stages.csv"

# ------------------------------------------------------------- the events

step "keepalived SIGKILLed in lb1; its controller restarts it"
kpid=$(cat "$RIG_DIR/lb1/keepalived.pid")
_rig_alive "$kpid" || fail "lb1's keepalived ($kpid) is not running"
t0=$EPOCHREALTIME
kill -KILL "$kpid"
wait_hop "$(hop lb1)" absent 60 "keepalived killed in lb1"
left=$HOP_AT
wait_hop "$(hop lb1)" present 120 "keepalived restarted in lb1"
back=$HOP_AT
rec=$(stage_log_time "$RIG_DIR/lb1.controller.log" 'msg="keepalived started"' "$t0")
event keepalived lb1 "$t0" "$left" "${rec:-$t0}" "$back"
step "  nexthop left after $(stage_secs "$t0" "$left")s, back $(stage_secs "${rec:-$t0}" "$back")s after keepalived's restart"
settle

step "lb1's controller SIGKILLed (its container's keepalived dies with it); the kubelet starts it again"
cpid=$(pod_pid lb1 controller)
t0=$EPOCHREALTIME
{ kill -KILL "$cpid"; wait "$cpid"; } 2>/dev/null || true # ours: no job notice
kill_container_rest lb1
wait_hop "$(hop lb1)" absent 60 "controller killed in lb1"
left=$HOP_AT
_rig_forget "$cpid"
rec=$EPOCHREALTIME
k8s_ipvs_start lb1 "$VIP"
wait_hop "$(hop lb1)" present 120 "controller restarted in lb1"
back=$HOP_AT
event controller lb1 "$t0" "$left" "$rec" "$back"
step "  nexthop left after $(stage_secs "$t0" "$left")s, back $(stage_secs "$rec" "$back")s after the restart"
settle

if [ -n "$IPVS" ]; then
    step "lb2 cut off from every web pod (DROP to 172.16.0.0/16 port 80 in its OUTPUT chain)"
    cut=(OUTPUT -p tcp -d 172.16.0.0/16 --dport 80 -j DROP)
    t0=$EPOCHREALTIME
    ip netns exec "$RIG-lb2" iptables -w 5 -I "${cut[@]}"
    wait_hop "$(hop lb2)" absent 60 "lb2 cut off from the web pods"
    left=$HOP_AT
    rec=$EPOCHREALTIME
    ip netns exec "$RIG-lb2" iptables -w 5 -D "${cut[@]}"
    wait_hop "$(hop lb2)" present 120 "lb2 reaches the web pods again"
    back=$HOP_AT
    event partition lb2 "$t0" "$left" "$rec" "$back"
    step "  nexthop left after $(stage_secs "$t0" "$left")s, back $(stage_secs "$rec" "$back")s after the rule went"
    settle
fi

step "the API server stops; a new load balancer pod lb4 starts on node 4"
stopapi=(INPUT -p tcp --dport "${K8S_API##*:}" -j REJECT --reject-with tcp-reset)
t0=$EPOCHREALTIME
ip netns exec "$RIG-k8smaster" iptables -w 5 -I "${stopapi[@]}"
rig_pod_add 4 lb4 >/dev/null
ip4=$RIG_POD_IP
[ -n "$IPVS" ] || rig_echo_start lb4
k8s_lb_start lb4 4 "$A" "$VIP"
# exabgp's session with the route reflector up: without the gate it would
# announce now; it must not, for as long as it cannot sync.  The three
# synced pods must keep serving through the outage (their controllers'
# word; the router's table may still lose one for a moment when its gate's
# probe times out on an overloaded VM: counted below, not a failure here)
est=""
deadline=$((SECONDS + 180))
while :; do
    got=$(rig_nexthops "$A" | tr '\n' ' ')
    [[ " $got" != *" $(hop lb4) "* ]] || fail "API down: lb4 announced before its first sync (router: $got)"
    [ -n "$got" ] || fail "API down: the router has no nexthop left for the service"
    if [ -z "$est" ]; then
        [ "$(rig_rr_state "$ip4")" != established ] || est=$EPOCHREALTIME
        [ $SECONDS -lt $deadline ] || fail "lb4's BGP session did not come up in 180s"
    elif [ "$(stage_secs "$est" "$EPOCHREALTIME" | cut -d. -f1)" -ge 5 ]; then
        break
    fi
    sleep 0.1
done
code=$(ip netns exec "$RIG-lb4" curl -s -o "$RIG_DIR/lb4.readyz" -w '%{http_code}' --max-time 2 http://127.0.0.1:9101/readyz) || true
[ "$code" = 503 ] || fail "lb4's /readyz answers $code while the API is down, want 503"
step "  lb4's session up $(stage_secs "$t0" "$est")s after the API stopped; 5 s on, not announced, /readyz: $(head -c 120 "$RIG_DIR/lb4.readyz")"
for n in 1 2 3; do
    ns=$(stage_log_time "$RIG_DIR/lb$n.controller.log" 'msg="not serving"' "$t0")
    [ -z "$ns" ] || fail "API down: lb$n's controller stopped serving $(stage_secs "$t0" "$ns")s into the outage: $(grep 'msg="not serving"' "$RIG_DIR/lb$n.controller.log" | tail -n 1)"
done
pass "API down: a new pod does not announce before it has synced; the synced ones keep serving"
rec=$EPOCHREALTIME
ip netns exec "$RIG-k8smaster" iptables -w 5 -D "${stopapi[@]}"
wait_hop "$(hop lb4)" present 120 "lb4 after the API came back"
back=$HOP_AT
event api-down lb4 "$t0" "" "$rec" "$back"
step "  API back: lb4's nexthop in $(stage_secs "$rec" "$back")s"
settle

for r in $(seq "$GRACEFUL"); do
    step "graceful deletion of lb4 ($r of $GRACEFUL): both preStop hooks as the manifest orders them (withdraw, drain ${DRAIN}s, then IPVS stops), pod deleted; then a replacement"
    t0=$EPOCHREALTIME
    (
        DRAIN_SECONDS=$DRAIN k8s_lb_delete lb4 4 "$A" >/dev/null 2>&1 || true
        rig_pod_del lb4
    ) &
    deleting=$!
    wait_hop "$(hop lb4)" absent 60 "lb4 deleted gracefully"
    left=$HOP_AT
    wait "$deleting" || fail "deleting lb4 failed"
    rec=$EPOCHREALTIME
    stage_start lb4 4 "$A" "$VIP" "${IPVS:+$WEBS}" "$OUT/start-stages.csv"
    event graceful lb4 "$t0" "$left" "$rec" "$STAGE_ROUTE_AT"
    step "  nexthop left after $(stage_secs "$t0" "$left")s; the replacement's route in $(stage_secs "$rec" "$STAGE_ROUTE_AT")s ($(tail -n 1 "$OUT/start-stages.csv"))"
    settle
done

_rig_stop_pid "$CLIENT" - TERM 10 || fail "the client did not stop"
cp "$LOAD_LOG" "$OUT/health-client.log"

# ----------------------------------------------------------- the figures

# window A B: "requests failures" of the requests started in [A, B)
window() {
    [ -n "$1" ] && [ -n "$2" ] || { echo ","; return 0; }
    awk -v a="$1" -v b="$2" 'NF == 3 && $1 >= a && $1 < b { n++; if ($3 ~ /^FAIL/) f++ }
        END { printf "%d,%d", n, f }' "$LOAD_LOG"
}
echo "event,pod,left_s,recovery_s,back_s,requests_before_left,failed_before_left,requests_while_out,failed_while_out,requests_after_back,failed_after_back,gate_withdrew_s,gate_announced_s" >"$OUT/health.csv"
graceful_bad=""
while read -r name pod t0 left rec back; do
    [ "$back" != "" ] || { back=$rec; rec=$left; left=""; }
    end=$(awk -v b="$back" -v s="$SETTLE" 'BEGIN { printf "%.6f", b + s }')
    before=$(window "$t0" "${left:-$rec}")
    out=$(window "${left:-$rec}" "$back")
    after=$(window "$back" "$end")
    # the gate's own log: when our side decided (from the event, and from
    # the recovery), the rest of left_s and back_s is BGP's propagation
    gw=""
    [ -z "$left" ] || gw=$(stage_log_time "$RIG_DIR/$pod.exabgp.log" 'msg="withdrawing:' "$t0")
    ga=$(stage_log_time "$RIG_DIR/$pod.exabgp.log" 'msg="announcing:' "$rec")
    echo "$name,$pod,$(stage_secs "$t0" "$left"),$(stage_secs "$t0" "$rec"),$(stage_secs "$rec" "$back"),$before,$out,$after,$(stage_secs "$t0" "$gw"),$(stage_secs "$rec" "$ga")" >>"$OUT/health.csv"
    if [ "$name" = graceful ]; then
        # the deletion itself: from its start until the pod is gone (the
        # replacement's arrival is a start: the router re-hashes some flows
        # in flight to it, which issue 12's flow mode keeps)
        del=$(window "$t0" "$rec")
        [ "${out%,*}" -gt 0 ] || graceful_bad+=" no requests while lb4 was out;"
        [ "${del#*,}" = 0 ] || graceful_bad+=" ${del#*,} of ${del%,*} requests failed between the deletion's start and the pod's end;"
    fi
done <"$EVENTS"
# withdrawals nobody asked for: a gate whose probe of a serving controller
# timed out (an overloaded box), per pod over the whole run
echo "pod,withdrawals_on_probe_timeout" >"$OUT/health-flaps.csv"
for n in 1 2 3 4; do
    c=0
    [ ! -f "$RIG_DIR/lb$n.exabgp.log" ] ||
        c=$(grep -c 'msg="withdrawing: the health endpoint fails".*reason="timed out' "$RIG_DIR/lb$n.exabgp.log" || true)
    echo "lb$n,$c" >>"$OUT/health-flaps.csv"
done
# the raw times behind health.csv, and every gate decision, to tell later
# which other pod's flap a failure coincided with
cp "$EVENTS" "$OUT/health-events.txt"
for n in 1 2 3 4; do
    [ ! -f "$RIG_DIR/lb$n.exabgp.log" ] || sed -n "s/^\(ts=[^ ]*\).*msg=\"\(withdrawing\|announcing\)[^\"]*\".*reason=\(\"[^\"]*\"\|[^ ]*\).*/\1 lb$n \2 \3/p" "$RIG_DIR/lb$n.exabgp.log"
done | sort >"$OUT/health-gate.log"
column -t -s, "$OUT/health.csv" 2>/dev/null || cat "$OUT/health.csv"
column -t -s, "$OUT/health-flaps.csv" 2>/dev/null || cat "$OUT/health-flaps.csv"
column -t -s, "$OUT/start-stages.csv" 2>/dev/null || cat "$OUT/start-stages.csv"
pass "every event's nexthop left the router and came back"
[ -z "$graceful_bad" ] || fail "graceful deletion:$graceful_bad"
pass "graceful deletions: no request failed from the deletion's start to the pod's end"
step "done"
