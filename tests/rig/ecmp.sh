#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ecmp.sh - the paper's Fig. 12 with the real helper and exabgp: the FRR
# router's kernel route for 10.1.1.0/24 follows 1, 2, 3 load balancer pods
# with equal weights, a second service 10.1.2.0/24 of two pods sits beside
# it, client connections spread over all of them; then a pod killed, a pod
# gone silent (hold time 9) and a graceful cleanup each take its nexthop away.
. "$(dirname "$0")/lib.sh"

A=10.1.1.0/24
B=10.1.2.0/24
rig_up

want=""
for n in 1 2 3; do
    rig_pod_add "$n" "lb$n" >/dev/null
    rig_lb_start "lb$n" "$n" "$A"
    rig_wait_nexthops "$A" "$n" 20
    want="${want:+$want }10.0.0.$((104 + n))"
    nexthops_are "$A" "$want"
    equal_weights "$A" "$n"
    echo "    $n pod(s): nexthop after ${RIG_WAITED}s"
done
ip -n "$RIG-router" route show exact "$A" | sed 's/^/    /'
pass "Fig. 12a/b: 1, 2, 3 load balancer pods give 1, 2, 3 equal nexthops"

rig_pod_add 1 web-b1 >/dev/null
rig_pod_add 2 web-b2 >/dev/null
rig_lb_start web-b1 1 "$B"
rig_lb_start web-b2 2 "$B"
rig_wait_nexthops "$B" 2 20
nexthops_are "$B" "10.0.0.105 10.0.0.106"
equal_weights "$B" 2
nexthops_are "$A" "10.0.0.105 10.0.0.106 10.0.0.107"
ip -n "$RIG-router" route show | grep -A3 '^10\.1\.' | sed 's/^/    /'
pass "Fig. 12c: a second service of two pods beside the first"

for p in lb1 lb2 lb3 web-b1 web-b2; do rig_echo_start "$p"; done
spread_ok 10.1.1.10:80 300 40 lb1 lb2 lb3
spread_ok 10.1.2.20:80 100 15 web-b1 web-b2
pass "client connections reach every load balancer pod of each service"

t0=$EPOCHREALTIME
rig_lb_stop lb3 KILL
rig_wait_nexthops "$A" 2 5
nexthops_are "$A" "10.0.0.105 10.0.0.106"
echo "    exabgp killed: nexthop gone after ${RIG_WAITED}s"
spread_ok 10.1.1.10:80 100 15 lb1 lb2
pass "exabgp killed: its nexthop is withdrawn and traffic goes to the others"

rig_pod_blackhole lb2
rig_wait_nexthops "$A" 1 12
nexthops_are "$A" "10.0.0.105"
echo "    pod silent: nexthop gone after ${RIG_WAITED}s (hold time 9)"
awk -v w="$RIG_WAITED" 'BEGIN { exit !(w <= 10) }' || fail "silent pod withdrawn after ${RIG_WAITED}s"
pass "a pod whose traffic is silently dropped loses its nexthop within the hold time"

# graceful: cleanup (the preStop hook) withdraws through the running exabgp
# before removing the routes; the session itself stays up.
out=$(rig_helper lb1 1 "$A" cleanup --drain-seconds 1 2>&1) || fail "cleanup failed: $out"
grep -q 'asked exabgp to withdraw' <<<"$out" || fail "cleanup did not drain: $out"
rig_wait_nexthops "$A" 0 5
[ "$(rig_rr_state 172.16.1.2)" = established ] || fail "cleanup closed the BGP session"
[ -z "$(ip -n "$RIG-node1" route show proto 201 "$A")" ] || fail "cleanup left the node route"
nexthops_are "$B" "10.0.0.105 10.0.0.106"
pass "cleanup withdraws the prefix, keeps the session and the other service"
