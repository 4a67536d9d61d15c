#!/usr/bin/env bash
# `ipvs-entrypoint web-init`, flow mode's side of the web pods, run as a
# web pod's init container would run it, in a namespace of the test's own
# standing for the pod: the virtual addresses land on tunl0 (not lo) with
# tunl0 up; a second run changes nothing; addresses and routes it does not
# own stay; bad input exits 2 with one line per bad value and nothing
# done; a pod that cannot work (no NET_ADMIN, no tunl0, strict rp_filter)
# exits 1 with the line naming the fix, nothing done; nat mode does
# nothing; the MTU note names the MSS that fits IPIP.
#
# This host loads no modules: without ipip there is no tunl0, so the test
# checks the "no ipip" error for real and stands a veth device named tunl0
# in for the positive path (what web-init does to it is the same: link up,
# addresses).  Where the host has ipip, the real tunl0 is used.  That the
# kernel then takes IPIP-delivered requests for the address is the
# testbed's (real IPVS and ipip in the VM).
. "$(dirname "$0")/lib.sh"

ENTRY=$SRC/images/ipvs/ipvs-entrypoint
# NO_NET_ADMIN: what the command runs holds NET_ADMIN in none of its sets
# (root's exec gives permitted = inheritable | bounding)
NO_NET_ADMIN=(setpriv --bounding-set -net_admin --inh-caps -net_admin)

# wi [ENV=VALUE...] [-- ARGS...]: web-init in the pod's namespace with only
# the environment given; sets RC and OUT (stderr and stdout)
wi() {
    local envs=() pre=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        case $1 in
        NO_NET_ADMIN) pre=("${NO_NET_ADMIN[@]}") ;;
        *) envs+=("$1") ;;
        esac
        shift
    done
    [ $# -gt 0 ] && shift
    RC=0
    OUT=$(in_ns "${pre[@]}" env -i PATH="$PATH" "${envs[@]}" sh "$ENTRY" web-init "$@" 2>&1) || RC=$?
}
# expect RC TEXT WHAT: the last wi exited RC and said TEXT
expect() {
    [ "$RC" = "$1" ] || fail "$3: exit $RC, want $1: $OUT"
    [[ $OUT == *"$2"* ]] || fail "$3: want '$2' in: $OUT"
    pass "$3: $(grep -F -- "$2" <<<"$OUT" | head -1)"
}
# state: what web-init may change and what it must not, in one text
# (IPv4: IPv6's link-local addresses come and go by themselves)
state() {
    ip -n "$NS" -4 -o addr show | sed 's/ valid_lft.*//'
    ip -n "$NS" -o link show | sed -n 's/^[0-9]*: \([^:@]*\).*state \([A-Z]*\).*/\1 \2/p'
    ip -n "$NS" -4 route show table all
}
tunl0_vips() { ip -n "$NS" -4 -o addr show dev tunl0 | awk '{ print $4 }' | sort | tr '\n' ' '; }
# (captured first: grep -q ending early would fail the pipe under pipefail)
tunl0_up() { [[ $(ip -n "$NS" -o link show dev tunl0) =~ [\<,]UP[,\>] ]]; }
rp() { in_ns sysctl -qw "net.ipv4.conf.$1.rp_filter=$2"; }

# the pod's own interface and routes, which are the CNI's and stay as they are
ip -n "$NS" link add eth0 type veth peer name peer0
ip -n "$NS" link set eth0 mtu 1500 up
ip -n "$NS" link set peer0 up
ip -n "$NS" addr add 172.16.5.2/24 dev eth0
ip -n "$NS" route add default via 172.16.5.1 dev eth0
ip -n "$NS" addr add 192.0.2.7/32 dev lo # not ours
rp all 0

# --- bad input: exit 2, one line per bad value, nothing done
before=$(state)
wi --
expect 2 "ipvs-entrypoint: web-init: no virtual address: give them as arguments or in IPVS_WEB_VIPS (comma-separated)" "no VIP"
wi IPVS_WEB_VIPS=, --
expect 2 "no virtual address" "IPVS_WEB_VIPS of commas only"
for v in 10.1.1 10.1.1.256 010.1.1.1 10.1.1.1/32 ::1 127.0.0.1 0.0.0.0 224.0.0.1 255.255.255.255 \
    '10.1.1.1;reboot' -a 1.2.3.4.5 1.2..3 '*'; do
    wi -- "$v"
    expect 2 "ipvs-entrypoint: web-init: arguments: '$v' is not a unicast IPv4 address (a.b.c.d, the virtual server's address)" "VIP '$v' refused"
    [ "$(grep -c . <<<"$OUT")" = 1 ] || fail "VIP '$v': more than one line: $OUT"
done
wi IPVS_WEB_VIPS="10.1.1.1,bogus, 10.1.1.300" --
expect 2 "IPVS_WEB_VIPS: 'bogus' is not a unicast IPv4 address" "IPVS_WEB_VIPS with two bad values"
[[ $OUT == *"IPVS_WEB_VIPS: '10.1.1.300'"* ]] && [ "$(grep -c . <<<"$OUT")" = 2 ] ||
    fail "two bad values, want one line each: $OUT"
wi IPVS_WEB_MODE=dsr -- 10.1.1.1
expect 2 "web-init: IPVS_WEB_MODE: unknown mode 'dsr' (modes: nat, flow)" "unknown mode"
wi IPVS_WEB_MODE=nat -- 10.1.1.x
expect 2 "'10.1.1.x' is not a unicast IPv4 address" "bad VIP refused in nat mode too"
[ "$(state)" = "$before" ] || fail "bad input changed the pod's namespace: $(diff <(echo "$before") <(state))"
pass "bad input changed nothing"

# --- nat mode: nothing to do, whatever the node has
wi IPVS_WEB_MODE=nat IPVS_WEB_VIPS=10.1.1.1 --
expect 0 "web-init: nat mode: nothing to do for 10.1.1.1" "nat mode"
[ "$(state)" = "$before" ] || fail "nat mode changed the pod's namespace"

# --- no NET_ADMIN
wi NO_NET_ADMIN -- 10.1.1.1
expect 1 "web-init: the container lacks capability NET_ADMIN" "no NET_ADMIN"

# --- the node without ipip: no tunl0 in the pod's namespace
if ip -n "$NS" link show dev tunl0 >/dev/null 2>&1; then
    echo "    this host has ipip: the real tunl0 for the rest (the no-ipip error is not tested)"
else
    [ ! -e /sys/module/ipip ] || fail "ipip is loaded but the namespace has no tunl0 (net.core.fb_tunnels_only_for_init_net?)"
    wi -- 10.1.1.1
    expect 1 "ipvs-entrypoint: web-init: tunl0 does not exist: the node has not loaded the ipip module (on the node: modprobe ipip, and list ipip in /etc/modules-load.d/ for the next boot; a pod cannot load it)" \
        "no ipip on the node"
    [ "$(state)" = "$before" ] || fail "web-init without tunl0 changed the pod's namespace"
    # the stand-in (this kernel has veth, not dummy): what web-init does to
    # tunl0 is the same on it
    ip -n "$NS" link add tunl0 type veth peer name tunl0-peer
fi
ip -n "$NS" link set tunl0 down
ip -n "$NS" addr add 192.0.2.8/32 dev tunl0 # not ours either
rp tunl0 0

# --- strict rp_filter: refused before anything is done, naming the sysctl
before=$(state)
rp all 1
wi -- 10.1.1.1
expect 1 "web-init: rp_filter: net.ipv4.conf.all.rp_filter=1, net.ipv4.conf.tunl0.rp_filter=0: the larger, 1, is strict and drops the requests tunnelled to this pod" \
    "rp_filter strict on all"
[[ $OUT == *"set net.ipv4.conf.all.rp_filter to 2 (loose) or 0 in the pod's securityContext.sysctls"* ]] ||
    fail "the rp_filter error does not say what to set where: $OUT"
rp all 0
rp tunl0 1
wi -- 10.1.1.1
expect 1 "rp_filter: net.ipv4.conf.all.rp_filter=0, net.ipv4.conf.tunl0.rp_filter=1: the larger, 1, is strict" "rp_filter strict on tunl0"
[[ $OUT == *"set net.ipv4.conf.tunl0.rp_filter to 2"* ]] || fail "the rp_filter error names the wrong sysctl: $OUT"
[ "$(state)" = "$before" ] || fail "web-init with strict rp_filter changed the pod's namespace: $(diff <(echo "$before") <(state))"
pass "strict rp_filter changed nothing"
rp tunl0 2

# --- the pod readied: tunl0 up, each VIP/32 on it, nothing else changed
routes=$(ip -n "$NS" route show table main)
wi -- 10.1.1.1,10.1.1.2
expect 0 "web-init: ready: tunl0 up with 10.1.1.1/32 10.1.1.2/32 (added now: 10.1.1.1 10.1.1.2); rp_filter all=0 tunl0=2 (effective 2: loose)" \
    "two VIPs from the arguments"
tunl0_up || fail "tunl0 is not up"
[ "$(tunl0_vips)" = "10.1.1.1/32 10.1.1.2/32 192.0.2.8/32 " ] || fail "tunl0 holds $(tunl0_vips)"
[ -z "$(ip -n "$NS" -4 -o addr show dev lo | grep -F '10.1.1.')" ] || fail "a VIP is on lo: $(ip -n "$NS" -4 -o addr show dev lo)"
[[ $(ip -n "$NS" -4 -o addr show dev lo) == *" 192.0.2.7/32 "* ]] || fail "lo lost 192.0.2.7"
[ "$(ip -n "$NS" route show table main)" = "$routes" ] || fail "the main table changed: $(ip -n "$NS" route show table main)"
[[ $(ip -n "$NS" route show table local) == *"local 10.1.1.1 dev tunl0 "* ]] || fail "10.1.1.1 is not local on tunl0"
pass "tunl0 up with 10.1.1.1/32 and 10.1.1.2/32, the other addresses and the main table as they were"
[[ $OUT == *"web-init: mtu: requests arrive inside IPIP (20 bytes more): with MTU 1500 from the load balancer to here, a client's segment fits only if its MSS is at most 1440"* ]] ||
    fail "no MTU note for eth0's 1500: $OUT"
pass "MTU note: $(grep -F 'mtu:' <<<"$OUT" | cut -c1-120)..."

# --- idempotent: again, and again with the environment's list
after=$(state)
wi -- 10.1.1.2 10.1.1.1
expect 0 "(added now: none)" "a second run"
[ "$(state)" = "$after" ] || fail "a second run changed: $(diff <(echo "$after") <(state))"
wi IPVS_WEB_VIPS="10.1.1.1, 10.1.1.3" --
expect 0 "ready: tunl0 up with 10.1.1.1/32 10.1.1.3/32 (added now: 10.1.1.3)" "IPVS_WEB_VIPS, one of them new"
[ "$(tunl0_vips)" = "10.1.1.1/32 10.1.1.2/32 10.1.1.3/32 192.0.2.8/32 " ] || fail "tunl0 holds $(tunl0_vips)"
wi IPVS_WEB_VIPS=bogus -- 10.1.1.1
expect 0 "ready: tunl0 up with 10.1.1.1/32 (added now: none)" "the arguments win over IPVS_WEB_VIPS"

# --- tunl0 down again (a restarted pod keeps its namespace): up again
ip -n "$NS" link set tunl0 down
wi -- 10.1.1.1
expect 0 "added now: none" "tunl0 found down"
tunl0_up || fail "tunl0 was not brought up again"
pass "tunl0 up again"
