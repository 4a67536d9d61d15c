#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kube-play.sh - the load balancer pod exactly as manifests/ describes it,
# from the two images, run by `podman kube play` in a pod namespace of the
# rig, against the fake API server over HTTPS with a service account token
# and against a route reflector running manifests/route-reflector/gobgpd.toml:
#  - both containers share one network namespace, the rig's pod's;
#  - the controller renders ipvs.conf from the API and follows changes,
#    reading the backends in their own namespace (the ConfigMap's
#    `namespace`), not its own; /healthz and /readyz answer;
#  - exabgp peers with the route reflector, which learns the service prefix
#    with the node as next hop, and the router installs it;
#  - the node routes the prefix to the pod;
#  - each container's processes hold only the capabilities they need, and
#    only the ipvs container holds the service account's token;
#  - the manifest's preStop command withdraws the prefix with the session up.
# The host kernel has no IPVS: keepalived runs without its checker and only
# the forward step of the entry point runs (tests/images/entrypoint.sh and
# the testbed's VM cover the rest).  Needs the images (images/build.sh) and
# tests/manifests' node_modules (tests/manifests/run.sh).
. "$(dirname "$0")/../rig/lib.sh"
K8S_TLS=1
# the web pods are registered in the backends' namespace, as the manifests
# place them; the load balancer's own namespace is LB_NS
K8S_NAMESPACE=$(sed -n 's/^  namespace: "\(.*\)"$/\1/p' "$SRC/manifests/20-config.yaml")
LB_NS=$(sed -n '/^kind: Deployment/,$s/^  namespace: \(.*\)$/\1/p' "$SRC/manifests/30-loadbalancer.yaml" | head -1)
[ -n "$K8S_NAMESPACE" ] || fail "manifests/20-config.yaml has no namespace key"
[ -n "$LB_NS" ] && [ "$LB_NS" != "$K8S_NAMESPACE" ] ||
    fail "the backends' namespace '$K8S_NAMESPACE' should differ from the load balancer's '$LB_NS'"
. "$SRC/testbed/rig/k8s.sh"

export CONTAINERS_CONF=${CONTAINERS_CONF:-$SRC/images/containers.conf}
M=$SRC/manifests
PREFIX=10.1.1.0/24
NODE_IP=10.0.0.105 # node1

command -v podman >/dev/null || fail "podman not found (images/build.sh installs it)"
[ -d "$SRC/tests/manifests/node_modules/yaml" ] || fail "tests/manifests/node_modules is missing (run tests/manifests/run.sh)"
for img in $(sed -n 's/^ *image: \(localhost\/k8s-ipvs-lb\/.*\)$/\1/p' "$M/30-loadbalancer.yaml" | sort -u); do
    podman image exists "$img" || fail "image $img named by manifests/30-loadbalancer.yaml is missing (run images/build.sh)"
done

RIG_NODES=1
RIG_GOBGPD_CONF=$M/route-reflector/gobgpd.toml
export RIG_NODES RIG_GOBGPD_CONF

PLAY=$RIG_DIR/play.yaml
NAME=$RIG # the Deployment's name here: podman names the pod NAME-pod-0
POD="" C_IPVS="" C_BGP=""
played=0
test_cleanup() {
    [ "$played" = 1 ] || return 0
    if [ "${1:-0}" != 0 ]; then
        for c in $C_IPVS $C_BGP; do
            echo "--- podman logs $c"
            podman logs "$c" 2>&1 | tail -n 30
        done
    fi
    podman kube play --down "$PLAY" >/dev/null 2>&1 || true
    for p in $(podman pod ps --filter "name=^$NAME-pod" --format '{{.Name}}'); do
        podman pod rm -f "$p" >/dev/null 2>&1 || true
    done
}

rig_up
k8s_up
k8s_web_add 1 web1
k8s_web_add 1 web2
web1=$(rig_pod_ip web1)
web2=$(rig_pod_ip web2)
rig_pod_add 1 lb1 >/dev/null
lbip=$(rig_pod_ip lb1)

NODE_NETNS=/run/netns/$RIG-node1 API_HOST=$K8S_MASTER_IP API_PORT=${K8S_API##*:} \
    API_CA=$K8S_PKI/ca.crt API_TOKEN=$K8S_PKI/token API_NAMESPACE=$LB_NS TARGET_PORT=80 NAME=$NAME \
    node "$SRC/tests/manifests/kube-play-overlay.mjs" "$M" >"$PLAY"

# conf_has ADDR...: ipvs.conf in the ipvs container has exactly these real servers
conf_servers() {
    podman exec "$C_IPVS" cat /etc/keepalived/ipvs.conf 2>/dev/null |
        sed -n 's/^ *real_server \([0-9.]*\) \([0-9]*\).*/\1:\2/p' | sort | tr '\n' ' '
}
servers_are() { [ "$(conf_servers)" = "$(printf '%s\n' "$@" | sort | tr '\n' ' ')" ]; }
rr_has_prefix() { rig_gobgp global rib -a ipv4 2>/dev/null | grep -q "$PREFIX *$NODE_IP "; }
rr_lacks_prefix() { ! rig_gobgp global rib -a ipv4 2>/dev/null | grep -q "$PREFIX"; }

t0=$(_rig_now)
played=1
nsenter --net="/run/netns/$RIG-lb1" podman kube play "$PLAY" >"$RIG_DIR/play.out" 2>&1 ||
    { cat "$RIG_DIR/play.out"; fail "podman kube play refused the load balancer pod"; }
# (podman 4.3 waits out a 20 s conmon timeout for each init container)
echo "    podman kube play returned after $(_rig_since "$t0")s"
POD=$(sed -n '/^Pod:/{n;p;q}' "$RIG_DIR/play.out")
[ -n "$POD" ] || { cat "$RIG_DIR/play.out"; fail "podman kube play named no pod"; }
C_IPVS=$(podman ps -a --filter "pod=$POD" --format '{{.Names}}' | grep -- '-ipvs$') || fail "no ipvs container in pod $POD"
C_BGP=$(podman ps -a --filter "pod=$POD" --format '{{.Names}}' | grep -- '-exabgp$') || fail "no exabgp container in pod $POD"
wait_until 60 "ipvs.conf with web1 and web2" servers_are "$web1:80" "$web2:80"
t=$WAITED
echo "    ipvs.conf rendered from the API $(_rig_since "$t0")s after kube play"
pass "the controller renders ipvs.conf from the API over HTTPS with the service account's token"
# the service account says LB_NS; the pods are in K8S_NAMESPACE only
sa_ns=$(podman exec "$C_IPVS" cat /var/run/secrets/kubernetes.io/serviceaccount/namespace)
[ "$sa_ns" = "$LB_NS" ] || fail "the ipvs container's service account namespace is '$sa_ns', not $LB_NS"
grep -q "/namespaces/$K8S_NAMESPACE/pods" "$RIG_DIR/api-requests.log" ||
    fail "the controller never asked for pods in $K8S_NAMESPACE"
if grep -q "/namespaces/$LB_NS/" "$RIG_DIR/api-requests.log"; then
    fail "the controller read its own namespace $LB_NS: $(grep "/namespaces/$LB_NS/" "$RIG_DIR/api-requests.log" | head -1)"
fi
pass "the controller watches the backends' namespace $K8S_NAMESPACE (its service account's is $sa_ns)"

inode=$(stat -L -c %i "/run/netns/$RIG-lb1")
for c in $C_IPVS $C_BGP; do
    got=$(podman exec "$c" readlink /proc/1/ns/net)
    [ "$got" = "net:[$inode]" ] || fail "$c is in $got, not the pod's namespace net:[$inode]"
done
pass "both containers share the pod's network namespace (net:[$inode])"

wait_until 60 "the route reflector learning $PREFIX from $lbip" rr_has_prefix
t=$WAITED
[ "$(rig_rr_state "$lbip")" = established ] || fail "RR session with $lbip is $(rig_rr_state "$lbip")"
echo "    prefix at the route reflector $(_rig_since "$t0")s after kube play"
rig_gobgp global rib -a ipv4 | sed 's/^/    /'
rig_wait_nexthops "$PREFIX" 1 30
[ "$(rig_nexthops "$PREFIX")" = "$NODE_IP" ] || fail "router nexthop for $PREFIX: $(rig_nexthops "$PREFIX")"
pass "exabgp peers with the RR (example gobgpd.toml), which learns $PREFIX via node $NODE_IP; the router installs it"

route=$(ip -n "$RIG-node1" route show "$PREFIX" proto 201)
[[ $route == *"via $lbip dev docker0"* ]] || fail "node route for $PREFIX: '$route'"
pass "the node routes $PREFIX to the pod: $route"

for path in healthz readyz; do
    body=$(ip netns exec "$RIG-lb1" curl -sf --max-time 3 "http://127.0.0.1:9101/$path") ||
        fail "/$path did not answer 200"
    echo "    /$path: $body"
done
ip netns exec "$RIG-lb1" curl -sf --max-time 3 http://127.0.0.1:9101/metrics |
    grep -q '^ipvs_controller_endpoints 2$' || fail "/metrics does not count 2 endpoints"
pass "/healthz, /readyz and /metrics answer on the probes' port"

# CapEff of each container's main process: the controller holds NET_ADMIN
# (12) and nothing else; exabgp, after the helper's exec, holds nothing.
cap_ipvs=$(podman exec "$C_IPVS" sed -n 's/^CapEff:\t//p' /proc/1/status)
cap_bgp=$(podman exec "$C_BGP" sed -n 's/^CapEff:\t//p' /proc/1/status)
comm_bgp=$(podman exec "$C_BGP" cat /proc/1/cmdline | tr '\0' ' ')
[ "$cap_ipvs" = 0000000000001000 ] || fail "ipvs container's controller has CapEff $cap_ipvs, want 0000000000001000 (NET_ADMIN)"
[ "$cap_bgp" = 0000000000000000 ] || fail "exabgp ($comm_bgp) has CapEff $cap_bgp, want none"
[[ $comm_bgp == *exabgp* ]] || fail "the exabgp container's process 1 is '$comm_bgp'"
pass "capabilities: controller NET_ADMIN only; exabgp none"
# the token only where the API is read (podman applies its default seccomp
# filter whatever the manifest says; check.mjs checks the manifest's)
podman exec "$C_IPVS" test -s /var/run/secrets/kubernetes.io/serviceaccount/token ||
    fail "the ipvs container has no service account token"
mounts=$(podman exec "$C_BGP" sh -c 'ls -A /var/run/secrets 2>/dev/null; grep -F secrets /proc/1/mountinfo; true')
[ -z "$mounts" ] || fail "the exabgp container holds the service account's files: $mounts"
for c in $C_IPVS $C_BGP; do
    sec=$(podman exec "$c" sed -n 's/^Seccomp:\t//p' /proc/1/status)
    [ "$sec" = 2 ] || fail "$c: Seccomp: $sec, want 2 (a filter)"
done
pass "only the ipvs container holds the token; both run under a seccomp filter"

k8s_web_add 1 web3
web3=$(rig_pod_ip web3)
wait_until 10 "ipvs.conf gaining web3" servers_are "$web1:80" "$web2:80" "$web3:80"
t=$WAITED
echo "    web3 added: in ipvs.conf after ${t}s"
k8s_web_del web1
wait_until 10 "ipvs.conf losing web1" servers_are "$web2:80" "$web3:80"
t=$WAITED
echo "    web1 deleted: gone from ipvs.conf after ${t}s"
pass "the watch follows pods added and deleted"

# the preStop hook, as the manifest spells it
mapfile -t prestop < <(cd "$SRC/tests/manifests" && node --input-type=module -e '
    import { readFileSync } from "node:fs"; import { parseAllDocuments } from "yaml";
    const d = parseAllDocuments(readFileSync(process.argv[1], "utf8")).map((x) => x.toJS()).find((o) => o?.kind === "Deployment");
    const c = d.spec.template.spec.containers.find((c) => c.name === "exabgp");
    for (const a of c.lifecycle.preStop.exec.command) console.log(a);' "$M/30-loadbalancer.yaml")
[ "${prestop[*]}" = "exabgp-helper cleanup" ] || fail "the manifest's preStop is '${prestop[*]}'"
# as the kubelet runs it: inside the container, in the pod's namespace
# (podman exec of a host-network container would stay in the caller's)
nsenter --net="/run/netns/$RIG-lb1" podman exec "$C_BGP" "${prestop[@]}" ||
    fail "preStop '${prestop[*]}' failed"
wait_until 15 "the route reflector withdrawing $PREFIX" rr_lacks_prefix
t=$WAITED
[ "$(rig_rr_state "$lbip")" = established ] || fail "the session went down with the withdrawal: $(rig_rr_state "$lbip")"
[ -z "$(ip -n "$RIG-node1" route show "$PREFIX" proto 201)" ] || fail "the node route survived preStop"
rig_wait_nexthops "$PREFIX" 0 15
pass "preStop (${prestop[*]}) withdrew $PREFIX with the session up and removed the node route"
