# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
# rig.sh - the paper's BGP/ECMP testbed (Takahashi et al. 2019, sec. 4.3, 5.2,
# appendices B-D) built out of network namespaces.  Source it, set RIG (a
# unique name prefix) and RIG_DIR (a directory the caller owns), then call
# rig_up ... rig_down.  See README.md beside this file.
#
# Every namespace is named "$RIG-<box>"; veths are created directly inside
# their namespaces, so nothing appears in the host namespace.  Every process
# started is recorded in $RIG_DIR/pids ("NAME PID STARTTIME") and is the only
# thing rig_down signals, besides whatever is still inside the rig's own
# namespaces.  Safe under set -euo pipefail; functions return non-zero with a
# message on stderr when something does not happen in time.

RIG_LIB_FILE=$(readlink -f "${BASH_SOURCE[0]}")
RIG_LIB_DIR=$(dirname "$RIG_LIB_FILE")

: "${RIG_ROUTER:=frr}"              # frr | bird
: "${RIG_GOBGP_PORT:=50051}"        # gobgpd gRPC port inside $RIG-rr (127.0.0.1)
: "${RIG_RR_HOLD_TIME:=90}"         # hold time of the k8s peer group on the RR
: "${RIG_GOBGPD_CONF:=}"           # use this gobgpd.toml on the RR instead of writing one
: "${RIG_MD5_PASSWORD:=}"           # TCP-MD5 password of the k8s peer group ...
: "${RIG_MD5_PEERS:=}"              # ... enforced for these pod addresses (see below)
: "${RIG_SESSION_TIMEOUT:=30}"      # seconds for router<->RR to reach Established
: "${RIG_STOP_TIMEOUT:=10}"         # seconds for a process to exit after a signal
RIG_PY=/usr/bin/python3
RIG_AS=65021
RIG_RR_IP=10.0.0.109
RIG_ROUTER_IP=10.0.0.110
RIG_CLIENT_IP=192.0.2.2
: "${RIG_NODES:=3}"                # nodes 1..RIG_NODES at 10.0.0.105.. (at most 4)
# shellcheck disable=SC2034  # results for the caller
RIG_WAITED=""                       # seconds the last rig_wait_* took
# shellcheck disable=SC2034
RIG_POD_IP=""                       # address given by the last rig_pod_add
# shellcheck disable=SC2034
RIG_LB_STATUS=""                    # exit status seen by the last rig_lb_stop

export RIG_ROUTER RIG_GOBGP_PORT RIG_RR_HOLD_TIME RIG_GOBGPD_CONF RIG_MD5_PASSWORD RIG_MD5_PEERS

# ---------------------------------------------------------------- internals

_rig_err() { echo "rig: $*" >&2; }

_rig_need_env() {
    if [ -z "${RIG:-}" ] || [ -z "${RIG_DIR:-}" ]; then
        _rig_err "set RIG (unique name prefix) and RIG_DIR (a directory you own) first"
        return 1
    fi
    case "$RIG" in
        *[!A-Za-z0-9_.-]*) _rig_err "RIG='$RIG': use letters, digits, '_', '.', '-' only"; return 1 ;;
    esac
    [ -d "$RIG_DIR" ] || { _rig_err "RIG_DIR=$RIG_DIR is not a directory"; return 1; }
    export RIG RIG_DIR
}

_rig_node_ip() { echo "10.0.0.$((104 + $1))"; }

# _rig_now: seconds since the epoch with microseconds.
_rig_now() { echo "${EPOCHREALTIME/,/.}"; }
# _rig_since T0: seconds elapsed since T0 (from _rig_now), 3 decimals.
_rig_since() { awk -v a="$1" -v b="$(_rig_now)" 'BEGIN { printf "%.3f", b - a }'; }

# _rig_stat PID: the fields of /proc/PID/stat after "(comm)" in array
# RIG_STAT (RIG_STAT[0] is the state, RIG_STAT[19] the start time).
_rig_stat() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    read -r -a RIG_STAT <<<"${stat##*) }"
}

_rig_starttime() {
    if _rig_stat "$1"; then echo "${RIG_STAT[19]:--}"; else echo -; fi
}

# _rig_alive PID [STARTTIME]: the process exists, is not a zombie and, when
# STARTTIME is given, is still the very process that was recorded.
_rig_alive() {
    _rig_stat "$1" || return 1
    case "${RIG_STAT[0]}" in Z|X) return 1 ;; esac
    [ -z "${2:-}" ] || [ "$2" = - ] || [ "$2" = "${RIG_STAT[19]}" ]
}

# _rig_record_ns NAME: remember a namespace before creating it.
_rig_record_ns() { echo "$1" >>"$RIG_DIR/netns"; }

# _rig_bg NAME NETNS CMD...: start CMD inside NETNS in the background with
# stdout+stderr appended to $RIG_DIR/NAME.log; record and print nothing,
# set RIG_LAST_PID.  ip netns exec execs CMD, so the PID is CMD's own.
_rig_bg() {
    local name=$1 ns=$2; shift 2
    ip netns exec "$ns" "$@" >>"$RIG_DIR/$name.log" 2>&1 </dev/null &
    RIG_LAST_PID=$!
    echo "$name $RIG_LAST_PID $(_rig_starttime "$RIG_LAST_PID")" >>"$RIG_DIR/pids"
}

# _rig_pid NAME: the recorded PID of NAME (last one), empty if none.
_rig_pid() {
    local n p s pid=""
    [ -f "$RIG_DIR/pids" ] || return 0
    while read -r n p s; do
        [ "$n" = "$1" ] && pid="$p $s"
    done <"$RIG_DIR/pids"
    echo "$pid"
}

# _rig_forget PID: drop PID from the record.
_rig_forget() {
    local n p s rest=""
    [ -f "$RIG_DIR/pids" ] || return 0
    while read -r n p s; do
        [ "$p" = "$1" ] || rest+="$n $p $s"$'\n'
    done <"$RIG_DIR/pids"
    printf '%s' "$rest" >"$RIG_DIR/pids"
}

# _rig_stop_pid PID STARTTIME SIGNAL TIMEOUT: signal and wait for exit.  Sets
# RIG_STOP_STATUS to the exit status when PID is this shell's child (127
# otherwise).  stderr is silenced so bash's "Killed" job notice stays quiet.
_rig_stop_pid() {
    local pid=$1 st=$2 sig=$3 secs=$4 t0 rc=0
    RIG_STOP_STATUS=127
    {
        if _rig_alive "$pid" "$st"; then
            kill -s "$sig" "$pid" || true
            t0=$SECONDS
            while _rig_alive "$pid" "$st"; do
                [ $((SECONDS - t0)) -lt "$secs" ] || return 1
                sleep 0.05
            done
        fi
        wait "$pid" || rc=$?
    } 2>/dev/null
    RIG_STOP_STATUS=$rc
}

# _rig_terminate PID STARTTIME SECONDS: TERM, then KILL after SECONDS.
_rig_terminate() {
    _rig_stop_pid "$1" "$2" TERM "$3" && return 0
    _rig_stop_pid "$1" "$2" KILL 3 || true
}

_rig_tail_log() {
    [ -f "$RIG_DIR/$1.log" ] || return 0
    echo "--- last lines of $RIG_DIR/$1.log:" >&2
    tail -n "${2:-15}" "$RIG_DIR/$1.log" >&2 || true
}

# _rig_in_bash FUNC ARGS...: run FUNC in a fresh bash with errexit, so a
# failing step stops the build even when the caller has errexit off.
_rig_in_bash() {
    bash -euo pipefail -c 'source "$1"; shift; "$@"' rig "$RIG_LIB_FILE" "$@"
}

# _rig_sysctls NETNS KEY=VALUE...
_rig_sysctls() {
    local ns=$1; shift
    ip netns exec "$ns" sysctl -q -w "$@" >/dev/null
}

# _rig_box NAME: a namespace with lo up and plain IPv4 behaviour.
_rig_box() {
    local ns="$RIG-$1"
    if [ -e "/var/run/netns/$ns" ]; then
        echo "rig: namespace $ns already exists (another rig named $RIG?)" >&2
        return 1
    fi
    _rig_record_ns "$ns"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    _rig_sysctls "$ns" net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
        net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

# _rig_lan_port BOX ADDR: BOX's eth0 on the switch's br0 with ADDR/24.
_rig_lan_port() {
    local box=$1 addr=$2
    ip link add eth0 netns "$RIG-$box" type veth peer name "$box" netns "$RIG-sw"
    ip -n "$RIG-sw" link set "$box" master br0 up
    ip -n "$RIG-$box" addr add "$addr/24" dev eth0
    ip -n "$RIG-$box" link set eth0 up
}

_rig_build_boxes() {
    local n m box
    case "$RIG_NODES" in [1-4]) ;; *) _rig_err "RIG_NODES=$RIG_NODES: 1..4 (10.0.0.109 is the RR)"; return 1 ;; esac
    for box in sw router client rr $(seq -f 'node%g' "$RIG_NODES"); do
        if [ -e "/var/run/netns/$RIG-$box" ]; then
            echo "rig: namespace $RIG-$box already exists (another rig named $RIG?)" >&2
            return 1
        fi
    done
    _rig_box sw
    ip -n "$RIG-sw" link add br0 type bridge
    ip -n "$RIG-sw" link set br0 up

    _rig_box router
    _rig_lan_port router "$RIG_ROUTER_IP"
    _rig_sysctls "$RIG-router" net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1

    _rig_box client
    ip link add eth0 netns "$RIG-client" type veth peer name eth1 netns "$RIG-router"
    ip -n "$RIG-router" addr add 192.0.2.1/24 dev eth1
    ip -n "$RIG-router" link set eth1 up
    ip -n "$RIG-client" addr add "$RIG_CLIENT_IP/24" dev eth0
    ip -n "$RIG-client" link set eth0 up
    ip -n "$RIG-client" route add default via 192.0.2.1

    _rig_box rr
    _rig_lan_port rr "$RIG_RR_IP"
    for n in $(seq "$RIG_NODES"); do
        ip -n "$RIG-rr" route add "172.16.$n.0/24" via "$(_rig_node_ip "$n")"
    done

    for n in $(seq "$RIG_NODES"); do
        box="node$n"
        _rig_box "$box"
        _rig_lan_port "$box" "$(_rig_node_ip "$n")"
        _rig_sysctls "$RIG-$box" net.ipv4.ip_forward=1
        ip -n "$RIG-$box" route add default via "$RIG_ROUTER_IP"
        ip -n "$RIG-$box" link add docker0 type bridge
        ip -n "$RIG-$box" addr add "172.16.$n.1/24" dev docker0
        ip -n "$RIG-$box" link set docker0 up
        for m in $(seq "$RIG_NODES"); do
            [ "$m" = "$n" ] && continue
            ip -n "$RIG-$box" route add "172.16.$m.0/24" via "$(_rig_node_ip "$m")"
        done
    done
}

# ------------------------------------------------------------- route reflector

_rig_toml_str() {
    local s=${1//\\/\\\\}
    printf '"%s"' "${s//\"/\\\"}"
}

_rig_write_gobgpd_conf() {
    local auth="" md5_neighbors="" a
    [ -z "$RIG_MD5_PASSWORD" ] || auth="    auth-password = $(_rig_toml_str "$RIG_MD5_PASSWORD")"
    # gobgpd 3.10 keys its listener only for configured neighbors, not for
    # a peer group's dynamic range (gobgp issue 2589): pods that must sign
    # their sessions are listed as passive neighbors of the same group.
    for a in $RIG_MD5_PEERS; do
        md5_neighbors+="
[[neighbors]]
  [neighbors.config]
    neighbor-address = \"$a\"
    peer-group = \"k8s\"
    peer-as = $RIG_AS
$auth
  [neighbors.transport.config]
    passive-mode = true
  [neighbors.timers.config]
    hold-time = $RIG_RR_HOLD_TIME
    keepalive-interval = $((RIG_RR_HOLD_TIME / 3))
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = \"ipv4-unicast\"
"
    done
    cat >"$RIG_DIR/gobgpd.toml" <<EOF
# gobgpd on the route reflector, as in the paper's appendix C.
[global.config]
  as = $RIG_AS
  router-id = "$RIG_RR_IP"
  local-address-list = ["0.0.0.0"]
[global.use-multiple-paths.config]
  enabled = true

[[peer-groups]]
  [peer-groups.config]
    peer-group-name = "k8s"
    peer-as = $RIG_AS
$auth
  [peer-groups.timers.config]
    hold-time = $RIG_RR_HOLD_TIME
    keepalive-interval = $((RIG_RR_HOLD_TIME / 3))
  [[peer-groups.afi-safis]]
    [peer-groups.afi-safis.config]
      afi-safi-name = "ipv4-unicast"

[[dynamic-neighbors]]
  [dynamic-neighbors.config]
    prefix = "172.16.0.0/16"
    peer-group = "k8s"

[[neighbors]]
  [neighbors.config]
    neighbor-address = "$RIG_ROUTER_IP"
    peer-as = $RIG_AS
  [neighbors.timers.config]
    connect-retry = 2
  [neighbors.route-reflector.config]
    route-reflector-client = true
    route-reflector-cluster-id = "$RIG_RR_IP"
  [neighbors.add-paths.config]
    send-max = 255
    receive = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
    [neighbors.afi-safis.add-paths.config]
      send-max = 255
      receive = true
$md5_neighbors
EOF
}

# rig_gobgp ARGS...: the gobgp CLI against the rig's gobgpd.
rig_gobgp() {
    ip netns exec "$RIG-rr" gobgp -p "$RIG_GOBGP_PORT" "$@"
}

_rig_start_gobgpd() {
    local deadline out
    if [ -n "$RIG_GOBGPD_CONF" ]; then
        cp "$RIG_GOBGPD_CONF" "$RIG_DIR/gobgpd.toml"
    else
        _rig_write_gobgpd_conf
    fi
    _rig_bg gobgpd "$RIG-rr" gobgpd -f "$RIG_DIR/gobgpd.toml" -t toml -p -l info \
        --api-hosts "127.0.0.1:$RIG_GOBGP_PORT" --pprof-disable
    local pid=$RIG_LAST_PID
    deadline=$((SECONDS + 15))
    while :; do
        if out=$(rig_gobgp global 2>&1) && [[ "$out" == *"$RIG_RR_IP"* ]]; then
            break
        fi
        if ! _rig_alive "$pid"; then
            _rig_err "gobgpd exited during start-up"; _rig_tail_log gobgpd; return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            _rig_err "gobgpd's API on 127.0.0.1:$RIG_GOBGP_PORT in $RIG-rr did not answer within 15s: $out"
            _rig_tail_log gobgpd; return 1
        fi
        sleep 0.1
    done
}

# rig_rr_state ADDR: the RR's BGP state for neighbor ADDR (established,
# active, idle, ...), or "none" when gobgpd has no such neighbor.
rig_rr_state() {
    local out
    out=$(rig_gobgp neighbor "$1" 2>/dev/null) || { echo none; return 0; }
    case "$out" in
        *"BGP state = "*) out=${out#*BGP state = }; out=${out%%[!A-Za-z]*}; echo "${out,,}" ;;
        *) echo none ;;
    esac
}

# rig_wait_rr_state ADDR STATE SECONDS: wait until the RR's session with ADDR
# is in STATE (e.g. established); sets RIG_WAITED.
rig_wait_rr_state() {
    local addr=$1 want=$2 secs=$3 t0 deadline st
    t0=$(_rig_now)
    deadline=$((SECONDS + secs))
    while :; do
        st=$(rig_rr_state "$addr")
        [ "$st" != "$want" ] || break
        if [ "$SECONDS" -ge "$deadline" ]; then
            _rig_err "timed out after ${secs}s: the route reflector's session with $addr did not become $want (it is $st)"
            return 1
        fi
        sleep 0.05
    done
    RIG_WAITED=$(_rig_since "$t0")
}

# ---------------------------------------------------------------- the router

_rig_frr_dir() { echo "$RIG_DIR/frr"; }

# _rig_write_frr_conf DIR: zebra.conf and bgpd.conf of the router (also
# what testbed/vagrant provisions a router VM with).
_rig_write_frr_conf() {
    local d=$1
    mkdir -p "$d"
    cat >"$d/zebra.conf" <<EOF
hostname $RIG-router
EOF
    # appendix B runs gobgpd+zebra; gobgpd 3.10 cannot talk to FRR 8.4's
    # zebra (gobgp issue 2681), so FRR's own bgpd is the router here.
    cat >"$d/bgpd.conf" <<EOF
frr defaults traditional
hostname $RIG-router
!
router bgp $RIG_AS
 bgp router-id $RIG_ROUTER_IP
 no bgp default ipv4-unicast
 neighbor $RIG_RR_IP remote-as $RIG_AS
 neighbor $RIG_RR_IP timers connect 2
 !
 address-family ipv4 unicast
  neighbor $RIG_RR_IP activate
  maximum-paths ibgp 16
 exit-address-family
!
EOF
}

_rig_start_frr() {
    local d
    d=$(_rig_frr_dir)
    _rig_write_frr_conf "$d"
    chown -R frr:frr "$d"
    chmod 750 "$d"
    # FRR drops to user frr: it must be able to reach $d.
    if ! runuser -u frr -- test -r "$d/bgpd.conf" 2>/dev/null; then
        chmod o+x "$RIG_DIR"
        runuser -u frr -- test -r "$d/bgpd.conf" 2>/dev/null || {
            _rig_err "user frr cannot reach $d (a parent directory of RIG_DIR is closed to it)"
            return 1
        }
    fi
    local common=(--vty_socket "$d" -z "$d/zserv.api" -A 127.0.0.1 -P 0 -u frr -g frr
        --log stdout --log-level informational)
    _rig_bg zebra "$RIG-router" /usr/lib/frr/zebra "${common[@]}" -f "$d/zebra.conf" -i "$d/zebra.pid"
    _rig_wait_sockets zebra "$RIG_LAST_PID" "$d/zserv.api" "$d/zebra.vty" || return 1
    _rig_bg bgpd "$RIG-router" /usr/lib/frr/bgpd "${common[@]}" -f "$d/bgpd.conf" -i "$d/bgpd.pid"
    _rig_wait_sockets bgpd "$RIG_LAST_PID" "$d/bgpd.vty"
}

# _rig_wait_sockets NAME PID SOCKET...: until the daemon NAME (PID) has
# created every SOCKET, for 15 s at most; fails at once if it exits.
_rig_wait_sockets() {
    local name=$1 pid=$2 deadline=$((SECONDS + 15)) s
    shift 2
    for s in "$@"; do
        until [ -S "$s" ]; do
            _rig_alive "$pid" || { _rig_err "$name exited during start-up"; _rig_tail_log "$name"; return 1; }
            [ "$SECONDS" -lt "$deadline" ] || { _rig_err "$name did not create $s within 15s"; _rig_tail_log "$name"; return 1; }
            sleep 0.05
        done
    done
}

_rig_start_bird() {
    cat >"$RIG_DIR/bird.conf" <<EOF
# BIRD 2 as the upstream router: iBGP to the route reflector with ADD-PATH
# receive, all paths merged into one multipath kernel route.
log stderr all;
router id $RIG_ROUTER_IP;

protocol device { scan time 10; }

protocol kernel {
    ipv4 { import none; export where source = RTS_BGP; };
    merge paths on;
}

protocol bgp reflector {
    local $RIG_ROUTER_IP as $RIG_AS;
    neighbor $RIG_RR_IP as $RIG_AS;
    direct;
    connect delay time 0;
    connect retry time 2;
    ipv4 {
        import all;
        export none;
        gateway direct;
        add paths rx;
    };
}
EOF
    _rig_bg bird "$RIG-router" bird -f -c "$RIG_DIR/bird.conf" -s "$RIG_DIR/bird.ctl" -P "$RIG_DIR/bird.pid"
    _rig_wait_sockets bird "$RIG_LAST_PID" "$RIG_DIR/bird.ctl"
}

# _rig_router: the router daemon this rig was brought up with.
_rig_router() { cat "$RIG_DIR/router" 2>/dev/null || echo "$RIG_ROUTER"; }

# rig_router_cli ARGS...: the router daemon's CLI (vtysh -c "ARGS" for FRR,
# birdc ARGS for BIRD).
rig_router_cli() {
    case "$(_rig_router)" in
        frr) vtysh --vty_socket "$(_rig_frr_dir)" -c "$*" ;;
        bird) birdc -s "$RIG_DIR/bird.ctl" "$@" ;;
    esac
}

# ------------------------------------------------------------------- public

# rig_up: build the boxes, start gobgpd and the router daemon, wait until the
# router<->RR session is Established.
rig_up() {
    _rig_need_env || return 1
    case "$RIG_ROUTER" in
        frr|bird) ;;
        *) _rig_err "RIG_ROUTER=$RIG_ROUTER: use frr or bird"; return 1 ;;
    esac
    [ "$(id -u)" = 0 ] || { _rig_err "rig_up needs root"; return 1; }
    touch "$RIG_DIR/pids" "$RIG_DIR/netns"
    mkdir -p "$RIG_DIR/pods.d"
    echo "$RIG_ROUTER" >"$RIG_DIR/router"
    local t0 tup
    tup=$(_rig_now)
    _rig_in_bash _rig_build_boxes || { _rig_err "building the namespaces failed"; return 1; }
    _rig_start_gobgpd || return 1
    t0=$(_rig_now)
    case "$RIG_ROUTER" in
        frr) _rig_start_frr || return 1 ;;
        bird) _rig_start_bird || return 1 ;;
    esac
    if ! rig_wait_rr_state "$RIG_ROUTER_IP" established "$RIG_SESSION_TIMEOUT" 2>/dev/null; then
        _rig_err "timed out after ${RIG_SESSION_TIMEOUT}s: the router ($RIG_ROUTER) <-> route reflector BGP session did not become Established (RR sees: $(rig_rr_state "$RIG_ROUTER_IP"))"
        _rig_tail_log gobgpd
        case "$RIG_ROUTER" in frr) _rig_tail_log bgpd ;; bird) _rig_tail_log bird ;; esac
        return 1
    fi
    RIG_WAITED=$(_rig_since "$t0")
    echo "rig $RIG: router ($RIG_ROUTER) <-> route reflector session Established ${RIG_WAITED}s after the router daemon started (rig_up took $(_rig_since "$tup")s)"
}

# rig_down: stop everything the rig started, kill what is left inside the
# rig's namespaces, delete them.  Idempotent; never fails.
rig_down() {
    [ -n "${RIG:-}" ] && [ -n "${RIG_DIR:-}" ] || return 0
    local n p s i lines=() ns nss=() pids
    if [ -f "$RIG_DIR/pids" ]; then
        while read -r n p s; do
            [ -n "$p" ] && lines+=("$p ${s:--}")
        done <"$RIG_DIR/pids" || true
        for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
            read -r p s <<<"${lines[i]}"
            if _rig_alive "$p" "$s"; then kill -TERM "$p" 2>/dev/null || true; fi
        done
        for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
            read -r p s <<<"${lines[i]}"
            _rig_terminate "$p" "$s" 5
        done
        : >"$RIG_DIR/pids" || true
    fi
    # only namespaces this rig created: a second rig started by mistake with
    # the same RIG must not take the first one's down with it
    if [ -f "$RIG_DIR/netns" ]; then
        while read -r ns; do [ -n "$ns" ] && nss+=("$ns"); done <"$RIG_DIR/netns" || true
    fi
    for ns in "${nss[@]}"; do
        [ -e "/var/run/netns/$ns" ] || continue
        pids=$(ip netns pids "$ns" 2>/dev/null) || pids=""
        for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
    done
    for ns in "${nss[@]}"; do
        [ -e "/var/run/netns/$ns" ] || continue
        for _ in $(seq 50); do
            pids=$(ip netns pids "$ns" 2>/dev/null) || pids=""
            [ -n "$pids" ] || break
            sleep 0.05
        done
        ip netns del "$ns" 2>/dev/null || true
    done
    : >"$RIG_DIR/netns" 2>/dev/null || true
    rm -rf "$RIG_DIR/pods.d" 2>/dev/null || true
    return 0
}

_rig_pod_file() { echo "$RIG_DIR/pods.d/$1"; }

# _rig_pod_get POD KEY: a field of the pod's record (node idx ip veth).
_rig_pod_get() {
    local f k v
    f=$(_rig_pod_file "$1")
    [ -f "$f" ] || { _rig_err "no pod $1 in rig $RIG"; return 1; }
    while read -r k v; do [ "$k" = "$2" ] && { echo "$v"; return 0; }; done <"$f"
    _rig_err "pod $1 has no $2"; return 1
}

_rig_build_pod() {
    local node=$1 pod=$2 idx=$3 ip=$4 veth=$5
    local ns="$RIG-$pod"
    _rig_box "$pod"
    ip link add eth0 netns "$ns" type veth peer name "$veth" netns "$RIG-node$node"
    ip -n "$RIG-node$node" link set "$veth" master docker0 up
    ip -n "$ns" addr add "$ip/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add default via "172.16.$node.1"
}

# rig_pod_add NODE POD: namespace $RIG-POD on node NODE (1..3) with eth0
# 172.16.NODE.K/24 (K >= 2, never reused in this rig), default via
# 172.16.NODE.1.  Prints the address and sets RIG_POD_IP.
rig_pod_add() {
    _rig_need_env || return 1
    local node=${1:-} pod=${2:-} idx cf ip veth
    case "$node" in [1-9]) [ "$node" -le "$RIG_NODES" ] ;; *) false ;; esac ||
        { _rig_err "rig_pod_add NODE POD: NODE must be 1..$RIG_NODES, not '$node'"; return 1; }
    case "$pod" in
        ""|*[!A-Za-z0-9_-]*|-*) _rig_err "rig_pod_add: bad pod name '$pod' (letters, digits, '_', '-')"; return 1 ;;
        sw|router|client|rr|k8smaster|node[0-9]*|frr|pids|netns|bird|gobgpd|zebra|bgpd)
            _rig_err "rig_pod_add: pod name '$pod' is reserved by the rig"; return 1 ;;
    esac
    [ -d "$RIG_DIR/pods.d" ] || { _rig_err "rig $RIG is not up (call rig_up first)"; return 1; }
    [ ! -e "$(_rig_pod_file "$pod")" ] || { _rig_err "pod $pod already exists"; return 1; }
    cf="$RIG_DIR/pods.d/.next$node"
    idx=2
    [ -f "$cf" ] && idx=$(cat "$cf")
    [ "$idx" -le 254 ] || { _rig_err "node $node has no free pod address left"; return 1; }
    echo $((idx + 1)) >"$cf"
    ip="172.16.$node.$idx"
    veth="veth$idx"
    printf 'node %s\nidx %s\nip %s\nveth %s\n' "$node" "$idx" "$ip" "$veth" >"$(_rig_pod_file "$pod")"
    _rig_in_bash _rig_build_pod "$node" "$pod" "$idx" "$ip" "$veth" ||
        { _rig_err "creating pod $pod on node $node failed"; return 1; }
    # shellcheck disable=SC2034
    RIG_POD_IP=$ip
    echo "$ip"
}

# rig_pod_ip POD: the pod's address.
rig_pod_ip() {
    local f
    f=$(_rig_pod_file "$1")
    [ -f "$f" ] || { _rig_err "no pod $1"; return 1; }
    sed -n 's/^ip //p' "$f"
}

# rig_pod_del POD: stop the pod's processes and delete its namespace (the
# node-side veth goes with it).  Routes the LB put in the node are left.
rig_pod_del() {
    _rig_need_env || return 1
    local pod=$1 n p s l lines=() pids
    [ -f "$(_rig_pod_file "$pod")" ] || { _rig_err "no pod $pod in rig $RIG"; return 1; }
    while read -r n p s; do
        case "$n" in "$pod".*) lines+=("$p ${s:--}") ;; esac
    done <"$RIG_DIR/pids"
    for l in "${lines[@]}"; do
        read -r p s <<<"$l"
        _rig_terminate "$p" "$s" "$RIG_STOP_TIMEOUT"
        _rig_forget "$p"
    done
    pids=$(ip netns pids "$RIG-$pod" 2>/dev/null) || pids=""
    for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
    ip netns del "$RIG-$pod" || { _rig_err "could not delete namespace $RIG-$pod"; return 1; }
    rm -f "$(_rig_pod_file "$pod")" "$RIG_DIR/pods.d/.bh-$pod"
}

# rig_lb_start POD NODE PREFIXES [NAME=VALUE...]: run the project's helper
# ($HELPER, default $BUILD/exabgp-helper/exabgp-helper) in the pod, in the
# background, logging to $RIG_DIR/POD.exabgp.log.  Sets RIG_LAST_PID.
rig_lb_start() {
    _rig_need_env || return 1
    local pod=${1:-} node=${2:-} prefixes=${3:-} a pnode
    [ $# -ge 3 ] || { _rig_err "usage: rig_lb_start POD NODE PREFIXES [NAME=VALUE...]"; return 1; }
    shift 3
    pnode=$(_rig_pod_get "$pod" node) || return 1
    [ "$pnode" = "$node" ] || { _rig_err "pod $pod is on node $pnode, not $node"; return 1; }
    for a in "$@"; do
        [[ "$a" == [A-Za-z_]*=* ]] || { _rig_err "rig_lb_start: '$a' is not NAME=VALUE"; return 1; }
    done
    _rig_helper_env "$pod" "$node" "$prefixes" || return 1
    _rig_bg "$pod.exabgp" "$RIG-$pod" env "${RIG_HELPER_ENV[@]}" "$@" "$RIG_HELPER" run
}

# _rig_helper_env POD NODE PREFIXES: the helper binary (RIG_HELPER) and the
# environment a load balancer pod gives it (RIG_HELPER_ENV).
_rig_helper_env() {
    RIG_HELPER=${HELPER:-${BUILD:+$BUILD/exabgp-helper/exabgp-helper}}
    [ -n "$RIG_HELPER" ] || { _rig_err "set HELPER or BUILD"; return 1; }
    [ -x "$RIG_HELPER" ] || { _rig_err "helper $RIG_HELPER is not there (or not executable)"; return 1; }
    mkdir -p "$RIG_DIR/$1"
    RIG_HELPER_ENV=(
        NODE_NETNS="/var/run/netns/$RIG-node$2"
        SERVICE_PREFIXES="$3"
        PEERS="$RIG_RR_IP" LOCAL_AS="$RIG_AS" PEER_AS="$RIG_AS"
        HOLD_TIME="${HOLD_TIME:-9}"
        EXABGP_CONF="$RIG_DIR/$1/exabgp.conf"
        EXABGP=/usr/sbin/exabgp
        # no controller here to ask: announce unconditionally (the paper's
        # way) unless the caller passes HEALTH_URL=... (k8s_lb_start does)
        HEALTH_URL=
    )
}

# rig_helper POD NODE PREFIXES ARGS...: exabgp-helper itself (cleanup, a dry
# run) in a load balancer pod, with the environment rig_lb_start gave it.
rig_helper() {
    _rig_need_env || return 1
    local pod=$1 node=$2 prefixes=$3
    shift 3
    _rig_helper_env "$pod" "$node" "$prefixes" || return 1
    ip netns exec "$RIG-$pod" env "${RIG_HELPER_ENV[@]}" "$RIG_HELPER" "$@"
}

# rig_lb_stop POD [SIGNAL]: signal the pod's load balancer (default TERM) and
# wait for it to exit.  Sets RIG_LB_STATUS to its exit status when this shell
# started it (127 when unknown).
rig_lb_stop() {
    _rig_need_env || return 1
    local pod=$1 sig=${2:-TERM} rec pid st
    rec=$(_rig_pid "$pod.exabgp")
    [ -n "$rec" ] || { _rig_err "no load balancer was started in pod $pod"; return 1; }
    read -r pid st <<<"$rec"
    if ! _rig_stop_pid "$pid" "$st" "$sig" "$RIG_STOP_TIMEOUT"; then
        _rig_err "the load balancer of pod $pod (pid $pid) did not exit within ${RIG_STOP_TIMEOUT}s of SIG$sig"
        return 1
    fi
    # shellcheck disable=SC2034
    RIG_LB_STATUS=$RIG_STOP_STATUS
    _rig_forget "$pid"
}

# rig_nexthops PREFIX: the router's kernel nexthops for PREFIX, sorted.
rig_nexthops() {
    local out
    out=$(ip -n "$RIG-router" -4 route show exact "$1" 2>/dev/null) || out=""
    [ -n "$out" ] || return 0
    printf '%s\n' "$out" | awk '{ for (i = 1; i < NF; i++) if ($i == "via") print $(i + 1) }' | sort -V
}

# rig_wait_nexthops PREFIX N SECONDS: wait until the router has exactly N
# nexthops for PREFIX; sets RIG_WAITED (seconds it took).
rig_wait_nexthops() {
    local prefix=$1 want=$2 secs=$3 t0 deadline have count
    t0=$(_rig_now)
    deadline=$(awk -v a="$t0" -v s="$secs" 'BEGIN { printf "%.6f", a + s }')
    while :; do
        have=$(rig_nexthops "$prefix")
        count=0
        [ -z "$have" ] || count=$(printf '%s\n' "$have" | wc -l)
        [ "$count" != "$want" ] || break
        if awk -v n="$(_rig_now)" -v d="$deadline" 'BEGIN { exit !(n >= d) }'; then
            _rig_err "timed out after ${secs}s waiting for $want nexthop(s) for $prefix in $RIG-router ($(_rig_router)); it has $count: ${have//$'\n'/ }"
            return 1
        fi
        sleep 0.05
    done
    RIG_WAITED=$(_rig_since "$t0")
}

# rig_echo_start POD [PORT] [http]: the echo server in the pod (TCP PORT,
# default 80, on 0.0.0.0), answering every connection with the pod's name;
# with "http", HTTP/1.1 keep-alive as the web pods answer (echo.py --http).
rig_echo_start() {
    _rig_need_env || return 1
    local pod=$1 port=${2:-80} deadline out pid http=()
    [ "${3:-}" != http ] || http=(--http)
    _rig_pod_get "$pod" node >/dev/null || return 1
    _rig_bg "$pod.echo" "$RIG-$pod" "$RIG_PY" "$RIG_LIB_DIR/echo.py" serve --name "$pod" --port "$port" "${http[@]}"
    pid=$RIG_LAST_PID
    deadline=$((SECONDS + 10))
    while :; do
        out=$(ip netns exec "$RIG-$pod" ss -Hltn "sport = :$port" 2>/dev/null) || out=""
        [ -z "$out" ] || return 0
        _rig_alive "$pid" || { _rig_err "echo server in pod $pod exited"; _rig_tail_log "$pod.echo"; return 1; }
        [ "$SECONDS" -lt "$deadline" ] || { _rig_err "echo server in pod $pod is not listening on port $port after 10s"; return 1; }
        sleep 0.05
    done
}

# rig_spread ADDR[:PORT] N: N sequential connections from the client; prints
# JSON {"total", "ok", "failures", "counts": {pod: n}, "errors": {...}}.
rig_spread() {
    _rig_need_env || return 1
    ip netns exec "$RIG-client" "$RIG_PY" "$RIG_LIB_DIR/echo.py" connect "$1" --count "$2" ${3:+--timeout "$3"}
}

# rig_pod_blackhole POD: make everything to and from the pod vanish silently
# (no FIN, no RST, no ICMP from the pod, links stay up): a zero-length pfifo
# qdisc on both ends of the pod's veth.  Falls back to setting the node-side
# veth down when tc cannot do it.
rig_pod_blackhole() {
    _rig_need_env || return 1
    local pod=$1 node veth
    node=$(_rig_pod_get "$pod" node) || return 1
    veth=$(_rig_pod_get "$pod" veth) || return 1
    if tc -n "$RIG-node$node" qdisc replace dev "$veth" root pfifo limit 0 2>/dev/null &&
        tc -n "$RIG-$pod" qdisc replace dev eth0 root pfifo limit 0 2>/dev/null; then
        echo qdisc >"$RIG_DIR/pods.d/.bh-$pod"
    else
        ip -n "$RIG-node$node" link set "$veth" down || { _rig_err "cannot blackhole pod $pod"; return 1; }
        echo link >"$RIG_DIR/pods.d/.bh-$pod"
    fi
}

# rig_pod_unblackhole POD: undo rig_pod_blackhole.
rig_pod_unblackhole() {
    _rig_need_env || return 1
    local pod=$1 node veth how
    node=$(_rig_pod_get "$pod" node) || return 1
    veth=$(_rig_pod_get "$pod" veth) || return 1
    how=$(cat "$RIG_DIR/pods.d/.bh-$pod" 2>/dev/null) || how=""
    case "$how" in
        qdisc)
            tc -n "$RIG-node$node" qdisc del dev "$veth" root 2>/dev/null || true
            tc -n "$RIG-$pod" qdisc del dev eth0 root 2>/dev/null || true ;;
        link) ip -n "$RIG-node$node" link set "$veth" up ;;
        *) _rig_err "pod $pod is not blackholed"; return 1 ;;
    esac
    rm -f "$RIG_DIR/pods.d/.bh-$pod"
}
