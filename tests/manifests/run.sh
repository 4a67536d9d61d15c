#!/usr/bin/env bash
# run.sh - offline checks of manifests/: every object against the Kubernetes
# OpenAPI schemas with unknown fields refused (check.mjs), broken copies that
# must be refused, the Kustomization naming exactly the files `kubectl apply
# -f manifests/` reads (among them copies that give the load balancer more
# privilege than it needs, or the backends less protection than Pod
# Security restricted, web-init's NET_ADMIN and root excepted, or a mode
# the load balancer and the web pods do not agree on), kubectl itself
# reading both ways, the ConfigMap's BGP settings accepted by
# exabgp-helper, the sample web's nginx configuration answering with the
# pod's address (and on the virtual port, for flow mode, under the pod's
# sysctls), and the sample's web-init, as its container runs it, doing
# nothing in the ConfigMap's nat mode.  Needs node and npm (Debian's
# nodejs works), kubectl (Debian's kubernetes-client if there is none), and
# BUILD, the project's build directory (default build/ci).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$SRC/build/ci}
M=$SRC/manifests

# shellcheck source=../lib/assert.sh
. "$SRC/tests/lib/assert.sh"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "installing nodejs and npm"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
if ! command -v kubectl >/dev/null; then
    echo "installing kubernetes-client (kubectl)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null
fi
(cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

TMP=$(mktemp -d /tmp/manifests-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

check() { node "$HERE/check.mjs" "$@"; }

# What kubectl apply -f manifests/ reads: *.yaml, *.yml and *.json directly
# in the directory.
mapfile -t files < <(cd "$M" && find . -maxdepth 1 -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) | sed 's|^\./||' | sort)
[ ${#files[@]} -ge 5 ] || fail "expected at least 5 manifest files in manifests/, found ${#files[@]}"

# 1. all valid, no unknown fields
out=$(cd "$M" && check "${files[@]}") || { echo "$out"; fail "manifests/ does not validate"; }
pass "${#files[@]} files: $out"

# 2. broken copies are refused, each with the line a user needs
# expect_bad NAME FILE SED-EXPR WANTED: FILE with SED-EXPR applied must fail
# and the output must contain WANTED.
expect_bad() {
    local name=$1 file=$2 expr=$3 want=$4 out
    sed "$expr" "$M/$file" >"$TMP/$file"
    cmp -s "$M/$file" "$TMP/$file" && fail "$name: the edit '$expr' changed nothing in $file"
    if out=$(cd "$TMP" && cp -n "$M"/*.yaml . && check "${files[@]}"); then
        fail "$name: accepted: $out"
    fi
    [[ $out == *"$want"* ]] || fail "$name: expected '$want' in: $out"
    cp "$M/$file" "$TMP/$file"
    pass "$name refused: $(grep -F -- "$want" <<<"$out" | head -1)"
}
expect_bad "misspelled command" 30-loadbalancer.yaml 's/command:/comand:/' \
    'spec.template.spec.containers[1].lifecycle.preStop.exec.comand: unknown field "comand"'
expect_bad "misspelled container field" 30-loadbalancer.yaml '0,/imagePullPolicy:/s//imagePullPolcy:/' \
    'unknown field "imagePullPolcy"'
expect_bad "misspelled top-level field" 10-rbac.yaml 's/^rules:/rule:/' 'rule: unknown field "rule"'
expect_bad "wrong type" 30-loadbalancer.yaml 's/replicas: 2/replicas: two/' 'spec/replicas must be integer'
expect_bad "missing required field" 10-rbac.yaml '/^roleRef:/,/^  name: ipvs-lb/d' 'schema: must have required property roleRef'
expect_bad "unknown kind" 00-namespace.yaml 's/kind: Namespace/kind: Namespce/' 'unknown apiVersion/kind v1 Namespce'
expect_bad "missing ConfigMap key" 30-loadbalancer.yaml 's/key: hold-time/key: holdtime/' \
    'env HOLD_TIME: ConfigMap ipvs-lb has no key "holdtime"'
expect_bad "mount without volume" 30-loadbalancer.yaml '0,/- name: keepalived-conf/s//- name: keepalived-cfg/' \
    'names no volume'

# least privilege of the load balancer (check.mjs's LB_CONTAINERS)
expect_bad "no pod-level seccomp" 30-loadbalancer.yaml '/^        seccompProfile: {type: RuntimeDefault}$/d' \
    'container prepare: seccompProfile is not RuntimeDefault'
expect_bad "SYS_MODULE back in ipvs" 30-loadbalancer.yaml 's/add: \["NET_ADMIN"\]$/add: ["NET_ADMIN", "SYS_MODULE"]/' \
    'container ipvs: adds SYS_MODULE beyond NET_ADMIN'
expect_bad "ipvs loading modules" 30-loadbalancer.yaml 's/value: "forward,conntrack,masquerade,sloppy"/value: "modules,forward,conntrack,masquerade,sloppy"/' \
    'container ipvs: IPVS_PREPARE "modules,forward,conntrack,masquerade,sloppy" includes the modules step'
# make-before-break on deletion (check.mjs): the hooks, the shared file, the drains, the grace
expect_bad "ipvs without its preStop" 30-loadbalancer.yaml 's/\["ipvs-entrypoint", "prestop"\]/["sleep", "1"]/' \
    'container ipvs: preStop is "sleep 1", want ipvs-entrypoint prestop'
expect_bad "withdrawal reported where ipvs cannot see it" 30-loadbalancer.yaml \
    '/- name: WITHDRAWN_FILE$/{n;s|/run/lb/withdrawn|/etc/exabgp/withdrawn|}' \
    'WITHDRAWN_FILE /etc/exabgp/withdrawn (exabgp-conf:/withdrawn) and IPVS_WITHDRAWN_FILE /run/lb/withdrawn (lb-run:/withdrawn) are not the same file'
expect_bad "ipvs draining no longer than exabgp" 30-loadbalancer.yaml '/- name: IPVS_DRAIN_SECONDS$/{n;s/"3"/"2"/}' \
    "container ipvs: IPVS_DRAIN_SECONDS 2 is not longer than exabgp's DRAIN_SECONDS 2"
expect_bad "grace period shorter than the hook and keepalived's stop" 30-loadbalancer.yaml \
    's/terminationGracePeriodSeconds: 30/terminationGracePeriodSeconds: 12/' \
    'terminationGracePeriodSeconds 12 is less than 15'
expect_bad "ipvs mounting /lib/modules" 30-loadbalancer.yaml '0,/- name: keepalived-conf/s//- name: lib-modules/' \
    "container ipvs: mounts the node's /lib/modules but loads no modules"
expect_bad "token in the exabgp container" 30-loadbalancer.yaml \
    's|^              mountPath: /etc/exabgp$|&\n            - name: kube-api-access\n              mountPath: /var/run/secrets/kubernetes.io/serviceaccount|' \
    'container exabgp: mounts the service-account token (kube-api-access) but does not talk to the API'
expect_bad "token in every container" 30-loadbalancer.yaml 's/automountServiceAccountToken: false/automountServiceAccountToken: true/' \
    'automountServiceAccountToken is not false'
expect_bad "token volume without the CA" 30-loadbalancer.yaml 's/name: kube-root-ca.crt/name: kube-root-ca/' \
    'container ipvs: the volume at /var/run/secrets/kubernetes.io/serviceaccount lacks ca.crt'
expect_bad "controller not told the backends' namespace" 30-loadbalancer.yaml '/name: IPVS_CONTROLLER_NAMESPACE/,+2d' \
    'container ipvs: IPVS_CONTROLLER_NAMESPACE does not come from a ConfigMap key'
expect_bad "backends in the load balancer's namespace" 20-config.yaml 's/namespace: "k8s-ipvs-lb-web"/namespace: "k8s-ipvs-lb"/' \
    "ServiceAccount k8s-ipvs-lb/ipvs-lb may not get pods in the backends' namespace k8s-ipvs-lb"
expect_bad "Role outside the backends' namespace" 10-rbac.yaml 's/namespace: k8s-ipvs-lb-web/namespace: default/' \
    "may not list endpointslices in the backends' namespace k8s-ipvs-lb-web"
expect_bad "Role granting writes" 10-rbac.yaml '0,/verbs: \["get", "list", "watch"\]/s//verbs: ["get", "list", "watch", "delete"]/' \
    'Role k8s-ipvs-lb-web/ipvs-lb-backends grants delete on pods: the controller only reads'
# the backends' namespace and the sample web under Pod Security restricted
# (check.mjs's POD_SECURITY table), but for web-init's NET_ADMIN and root
# (WEB_INIT_EXCEPTIONS), for which the namespace enforces privileged
expect_bad "backends' namespace privileged, nothing audited" 00-namespace.yaml '/pod-security.kubernetes.io\/\(warn\|audit\): restricted/d' \
    "Namespace k8s-ipvs-lb-web: enforces Pod Security privileged but warns at nothing and audits at nothing"
expect_bad "web-init with more than NET_ADMIN" 40-sample-web.yaml 's/add: \["NET_ADMIN"\]/add: ["NET_ADMIN", "SYS_ADMIN"]/' \
    'Pod Security restricted (capabilities (baseline)): container web-init: adds NET_ADMIN, SYS_ADMIN'
expect_bad "web-init privileged" 40-sample-web.yaml 's/^            runAsNonRoot: false$/&\n            privileged: true/' \
    'Pod Security restricted (privileged containers): container web-init: privileged: true'
expect_bad "web-init without NET_ADMIN" 40-sample-web.yaml '/add: \["NET_ADMIN"\]/d' \
    'container web-init: does not add NET_ADMIN, which it needs'
expect_bad "web-init as nginx's user" 40-sample-web.yaml '/^            runAsUser: 0$/d' \
    'container web-init: runs as uid 101, not 0: NET_ADMIN would not be effective'
expect_bad "web as root" 40-sample-web.yaml '/runAsNonRoot: true/d' \
    'Pod Security restricted (running as non-root): container nginx: runAsNonRoot is not true'
expect_bad "web as uid 0" 40-sample-web.yaml 's/runAsUser: 101/runAsUser: 0/' \
    'Pod Security restricted (non-root user): container nginx: runAsUser is 0'
expect_bad "web may escalate" 40-sample-web.yaml '/- name: nginx/,$s/allowPrivilegeEscalation: false/allowPrivilegeEscalation: true/' \
    'Pod Security restricted (privilege escalation): container nginx: allowPrivilegeEscalation is not false'
expect_bad "web keeps capabilities" 40-sample-web.yaml '/- name: nginx/,$s/drop: \["ALL"\]/drop: ["NET_RAW"]/' \
    'Pod Security restricted (capabilities (restricted)): container nginx: capabilities.drop lacks ALL'
expect_bad "web adds a capability" 40-sample-web.yaml '/- name: nginx/,$s/drop: \["ALL"\]/&\n              add: ["NET_ADMIN"]/' \
    'Pod Security restricted (capabilities (baseline)): container nginx: adds NET_ADMIN'
expect_bad "web without seccomp" 40-sample-web.yaml '/seccompProfile/d' \
    'Pod Security restricted (seccomp (restricted)): container nginx: seccompProfile is neither RuntimeDefault nor Localhost'
expect_bad "web with a hostPath" 40-sample-web.yaml 's/emptyDir: {sizeLimit: 64Mi}/hostPath: {path: \/var\/cache}/' \
    'Pod Security restricted (hostPath volumes): volume cache is a hostPath'
expect_bad "web on the host network" 40-sample-web.yaml 's/^      automountServiceAccountToken: false$/&\n      hostNetwork: true/' \
    'Pod Security restricted (host namespaces): hostNetwork: true'
# the mode (check.mjs, "the mode"): read by the load balancer's containers;
# the web pods' web-init agrees with the ConfigMap; flow mode's constraints
expect_bad "prepare without the mode" 30-loadbalancer.yaml '/args: \["prepare"\]/,/key: mode}/{/- name: IPVS_CONTROLLER_MODE/,+2d}' \
    "container prepare: IPVS_CONTROLLER_MODE does not come from the ConfigMap's mode key"
expect_bad "ipvs not confirming sloppy_tcp" 30-loadbalancer.yaml 's/value: "forward,conntrack,masquerade,sloppy"/value: "forward,conntrack,masquerade"/' \
    'container ipvs: IPVS_PREPARE "forward,conntrack,masquerade" lacks sloppy'
expect_bad "web-init with another address" 40-sample-web.yaml '/- name: IPVS_WEB_VIPS$/{n;s/"10.1.1.1"/"10.1.1.2"/}' \
    "container web-init: its virtual addresses (10.1.1.2) lack the ConfigMap's virtual-server address 10.1.1.1"
expect_bad "web-init in nat mode, the ConfigMap in flow" 20-config.yaml 's/^  mode: "nat"$/  mode: "flow"/' \
    "container web-init: IPVS_WEB_MODE is nat but the ConfigMap's mode is flow"
expect_bad "flow mode with the pods on another port" 20-config.yaml 's/^  mode: "nat"$/  mode: "flow"/; s/^  lb-algo: "rr"$/  lb-algo: "mh"/' \
    "mode flow with target-port 8080, not the virtual server's port 80: IPIP does not rewrite ports"
expect_bad "flow mode with lb-algo rr" 20-config.yaml 's/^  mode: "nat"$/  mode: "flow"/' \
    'mode flow with lb-algo "rr": flow mode schedules with mh'
expect_bad "unknown mode" 20-config.yaml 's/^  mode: "nat"$/  mode: "dsr"/' \
    'mode "dsr" is neither nat nor flow'

# 3. -k and -f apply the same objects.  The kustomization may not be a
# *.yaml here, or -f would try to apply it.
for k in kustomization.yaml kustomization.yml; do
    [ ! -e "$M/$k" ] || fail "manifests/$k would make 'kubectl apply -f manifests/' fail; name it Kustomization"
done
[ -f "$M/Kustomization" ] || fail "manifests/Kustomization is missing"
mapfile -t listed < <(sed -n '/^resources:/,/^[^ -]/s/^  - //p' "$M/Kustomization" | sort)
[ "${listed[*]}" = "${files[*]}" ] ||
    fail "Kustomization lists '${listed[*]}' but kubectl apply -f reads '${files[*]}'"
kubectl kustomize "$M" >"$TMP/built.yaml" || fail "kubectl kustomize manifests/ failed"
by_k=$(kubectl annotate --local -f "$TMP/built.yaml" -o name checked=1 | sort)
by_f=$(kubectl annotate --local -f "$M" -o name checked=1 | sort) || fail "kubectl -f manifests/ failed to read the directory"
[ "$by_k" = "$by_f" ] || fail "-k gives: $by_k; -f gives: $by_f"
n=$(wc -l <<<"$by_f")
out=$(check "$TMP/built.yaml") || { echo "$out"; fail "the kustomized output does not validate"; }
pass "kubectl -k and -f read the same $n objects ($(tr '\n' ' ' <<<"$by_f"))"

# 4. the ConfigMap's BGP settings are ones exabgp-helper accepts
cm() { sed -n "s/^  $1: \"\(.*\)\"$/\1/p" "$M/20-config.yaml"; }
for key in service-prefixes peers peer-as local-as hold-time; do
    [ -n "$(cm $key)" ] || fail "20-config.yaml has no quoted value for $key"
done
# a node namespace where the pod's address is directly connected, as on docker0
NODE_NS=manifests-node-$$
trap 'rm -rf "$TMP"; ip netns del "$NODE_NS" 2>/dev/null || true' EXIT
ip netns add "$NODE_NS"
ip -n "$NODE_NS" link add docker0 type bridge
ip -n "$NODE_NS" addr add 172.16.1.1/24 dev docker0
ip -n "$NODE_NS" link set docker0 up
# the Deployment's own HEALTH_URL: the gate announces while /readyz says 200
health_url=$(sed -n '/- name: HEALTH_URL/{n;s/^ *value: *//p}' "$M/30-loadbalancer.yaml")
[ -n "$health_url" ] || fail "the exabgp container sets no HEALTH_URL"
out=$(env -i PATH="$PATH" POD_IP=172.16.1.2 NODE_IP=10.0.0.106 HEALTH_URL="$health_url" \
    SERVICE_PREFIXES="$(cm service-prefixes)" PEERS="$(cm peers)" PEER_AS="$(cm peer-as)" \
    LOCAL_AS="$(cm local-as)" HOLD_TIME="$(cm hold-time)" EXABGP=/bin/true NODE_NETNS="/run/netns/$NODE_NS" \
    unshare -n "$BUILD/exabgp-helper/exabgp-helper" --dry-run 2>&1) || { echo "$out"; fail "exabgp-helper refuses the ConfigMap's settings"; }
grep -q "run .* health-gate --health-url $health_url --service-prefixes $(cm service-prefixes) --node-ip 10.0.0.106 " <<<"$out" ||
    { echo "$out"; fail "dry run does not gate $(cm service-prefixes) via 10.0.0.106 on $health_url"; }
grep -q "$(cm service-prefixes) via 172.16.1.2 dev docker0" <<<"$out" || { echo "$out"; fail "dry run does not route $(cm service-prefixes) to the pod"; }
pass "exabgp-helper --dry-run accepts the ConfigMap's BGP settings"
# 5. the sample web pods' nginx configuration answers with the pod's
# address, on the port the ConfigMap sends traffic to, run as the pod runs
# it under Pod Security restricted: the manifest's runAsUser, no
# capabilities, no new privileges
WEB_IP=172.16.9.2
ip -n "$NODE_NS" link add eth0 type veth peer name web0
ip -n "$NODE_NS" addr add "$WEB_IP/24" dev eth0
ip -n "$NODE_NS" link set eth0 up
ip -n "$NODE_NS" link set lo up
# web JS: evaluate JS with `web` the sample's objects by kind
web() {
    (cd "$HERE" && node --input-type=module -e '
    import { readFileSync } from "node:fs"; import { parseAllDocuments } from "yaml";
    const objs = parseAllDocuments(readFileSync(process.argv[1], "utf8")).map((d) => d.toJS()).filter(Boolean);
    const web = Object.fromEntries(objs.map((o) => [o.kind, o]));
    const pod = web.Deployment.spec.template.spec;
    process.stdout.write(String(eval(process.argv[2])));' "$M/40-sample-web.yaml" "$1")
}
web 'web.ConfigMap.data["default.conf"]' >"$TMP/default.conf"
WEB_UID=$(web 'pod.securityContext.runAsUser')
[ -n "$WEB_UID" ] && [ "$WEB_UID" != 0 ] || fail "40-sample-web.yaml has no non-root runAsUser for the pod"
# the pod's sysctls, as the kubelet sets them in the pod's namespace
# (net.ipv4.ip_unprivileged_port_start: nginx, unprivileged, on port 80)
while read -r key value; do
    [ -n "$key" ] && ip netns exec "$NODE_NS" sysctl -qw "$key=$value"
done < <(web '(pod.securityContext.sysctls ?? []).map((x) => `${x.name} ${x.value}\n`).join("")')
chmod 711 "$TMP"
mkdir "$TMP/run"
chown "$WEB_UID:$WEB_UID" "$TMP/run"
printf '%s\n' "daemon off;" "pid $TMP/run/nginx.pid;" "error_log stderr;" \
    "events { worker_connections 64; }" "http {" "    access_log off;" \
    "    client_body_temp_path $TMP/run/tmp-body;" "    proxy_temp_path $TMP/run/tmp-proxy;" \
    "    fastcgi_temp_path $TMP/run/tmp-fastcgi;" "    uwsgi_temp_path $TMP/run/tmp-uwsgi;" \
    "    scgi_temp_path $TMP/run/tmp-scgi;" "    include $TMP/default.conf;" "}" >"$TMP/nginx.conf"
ip netns exec "$NODE_NS" setpriv --reuid "$WEB_UID" --regid "$WEB_UID" --clear-groups \
    --inh-caps=-all --bounding-set=-all --no-new-privs \
    nginx -e /dev/stderr -c "$TMP/nginx.conf" 2>>"$TMP/nginx.err" &
NGINX=$!
# (errexit holds in the trap too: a kill of an nginx that already exited
# must not stop it before the namespace is gone)
trap 'kill "$NGINX" 2>/dev/null || true; wait "$NGINX" 2>/dev/null || true; rm -rf "$TMP"; ip netns del "$NODE_NS" 2>/dev/null || true' EXIT
body=""
for _ in $(seq 50); do
    body=$(ip netns exec "$NODE_NS" curl -sf --max-time 1 "http://$WEB_IP:$(cm target-port)/" 2>/dev/null) && break
    sleep 0.1
done
[ "$body" = "$WEB_IP" ] || { cat "$TMP/nginx.err" 2>/dev/null; fail "the sample's nginx on port $(cm target-port) answered '$body', not its address $WEB_IP"; }
for pid in $NGINX $(pgrep -P "$NGINX"); do
    st=$(awk '$1 == "Uid:" { u = $2 } $1 == "CapEff:" { c = $2 } END { print u, c }' "/proc/$pid/status")
    [ "$st" = "$WEB_UID 0000000000000000" ] || fail "nginx process $pid runs as uid/CapEff '$st', want '$WEB_UID 0000000000000000'"
done
pass "the sample web's nginx, as uid $WEB_UID with no capabilities, answers with the pod's address ($body) on the ConfigMap's target-port $(cm target-port)"
# flow mode's port: the virtual server's (IPIP rewrites no port), allowed
# to uid $WEB_UID by the pod's sysctl; the answer names the pod and the
# client's address as the pod sees it
vport=$(cm virtual-server)
vport=${vport##*:}
body=$(ip netns exec "$NODE_NS" curl -sf --max-time 2 "http://$WEB_IP:$vport/") ||
    { cat "$TMP/nginx.err" 2>/dev/null; fail "the sample's nginx does not answer on the virtual port $vport"; }
[ "$body" = "$(hostname) $WEB_IP" ] || fail "on port $vport the sample's nginx answered '$body', not '$(hostname) $WEB_IP' (its name and the client's address)"
pass "the sample web's nginx answers on the virtual port $vport too (for flow mode), with its name and the client's address: $body"

# 6. the sample's web-init as the Deployment runs it (its args and env), in
# the ConfigMap's nat mode: it checks its input and changes nothing (the
# host has no ipip; flow mode's own tests are tests/integration/web-init.sh)
mapfile -t wi_env < <(web 'pod.initContainers.find((c) => c.name === "web-init").env.map((e) => `${e.name}=${e.value}`).join("\n")')
mapfile -t wi_args < <(web 'pod.initContainers.find((c) => c.name === "web-init").args.join("\n")')
[ "${wi_args[0]:-}" = web-init ] || fail "the sample's web-init container runs '${wi_args[*]}', not web-init"
links=$(ip -n "$NODE_NS" -o addr)
out=$(ip netns exec "$NODE_NS" env -i PATH="$PATH" "${wi_env[@]}" sh "$SRC/images/ipvs/ipvs-entrypoint" "${wi_args[@]}" 2>&1) ||
    fail "the sample's web-init (${wi_env[*]}) failed: $out"
[ "$out" = "ipvs-entrypoint: web-init: nat mode: nothing to do for $(cm virtual-server | sed 's/:.*//') (the load balancer forwards by NAT; IPVS_WEB_MODE=flow puts them on tunl0)" ] ||
    fail "the sample's web-init said: $out"
[ "$(ip -n "$NODE_NS" -o addr)" = "$links" ] || fail "the sample's web-init in nat mode changed the pod's addresses"
pass "the sample's web-init (${wi_env[*]}): $out"
echo "manifests: all checks passed"
