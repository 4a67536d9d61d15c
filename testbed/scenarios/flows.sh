#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# flows.sh OUT - issue 12's experiment inside the VM (real IPVS): do
# long-lived connections survive load balancer changes?  The same schedule
# runs twice, each time on a fresh rig: MODES (default "nat flow"),
# K8S_MODE=nat (the paper's IPVS NAT) and K8S_MODE=flow (Maglev with the
# port, sloppy_tcp, TUN; testbed/rig/k8s.sh).  flows.py in the client holds
# CONNS (60) HTTP keep-alive connections through the VIP, each sending a
# request every 100 ms and checking every answer, while:
#
#   scale-up             a third load balancer pod starts (graceful)
#   scale-down           it is deleted as the kubelet does (both preStop hooks)
#   exabgp-kill          exabgp SIGKILLed in lb2; its container restarted
#   silent               lb2 silenced (every packet to and from it dropped:
#                        only BGP's hold time notices), then deleted
#   web-add              a fourth web pod
#   fresh-after-web-add  a load balancer pod started after that web pod
#   ack-flood            FLOOD (50,000) spoofed ACKs to the VIP from the
#                        client namespace (sloppy_tcp's cost)
#
# Before the schedule lb1 sees the web pods arrive one by one and lb2
# starts with all three; lb4 (fresh-after-web-add) starts with four.  After
# it, the table-agreement test: the same PROBES (1,000) flows asked of the
# kernel in lb1 and lb4 (ipvsprobe.py map) must go to the same web pods in
# flow mode (asserted); a control pod whose IPVS holds the same real servers
# in the reverse list order shows what a wrong order costs, and NAT mode's
# figure shows it failing there.  In flow mode, how many of those flows a
# web pod's addition moved (lb1, before and after web-add).
#
# FLOWS_RUN=0: no run; the tables and the assertions again from OUT's raw
# files (as from a real-IPVS run).
#
# Raw results into OUT/flows-MODE/ (client.log, series, events, probes),
# tables into OUT for testbed/report.sh (flows_stats.py):
#   flows.csv         mode,event,connections,broken
#   flows-events.csv  the same with the kinds, times, the longest stall
#   flows-live.csv    live and answering connections over time
#   flows-probes.csv  mode,check,pods,flows,same,differ
#   flows-flood.csv   the IPVS connection table before and after the flood
#
# Asserted (each can fail): in flow mode no connection breaks at scale-up,
# scale-down, exabgp-kill and web-add, the pod started at scale-up carried
# some of the connections (so the change moved flows), and the table
# agreement; in NAT mode the scale-up breaks some (the client can see a
# break).  Times, stalls and the other events are figures.
#
# On a kernel without IPVS (the development host) the load balancer pods
# answer themselves (echo.py serve --http) and only the schedule runs.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
: "${BUILD:=$SRC/build/testbed}"
OUT=${1:?usage: flows.sh OUTDIR}
CONNS=${CONNS:-60}
SETTLE=${SETTLE:-5}
FLOOD=${FLOOD:-50000}
PROBES=${PROBES:-1000}
MODES=${MODES:-nat flow}
export BUILD SRC
. "$SRC/testbed/rig/rig.sh"
. "$SRC/testbed/rig/k8s.sh"
# shellcheck source=../../tests/lib/assert.sh
. "$SRC/tests/lib/assert.sh"
RIG_NODES=4
export RIG_NODES
IPVS=1
if [ ! -e /proc/net/ip_vs ] && ! modprobe -q ip_vs 2>/dev/null; then
    IPVS=""
    K8S_KEEPALIVED_OPTS=-P
fi
START=$SECONDS
step() { printf '[%4ds] %s\n' $((SECONDS - START)) "$*"; }
A=10.1.1.0/24
VIP=10.1.1.10
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
PROBE="$SRC/testbed/rig/ipvsprobe.py"
STATS="$SRC/testbed/scenarios/flows_stats.py"

# ---------------------------------------------------------------- helpers

# lb_start POD NODE: a whole load balancer pod (its namespace first)
lb_start() {
    rig_pod_add "$2" "$1" >/dev/null
    [ -n "$IPVS" ] || rig_echo_start "$1" 80 http
    k8s_lb_start "$1" "$2" "$A" "$VIP"
}

# series_last: the client's last sample "TIME live answering connecting broken"
series_last() { tail -n 1 "$SERIES" 2>/dev/null || true; }

# settled: every connection open and answering in a sample of the last second
settled() {
    local t live ans conn br
    read -r t live ans conn br <<<"$(series_last)"
    [ -n "${br:-}" ] && [ "$live" = "$CONNS" ] && [ "$ans" = "$CONNS" ] && [ "$conn" = 0 ] &&
        awk -v t="$t" -v n="$EPOCHREALTIME" 'BEGIN { exit !(n - t < 1) }'
}

# settle: SETTLE seconds, then until the client has all its connections
# open and answering again (broken ones are replaced), at most 120 s
settle() {
    sleep "$SETTLE"
    local deadline=$((SECONDS + 120))
    until settled; do
        [ $SECONDS -lt $deadline ] || { step "  (the client has not recovered after 120s: $(series_last))"; return 0; }
        sleep 0.2
    done
}

# event NAME START [KEY=VALUE...]: the event's line, done now
event() {
    local name=$1 t0=$2
    shift 2
    echo "$name $t0 $EPOCHREALTIME $*" >>"$RAW/events"
    step "  $name: done after $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')s; client: $(series_last)"
}

# probe POD SOURCE FIRST_PORT NAME: ipvsprobe.py map in POD into
# $RAW/probe-NAME.json (SOURCE added to the pod's lo first)
probe() {
    ip -n "$RIG-$1" addr replace "$2/32" dev lo
    ip netns exec "$RIG-$1" "$RIG_PY" "$PROBE" map "$VIP:80" --source "$2" \
        --first-port "$3" --count "$PROBES" >"$RAW/probe-$4.json" ||
        fail "$MODE: the probe in $1 saw no decision (see $RAW/probe-$4.json)"
}

# order NAME: the real servers of a probe in the kernel's list order
order() { python3 -c 'import json, sys; print(" ".join(x.replace(" ", "/w") for x in json.load(open(sys.argv[1]))["order"]))' "$RAW/probe-$1.json"; }

# agreement CHECK PODS A B: compare two probes, one row of flows-probes.csv
agreement() {
    local same differ missing
    read -r same differ missing <<<"$("$RIG_PY" "$STATS" compare "$RAW/probe-$3.json" "$RAW/probe-$4.json")"
    echo "$MODE,$1,$2,$PROBES,$same,$differ" >>"$OUT/flows-probes.csv"
    step "  $1 ($2): $same of $PROBES flows to the same web pod, $differ to another, $missing not scheduled in both"
    AGREE_SAME=$same AGREE_DIFFER=$differ
}

# agree_check A B: the kernel lists of probes agree-A and agree-B are the
# same (order, weights) and every flow went to the same web pod; else fail
agree_check() {
    [ "$(order "agree-$1")" = "$(order "agree-$2")" ] ||
        fail "$MODE: $1 and $2 list their real servers in different orders"
    [ "$AGREE_SAME" = "$PROBES" ] ||
        fail "$MODE: $1 and $2 send $AGREE_DIFFER of $PROBES flows to different web pods ($((PROBES - AGREE_SAME - AGREE_DIFFER)) not scheduled in both)"
}

# ------------------------------------------------------------ one mode

run_mode() {
    MODE=$1
    K8S_MODE=$MODE
    RAW="$OUT/flows-$MODE"
    rm -rf "$RAW"
    mkdir -p "$RAW"
    RIG=tbw${MODE:0:1}
    RIG_DIR=$(mktemp -d "/tmp/testbed-flows-$MODE.XXXXXX")
    export RIG RIG_DIR K8S_MODE
    SERIES="$RAW/series"
    trap 'rc=$?; [ "$rc" = 0 ] || for f in "$RIG_DIR"/*.log; do echo "--- $f"; tail -n 12 "$f"; done; rig_down || true; exit "$rc"' EXIT

    step "== $MODE mode: boxes (router FRR, route reflector, master, 4 nodes, client)"
    rig_up >/dev/null
    k8s_up
    # a real router hashes a flow's ports, the same every packet; veth
    # carries the client's per-socket random hash instead, and TCP draws
    # a new one on every retransmission timeout (research note, sec. 7)
    [ -e /proc/sys/net/core/txrehash ] || fail "this kernel has no net.core.txrehash (5.18+)"
    _rig_sysctls "$RIG-client" net.core.txrehash=0
    step "web1; lb1 on node 1; web2 and web3 one by one (lb1 sees each arrive); lb2 on node 2 starts with all three"
    k8s_web_add 1 web1
    lb_start lb1 1
    [ -z "$IPVS" ] || k8s_wait_ipvs 1 120 lb1
    k8s_web_add 2 web2
    [ -z "$IPVS" ] || k8s_wait_ipvs 2 60 lb1
    k8s_web_add 3 web3
    [ -z "$IPVS" ] || k8s_wait_ipvs 3 60 lb1
    lb_start lb2 2
    rig_wait_nexthops "$A" 2 180
    [ -z "$IPVS" ] || k8s_wait_ipvs 3 60 lb1 lb2
    seen=$(ip netns exec "$RIG-client" curl -s -D - -o /dev/null --max-time 5 "http://$VIP/echo/x" |
        sed -n 's/^X-Client-Address: *\([0-9.]*\).*/\1/p') || seen=""
    step "  the web pod sees the client as ${seen:-?} (the client is $RIG_CLIENT_IP)"
    echo "$MODE,${seen:-}" >>"$OUT/flows-client-address.csv"

    _rig_bg flows.client "$RIG-client" "$RIG_PY" "$SRC/testbed/rig/flows.py" "$VIP:80" \
        --connections "$CONNS" --log "$RAW/client.log" --series "$SERIES"
    wait_until 120 "all $CONNS connections answering" settled
    step "client: $CONNS connections open and answering ($(series_last))"

    step "scale-up: lb3 on node 3"
    t0=$EPOCHREALTIME
    lb_start lb3 3
    rig_wait_nexthops "$A" 3 180
    event scale-up "$t0"
    settle
    carried=""
    [ -z "$IPVS" ] || carried=$(k8s_client_conns lb3)

    step "scale-down: lb3 deleted (both preStop hooks), its pod removed"
    t0=$EPOCHREALTIME
    k8s_lb_delete lb3 3 "$A" >/dev/null || fail "$MODE: deleting lb3 failed"
    rig_pod_del lb3
    rig_wait_nexthops "$A" 2 60
    event scale-down "$t0"
    [ -z "$carried" ] || step "  lb3 carried $carried of the client's connections"
    echo "$MODE,$carried" >>"$OUT/flows-carried.csv"
    settle

    step "exabgp-kill: exabgp SIGKILLed in lb2; its container started again"
    t0=$EPOCHREALTIME
    rig_lb_stop lb2 KILL
    rig_wait_nexthops "$A" 1 60
    left=$EPOCHREALTIME
    k8s_exabgp_start lb2 2 "$A"
    rig_wait_nexthops "$A" 2 180
    event exabgp-kill "$t0" "left=$left"
    settle

    step "silent: every packet to and from lb2 dropped; the route reflector's hold time ends its session"
    t0=$EPOCHREALTIME
    rig_pod_blackhole lb2
    rig_wait_nexthops "$A" 1 120
    left=$EPOCHREALTIME
    step "  lb2's nexthop left $(awk -v a="$t0" -v b="$left" 'BEGIN { printf "%.1f", b - a }')s after it fell silent"
    settle
    event silent "$t0" "left=$left"
    rig_pod_del lb2

    if [ -n "$IPVS" ] && [ "$MODE" = flow ]; then
        # the same flows asked again after the web pod's addition: Maglev
        # hashes address + port, so .2 with ports one lower are the same
        # flows, new to IPVS; .3 checks that before any change
        probe lb1 198.18.0.1 20000 before-web-add
        probe lb1 198.18.0.3 19998 before-web-add-again
        agreement same-flows-again lb1 before-web-add before-web-add-again
        [ "$AGREE_DIFFER" = 0 ] && [ "$AGREE_SAME" = "$PROBES" ] ||
            fail "flow: the same flows asked twice of lb1 went to other web pods ($AGREE_DIFFER) or were not scheduled: the address + port probe does not hold"
    fi

    step "web-add: web4 on node 4"
    t0=$EPOCHREALTIME
    k8s_web_add 4 web4
    [ -z "$IPVS" ] || k8s_wait_ipvs 4 60 lb1
    event web-add "$t0"
    settle
    if [ -n "$IPVS" ] && [ "$MODE" = flow ]; then
        probe lb1 198.18.0.2 19999 after-web-add
        agreement web-add-kept lb1 before-web-add after-web-add
    fi

    step "fresh-after-web-add: lb4 on node 3 starts with all four web pods"
    t0=$EPOCHREALTIME
    lb_start lb4 3
    rig_wait_nexthops "$A" 2 180
    event fresh-after-web-add "$t0"
    settle

    if [ -n "$IPVS" ]; then
        step "table agreement: the same $PROBES flows asked of lb1 (web pods one by one) and lb4 (fresh with four)"
        probe lb1 198.18.0.10 20000 agree-lb1
        probe lb4 198.18.0.10 20000 agree-lb4
        step "  lb1's real servers (kernel order): $(order agree-lb1)"
        step "  lb4's real servers (kernel order): $(order agree-lb4)"
        agreement agreement "lb1 lb4" agree-lb1 agree-lb4
        if [ "$MODE" = flow ]; then
            agree_check lb1 lb4
            pass "flow: lb1 and lb4 list the same real servers in the same order and send all $PROBES flows to the same web pods"
            # the control: lb1's real servers in the reverse list order
            rig_pod_add 4 ctl >/dev/null
            ctl=(ip netns exec "$RIG-ctl" ipvsadm)
            "${ctl[@]}" -A -t "$VIP:80" -s mh -b mh-port,mh-fallback
            # each add goes to the head: adding lb1's list front to back
            # gives the reverse of it
            python3 -c 'import json, sys; [print(x) for x in json.load(open(sys.argv[1]))["order"]]' "$RAW/probe-agree-lb1.json" |
                while read -r rs w; do "${ctl[@]}" -a -t "$VIP:80" -r "$rs" -i -w "$w"; done
            probe ctl 198.18.0.10 20000 agree-ctl
            step "  control's real servers (kernel order): $(order agree-ctl)"
            agreement control-reversed "lb1 ctl" agree-lb1 agree-ctl
            # the same check must fail on the control, every run
            if msg=$(agree_check lb1 ctl 2>&1); then
                fail "flow: the agreement check passes for a pod with the wrong order: it cannot fail"
            fi
            pass "flow: the agreement check fails for the control, as it must (${msg#FAIL: })"
        fi
    fi

    if [ -n "$IPVS" ]; then
        step "ack-flood: $FLOOD spoofed ACKs from 198.51.100.0/24 to $VIP:80 (timeouts: $(ip netns exec "$RIG-lb1" ipvsadm -L --timeout | tr -s ' '))"
        for p in lb1 lb4; do
            ip netns exec "$RIG-$p" "$RIG_PY" "$PROBE" count >"$RAW/count-before-$p.json"
        done
        t0=$EPOCHREALTIME
        ip netns exec "$RIG-client" "$RIG_PY" "$PROBE" flood "$VIP:80" --count "$FLOOD" >"$RAW/flood.json" ||
            fail "$MODE: the flood failed"
        sleep 2
        for p in lb1 lb4; do
            ip netns exec "$RIG-$p" "$RIG_PY" "$PROBE" count >"$RAW/count-after-$p.json"
        done
        event ack-flood "$t0"
        timeouts=$(ip netns exec "$RIG-lb1" ipvsadm -L --timeout | awk '{ print $(NF-2), $(NF-1), $NF }')
        for p in lb1 lb4; do
            python3 - "$MODE" "$p" "$RAW" "$timeouts" >>"$OUT/flows-flood.csv" <<'PY'
import json, sys
mode, pod, raw, timeouts = sys.argv[1:5]
b = json.load(open(f"{raw}/count-before-{pod}.json"))
a = json.load(open(f"{raw}/count-after-{pod}.json"))
f = json.load(open(f"{raw}/flood.json"))
slab = a.get("slab") or {}
print(f"{mode},{pod},{b['entries']},{a['entries']},{a['from_flood_net']},"
      f"{a['flood_expires_min'] if a['flood_expires_min'] is not None else ''},"
      f"{a['flood_expires_max'] if a['flood_expires_max'] is not None else ''},"
      f"{slab.get('objsize', '')},{slab.get('active_objs', '')},{f['sent']},{f['seconds']},"
      f"{timeouts}")
PY
        done
        step "  $(cat "$RAW/flood.json")"
        grep "^$MODE," "$OUT/flows-flood.csv" | sed 's/^/  /'
        settle
    fi

    _rig_stop_pid "$(_rig_pid flows.client | cut -d' ' -f1)" - TERM 10 || fail "the client did not stop"
    cp "$RIG_DIR/api-requests.log" "$RAW/" 2>/dev/null || true
    for f in "$RIG_DIR"/lb*.controller.log "$RIG_DIR"/lb*.exabgp.log "$RIG_DIR"/*.web-init.log; do
        [ ! -f "$f" ] || cp "$f" "$RAW/"
    done
    rig_down
    trap - EXIT
}

if [ "${FLOWS_RUN:-1}" != 0 ]; then
    rm -f "$OUT/flows-probes.csv" "$OUT/flows-flood.csv" "$OUT/flows-carried.csv" "$OUT/flows-client-address.csv"
    echo "mode,check,pods,flows,same,differ" >"$OUT/flows-probes.csv"
    echo "mode,pod,entries_before,entries_after,from_flood,expires_min_s,expires_max_s,slab_objsize,slab_objects,acks_sent,flood_seconds,timeouts_tcp_tcpfin_udp" >"$OUT/flows-flood.csv"
else
    # FLOWS_RUN=0: no run, the tables and the assertions again from OUT's raw files
    IPVS=1
fi
for m in $MODES; do
    case "$m" in nat | flow) ;; *) echo "flows.sh: MODES: '$m' is neither nat nor flow" >&2; exit 2 ;; esac
    [ "${FLOWS_RUN:-1}" = 0 ] || (run_mode "$m")
done

step "tables"
# table: CSV on stdin aligned (the VM has no column(1))
table() { if command -v column >/dev/null; then column -t -s,; else tr , '\t'; fi; }
# shellcheck disable=SC2086 # the modes are words
"$RIG_PY" "$STATS" tables "$OUT" $MODES | table
table <"$OUT/flows-probes.csv"
table <"$OUT/flows-flood.csv"

# broken MODE EVENT: the broken connections of one row of flows.csv
broken() { awk -F, -v m="$1" -v e="$2" '$1 == m && $2 == e { print $4 }' "$OUT/flows.csv"; }
if [[ " $MODES " == *" nat "* ]]; then
    b=$(broken nat scale-up)
    [ "${b:-0}" -gt 0 ] || fail "nat: no connection broke at the scale-up: the client cannot see a break"
    pass "nat: $b connections broke at the scale-up (the client sees breaks)"
fi
if [[ " $MODES " == *" flow "* ]] && [ -n "$IPVS" ]; then
    bad=""
    for e in scale-up scale-down exabgp-kill web-add; do
        b=$(broken flow "$e")
        [ "$b" = 0 ] || bad+=" $e: $b;"
    done
    [ -z "$bad" ] || fail "flow: connections broke at$bad (want 0)"
    c=$(awk -F, '$1 == "flow" { print $2 }' "$OUT/flows-carried.csv")
    [ "${c:-0}" -gt 0 ] || fail "flow: lb3 carried none of the client's connections: the scale-up moved no flow"
    pass "flow: no connection broke at scale-up, scale-down, exabgp-kill and web-add (lb3 carried $c of them)"
fi
step "done"
