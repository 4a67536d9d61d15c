#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# lifecycle.sh - a load balancer pod deleted make-before-break, end to end
# on the rig: the real controller (with keepalived, VRRP-only here: no
# IPVS on this host) and exabgp-helper with exabgp in one pod, the fake
# API server, a web pod; k8s_lb_delete runs both preStop hooks at once and
# SIGTERMs each container when its own hook returned, as the kubelet does.
# Sampled throughout: the nexthop leaves the router within 2 s; the
# helper's node route goes after that; keepalived is alive until then and
# for the ipvs hook's drain after the withdrawal report, and stops only
# after; the RR's session with the pod stays Established until exabgp's
# own SIGTERM.  The times are printed.
. "$(dirname "$0")/lib.sh"
# shellcheck source=../../testbed/rig/k8s.sh
. "$SRC/testbed/rig/k8s.sh"
export K8S_KEEPALIVED_OPTS=-P RIG_NODES=1

PREFIX=10.1.1.0/24
VIP=10.1.1.10
NEXT_HOP=10.0.0.105
DIR=$RIG_DIR/lb1

rig_up >/dev/null
k8s_up
k8s_web_add 1 web1
rig_pod_add 1 lb1 >/dev/null
k8s_lb_start lb1 1 "$PREFIX" "$VIP"
wait_until 60 "the nexthop of lb1 in the router (announced once /readyz says 200)" \
    '[ "$(rig_nexthops "$PREFIX")" = "$NEXT_HOP" ]'
wait_until 10 "keepalived's pid file" test -s "$DIR/keepalived.pid"
KPID=$(cat "$DIR/keepalived.pid")
POD_IP=$(ip -n "$RIG-lb1" -4 -o addr show scope global | awk '{ split($4, a, "/"); print a[1]; exit }')
pass "lb1 announced through its controller's /readyz"

node_route() { ip -n "$RIG-node1" route show "$PREFIX" proto 201 | grep -q .; }
node_route || fail "no helper route for $PREFIX in node1 (nothing to watch go)"

# the deletion, sampled every 50 ms; each time is since the deletion began
t0=$(_rig_now)
(k8s_lb_delete lb1 1 "$PREFIX") &
del=$!
t_nh="" t_wd="" t_rt="" t_ka="" session=established
while kill -0 "$del" 2>/dev/null; do
    # the session first: if the route is still there after it, exabgp's
    # hook was not done (its SIGTERM ends the session, as it should)
    [ -n "$t_rt" ] || state=$(rig_rr_state "$POD_IP")
    now=$(_rig_since "$t0")
    [ -n "$t_nh" ] || [ -n "$(rig_nexthops "$PREFIX")" ] || t_nh=$now
    [ -n "$t_wd" ] || [ ! -e "$DIR/lb/withdrawn" ] || t_wd=$now
    [ -n "$t_rt" ] || node_route || t_rt=$now
    [ -n "$t_ka" ] || kill -0 "$KPID" 2>/dev/null || t_ka=$now
    if [ -z "$t_rt" ] && [ "$state" != established ]; then session="was $state at ${now}s"; fi
    sleep 0.05
done
wait "$del" || fail "k8s_lb_delete failed"
now=$(_rig_since "$t0")
[ -n "$t_ka" ] || { kill -0 "$KPID" 2>/dev/null && fail "keepalived still runs after the deletion"; t_ka=$now; }
echo "    nexthop gone ${t_nh:-never}s, withdrawal reported ${t_wd:-never}s, node route gone ${t_rt:-never}s, keepalived gone ${t_ka}s"
[ -n "$t_nh" ] || fail "the nexthop never left the router"
[ -n "$t_wd" ] || fail "the exabgp hook never reported the withdrawal: $(cat "$RIG_DIR/lb1.prestop-exabgp.log")"
[ -n "$t_rt" ] || fail "the helper's node route never went"
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
le "$t_nh" 2 || fail "the nexthop left ${t_nh}s after the deletion began, want within 2 s"
[ "$session" = established ] || fail "the session $session, before the exabgp hook was done"
le "$t_nh" "$t_ka" || fail "keepalived stopped (${t_ka}s) before the nexthop left (${t_nh}s)"
le "$t_rt" "$t_ka" || fail "keepalived stopped (${t_ka}s) before the routes to the pod went (${t_rt}s)"
le "$(awk -v a="$t_wd" 'BEGIN { print a + 3 }')" "$t_ka" ||
    fail "keepalived stopped ${t_ka}s after the deletion began, less than the 3 s drain after the withdrawal report (${t_wd}s)"
grep -q "withdrawal reported after" "$RIG_DIR/lb1.prestop-ipvs.log" ||
    fail "the ipvs hook did not see the report: $(cat "$RIG_DIR/lb1.prestop-ipvs.log")"
grep -q 'msg="not serving" reason=stopping' "$RIG_DIR/lb1.controller.log" ||
    fail "the controller did not log stopping"
pass "deleted make-before-break: withdrawn, routes gone, drained, then keepalived stopped"
