#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# full.sh OUT - the paper's experiments inside the VM (real IPVS); raw
# results into OUT for testbed/report.sh:
#
#   fig12.txt        the router's table with 1 and 3 load balancer pods, and
#                    with a second service of two pods (paper Fig. 12)
#   reaction.csv     web pod added/removed -> in every IPVS table (seconds)
#   fig13c.csv       load balancer pods started/stopped at random -> the
#                    router's ECMP route changed (seconds; paper Fig. 13c)
#   fig13c-stages.csv each of those starts broken down by stage (stages.sh)
#   fig13b.csv       throughput in 2 s slices while pods change at random
#   fig13b-flow.csv  the same changes with load
#                    balancers in flow mode (issue 12; on by default,
#                    ~4 minutes; FIG13B_FLOW=0 leaves it out)
#
# Counts: REACTIONS (default 20 of each), CHANGES (default 50).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
: "${BUILD:=$SRC/build/testbed}"
OUT=${1:?usage: full.sh OUTDIR}
REACTIONS=${REACTIONS:-20}
CHANGES=${CHANGES:-50}
export BUILD SRC
. "$SRC/testbed/rig/rig.sh"
. "$SRC/testbed/rig/k8s.sh"
. "$SRC/testbed/rig/stages.sh"
RIG=tbf
RIG_NODES=4
RIG_DIR=$(mktemp -d /tmp/testbed-full.XXXXXX)
export RIG RIG_DIR RIG_NODES
finish() {
    local rc=$?
    [ "$rc" = 0 ] || for f in "$RIG_DIR"/*.log; do echo "--- $f"; tail -n 10 "$f"; done
    rig_down || true
    exit "$rc"
}
trap finish EXIT
START=$SECONDS
step() { printf '[%4ds] %s\n' $((SECONDS - START)) "$*"; }
A=10.1.1.0/24
B=10.1.2.0/24
VIP=10.1.1.10
mkdir -p "$OUT"

step "boxes: router (FRR), route reflector, master, 4 nodes, client"
rig_up >/dev/null
k8s_up
for n in 1 2 3 4; do k8s_web_add "$n" "web$n"; done

# lb_up N: load balancer pod lbN on node N for service A (a fresh pod).
lb_up() {
    rig_pod_add "$1" "lb$1" >/dev/null
    k8s_lb_start "lb$1" "$1" "$A" "$VIP"
}
# lb_down N: the pod deleted as the kubelet does (both preStop hooks: the
# announcement withdrawn, IPVS drained, then the containers stopped).
lb_down() {
    k8s_lb_delete "lb$1" "$1" "$A" >/dev/null 2>&1 || true
    rig_pod_del "lb$1"
}
# pick_change: a random change to the load balancer pods listed in "up",
# keeping 1 to 4 of them: KIND (start or stop) and LB; "up" is updated.
pick_change() {
    local down=() n
    for n in 1 2 3 4; do [[ " ${up[*]} " == *" $n "* ]] || down+=("$n"); done
    if [ ${#up[@]} -gt 1 ] && { [ ${#down[@]} = 0 ] || [ $((RANDOM % 2)) = 0 ]; }; then
        LB=${up[RANDOM % ${#up[@]}]}
        KIND=stop
        up=("${up[@]/$LB/}")
        up=(${up[@]})
    else
        LB=${down[RANDOM % ${#down[@]}]}
        KIND=start
        up+=("$LB")
    fi
}
router_table() {
    echo "\$ ip route show $1    (router, kernel table)"
    ip -n "$RIG-router" route show "$1"
}

step "Fig. 12: the router's table as load balancer pods come"
{
    lb_up 1
    rig_wait_nexthops "$A" 1 60
    echo "## (a) one load balancer pod"
    router_table "$A"
    lb_up 2
    lb_up 3
    rig_wait_nexthops "$A" 3 60
    echo
    echo "## (b) three load balancer pods"
    router_table "$A"
    for n in 1 2; do
        rig_pod_add "$n" "lbb$n" >/dev/null
        rig_lb_start "lbb$n" "$n" "$B"
    done
    rig_wait_nexthops "$B" 2 60
    echo
    echo "## (c) a second service, 10.1.2.0/24, on two load balancer pods"
    router_table "$A"
    router_table "$B"
    echo
    echo "\$ vtysh -c 'show ip route bgp'"
    rig_router_cli "show ip route bgp"
} >"$OUT/fig12.txt" 2>&1
for n in 1 2; do rig_lb_stop "lbb$n" TERM; done
rig_wait_nexthops "$B" 0 30

step "controller reaction: $REACTIONS web pods added and removed, timed to all 3 IPVS tables"
k8s_wait_ipvs 4 60 lb1 lb2 lb3
echo "event,seconds" >"$OUT/reaction.csv"
for i in $(seq "$REACTIONS"); do
    k8s_web_add $((i % 4 + 1)) "extra$i"
    k8s_wait_ipvs 5 10 lb1 lb2 lb3
    awk -v a="$(k8s_api_time '"POST /api/v1/namespaces/default/pods ')" -v b="$K8S_IPVS_AT" \
        'BEGIN { printf "add,%.3f\n", b - a }' >>"$OUT/reaction.csv"
    k8s_web_del "extra$i"
    k8s_wait_ipvs 4 10 lb1 lb2 lb3
    awk -v a="$(k8s_api_time "\"DELETE /api/v1/namespaces/default/pods/extra$i ")" -v b="$K8S_IPVS_AT" \
        'BEGIN { printf "remove,%.3f\n", b - a }' >>"$OUT/reaction.csv"
done

step "Fig. 13c: $CHANGES random changes of the number of load balancer pods"
echo "change,pods_after,seconds" >"$OUT/fig13c.csv"
echo "$STAGE_COLUMNS" >"$OUT/fig13c-stages.csv"
up=(1 2 3)
stopping=""
for i in $(seq "$CHANGES"); do
    pick_change
    t0=$EPOCHREALTIME
    if [ "$KIND" = stop ]; then
        lb_down "$LB" &
        stopping=$!
    else
        # the stages of this start into fig13c-stages.csv, polled until
        # its own nexthop is in the router
        stage_start "lb$LB" "$LB" "$A" "$VIP" 4 "$OUT/fig13c-stages.csv"
    fi
    rig_wait_nexthops "$A" ${#up[@]} 60
    t1=$EPOCHREALTIME
    # a start ends when its route was seen, not after the stages were read
    [ "$KIND" = stop ] || t1=$STAGE_ROUTE_AT
    awk -v a="$t0" -v b="$t1" -v k="$KIND" -v p=${#up[@]} \
        'BEGIN { printf "%s,%d,%.3f\n", k, p, b - a }' >>"$OUT/fig13c.csv"
    # only the stop in the background: the rig's daemons are our jobs too
    [ -z "${stopping:-}" ] || wait "$stopping"
    stopping=""
    printf '.'
done
echo

step "Fig. 13a: throughput and each load balancer's share with 1 to 4 load balancer pods"
for n in "${up[@]}"; do lb_down "$n"; done
rig_wait_nexthops "$A" 0 60
echo "lbs,requests_per_second,errors,share_lb1,share_lb2,share_lb3,share_lb4" >"$OUT/fig13a.csv"
for k in 1 2 3 4; do
    lb_up "$k"
    rig_wait_nexthops "$A" "$k" 60
    k8s_wait_ipvs 4 60 $(seq -f 'lb%g' "$k")
    before=()
    for n in $(seq "$k"); do before+=("$(k8s_ipvs_conns "lb$n")"); done
    read -r rps errs <<<"$(k8s_wrk "${WRK_SECONDS:-10}")"
    shares=()
    total=0
    for n in $(seq "$k"); do
        c=$(($(k8s_ipvs_conns "lb$n") - before[n - 1]))
        shares+=("$c")
        total=$((total + c))
    done
    line="$k,$rps,$errs"
    for n in 1 2 3 4; do
        if [ "$n" -le "$k" ] && [ "$total" -gt 0 ]; then
            line+=",$(awk -v c="${shares[n - 1]}" -v t="$total" 'BEGIN { printf "%.3f", c / t }')"
        else
            line+=","
        fi
    done
    echo "$line" >>"$OUT/fig13a.csv"
    step "  $k load balancer(s): $rps requests/s, $errs errors, connections per load balancer: ${shares[*]}"
done

SLICES=${SLICES:-40}
# fig13b CSV: SLICES slices of wrk, every fourth starting or deleting a load
# balancer pod at random; RANDOM seeded, so every call draws the same changes
fig13b() {
    local csv=$1 i change changing="" t0 rps errs hops
    echo "t,nexthops,requests_per_second,errors,change" >"$csv"
    up=(1 2 3 4)
    RANDOM=1312
    t0=$EPOCHREALTIME
    for i in $(seq "$SLICES"); do
        change=""
        if [ $((i % 4)) = 0 ]; then
            [ -z "$changing" ] || wait "$changing"
            pick_change
            if [ "$KIND" = stop ]; then lb_down "$LB"; else lb_up "$LB"; fi >/dev/null 2>&1 &
            changing=$!
            change="$KIND lb$LB"
        fi
        read -r rps errs <<<"$(k8s_wrk 2 32)"
        hops=$(rig_nexthops "$A" | grep -c . || true)
        awk -v a="$t0" -v b="$EPOCHREALTIME" -v h="$hops" -v r="$rps" -v e="$errs" -v c="$change" \
            'BEGIN { printf "%.1f,%d,%s,%s,%s\n", b - a, h, r, e, c }' >>"$csv"
        printf '.'
    done
    [ -z "$changing" ] || wait "$changing"
    echo
}
step "Fig. 13b: throughput in 2 s slices while the load balancer pods change at random ($SLICES slices)"
fig13b "$OUT/fig13b.csv"

if [ "${FIG13B_FLOW:-1}" = 1 ]; then
    # issue 12: the same draws with load balancers in flow mode (Maglev,
    # sloppy_tcp, TUN), the web pods given flow mode's init
    step "Fig. 13b in flow mode: the same changes, load balancer pods with --mode flow"
    for n in "${up[@]}"; do lb_down "$n"; done
    rig_wait_nexthops "$A" 0 60
    K8S_MODE=flow
    k8s_flow_nodes
    for n in 1 2 3 4; do k8s_web_init "web$n"; done
    for n in 1 2 3 4; do lb_up "$n"; done
    rig_wait_nexthops "$A" 4 180
    k8s_wait_ipvs 4 60 lb1 lb2 lb3 lb4
    fig13b "$OUT/fig13b-flow.csv"
    for n in "${up[@]}"; do lb_down "$n"; done
    up=()
    rig_wait_nexthops "$A" 0 60
    K8S_MODE=nat
fi

step "Fig. 10: one IPVS pod against iptables DNAT and nginx as a proxy, 4 down to 1 web pods"
for n in "${up[@]}"; do lb_down "$n"; done
rig_wait_nexthops "$A" 0 60
lb_up 1
rig_pod_add 2 dnat >/dev/null
rig_pod_add 3 proxy >/dev/null
rig_lb_start dnat 2 10.1.3.0/24
rig_lb_start proxy 3 10.1.4.0/24
ip netns exec "$RIG-dnat" sysctl -qw net.ipv4.ip_forward=1
# dnat_rules IP...: spread new connections to 10.1.3.10:80 evenly over IPs
dnat_rules() {
    local k=$# i=0 ip
    ip netns exec "$RIG-dnat" iptables -t nat -F
    for ip in "$@"; do
        ip netns exec "$RIG-dnat" iptables -t nat -A PREROUTING -d 10.1.3.10 -p tcp --dport 80 \
            -m statistic --mode nth --every $((k - i)) --packet 0 -j DNAT --to-destination "$ip:80"
        i=$((i + 1))
    done
    ip netns exec "$RIG-dnat" iptables -t nat -A POSTROUTING -d 172.16.0.0/16 -p tcp --dport 80 -j MASQUERADE
}
# proxy_conf IP...: nginx in the proxy pod, upstream = IPs, reloaded
proxy_conf() {
    local d="$RIG_DIR/proxy" ip rec
    mkdir -p "$d"
    {
        echo "worker_processes 2; pid $d/nginx.pid; error_log $d/nginx.err;"
        echo "events { worker_connections 4096; }"
        echo "http { access_log off; upstream web {"
        for ip in "$@"; do echo "  server $ip:80;"; done
        echo "  keepalive 64; }"
        echo "  server { listen 80 reuseport; location / { proxy_pass http://web;"
        echo "    proxy_http_version 1.1; proxy_set_header Connection \"\"; } } }"
    } >"$d/nginx.conf"
    rec=$(_rig_pid proxy.nginx)
    if [ -n "$rec" ]; then
        kill -HUP "${rec%% *}"
    else
        _rig_bg proxy.nginx "$RIG-proxy" nginx -g "daemon off;" -e "$d/nginx.err" -c "$d/nginx.conf"
    fi
    sleep 1
}
rig_wait_nexthops 10.1.3.0/24 1 60
rig_wait_nexthops 10.1.4.0/24 1 60
echo "web_pods,method,requests_per_second,errors" >"$OUT/fig10.csv"
for k in 4 3 2 1; do
    webs=()
    for n in $(seq "$k"); do webs+=("172.16.$n.2"); done
    k8s_wait_ipvs "$k" 60 lb1
    dnat_rules "${webs[@]}"
    proxy_conf "${webs[@]}"
    for m in ipvs:10.1.1.10 iptables-dnat:10.1.3.10 nginx-proxy:10.1.4.10; do
        read -r rps errs <<<"$(k8s_wrk "${WRK_SECONDS:-10}" 64 "http://${m#*:}/")"
        echo "$k,${m%%:*},$rps,$errs" >>"$OUT/fig10.csv"
        step "  $k web pod(s), ${m%%:*}: $rps requests/s, $errs errors"
    done
    [ "$k" = 1 ] || k8s_web_del "web$k"
done
step "done"
