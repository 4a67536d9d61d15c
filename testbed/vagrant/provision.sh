#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# provision.sh ROLE [N] - provision one Vagrant VM of the testbed as the
# paper's Linux box ROLE: router, rr, master, node (N = 1..3) or client.
# The BGP configurations come from the same functions of testbed/rig/rig.sh
# that the namespace testbed uses, and the addresses are the same, so the
# two cannot drift.  Run by the Vagrantfile as root, with the tree at /vagrant.
set -euo pipefail
ROLE=${1:?usage: provision.sh router|rr|master|node N|client}
N=${2:-}
SRC=/vagrant
export RIG=vagrant RIG_DIR=/var/lib/k8s-ipvs-lb
mkdir -p "$RIG_DIR"
. "$SRC/testbed/rig/rig.sh"
export DEBIAN_FRONTEND=noninteractive

install() { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
# lan_if: the interface Vagrant's private network put on 10.0.0.0/24
lan_if() { ip -o -4 addr show | awk '$4 ~ /^10\.0\.0\./ { print $2; exit }'; }
unit() { # unit NAME COMMAND...: a systemd service running COMMAND
    local name=$1; shift
    printf '[Unit]\nAfter=network-online.target\n[Service]\nExecStart=%s\nRestart=always\n[Install]\nWantedBy=multi-user.target\n' \
        "$*" >"/etc/systemd/system/$name.service"
    systemctl daemon-reload
    systemctl enable --now "$name"
}
build_project() {
    install build-essential cmake ninja-build pkg-config libcurl4-openssl-dev libjansson-dev \
        libnl-3-dev libnl-route-3-dev libmicrohttpd-dev
    cmake -S "$SRC" -B /opt/k8s-ipvs-lb -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
    ninja -C /opt/k8s-ipvs-lb >/dev/null
}
pod_subnets_via_nodes() {
    local m
    for m in $(seq "$RIG_NODES"); do
        [ "$m" = "${1:-}" ] || ip route replace "172.16.$m.0/24" via "$(_rig_node_ip "$m")"
    done
}

case "$ROLE" in
router)
    install frr
    sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1
    _rig_write_frr_conf "$RIG_DIR/frr"
    cp "$RIG_DIR/frr/bgpd.conf" /etc/frr/bgpd.conf
    sed -i 's/^bgpd=no/bgpd=yes/' /etc/frr/daemons
    chown frr:frr /etc/frr/bgpd.conf
    systemctl restart frr
    ;;
rr)
    install gobgpd
    pod_subnets_via_nodes
    _rig_write_gobgpd_conf
    unit gobgpd-lb /usr/bin/gobgpd -f "$RIG_DIR/gobgpd.toml" -t toml -p
    ;;
master)
    install python3
    pod_subnets_via_nodes
    unit fake-apiserver /usr/bin/python3 "$SRC/tests/fakeapi/fake_apiserver.py" --listen 10.0.0.100:8080
    ;;
node)
    [[ "$N" =~ ^[1-3]$ ]] || { echo "provision.sh node N: N is 1..3" >&2; exit 2; }
    install keepalived ipvsadm iptables exabgp nginx-light curl
    build_project
    sysctl -qw net.ipv4.ip_forward=1
    ip link show docker0 >/dev/null 2>&1 || ip link add docker0 type bridge
    ip addr replace "172.16.$N.1/24" dev docker0
    ip link set docker0 up
    pod_subnets_via_nodes "$N"
    ip route replace 192.0.2.0/24 via "$RIG_ROUTER_IP"
    # a web pod and a load balancer pod, as the namespace testbed makes them
    for pod in web lb; do
        ip netns list | grep -qw "$pod" && continue
        idx=$([ "$pod" = web ] && echo 2 || echo 3)
        ip netns add "$pod"
        ip link add "v$pod" type veth peer name eth0 netns "$pod"
        ip link set "v$pod" master docker0 up
        ip -n "$pod" addr add "172.16.$N.$idx/24" dev eth0
        ip -n "$pod" link set eth0 up
        ip -n "$pod" link set lo up
        ip -n "$pod" route add default via "172.16.$N.1"
    done
    printf 'server { listen 80; location / { default_type text/plain; return 200 "$server_addr\\n"; } }\n' \
        >/etc/nginx/sites-enabled/default
    unit web-pod ip netns exec web nginx -g "'daemon off;'"
    curl -sf -X POST -H 'Content-Type: application/json' http://10.0.0.100:8080/api/v1/namespaces/default/pods \
        -d "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web$N\",\"labels\":{\"app\":\"web\"}},\"status\":{\"phase\":\"Running\",\"podIP\":\"172.16.$N.2\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}" ||
        echo "the master is not up yet: add web$N to the API later" >&2
    ip netns exec lb sysctl -qw net.ipv4.vs.conntrack=1
    ip netns exec lb iptables -t nat -C POSTROUTING -m ipvs --vaddr 10.1.1.10/32 -j MASQUERADE 2>/dev/null ||
        ip netns exec lb iptables -t nat -A POSTROUTING -m ipvs --vaddr 10.1.1.10/32 -j MASQUERADE
    mkdir -p /etc/lb
    printf 'global_defs {\n    router_id lb%s\n}\ninclude /etc/lb/ipvs.conf\n' "$N" >/etc/lb/keepalived.conf
    unit lb-ipvs ip netns exec lb /opt/k8s-ipvs-lb/controller/ipvs-controller \
        --apiserver http://10.0.0.100:8080 --selector app=web --virtual-server 10.1.1.10:80 \
        --output /etc/lb/ipvs.conf --keepalived-cmd "'keepalived -n -l -D -f /etc/lb/keepalived.conf'"
    unit lb-exabgp ip netns exec lb env NODE_NETNS=/proc/1/ns/net SERVICE_PREFIXES=10.1.1.0/24 \
        PEERS="$RIG_RR_IP" EXABGP_CONF=/etc/lb/exabgp.conf /opt/k8s-ipvs-lb/exabgp-helper/exabgp-helper run
    ;;
client)
    install wrk curl
    ip route replace 10.1.0.0/16 via 192.0.2.1
    ;;
*)
    echo "provision.sh: unknown role '$ROLE'" >&2
    exit 2
    ;;
esac
echo "provisioned $ROLE${N:+ $N}"
