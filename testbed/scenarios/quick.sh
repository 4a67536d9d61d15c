#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# quick.sh - the testbed's smoke run, inside the VM (real IPVS): requests
# from the client go router -> ECMP -> load balancer pod (IPVS) -> web pods
# and reach every web pod; a web pod added or removed shows in the IPVS
# table of every load balancer, as itself (the time it took is printed, not
# asserted: under TCG it depends on the host); a load balancer pod killed
# loses its nexthop while requests keep succeeding through the others.
# In flow mode (issue 12) long-lived connections survive the graceful
# deletion of the load balancer pod that carried some of them.
# Exit 0 only if all of that holds.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
: "${BUILD:=$SRC/build/testbed}"
export BUILD SRC
. "$SRC/testbed/rig/rig.sh"
. "$SRC/testbed/rig/k8s.sh"
RIG=tbq
RIG_DIR=$(mktemp -d /tmp/testbed-quick.XXXXXX)
export RIG RIG_DIR
finish() {
    local rc=$?
    if [ "$rc" != 0 ]; then
        for f in "$RIG_DIR"/*.log; do echo "--- $f"; tail -n 15 "$f"; done
    fi
    rig_down || true
    exit "$rc"
}
trap finish EXIT
# shellcheck source=../../tests/lib/assert.sh
. "$SRC/tests/lib/assert.sh"
VIP=10.1.1.10

echo "== boxes: router (FRR), route reflector (gobgpd), master (fake API), 3 nodes, client"
rig_up
k8s_up
echo "== web pods"
for n in 1 2 3; do k8s_web_add "$n" "web$n"; done
WEB=$(for n in 1 2 3; do echo "172.16.$n.2"; done)
echo "== load balancer pods (ipvs-controller + keepalived, exabgp-helper + exabgp)"
for n in 1 2 3; do
    rig_pod_add "$n" "lb$n" >/dev/null
    k8s_lb_start "lb$n" "$n" 10.1.1.0/24 "$VIP"
done
rig_wait_nexthops 10.1.1.0/24 3 60
k8s_wait_ipvs 3 30 lb1 lb2 lb3
ip -n "$RIG-router" route show 10.1.1.0/24

answers=$(k8s_requests 90)
fails=$(grep -c FAIL <<<"$answers" || true)
seen=$(grep -v FAIL <<<"$answers" | sort -uV)
echo "90 requests: $fails failed; answered by: $(tr '\n' ' ' <<<"$seen")"
[ "$fails" = 0 ] || fail "$fails of 90 requests failed"
[ "$seen" = "$(sort -V <<<"$WEB")" ] || fail "not every web pod answered"
for n in 1 2 3; do
    echo "lb$n: IPVS connections $(k8s_ipvs_conns "lb$n")"
done
pass "client -> router (ECMP) -> IPVS -> every web pod"

# The ipvs container as manifests/ runs it holds no SYS_MODULE: once the
# init container has loaded the modules, the steps of its IPVS_PREPARE pass
# without it, and a scheduler nobody loaded (lb-algo changed, only that
# container restarted) is loaded by the kernel itself when a virtual server
# first names it.  NO_SYS_MODULE drops it from the bounding and inheritable
# sets, so what it runs has it in none of its sets (root's exec gives
# permitted = inheritable | bounding).
NO_SYS_MODULE=(setpriv --bounding-set -sys_module --inh-caps -sys_module)
eff=$("${NO_SYS_MODULE[@]}" sed -n 's/^CapEff:\t//p' /proc/self/status)
[ $(((16#$eff >> 16) & 1)) = 0 ] || fail "setpriv left SYS_MODULE in CapEff $eff"
[ ! -e /sys/module/ip_vs_nq ] || fail "ip_vs_nq is loaded already; the modprobe control needs one that is not"
if refused=$("${NO_SYS_MODULE[@]}" modprobe ip_vs_nq 2>&1); then fail "modprobe without SYS_MODULE succeeded"; fi
prep=$(grep -A1 'name: IPVS_PREPARE' "$SRC/manifests/30-loadbalancer.yaml" | sed -n 's/^ *value: "\(.*\)"$/\1/p')
[ -n "$prep" ] || fail "manifests/30-loadbalancer.yaml sets no IPVS_PREPARE for the ipvs container"
out=$(ip netns exec "$RIG-lb1" "${NO_SYS_MODULE[@]}" env IPVS_PREPARE="$prep" IPVS_CONTROLLER_LB_ALGO=rr \
    sh "$SRC/images/ipvs/ipvs-entrypoint" prepare 2>&1) || fail "the ipvs container's steps ($prep) without SYS_MODULE: $out"
echo "ipvs container's IPVS_PREPARE=$prep without SYS_MODULE: passed${out:+ ($out)}"
sched=sed
[ ! -e /sys/module/ip_vs_$sched ] || fail "ip_vs_$sched is loaded already; pick a scheduler nobody uses"
ip netns add "$RIG-sched"
echo "$RIG-sched" >>"$RIG_DIR/netns"
ip netns exec "$RIG-sched" "${NO_SYS_MODULE[@]}" ipvsadm -A -t 10.9.9.9:80 -s "$sched" ||
    fail "a virtual server with scheduler $sched could not be added without SYS_MODULE"
ip netns exec "$RIG-sched" ipvsadm -Ln | grep -q "10.9.9.9:80 $sched" || fail "the virtual server has not scheduler $sched"
[ -e /sys/module/ip_vs_$sched ] || fail "ip_vs_$sched is not loaded, yet a virtual server uses it"
pass "without SYS_MODULE: the ipvs container's steps pass, and the kernel loads ip_vs_$sched for a new lb-algo (modprobe itself: $(tr '\n' ' ' <<<"$refused"))"

# A web pod added, then removed: every load balancer's IPVS table holds
# exactly the web pods the API has, the new one included, then without it.
# The reaction is measured from the API server's answer to the change (its
# request log) to the moment all three tables have it, and printed: a
# figure, not a pass mark (TCG's speed is the host's).  The waits' limits
# only stop a hung run.
ipvs_servers() { _k8s_ipvs_read "$(_k8s_ipvs_file "$1")" | sort -V | tr '\n' ' '; }
# tables_are ADDR:PORT...: each load balancer's IPVS has exactly these
tables_are() {
    local want n got
    want=$(printf '%s\n' "$@" | sort -V | tr '\n' ' ')
    for n in 1 2 3; do
        got=$(ipvs_servers "lb$n")
        [ "$got" = "$want" ] || fail "lb$n's IPVS has real servers '$got', want '$want'"
    done
}
mapfile -t before < <(sed 's/$/:80/' <<<"$WEB")
tables_are "${before[@]}"
k8s_web_add 2 web4
web4=$(rig_pod_ip web4):80
k8s_wait_ipvs 4 60 lb1 lb2 lb3
add=$(awk -v a="$(k8s_api_time '"POST /api/v1/namespaces/default/pods ')" -v b="$K8S_IPVS_AT" 'BEGIN { printf "%.3f", b - a }')
tables_are "${before[@]}" "$web4"
k8s_web_del web4
k8s_wait_ipvs 3 60 lb1 lb2 lb3
del=$(awk -v a="$(k8s_api_time '"DELETE /api/v1/namespaces/default/pods/web4 ')" -v b="$K8S_IPVS_AT" 'BEGIN { printf "%.3f", b - a }')
tables_are "${before[@]}"
echo "web pod $web4 added: in IPVS of all 3 load balancers ${add}s after the API took it; removed: gone after ${del}s (figures, not asserted)"
pass "a web pod added or removed shows, as itself, in the IPVS of every load balancer"

rig_pod_del lb3
rig_wait_nexthops 10.1.1.0/24 2 15
nexthops=$(rig_nexthops 10.1.1.0/24 | tr '\n' ' ')
echo "lb3 killed: nexthop gone after ${RIG_WAITED}s; router nexthops now: $nexthops"
answers=$(k8s_requests 60)
fails=$(grep -c FAIL <<<"$answers" || true)
[ "$fails" = 0 ] || fail "$fails of 60 requests failed after a load balancer was killed"
pass "a load balancer pod killed loses its nexthop; requests keep succeeding"

# Flow mode (issue 12): connections survive a graceful load balancer
# change.  The NAT load balancers go; the web pods get flow mode's init
# (web-init), two load balancer pods start with --mode flow, a client holds
# long-lived connections through the VIP and one of the pods is deleted as
# the kubelet deletes it: the router moves its flows to the other pod,
# which has no state for them (sloppy_tcp, Maglev), and none may break.
echo "== flow mode: Maglev, sloppy_tcp, TUN"
# deleted as the kubelet does (no drain: no traffic now), so that their
# helpers take their routes out of the nodes: the new pods' helpers refuse
# to replace another pod's route
for n in 1 2; do
    DRAIN_SECONDS=0 IPVS_DRAIN_SECONDS=0 k8s_lb_delete "lb$n" "$n" 10.1.1.0/24 >/dev/null ||
        fail "deleting lb$n failed"
    rig_pod_del "lb$n"
done
rig_wait_nexthops 10.1.1.0/24 0 30
K8S_MODE=flow
k8s_flow_nodes
for n in 1 2 3; do k8s_web_init "web$n"; done
_rig_sysctls "$RIG-client" net.core.txrehash=0
for n in 1 2; do
    rig_pod_add "$n" "lbf$n" >/dev/null
    k8s_lb_start "lbf$n" "$n" 10.1.1.0/24 "$VIP"
done
rig_wait_nexthops 10.1.1.0/24 2 120
k8s_wait_ipvs 3 30 lbf1 lbf2
FLOWS_LOG="$RIG_DIR/flows.client.log"
FLOWS_SERIES="$RIG_DIR/flows.series"
_rig_bg flows "$RIG-client" "$RIG_PY" "$SRC/testbed/rig/flows.py" "$VIP:80" --connections 20 \
    --log "$FLOWS_LOG" --series "$FLOWS_SERIES"
# all_answering: the client's last sample has its 20 connections open and answering
all_answering() { [ "$(tail -n 1 "$FLOWS_SERIES" | cut -d' ' -f2-4)" = "20 20 0" ]; }
wait_until 60 "20 long-lived connections answering" all_answering
wait_until 10 "lbf2 carrying some of them" '[ "$(k8s_client_conns lbf2)" -gt 0 ]'
carried=$(k8s_client_conns lbf2)
k8s_lb_delete lbf2 2 10.1.1.0/24 >/dev/null || fail "deleting lbf2 failed"
rig_pod_del lbf2
rig_wait_nexthops 10.1.1.0/24 1 30
sleep 3
wait_until 60 "the connections answering again" all_answering
broken=$(grep -c ' fail ' "$FLOWS_LOG" || true)
pods=$(awk '$2 == "pod" { print $4 }' "$FLOWS_LOG" | sort -uV | tr '\n' ' ')
seen=$(awk '$2 == "pod" { print $5 }' "$FLOWS_LOG" | sort -u | tr '\n' ' ')
echo "flow mode: lbf2 carried $carried of 20 connections; deleted; broken: $broken; web pods: $pods; they saw the client as: $seen"
[ "$broken" = 0 ] || fail "flow mode: $broken connections broke when lbf2 was deleted: $(grep ' fail ' "$FLOWS_LOG" | head -n 3 | tr '\n' ';')"
pass "flow mode: a load balancer pod deleted gracefully breaks none of the connections it carried"
