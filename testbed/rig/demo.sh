#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# demo.sh - the paper's section 5.2 experiment in network namespaces: three
# load balancer pods (one per node) announce 10.1.1.0/24 through the route
# reflector, and the upstream router ends up with a three-way ECMP route.
#
#   sudo bash testbed/rig/demo.sh            # FRR as the router
#   sudo RIG_ROUTER=bird bash testbed/rig/demo.sh
#
# Needs the built helper: HELPER=path, or BUILD=build dir (default: build/demo
# of this checkout, as scripts/demo.sh builds it).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
: "${BUILD:=$SRC/build/demo}"
export BUILD
# shellcheck source-path=SCRIPTDIR source=rig.sh
. "$HERE/rig.sh"

RIG=lbdemo-$$
RIG_DIR=$(mktemp -d /tmp/lbdemo.XXXXXX)
export RIG RIG_DIR
PREFIX=10.1.1.0/24

finish() {
    local rc=$?
    rig_down
    if [ "$rc" = 0 ]; then
        rm -rf "$RIG_DIR"
    else
        echo "demo failed (exit $rc); logs kept in $RIG_DIR" >&2
    fi
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

step() { printf '\n== %s\n' "$*"; }

step "rig $RIG: switch, router ($RIG_ROUTER), client, route reflector (gobgpd), 3 nodes"
rig_up

for n in 1 2 3; do
    step "load balancer pod lb$n on node$n"
    ip=$(rig_pod_add "$n" "lb$n")
    echo "pod address $ip"
    rig_lb_start "lb$n" "$n" "$PREFIX"
    rig_wait_nexthops "$PREFIX" "$n" 30
    echo "router has $n nexthop(s) for $PREFIX after ${RIG_WAITED}s:"
    ip -n "$RIG-router" route show "$PREFIX" | sed 's/^/    /'
done

step "route reflector's view"
rig_gobgp global rib | sed 's/^/    /'

step "traffic from the client to 10.1.1.10:80, 300 connections"
for n in 1 2 3; do rig_echo_start "lb$n"; done
rig_spread 10.1.1.10:80 300 | sed 's/^/    /'

step "lb3 stops"
rig_lb_stop lb3
rig_wait_nexthops "$PREFIX" 2 30
echo "withdrawn after ${RIG_WAITED}s:"
ip -n "$RIG-router" route show "$PREFIX" | sed 's/^/    /'

step "tearing down"
