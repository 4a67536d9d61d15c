#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bird.sh - the router's role is swappable: BIRD 2 in place of FRR gets the
# same ECMP route from the same load balancer pods; and at hold time 3 a
# silent pod is gone within 3 seconds.
. "$(dirname "$0")/lib.sh"

export RIG_ROUTER=bird
A=10.1.1.0/24
rig_up
for n in 1 2; do
    rig_pod_add "$n" "lb$n" >/dev/null
    rig_lb_start "lb$n" "$n" "$A" HOLD_TIME=3
done
rig_wait_nexthops "$A" 2 20
nexthops_are "$A" "10.0.0.105 10.0.0.106"
equal_weights "$A" 2
ip -n "$RIG-router" route show exact "$A" | sed 's/^/    /'
for p in lb1 lb2; do rig_echo_start "$p"; done
spread_ok 10.1.1.10:80 200 30 lb1 lb2
pass "BIRD 2 as the router: two equal nexthops, traffic over both"

rig_pod_blackhole lb1
rig_wait_nexthops "$A" 1 5
nexthops_are "$A" "10.0.0.106"
echo "    pod silent: nexthop gone after ${RIG_WAITED}s (hold time 3)"
awk -v w="$RIG_WAITED" 'BEGIN { exit !(w <= 3.5) }' || fail "silent pod withdrawn after ${RIG_WAITED}s"
pass "hold time 3: a silent pod is withdrawn within 3 seconds"
