#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# smoke.sh - self-check of the testbed VM, meant to run inside it:
#
#   testbed/vm/run.sh --share "$PWD" testbed/vm/smoke.sh
#
# Prints the kernel version, loads IPVS, checks the daemons' versions, then
# builds client <-> director <-> 2 real servers out of network namespaces
# and proves that TCP connections to a virtual address reach both real
# servers through IPVS NAT (round robin), with the testbed's masquerading
# (net.ipv4.vs.conntrack=1 and an xt_ipvs MASQUERADE rule, so the real
# servers need no route back to the client).  Exit 0 only if all of it works.
set -euo pipefail

[ "$(id -u)" = 0 ] || { echo "smoke: needs root" >&2; exit 1; }
T0=$(date +%s%N)
failures=0
ok() { printf 'ok   %s\n' "$*"; }
bad() { printf 'FAIL %s\n' "$*"; failures=$((failures + 1)); }
ms() { echo $(( ($(date +%s%N) - T0) / 1000000 )); }

P=smk$$                             # namespace name prefix
VIP=10.1.1.1
pids=()
cleanup() {
    local p n
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for n in client lb rs1 rs2; do ip netns del "$P-$n" 2>/dev/null || true; done
    rm -rf "${WWW:-}" "${VER:-}"
}
trap cleanup EXIT

echo "== kernel $(uname -r) ($(uname -m)); ${TESTBED_VM:+in the testbed VM, }$(nproc) CPUs"

# the version checks run in the background while the rest goes on (exabgp
# alone takes seconds under TCG); their results are printed at the end
VER=$(mktemp -d /tmp/smoke-ver.XXXXXX)
vers=()
vpids=()
start_version() { # LABEL CMD...
    local label=$1
    shift
    vers+=("$label")
    ( t=$(ms); rc=0; "$@" >"$VER/$label.out" 2>&1 || rc=$?; echo "$rc $(( $(ms) - t ))" >"$VER/$label.rc" ) &
    vpids+=($!)
}
start_version keepalived keepalived --version
start_version ipvsadm ipvsadm --version
start_version exabgp exabgp --version
start_version gobgpd gobgpd --version
start_version gobgp gobgp --version
start_version zebra /usr/lib/frr/zebra --version
start_version bgpd /usr/lib/frr/bgpd --version
start_version nginx nginx -v
start_version python3 python3 --version
start_version iptables iptables --version

echo "== modules ($(ms) ms)"
if out=$(modprobe -v ip_vs 2>&1) && out2=$(modprobe -v ip_vs_rr 2>&1) && [ -e /proc/net/ip_vs ]; then
    ok "modprobe ip_vs ip_vs_rr ($(printf '%s\n%s\n' "$out" "$out2" | grep -c insmod || true) modules inserted)"
    head -n 1 /proc/net/ip_vs
else
    bad "modprobe ip_vs: $out ${out2:-}"
fi

echo "== IPVS NAT through network namespaces ($(ms) ms)"
# client 10.0.1.2 -- 10.0.1.1 lb 10.0.2.1 -- bridge -- rs1 10.0.2.11, rs2 10.0.2.12
setup() {
    local n
    for n in client lb rs1 rs2; do ip netns add "$P-$n"; done
    for n in client lb rs1 rs2; do ip -n "$P-$n" link set lo up; done
    ip link add c0 netns "$P-client" type veth peer name lbc netns "$P-lb"
    ip -n "$P-client" addr add 10.0.1.2/24 dev c0
    ip -n "$P-client" link set c0 up
    ip -n "$P-client" route add default via 10.0.1.1
    ip -n "$P-lb" addr add 10.0.1.1/24 dev lbc
    ip -n "$P-lb" link set lbc up
    ip -n "$P-lb" link add br0 type bridge
    ip -n "$P-lb" addr add 10.0.2.1/24 dev br0
    ip -n "$P-lb" link set br0 up
    for n in 1 2; do
        ip link add e0 netns "$P-rs$n" type veth peer name rs$n netns "$P-lb"
        ip -n "$P-lb" link set rs$n master br0 up
        ip -n "$P-rs$n" addr add 10.0.2.1$n/24 dev e0
        ip -n "$P-rs$n" link set e0 up
    done
    # the virtual address lives on the director; no route back from the
    # real servers to the client: masquerading has to do it
    ip -n "$P-lb" link add vip0 type dummy
    ip -n "$P-lb" addr add $VIP/32 dev vip0
    ip -n "$P-lb" link set vip0 up
    ip netns exec "$P-lb" sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.vs.conntrack=1
    ip netns exec "$P-lb" iptables -t nat -A POSTROUTING -m ipvs --vaddr $VIP/32 -j MASQUERADE
    ip netns exec "$P-lb" ipvsadm -A -t $VIP:80 -s rr
    for n in 1 2; do
        ip netns exec "$P-lb" ipvsadm -a -t $VIP:80 -r 10.0.2.1$n:8080 -m
    done
}
if out=$(setup 2>&1); then
    ok "namespaces, veths, bridge, IPVS service $VIP:80 -> 10.0.2.11:8080, 10.0.2.12:8080 (NAT), MASQUERADE"
else
    bad "setting up the namespaces or IPVS: $out"
fi

WWW=$(mktemp -d /tmp/smoke-www.XXXXXX)
chmod 755 "$WWW"                    # nginx's workers run as www-data
for n in 1 2; do
    mkdir -p "$WWW/rs$n"
    echo "real server rs$n" >"$WWW/rs$n/index.html"
    cat >"$WWW/rs$n.conf" <<EOF
daemon off;
worker_processes 1;
pid $WWW/rs$n.pid;
error_log $WWW/rs$n.err;
events { worker_connections 64; }
http {
    access_log $WWW/rs$n.log;
    server { listen 10.0.2.1$n:8080; root $WWW/rs$n; }
}
EOF
    ip netns exec "$P-rs$n" nginx -c "$WWW/rs$n.conf" >/dev/null 2>&1 </dev/null &
    pids+=($!)
done
# wait for both to listen: one bash polling with /dev/tcp (no process per try)
# shellcheck disable=SC2016 # expanded by that bash
if ip netns exec "$P-lb" bash -c '
        for _ in $(seq 1 200); do
            (exec 3<>/dev/tcp/10.0.2.11/8080) 2>/dev/null && (exec 3<>/dev/tcp/10.0.2.12/8080) 2>/dev/null && exit 0
            sleep 0.05
        done
        exit 1'; then
    ok "real servers (nginx) listening after $(ms) ms"
else
    bad "real servers did not start: $(cat "$WWW"/rs*.err 2>/dev/null)"
fi

seen=""
for i in 1 2 3 4; do
    if body=$(ip netns exec "$P-client" curl -fsS --max-time 10 "http://$VIP/" 2>&1); then
        echo "     request $i -> $body"
        seen+="$body;"
    else
        bad "request $i to $VIP:80: $body"
    fi
done
if [[ $seen == *"rs1"* && $seen == *"rs2"* ]]; then
    ok "connections to $VIP:80 reached both real servers through IPVS"
else
    bad "not both real servers answered: $seen"
fi
# live connection table (the --stats counters lag: IPVS updates them every 2 s)
table=$(ip netns exec "$P-lb" ipvsadm -Ln)
printf '%s\n' "$table" | sed 's/^/     /'
conns=$(awk '$1 == "->" && $2 ~ /:8080$/ && $3 == "Masq" && $5 + $6 > 0 { n++ } END { print n + 0 }' <<<"$table")
if [ "$conns" = 2 ]; then
    ok "IPVS holds masqueraded connections to both real servers"
else
    bad "IPVS holds connections to $conns real server(s), not 2"
fi
# masquerading: the real servers saw the director's address, not the client's
logs=$(cat "$WWW"/rs?.log)
if [[ $logs == *"10.0.2.1 - -"* && $logs != *"10.0.1.2 - -"* ]]; then
    ok "real servers saw the director (10.0.2.1) as the client: MASQUERADE -m ipvs works"
else
    bad "real servers' logs do not show masquerading: $logs"
fi

echo "== versions ($(ms) ms)"
wait_versions() {
    local l rc t line
    wait "${vpids[@]}" 2>/dev/null || true
    for l in "${vers[@]}"; do
        read -r rc t <"$VER/$l.rc" 2>/dev/null || { bad "$l: --version did not finish"; continue; }
        line=$(grep -m1 -v '^[[:space:]]*$' "$VER/$l.out" || true)
        if [ "$rc" = 0 ] && [ -n "$line" ]; then
            ok "$l: $line ($t ms)"
        else
            bad "$l: exit status $rc: $(cat "$VER/$l.out")"
        fi
    done
}
wait_versions

echo "== smoke: $failures failure(s), $(ms) ms"
[ "$failures" = 0 ]
