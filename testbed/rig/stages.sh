# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
# stages.sh - a load balancer pod's start timed stage by stage, and the
# small clocks it needs.  Source rig.sh and k8s.sh first.
#
#   stage_start POD NODE PREFIX VIP WEBS CSV   start POD (its namespace
#       first, as the kubelet makes the sandbox) and poll until PREFIX has
#       the pod's node as nexthop in the router; append one row of
#       STAGE_COLUMNS to CSV; STAGE_ROUTE_AT is when the route was seen
#       (the stages from the logs are read after it: time the start by
#       STAGE_ROUTE_AT, not by when this returns).
#       WEBS: the real servers of weight > 0 that make IPVS "programmed";
#       empty on a kernel without IPVS (those two stages stay empty, and an
#       echo server answers in the pod instead).
#
# Polls use shell builtins on /proc files only: under TCG each fork of ip
# or ipvsadm costs 100+ ms, which would blur the stages.

STAGE_COLUMNS=start,synced,keepalived_started,vs_in_ipvs,ipvs_programmed,serving,bgp_established,announced,route_in_router

# stage_has_hop PREFIX ADDR: the router's route for PREFIX has nexthop ADDR
stage_has_hop() {
    local have
    have=$(rig_nexthops "$1")
    [[ $'\n'$have$'\n' == *$'\n'$2$'\n'* ]]
}

# stage_log_time FILE PATTERN T0: the time (seconds since the epoch) of the
# first logfmt line in FILE containing PATTERN and stamped at T0 or later;
# empty when there is none.  The project's lines start with ts=...Z (UTC, ms).
# Only the last 20 matches are read: the logs grow over a whole experiment
# (one file per pod name) and reading them in the shell took seconds.
stage_log_time() {
    local line ts e
    [ -f "$1" ] || return 0
    while IFS= read -r line; do
        [[ $line == *ts=* ]] || continue
        ts=${line#*ts=}
        ts=${ts%% *}
        e=$(date -u -d "$ts" +%s.%3N 2>/dev/null) || continue
        if awk -v a="$e" -v b="$3" 'BEGIN { exit !(a >= b - 0.001) }'; then
            echo "$e"
            return 0
        fi
    done < <(grep -F -- "$2" "$1" | tail -n 20)
}

# stage_secs A B: B - A in seconds, 3 decimals; empty if either is empty
stage_secs() {
    [ -n "$1" ] && [ -n "$2" ] || return 0
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'
}

# stage_ipvs_seen FILE: STAGE_VS virtual servers and STAGE_RS real servers
# of weight > 0 in an ip_vs file
stage_ipvs_seen() {
    local a b c d rest
    STAGE_VS=0 STAGE_RS=0
    [ -r "$1" ] || return 0
    while read -r a b c d rest; do
        case "$a" in
            TCP | UDP | FWM) STAGE_VS=$((STAGE_VS + 1)) ;;
            "->") if [[ $b =~ ^[0-9A-F]{8}:[0-9A-F]{4}$ && $d =~ ^[0-9]+$ && $d -gt 0 ]]; then STAGE_RS=$((STAGE_RS + 1)); fi ;;
        esac
    done <"$1"
    return 0 # errexit: a last line that is no real server is not a failure
}

# stage_bgp_up FILE: a /proc/PID/net/tcp holding an established connection
# to the route reflector's port 179
stage_bgp_up() {
    local _ rem st rest
    [ -r "$1" ] || return 1
    while read -r _ _ rem st rest; do
        [ "$rem" = 6D00000A:00B3 ] && [ "$st" = 01 ] && return 0
    done <"$1"
    return 1
}

stage_start() {
    local pod=$1 node=$2 prefix=$3 vip=$4 webs=$5 csv=$6
    local t0 hop f tcp vs="" rs="" est="" route="" deadline ip
    rig_pod_add "$node" "$pod" >/dev/null
    ip=$RIG_POD_IP
    hop=$(_rig_node_ip "$node")
    [ -n "$webs" ] || rig_echo_start "$pod"
    t0=$EPOCHREALTIME
    k8s_lb_start "$pod" "$node" "$prefix" "$vip"
    f=$(_k8s_ipvs_file "$pod")
    tcp="${f%/ip_vs}/tcp"
    deadline=$((SECONDS + 180))
    while [ -z "$route" ]; do
        if [ -n "$webs" ] && [ -z "$rs" ]; then
            stage_ipvs_seen "$f"
            [ -n "$vs" ] || [ "$STAGE_VS" = 0 ] || vs=$EPOCHREALTIME
            [ "$STAGE_RS" -lt "$webs" ] || rs=$EPOCHREALTIME
        fi
        if [ -z "$est" ] && stage_bgp_up "$tcp" && [ "$(rig_rr_state "$ip")" = established ]; then
            est=$EPOCHREALTIME
        fi
        ! stage_has_hop "$prefix" "$hop" || route=$EPOCHREALTIME
        if [ $SECONDS -ge $deadline ]; then
            _rig_err "start of $pod: its route is not in the router after 180s"
            return 1
        fi
        [ -n "$route" ] || sleep 0.05
    done
    STAGE_ROUTE_AT=$route
    local log="$RIG_DIR/$pod.controller.log" synced kstart serving announced
    synced=$(stage_log_time "$log" 'msg="first sync complete"' "$t0")
    kstart=$(stage_log_time "$log" 'msg="keepalived started"' "$t0")
    serving=$(stage_log_time "$log" 'msg=serving ' "$t0")
    announced=$(stage_log_time "$RIG_DIR/$pod.exabgp.log" 'msg="announcing:' "$t0")
    [ -n "$est" ] || est=$route # the session came up with the route, between two polls
    echo "$pod,$(stage_secs "$t0" "$synced"),$(stage_secs "$t0" "$kstart"),$(stage_secs "$t0" "$vs"),$(stage_secs "$t0" "$rs"),$(stage_secs "$t0" "$serving"),$(stage_secs "$t0" "$est"),$(stage_secs "$t0" "$announced"),$(stage_secs "$t0" "$route")" >>"$csv"
}
