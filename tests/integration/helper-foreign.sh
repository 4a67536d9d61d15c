#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# helper-foreign.sh - exabgp-helper touches no route it does not own: a
# route for the same prefix that is not ours (either namespace), a prefix
# over a connected subnet, or one in special-purpose space is refused with
# one line and exit 2; nothing is installed, written or exec'd; cleanup
# leaves routes that are not provably ours.
. "$(dirname "$0")/lib.sh"

# shellcheck source=helper-lib.bash
. "$(dirname "$0")/helper-lib.bash"

# refused TEXT POD [VAR=value...] [-- ARGS]: exit 2 with one line saying
# TEXT; no route of ours, no exabgp.conf, no exabgp started.
refused() {
    local text=$1 pod=$2; shift 2
    rm -f "$T/$pod/exabgp.conf" "$T/$pod/exabgp.conf.exec"
    helper "$pod" "$@"
    expect_rc 2 "refusal ($text)"
    expect_error "$text"
    ! node_routes | grep -q 'via 172.16.1.2 ' || fail "refusal ($text) installed: $(node_routes)"
    [ -z "$(pod_routes "$pod")" ] || fail "refusal ($text) installed: $(pod_routes "$pod")"
    [ ! -e "$T/$pod/exabgp.conf" ] || fail "refusal ($text) wrote exabgp.conf"
    [ ! -e "$T/$pod/exabgp.conf.exec" ] || fail "refusal ($text) started exabgp"
}
# same_route NS PREFIX [TABLE] BEFORE: the route is still exactly BEFORE.
same_route() {
    local now
    now=$(ip -n "$1" route show table "$3" exact "$2")
    [ -n "$now" ] && [ "$now" = "$4" ] || fail "route $2 in $1 changed: [$4] is now [$now]"
}

# Special-purpose space and short prefixes: refused by the dry run too.
for p in 0.0.0.0/1 127.0.0.0/8 169.254.169.254/32 224.0.0.0/4 240.0.0.0/8; do
    refused "SERVICE_PREFIXES: \"$p\"" pod SERVICE_PREFIXES="10.1.1.0/24,$p" -- --dry-run
    [ -z "$OUT" ] || fail "dry run of $p printed a plan: $OUT"
done
pass "dry run refuses 0.0.0.0/1, loopback, link-local, multicast, reserved"

# A route for the same destination in the node's main table, not ours.
ip -n "$NS" route add 10.9.0.0/16 via 10.0.0.1 proto static
before=$(ip -n "$NS" route show table main exact 10.9.0.0/16)
want="exabgp-helper: node already has a route 10.9.0.0/16 via 10.0.0.1 dev eth0 proto static that is not ours; refusing to replace it"
refused "$want" pod SERVICE_PREFIXES=10.1.1.0/24,10.9.0.0/16
[ "$ERR" = "$want" ] || fail "refusal is not the one line: $ERR"
same_route "$NS" 10.9.0.0/16 main "$before"
refused "$want" pod SERVICE_PREFIXES=10.1.1.0/24,10.9.0.0/16 -- --dry-run
# and cleanup does not take it either
helper pod SERVICE_PREFIXES=10.9.0.0/16 -- cleanup
expect_rc 0 "cleanup beside a route not ours"
same_route "$NS" 10.9.0.0/16 main "$before"
ip -n "$NS" route del 10.9.0.0/16
pass "a node route for the prefix that is not ours: exit 2, untouched, nothing installed or started"

# Our gateway but not our protocol: not provably ours, in either namespace.
ip -n "$NS" route add 10.9.0.0/16 via 172.16.1.2 proto static
before=$(ip -n "$NS" route show table main exact 10.9.0.0/16)
refused "node already has a route 10.9.0.0/16 via 172.16.1.2 dev docker0 proto static that is not ours" \
    pod SERVICE_PREFIXES=10.9.0.0/16
ip -n "$NS-pod" route add local 10.9.0.0/16 dev lo table local proto static
pod_before=$(ip -n "$NS-pod" route show table local exact 10.9.0.0/16)
helper pod SERVICE_PREFIXES=10.9.0.0/16 -- cleanup
expect_rc 0 "cleanup beside routes with our gateway, not our protocol"
grep -q 'msg="routes removed" count=0' <<<"$ERR" || fail "cleanup removed something: $ERR"
same_route "$NS" 10.9.0.0/16 main "$before"
same_route "$NS-pod" 10.9.0.0/16 local "$pod_before"
ip -n "$NS" route del 10.9.0.0/16
refused "pod already has a route local 10.9.0.0/16 dev lo table local proto static that is not ours" \
    pod SERVICE_PREFIXES=10.9.0.0/16
same_route "$NS-pod" 10.9.0.0/16 local "$pod_before"
ip -n "$NS-pod" route del local 10.9.0.0/16 dev lo table local
pass "our gateway without our protocol is not ours: run refuses, cleanup leaves both"

# Another pod's route for the prefix (our protocol, its gateway).
helper pod2 SERVICE_PREFIXES=10.1.3.0/24
expect_rc 0 "run in pod2"
refused "node already has a route 10.1.3.0/24 via 172.16.1.3 dev docker0 proto 201 (exabgp-helper, another pod's) that is not ours" \
    pod SERVICE_PREFIXES=10.1.3.0/24
[ "$(node_routes)" = "10.1.3.0/24 via 172.16.1.3 dev docker0 " ] ||
    fail "pod2's route changed: [$(node_routes)]"
helper pod2 SERVICE_PREFIXES=10.1.3.0/24 -- cleanup
expect_rc 0 "cleanup in pod2"
pass "another pod's route for the same prefix is refused and kept"

# Our own routes from an earlier run are no obstacle.
helper pod SERVICE_PREFIXES=10.1.1.0/24
expect_rc 0 "first run"
helper pod SERVICE_PREFIXES=10.1.1.0/24
expect_rc 0 "run over our own routes"
helper pod SERVICE_PREFIXES=10.1.1.0/24 -- cleanup
expect_rc 0 "cleanup"
expect_no_routes "cleanup"
pass "a second run over our own routes proceeds"

# Connected subnets: docker0's (the node's pods), eth0's, one in the pod.
connected=$(ip -n "$NS" route show exact 172.16.1.0/24)
for p in 172.16.1.0/24 172.16.0.0/16 172.16.1.128/25; do
    refused "service prefix $p overlaps 172.16.1.0/24, the subnet of 172.16.1.1 on docker0 in the node namespace; refusing" \
        pod SERVICE_PREFIXES="$p"
    same_route "$NS" 172.16.1.0/24 main "$connected"
done
refused "service prefix 172.16.1.0/24 overlaps 172.16.1.0/24, the subnet of 172.16.1.1 on docker0" \
    pod SERVICE_PREFIXES=172.16.1.0/24 -- --dry-run
refused "service prefix 10.0.0.0/16 overlaps 10.0.0.0/24, the subnet of 10.0.0.105 on eth0 in the node namespace" \
    pod SERVICE_PREFIXES=10.0.0.0/16
ip -n "$NS-pod" link add extra type bridge
ip -n "$NS-pod" addr add 10.60.0.1/24 dev extra
refused "service prefix 10.60.0.0/16 overlaps 10.60.0.0/24, the subnet of 10.60.0.1 on extra in the pod namespace" \
    pod SERVICE_PREFIXES=10.60.0.0/16
got=$(ip -n "$NS" route get 172.16.1.2)
[[ "$got" == "172.16.1.2 dev docker0 "* ]] || fail "the node reaches its pod otherwise now: $got"
pass "a prefix over a connected subnet is refused; the connected route and the pod stay"
