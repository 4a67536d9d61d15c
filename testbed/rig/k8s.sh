# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
# k8s.sh - the Kubernetes half of the testbed, on top of rig.sh: a master
# box running the fake API server, web pods (nginx answering with the pod's
# own address) reported Ready to the API once they answer, as a kubelet
# would, and whole load balancer pods: ipvs-controller with keepalived
# (IPVS, NAT) and exabgp-helper with exabgp in one namespace, as the pod's
# two containers share one.  Source rig.sh first, then this; call k8s_up
# after rig_up.  Needs BUILD (the project's build) and SRC (the tree).
#
# On a kernel without IPVS (the development host) set K8S_KEEPALIVED_OPTS=-P
# (keepalived without its checker): everything but the forwarding works.
#
# K8S_MODE=flow (issue 12; default nat) gives the load balancer pods
# started from then on the flow-preserving mode: ipvs-controller --mode
# flow (Maglev with the port, TUN, inhibit_on_failure), IPVS_PREPARE=
# modules,forward,sloppy (no conntrack, no masquerade) and IPVS_TIMEOUTS=
# $K8S_IPVS_TIMEOUTS; web pods added from then on run the image's
# "ipvs-entrypoint web-init $K8S_VIPS" first, as their init container would
# (NET_ADMIN only, /proc/sys read-only); k8s_up loads ipip (a node
# requirement for web pods) and sets loose reverse-path filtering (2) on
# the nodes, which see the web pods' replies from the VIP.  NAT and flow
# pods must not serve one VIP at the same time.

K8S_MASTER_IP=10.0.0.100
: "${K8S_KEEPALIVED_OPTS:=}"
: "${K8S_NAMESPACE:=default}"       # where the web pods are registered
: "${K8S_TLS:=}"                    # 1: HTTPS on :6443 with a bearer token, as a real API server
: "${K8S_MODE:=nat}"                # nat | flow: see above
: "${K8S_VIPS:=10.1.1.10}"          # flow mode: the web pods' VIPs (web-init's arguments)
: "${K8S_IPVS_TIMEOUTS:=300 30 300}" # flow mode: IPVS_TIMEOUTS (tcp tcpfin udp seconds)
if [ -n "$K8S_TLS" ]; then
    K8S_API="https://$K8S_MASTER_IP:6443"
else
    K8S_API="http://$K8S_MASTER_IP:8080"
fi
# With K8S_TLS, k8s_up writes the CA and the token here (ca.crt, token).
K8S_PKI=""

# k8s_up: the master box on the LAN with host-gw routes to every pod
# subnet, and the fake API server on it.
k8s_up() {
    _rig_need_env || return 1
    local n deadline
    case "$K8S_MODE" in nat | flow) ;; *) _rig_err "K8S_MODE=$K8S_MODE: use nat or flow"; return 1 ;; esac
    [ "$K8S_MODE" = nat ] || k8s_flow_nodes || return 1
    _rig_box k8smaster || return 1
    _rig_lan_port k8smaster "$K8S_MASTER_IP"
    for n in $(seq "$RIG_NODES"); do
        ip -n "$RIG-k8smaster" route add "172.16.$n.0/24" via "$(_rig_node_ip "$n")"
    done
    local tls=()
    if [ -n "$K8S_TLS" ]; then
        K8S_PKI="$RIG_DIR/pki"
        sh "$SRC/tests/fakeapi/gen-certs.sh" "$K8S_PKI" "IP:$K8S_MASTER_IP" || return 1
        head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$K8S_PKI/token"
        tls=(--tls-cert "$K8S_PKI/server.crt" --tls-key "$K8S_PKI/server.key" --token-file "$K8S_PKI/token")
    fi
    _rig_bg fakeapi "$RIG-k8smaster" "$RIG_PY" "$SRC/tests/fakeapi/fake_apiserver.py" \
        --listen "$K8S_MASTER_IP:${K8S_API##*:}" --bookmark-interval 5 --log "$RIG_DIR/api-requests.log" "${tls[@]}"
    deadline=$((SECONDS + 20))
    until _k8s_curl "$K8S_API/api/v1/namespaces/$K8S_NAMESPACE/pods" -o /dev/null; do
        [ $SECONDS -lt $deadline ] || { _rig_err "the fake API server on $K8S_API did not answer in 20s"; _rig_tail_log fakeapi; return 1; }
        sleep 0.1
    done
}

# k8s_flow_nodes: what the nodes need for flow mode's web pods: the ipip
# module (modules are the host's: a pod cannot load them) and loose
# reverse-path filtering, since a node without a load balancer pod routes
# the VIP to the router, not to the web pod its reply comes from (strict
# mode drops the reply).  Without IPVS (K8S_KEEPALIVED_OPTS set) the web
# pods are not on the path: nothing to do.
k8s_flow_nodes() {
    local n
    [ -z "$K8S_KEEPALIVED_OPTS" ] || return 0
    [ -d /sys/module/ipip ] || modprobe ipip ||
        { _rig_err "flow mode: the ipip module cannot be loaded (web pods need it)"; return 1; }
    for n in $(seq "$RIG_NODES"); do
        _rig_sysctls "$RIG-node$n" net.ipv4.conf.all.rp_filter=2
    done
}

# k8s_web_init POD: the web pod's init container of flow mode:
# ipvs-entrypoint web-init with only NET_ADMIN (no other capability in any
# set) and /proc/sys read-only, as a container runtime gives it.
k8s_web_init() {
    # shellcheck disable=SC2086 # K8S_VIPS: one argument each
    ip netns exec "$RIG-$1" sh -c '
        mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys || exit 1
        exec setpriv --bounding-set -all,+net_admin --inh-caps -all,+net_admin "$@"' _ \
        sh "$SRC/images/ipvs/ipvs-entrypoint" web-init $K8S_VIPS >>"$RIG_DIR/$1.web-init.log" 2>&1 ||
        { _rig_err "web-init in web pod $1 failed: $(tail -n 3 "$RIG_DIR/$1.web-init.log")"; return 1; }
}

# _k8s_http NS ADDR [PORT]: one HTTP GET from namespace NS; prints the body.
_k8s_http() {
    ip netns exec "$1" timeout 3 bash -c '
        exec 3<>"/dev/tcp/$1/$2" || exit 1
        printf "GET / HTTP/1.0\r\nHost: x\r\n\r\n" >&3
        body=0
        while IFS= read -r line <&3; do
            line=${line%$'"'"'\r'"'"'}
            if [ $body = 1 ]; then echo "$line"; elif [ -z "$line" ]; then body=1; fi
        done' _ "$2" "${3:-80}"
}

# k8s_web_add NODE POD: a web pod on NODE: nginx answering every request
# with the pod's address (/echo/...: the address, the client's address as
# the pod sees it and the path, for flows.py; header X-Client-Address on
# every answer); created in the API (app=web, Ready) once it answers.  In
# flow mode (K8S_MODE=flow) web-init runs first (k8s_web_init).
k8s_web_add() {
    _rig_need_env || return 1
    local node=$1 pod=$2 ip dir deadline
    ip=$(rig_pod_add "$node" "$pod") || return 1
    if [ "$K8S_MODE" = flow ] && [ -z "$K8S_KEEPALIVED_OPTS" ]; then
        k8s_web_init "$pod" || return 1
    fi
    dir="$RIG_DIR/$pod"
    mkdir -p "$dir"
    cat >"$dir/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx.err;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/tmp-body;
    proxy_temp_path $dir/tmp-proxy;
    fastcgi_temp_path $dir/tmp-fastcgi;
    uwsgi_temp_path $dir/tmp-uwsgi;
    scgi_temp_path $dir/tmp-scgi;
    keepalive_requests 100000;
    server {
        listen 80 default_server reuseport;
        add_header X-Client-Address \$remote_addr;
        location / { default_type text/plain; return 200 "$ip\n"; }
        location /echo/ { default_type text/plain; return 200 "$ip \$remote_addr \$uri\n"; }
    }
}
EOF
    _rig_bg "$pod.nginx" "$RIG-$pod" nginx -e "$dir/nginx.err" -c "$dir/nginx.conf"
    deadline=$((SECONDS + 20))
    until [ "$(_k8s_http "$RIG-node$node" "$ip" 2>/dev/null)" = "$ip" ]; do
        [ $SECONDS -lt $deadline ] || { _rig_err "nginx in web pod $pod does not answer with $ip"; _rig_tail_log "$pod.nginx"; return 1; }
        sleep 0.1
    done
    _k8s_report_ready "$pod" "$ip"
}

# The kubelet's reports go through curl: a Python client starts in a second
# or more under TCG, which would count against the controller's reaction.
_k8s_curl() {
    local auth=()
    [ -z "$K8S_PKI" ] || auth=(--cacert "$K8S_PKI/ca.crt" -H "Authorization: Bearer $(cat "$K8S_PKI/token")")
    ip netns exec "$RIG-k8smaster" curl -sf --max-time 10 -H 'Content-Type: application/json' "${auth[@]}" "$@"
}
_k8s_report_ready() {
    local now
    now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    # shellcheck disable=SC2034  # for callers timing the reaction
    K8S_READY_AT=$EPOCHREALTIME
    _k8s_curl -X POST "$K8S_API/api/v1/namespaces/$K8S_NAMESPACE/pods" -o /dev/null -d "$(
        printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","namespace":"%s","labels":{"app":"web"}},' "$1" "$K8S_NAMESPACE"
        printf '"spec":{"containers":[{"name":"nginx","image":"nginx","ports":[{"containerPort":80,"protocol":"TCP"}]}]},'
        printf '"status":{"phase":"Running","podIP":"%s","podIPs":[{"ip":"%s"}],"conditions":[' "$2" "$2"
        printf '{"type":"Ready","status":"True","lastTransitionTime":"%s"},' "$now"
        printf '{"type":"ContainersReady","status":"True","lastTransitionTime":"%s"}]}}' "$now"
    )" || { _rig_err "the API refused pod $1"; return 1; }
}

# k8s_web_del POD: deleted from the API first (as the kubelet's graceful
# termination: endpoints go before the process), then stopped.
k8s_web_del() {
    _rig_need_env || return 1
    # shellcheck disable=SC2034
    K8S_DELETED_AT=$EPOCHREALTIME
    _k8s_curl -X DELETE "$K8S_API/api/v1/namespaces/$K8S_NAMESPACE/pods/$1" -o /dev/null ||
        { _rig_err "the API could not delete pod $1"; return 1; }
    rig_pod_del "$1"
}

# k8s_lb_start POD NODE PREFIX VIP [NAME=VALUE...]: a whole load balancer
# pod: IPVS NAT for VIP:80 to the app=web pods, kept by ipvs-controller and
# keepalived, and PREFIX announced by exabgp-helper and exabgp.  The pod
# must exist (rig_pod_add).  Extra NAME=VALUE go to the helper.
k8s_lb_start() {
    _rig_need_env || return 1
    local pod=$1 node=$2 prefix=$3 vip=$4
    shift 4
    k8s_ipvs_start "$pod" "$vip" || return 1
    # announce only while this controller's /readyz says the pod can serve
    # (the entry point serves metrics on IPVS_CONTROLLER_METRICS_ADDRESS,
    # 0.0.0.0:9101 by default); a caller's HEALTH_URL=... comes after and wins
    local maddr=${IPVS_CONTROLLER_METRICS_ADDRESS:-0.0.0.0:9101}
    k8s_exabgp_start "$pod" "$node" "$prefix" "$@"
}

# k8s_exabgp_start POD NODE PREFIX [NAME=VALUE...]: the pod's exabgp
# container alone (exabgp-helper, which execs exabgp), as k8s_lb_start
# starts it and as the kubelet starts it again after exabgp died.
k8s_exabgp_start() {
    local pod=$1 node=$2 prefix=$3 maddr=${IPVS_CONTROLLER_METRICS_ADDRESS:-0.0.0.0:9101}
    shift 3
    # the withdrawal report for the ipvs container's preStop (/run/lb in manifests/)
    rig_lb_start "$pod" "$node" "$prefix" HEALTH_URL="http://127.0.0.1:${maddr##*:}/readyz" \
        WITHDRAWN_FILE="$RIG_DIR/$pod/lb/withdrawn" "$@"
}

# k8s_ipvs_start POD VIP: the pod's ipvs container alone (its entry point,
# ipvs-controller, the keepalived it runs), as k8s_lb_start starts it and
# as the kubelet starts it again after it died.
k8s_ipvs_start() {
    _rig_need_env || return 1
    local pod=$1 vip=$2 dir ns
    dir="$RIG_DIR/$pod"
    ns="$RIG-$pod"
    mkdir -p "$dir"
    # the ipvs container's own entry point prepares the namespace (IPVS
    # modules, ip_forward, vs.conntrack, the masquerade rule) and runs the
    # controller, which runs keepalived
    # the pod's shared volume (/run/lb in manifests/): the preStop hooks' files
    mkdir -p "$dir/lb"
    local prep=modules,forward,conntrack,masquerade api=() serving=() mode=()
    # flow mode: Maglev, TUN, sloppy_tcp and deliberate timeouts instead of
    # NAT's conntrack and masquerade; ip_vs_mh loaded by the modules step
    [ "$K8S_MODE" != flow ] || {
        prep=modules,forward,sloppy
        mode=(IPVS_CONTROLLER_MODE=flow IPVS_MODULES="ip_vs ip_vs_mh" IPVS_TIMEOUTS="$K8S_IPVS_TIMEOUTS")
    }
    # K8S_IPVS_PREPARE: other steps (a test breaking the mode on purpose)
    prep=${K8S_IPVS_PREPARE:-$prep}
    # a kernel without IPVS: nothing to prepare, and /readyz cannot ask its table
    [ -z "$K8S_KEEPALIVED_OPTS" ] || { prep=none; serving=(--serving-check none); }
    [ -z "$K8S_PKI" ] || api=(--ca-file "$K8S_PKI/ca.crt" --token-file "$K8S_PKI/token")
    # health checks: a web pod that stops answering SYNs is out of IPVS
    # 1.2-1.7 s later (wait for the next check <= 0.5, time-out 0.5, retry
    # after 0.2, time-out 0.5), the pod cut off from all of them withdraws
    # ~0.5 s after that (gate's poll and fall, BGP)
    _rig_bg "$pod.controller" "$ns" env PATH="$BUILD/controller:$PATH" IPVS_PREPARE="$prep" \
        KEEPALIVED_DIR="$dir" KEEPALIVED_RUN_DIR="$dir" KEEPALIVED_OPTS="$K8S_KEEPALIVED_OPTS" \
        IPVS_CONTROLLER_STOP_FILE="$dir/lb/stopping" "${mode[@]}" \
        sh "$SRC/images/ipvs/ipvs-entrypoint" run \
        --apiserver "$K8S_API" "${api[@]}" "${serving[@]}" --namespace "$K8S_NAMESPACE" --selector app=web \
        --virtual-server "$vip:80" --health-check-interval 0.5 --health-check-timeout 0.5 \
        --health-check-retry 1 --health-check-retry-delay 0.2 \
        --debounce-ms 20 --max-delay-ms 200 --min-reload-interval-ms 100
}

# k8s_lb_delete POD NODE PREFIX: delete a load balancer pod started by
# k8s_lb_start as the kubelet does: both containers' preStop hooks at once
# (ipvs: ipvs-entrypoint prestop; exabgp: exabgp-helper cleanup), and each
# container SIGTERMed only once its own hook has returned.  Returns when
# both have stopped; the hooks log to POD.prestop-ipvs.log and
# POD.prestop-exabgp.log.  IPVS_WITHDRAW_TIMEOUT, IPVS_DRAIN_SECONDS and
# DRAIN_SECONDS from the caller's environment, else the manifest's.
k8s_lb_delete() {
    _rig_need_env || return 1
    local pod=$1 node=$2 prefix=$3 dir="$RIG_DIR/$1" ipvs_hook exabgp_hook ipvs_up=1 exabgp_up=1 rec
    local maddr=${IPVS_CONTROLLER_METRICS_ADDRESS:-0.0.0.0:9101}
    ip netns exec "$RIG-$pod" env IPVS_CONTROLLER_STOP_FILE="$dir/lb/stopping" \
        IPVS_WITHDRAWN_FILE="$dir/lb/withdrawn" IPVS_WITHDRAW_TIMEOUT="${IPVS_WITHDRAW_TIMEOUT:-5}" \
        IPVS_DRAIN_SECONDS="${IPVS_DRAIN_SECONDS:-3}" sh "$SRC/images/ipvs/ipvs-entrypoint" prestop \
        >>"$RIG_DIR/$pod.prestop-ipvs.log" 2>&1 </dev/null &
    ipvs_hook=$!
    rig_helper "$pod" "$node" "$prefix" --health-url "http://127.0.0.1:${maddr##*:}/readyz" \
        --withdrawn-file "$dir/lb/withdrawn" --drain-seconds "${DRAIN_SECONDS:-2}" cleanup \
        >>"$RIG_DIR/$pod.prestop-exabgp.log" 2>&1 </dev/null &
    exabgp_hook=$!
    while [ -n "$ipvs_up$exabgp_up" ]; do
        if [ -n "$exabgp_up" ] && ! kill -0 "$exabgp_hook" 2>/dev/null; then
            rig_lb_stop "$pod" || return 1
            exabgp_up=
        fi
        if [ -n "$ipvs_up" ] && ! kill -0 "$ipvs_hook" 2>/dev/null; then
            rec=$(_rig_pid "$pod.controller")
            [ -n "$rec" ] || { _rig_err "no controller in pod $pod"; return 1; }
            # shellcheck disable=SC2086  # PID STARTTIME
            _rig_terminate $rec 10
            _rig_forget "${rec%% *}"
            ipvs_up=
        fi
        sleep 0.05
    done
}

# _k8s_ipvs_file POD: the pod's IPVS table seen through its controller's
# /proc entry: read from here without entering the namespace or forking
# ipvsadm (each costs 100+ ms under TCG).
_k8s_ipvs_file() {
    local rec
    rec=$(_rig_pid "$1.controller")
    [ -n "$rec" ] || { _rig_err "no controller in pod $1"; return 1; }
    echo "/proc/${rec%% *}/net/ip_vs"
}

# _k8s_ipvs_read FILE: the real servers in an ip_vs file, "ADDR:PORT" each
# (bash builtins only, so polling it is cheap).
_k8s_ipvs_read() {
    local arrow addr rest h p
    [ -r "$1" ] || return 0
    while read -r arrow addr rest; do
        [ "$arrow" = "->" ] && [[ "$addr" =~ ^([0-9A-F]{8}):([0-9A-F]{4})$ ]] || continue
        h=${BASH_REMATCH[1]} p=${BASH_REMATCH[2]}
        echo "$((16#${h:0:2})).$((16#${h:2:2})).$((16#${h:4:2})).$((16#${h:6:2})):$((16#$p))"
    done <"$1"
}

# k8s_wait_ipvs N SECONDS POD...: until IPVS in every POD has N real
# servers; K8S_IPVS_AT is when the last of them got there.
k8s_wait_ipvs() {
    local want=$1 secs=$2 deadline f n line files=() pod
    shift 2
    for pod in "$@"; do f=$(_k8s_ipvs_file "$pod") || return 1; files+=("$f"); done
    deadline=$((SECONDS + secs))
    while :; do
        n=0
        for f in "${files[@]}"; do
            mapfile -t line < <(_k8s_ipvs_read "$f")
            [ "${#line[@]}" = "$want" ] && n=$((n + 1))
        done
        if [ "$n" = "${#files[@]}" ]; then
            # shellcheck disable=SC2034
            K8S_IPVS_AT=$EPOCHREALTIME
            return 0
        fi
        [ $SECONDS -lt $deadline ] || { _rig_err "IPVS in $* has not $want real servers after ${secs}s"; return 1; }
        sleep 0.01
    done
}

# k8s_api_time PATTERN: when the API server answered the last request whose
# log line matches PATTERN (the moment a change was committed).
k8s_api_time() {
    local t line
    t=""
    while read -r line; do
        [[ "$line" == *$1* ]] && t=${line%% *}
    done <"$RIG_DIR/api-requests.log"
    echo "$t"
}

# k8s_requests N [ADDR]: N HTTP requests from the client to ADDR (default
# the service's 10.1.1.10), each on a new connection; prints one line per
# answer (the web pod's address) or "FAIL".
k8s_requests() {
    local i out
    for i in $(seq "$1"); do
        out=$(_k8s_http "$RIG-client" "${2:-10.1.1.10}" 2>/dev/null) || out=""
        echo "${out:-FAIL}"
    done
}

# k8s_ipvs_conns POD: connections IPVS in POD has scheduled so far.
k8s_ipvs_conns() {
    local f line c
    f=$(_k8s_ipvs_file "$1") || return 1
    f=${f%/ip_vs}/ip_vs_stats
    { read -r line; read -r line; read -r c line; } <"$f" 2>/dev/null || c=0
    echo $((16#${c:-0}))
}

# k8s_client_conns POD: IPVS connection entries in POD from the client
# (192.0.2.2): the client's connections the pod carries or carried.
k8s_client_conns() {
    local f n=0 w
    f=$(_k8s_ipvs_file "$1") || return 1
    f=${f%/ip_vs}/ip_vs_conn
    while read -r -a w; do
        [ "${w[1]:-}" != C0000202 ] || n=$((n + 1))
    done <"$f"
    echo "$n"
}

# k8s_wrk SECONDS [CONNECTIONS] [URL]: wrk from the client; prints
# "requests_per_second errors" (socket errors plus non-2xx answers).
k8s_wrk() {
    local out rps errs
    out=$(ip netns exec "$RIG-client" wrk -t 2 -c "${2:-64}" -d "$1s" --timeout 2s \
        "${3:-http://10.1.1.10/}" 2>&1) || true
    rps=$(awk '$1 == "Requests/sec:" { print $2 }' <<<"$out")
    errs=$(awk '$1 == "Socket" { n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) n += $i; print n }
                $1 == "Non-2xx" { print $NF }' <<<"$out" | awk '{ s += $1 } END { print s + 0 }')
    echo "${rps:-0} ${errs:-0}"
}
