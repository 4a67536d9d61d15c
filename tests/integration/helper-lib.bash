# SPDX-License-Identifier: Apache-2.0
# helper-lib.bash - the world of the exabgp-helper tests, sourced after
# lib.sh: a node namespace ($NS) with docker0 (172.16.1.0/24) and eth0
# (10.0.0.105/24), pods on docker0, a stand-in for exabgp, and helper() to
# run exabgp-helper in a pod.  Not a test itself (the runner takes *.sh).

# The node: docker0 with the pod subnet, eth0 on the LAN towards the peer.
ip -n "$NS" link add docker0 type bridge
ip -n "$NS" addr add 172.16.1.1/24 dev docker0
ip -n "$NS" link set docker0 up
ip -n "$NS" link add eth0 type veth peer name eth0p
ip -n "$NS" addr add 10.0.0.105/24 dev eth0
ip -n "$NS" link set eth0 up
ip -n "$NS" link set eth0p up

# add_pod NAME IP [nodefault]: a pod namespace on docker0.
add_pod() {
    add_ns "$1"
    ip -n "$NS" link add "v$1" type veth peer name eth0 netns "$NS-$1"
    ip -n "$NS" link set "v$1" master docker0 up
    ip -n "$NS-$1" addr add "$2/24" dev eth0
    ip -n "$NS-$1" link set eth0 up
    [ "${3:-}" = nodefault ] || ip -n "$NS-$1" route add default via 172.16.1.1
    mkdir -p "$T/$1"
}
add_pod pod 172.16.1.2
add_pod pod2 172.16.1.3
add_pod lonely 172.16.1.4 nodefault

# A stand-in for exabgp: records how it was started, then exits (or stays
# up and records SIGUSR1 when FAKE_STAY is set).
cat >"$T/fake-exabgp" <<'EOF'
#!/bin/bash
# the capability lines of this very process (read builtins, no child)
caps() { local l; while read -r l; do [[ "$l" != Cap* ]] || echo "$l"; done </proc/$$/status; }
{ echo "pid=$$"; echo "args=$*"; caps; env | grep '^exabgp\.' | sort; } >"$1.exec"
if [ -n "${FAKE_STAY:-}" ]; then
    trap 'cp "$1" "$1.at-usr1"' USR1
    while :; do sleep 0.05; done
fi
EOF
chmod +x "$T/fake-exabgp"

# helper POD [VAR=value...] [-- ARGS...]: run the helper in POD's namespace
# (static routes: HEALTH_URL empty, the health gate is tests/rig/health-gate.sh's),
# through the command in WRAP if any; sets OUT (stdout), ERR (stderr), RC.
WRAP=()
helper() {
    local pod=$1; shift
    local envs=() args=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
    [ "${1:-}" = -- ] && shift
    args=("$@")
    RC=0
    OUT=$(ip netns exec "$NS-$pod" "${WRAP[@]}" env -i PATH="$PATH" NODE_NETNS="/var/run/netns/$NS" \
        SERVICE_PREFIXES=10.1.1.0/24,10.1.2.0/24 PEERS=10.0.0.109 \
        EXABGP_CONF="$T/$pod/exabgp.conf" EXABGP="$T/fake-exabgp" DRAIN_SECONDS=0 HEALTH_URL= \
        "${envs[@]}" "$HELPER" "${args[@]}" 2>"$T/err") || RC=$?
    ERR=$(cat "$T/err")
}
expect_rc() { [ "$RC" = "$1" ] || fail "$2: exit $RC, want $1; stderr: $ERR"; }
# expect_error TEXT: exactly one error line, and it says TEXT.
expect_error() {
    local lines
    lines=$(grep -c '^exabgp-helper: ' <<<"$ERR" || true)
    [ "$lines" = 1 ] || fail "want one error line, got $lines: $ERR"
    grep -qF -- "$1" <<<"$ERR" || fail "error does not say '$1': $ERR"
}
node_routes() { ip -n "$NS" route show proto 201; }
pod_routes() { ip -n "$NS-$1" route show table local proto 201; }
expect_no_routes() {
    local n p
    n=$(node_routes)
    p=$(pod_routes pod)
    [ -z "$n$p" ] || fail "$1: routes left behind: node [$n] pod [$p]"
}

