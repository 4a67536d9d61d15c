#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# entrypoint.sh - the images' entry points, run by podman the way a cluster
# would start them with too little: each missing capability, mount or
# permission is named in one line and the container exits non-zero; what
# can be done here is done (ip_forward in a namespace of the test's own).
# The host has no IPVS; the testbed's VM runs all four steps for real.
# Needs the images (images/build.sh).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$SRC/images/containers.conf}
IPVS_IMG=$(sed -n 's/^ *image: \(localhost\/k8s-ipvs-lb\/ipvs:.*\)$/\1/p' "$SRC/manifests/30-loadbalancer.yaml" | head -1)
BGP_IMG=$(sed -n 's/^ *image: \(localhost\/k8s-ipvs-lb\/exabgp:.*\)$/\1/p' "$SRC/manifests/30-loadbalancer.yaml" | head -1)
KVER=$(uname -r)

# shellcheck source=../lib/assert.sh
. "$SRC/tests/lib/assert.sh"
for img in "$IPVS_IMG" "$BGP_IMG"; do
    podman image exists "$img" || fail "image $img is missing (run images/build.sh)"
done

NS=lbt-entry-$$
TMP=$(mktemp -d /tmp/lbt-entry.XXXXXX)
trap 'ip netns del "$NS" 2>/dev/null || true; rm -rf "$TMP"' EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=0

# ep IMAGE [podman run options...] -- [args...]: run IMAGE's entry point in
# the test's namespace; sets RC and OUT (stderr and stdout)
ep() {
    local img=$1 opts=()
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
    shift
    RC=0
    OUT=$(nsenter --net="/run/netns/$NS" podman run --rm --network host "${opts[@]}" "$img" "$@" 2>&1) || RC=$?
}
# expect RC TEXT WHAT: the last ep exited RC and said TEXT
expect() {
    [ "$RC" = "$1" ] || fail "$3: exit $RC, want $1: $OUT"
    [[ $OUT == *"$2"* ]] || fail "$3: want '$2' in: $OUT"
    pass "$3: $(grep -F -- "$2" <<<"$OUT" | head -1)"
}
forward() { ip netns exec "$NS" cat /proc/sys/net/ipv4/ip_forward; }

ep "$IPVS_IMG" --cap-drop all --
expect 1 "modules: IPVS is not available: ip_vs is not loaded in the kernel and cannot be loaded here: the container lacks capability SYS_MODULE and /lib/modules/$KVER is not mounted (mount the node's /lib/modules read-only)" \
    "no SYS_MODULE, no /lib/modules"
ep "$IPVS_IMG" --cap-drop all --cap-add SYS_MODULE --
[[ $OUT != *"lacks capability"* ]] || fail "SYS_MODULE given, yet: $OUT"
expect 1 "/lib/modules/$KVER is not mounted" "SYS_MODULE but no /lib/modules"

# lb-algo and IPVS_MODULES become modprobe arguments: only known words get
# that far.  A stub modprobe first on PATH records its arguments; SYS_MODULE
# and a /lib/modules/KVER of the test's own (empty) let the step reach it.
mkdir -p "$TMP/stub" "$TMP/calls" "$TMP/modules/$KVER"
printf '#!/bin/sh\necho "$*" >>/calls/modprobe\n' >"$TMP/stub/modprobe"
chmod 755 "$TMP/stub/modprobe"
STUB_MOUNTS=(-v "$TMP/stub:/stub:ro" -v "$TMP/calls:/calls"
    -e PATH=/stub:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
STUB=("${STUB_MOUNTS[@]}" --cap-drop all --cap-add SYS_MODULE -v "$TMP/modules:/lib/modules:ro" -e IPVS_PREPARE=modules)
calls() { tr '\n' '|' <"$TMP/calls/modprobe" 2>/dev/null; }
ep "$IPVS_IMG" "${STUB[@]}" -e IPVS_CONTROLLER_LB_ALGO=wlc -- prepare
expect 1 "modules: ip_vs loaded but /proc/net/ip_vs is missing" "lb-algo wlc: the stub modprobe is reached"
[ "$(calls)" = "-- ip_vs|-- ip_vs_wlc|-- nf_conntrack|-- xt_ipvs|" ] || fail "lb-algo wlc: modprobe called with '$(calls)'"
pass "lb-algo wlc: modprobe -- ip_vs, ip_vs_wlc, nf_conntrack, xt_ipvs, one module each"
for algo in "rr floppy" "RR" "rr,wlc" "wlc " "../../x" "rr;floppy"; do
    rm -f "$TMP/calls/modprobe"
    ep "$IPVS_IMG" "${STUB[@]}" -e "IPVS_CONTROLLER_LB_ALGO=$algo" -- prepare
    expect 2 "IPVS_CONTROLLER_LB_ALGO: unknown scheduler '$algo' (schedulers: rr wrr lc wlc lblc lblcr dh sh mh sed nq fo ovf twos)" \
        "lb-algo '$algo' refused"
    [ ! -e "$TMP/calls/modprobe" ] || fail "lb-algo '$algo': modprobe was called with '$(calls)'"
done
ep "$IPVS_IMG" "${STUB[@]}" -e "IPVS_MODULES=ip_vs -r" -- prepare
expect 2 "IPVS_MODULES: '-r' is not a module name" "IPVS_MODULES with an option refused"
[ ! -e "$TMP/calls/modprobe" ] || fail "IPVS_MODULES '-r': modprobe was called with '$(calls)'"
ep "$IPVS_IMG" "${STUB[@]}" -e "IPVS_CONTROLLER_LB_ALGO=rr floppy" -e IPVS_PREPARE=none -- run
expect 2 "unknown scheduler 'rr floppy'" "run checks lb-algo too, even with no steps"
[ ! -e "$TMP/calls/modprobe" ] || fail "run: modprobe was called with '$(calls)'"

ep "$IPVS_IMG" --cap-drop all --cap-add NET_ADMIN -e IPVS_PREPARE=forward -- prepare
expect 1 "forward: cannot set net.ipv4.ip_forward=1 (it is 0): /proc/sys is read-only in this container; run 'ipvs-entrypoint prepare' in a privileged init container" \
    "ip_forward off, /proc/sys read-only"
[ "$(forward)" = 0 ] || fail "ip_forward changed by a container that could not set it"
ep "$IPVS_IMG" --privileged -e IPVS_PREPARE=forward -- prepare
expect 0 "forward: set net.ipv4.ip_forward=1" "privileged prepare sets ip_forward"
[ "$(forward)" = 1 ] || fail "ip_forward in the pod's namespace is $(forward) after prepare"
ep "$IPVS_IMG" --cap-drop all --cap-add NET_ADMIN -e IPVS_PREPARE=forward -- prepare
[[ $OUT != *"cannot set"* ]] || fail "ip_forward already 1, yet: $OUT"
expect 0 "" "ip_forward already 1: nothing to write, the read-only /proc/sys is fine"

# the ipvs container as the manifest has it, after the init container set
# ip_forward: NET_ADMIN only, a read-only root, no /lib/modules, the
# manifest's IPVS_PREPARE: nothing is loaded (the host has no IPVS, so the
# conntrack step says so and stops)
prep=$(grep -A1 'name: IPVS_PREPARE' "$SRC/manifests/30-loadbalancer.yaml" | sed -n 's/^ *value: "\(.*\)"$/\1/p')
[ -n "$prep" ] || fail "manifests/30-loadbalancer.yaml sets no IPVS_PREPARE for the ipvs container"
ep "$IPVS_IMG" "${STUB_MOUNTS[@]}" --cap-drop all --cap-add NET_ADMIN --read-only -e "IPVS_PREPARE=$prep" -e IPVS_CONTROLLER_LB_ALGO=sh -- run
expect 1 "conntrack: net.ipv4.vs.conntrack does not exist" "the manifest's ipvs container (IPVS_PREPARE=$prep)"
[[ $OUT != *"modules:"* ]] || fail "the manifest's ipvs container ran the modules step: $OUT"
[ ! -e "$TMP/calls/modprobe" ] || fail "the manifest's ipvs container ran modprobe '$(calls)'"

ep "$IPVS_IMG" --privileged -e IPVS_PREPARE=conntrack -- prepare
expect 1 "conntrack: net.ipv4.vs.conntrack does not exist: IPVS is not loaded (see the modules step)" "no IPVS for vs.conntrack"
ep "$IPVS_IMG" --cap-drop all -e IPVS_PREPARE=masquerade -- prepare
expect 1 "masquerade: cannot add the IPVS masquerade rule: the container lacks capability NET_ADMIN" "masquerade without NET_ADMIN"
ep "$IPVS_IMG" --cap-drop all -e IPVS_PREPARE=masquerade -e IPVS_CONTROLLER_LB_KIND=DR -- prepare
expect 0 "masquerade: not needed for lb-kind DR" "no masquerade in DR mode"

ep "$IPVS_IMG" -e IPVS_PREPARE=forward,bogus -- prepare
expect 2 "IPVS_PREPARE: unknown step 'bogus' (steps: modules,forward,conntrack,masquerade,sloppy, or none)" "unknown step"
[ "$(forward)" = 1 ] || fail "a refused step list still did something"
ep "$IPVS_IMG" -e IPVS_PREPARE=none -- prepare --selector x
expect 2 "prepare takes no arguments (got '--selector')" "prepare with arguments"

ep "$IPVS_IMG" --read-only -e IPVS_PREPARE=none -- run
expect 1 "keepalived: cannot write /etc/keepalived/keepalived.conf (mount a writable volume at /etc/keepalived)" "read-only root without volumes"
ep "$IPVS_IMG" -e IPVS_PREPARE=none -- run
expect 2 "ipvs-controller: no --apiserver given and not in a cluster" "run outside a cluster reaches ipvs-controller"
ep "$IPVS_IMG" -e IPVS_PREPARE=none -- run --apiserver http://127.0.0.1:1 --virtual-server 10.1.1.1:80
expect 2 "ipvs-controller: choose the backends with exactly one of --selector or --service" "run passes its arguments to ipvs-controller"

# web-init, the web pods' init container for flow mode, in the image as
# the sample web runs it (NET_ADMIN only, read-only root); the host has no
# ipip, so it stops at tunl0 (tests/integration/web-init.sh covers the rest
# on the host, the testbed's VM the real path)
ep "$IPVS_IMG" --cap-drop all --read-only -- web-init 10.1.1.1
expect 1 "web-init: the container lacks capability NET_ADMIN" "web-init without NET_ADMIN"
if [ ! -e /sys/module/ipip ]; then
    ep "$IPVS_IMG" --cap-drop all --cap-add NET_ADMIN --read-only -- web-init 10.1.1.1
    expect 1 "web-init: tunl0 does not exist: the node has not loaded the ipip module" "web-init on a node without ipip"
fi
ep "$IPVS_IMG" --cap-drop all --cap-add NET_ADMIN --read-only -e IPVS_WEB_MODE=nat -e IPVS_WEB_VIPS=10.1.1.1 -- web-init
expect 0 "web-init: nat mode: nothing to do for 10.1.1.1" "web-init in nat mode"
ep "$IPVS_IMG" --cap-drop all --cap-add NET_ADMIN --read-only -- web-init 10.1.1.300
expect 2 "web-init: arguments: '10.1.1.300' is not a unicast IPv4 address" "web-init refuses a bad VIP"

ep "$BGP_IMG" --
expect 2 "SERVICE_PREFIXES" "the exabgp image's entry point is exabgp-helper, which wants SERVICE_PREFIXES"
