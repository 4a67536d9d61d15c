#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# helper-routes.sh - exabgp-helper in a pod namespace with NODE_NETNS
# pointing at its node's: discovery, both routes, traffic through them,
# idempotence, cleanup touching only ours, the drain through a running
# exabgp, all-or-nothing on a failed route, and every bad input.
. "$(dirname "$0")/lib.sh"

# shellcheck source=helper-lib.bash
. "$(dirname "$0")/helper-lib.bash"

# --dry-run discovers, prints, touches nothing.
helper pod -- --dry-run
expect_rc 0 "--dry-run"
grep -q '^        route 10.1.1.0/24 next-hop 10.0.0.105;$' <<<"$OUT" ||
    fail "dry run: NODE_IP not discovered as the next hop: $OUT"
grep -q '^    local-address 172.16.1.2;$' <<<"$OUT" || fail "dry run: POD_IP not discovered: $OUT"
grep -q '^ip route replace 10.1.2.0/24 via 172.16.1.2 dev docker0 proto 201$' <<<"$OUT" ||
    fail "dry run: node route not shown with the discovered device: $OUT"
grep -q '^ip route replace local 10.1.1.0/24 dev lo table local proto 201$' <<<"$OUT" ||
    fail "dry run: pod route not shown: $OUT"
expect_no_routes "--dry-run"
[ ! -e "$T/pod/exabgp.conf" ] || fail "--dry-run wrote exabgp.conf"
pass "--dry-run discovers POD_IP, NODE_IP and docker0 and touches nothing"

# run: both routes, the file, exabgp exec'd with its environment.
helper pod
expect_rc 0 "run"
want_node=$'10.1.1.0/24 via 172.16.1.2 dev docker0 \n10.1.2.0/24 via 172.16.1.2 dev docker0 '
want_pod=$'local 10.1.1.0/24 dev lo scope host \nlocal 10.1.2.0/24 dev lo scope host '
[ "$(node_routes)" = "$want_node" ] || fail "node routes after run: [$(node_routes)]"
[ "$(pod_routes pod)" = "$want_pod" ] || fail "pod routes after run: [$(pod_routes pod)]"
grep -q 'route 10.1.2.0/24 next-hop 10.0.0.105;' "$T/pod/exabgp.conf" || fail "exabgp.conf"
exec_log=$(cat "$T/pod/exabgp.conf.exec")
grep -qx "args=$T/pod/exabgp.conf" <<<"$exec_log" || fail "exabgp args: $exec_log"
grep -qx 'exabgp.daemon.daemonize=false' <<<"$exec_log" || fail "exabgp env: $exec_log"
grep -qx 'exabgp.api.cli=false' <<<"$exec_log" || fail "exabgp env: $exec_log"
grep -qx $'CapEff:\t0000000000000000' <<<"$exec_log" || fail "exabgp kept capabilities: $exec_log"
grep -qx "pid=$(cat "$T/pod/exabgp.conf.pid")" <<<"$exec_log" ||
    fail "pid file does not name the exec'd exabgp: $exec_log"
pass "run installs both routes, writes exabgp.conf, execs exabgp (no capabilities) in its own pid"

# Traffic: the node sends the service range to the pod, which accepts it.
ip netns exec "$NS-pod" "$PY" -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(8)
while True:
    c, _ = s.accept(); c.sendall(("pod saw " + c.getsockname()[0] + "\n").encode()); c.close()
' >>"$T/listener.log" 2>&1 &
STARTED_PIDS+=("$!")
ask() {
    ip netns exec "$NS" "$PY" -c '
import socket, sys
c = socket.create_connection((sys.argv[1], 8080), timeout=2); print(c.recv(100).decode().strip())
' "$1" 2>/dev/null
}
wait_until 10 "the pod's listener" ask 10.1.1.77
[ "$(ask 10.1.1.77)" = "pod saw 10.1.1.77" ] || fail "10.1.1.77 not answered by the pod"
[ "$(ask 10.1.2.200)" = "pod saw 10.1.2.200" ] || fail "10.1.2.200 not answered by the pod"
pass "the node's connections to the service range are accepted by the pod"

# Twice is harmless: same routes, no duplicates.
helper pod
expect_rc 0 "second run"
[ "$(node_routes)" = "$want_node" ] || fail "node routes after a second run: [$(node_routes)]"
[ "$(pod_routes pod)" = "$want_pod" ] || fail "pod routes after a second run: [$(pod_routes pod)]"
pass "run twice is idempotent"

# Neighbours that cleanup must not touch: another pod's route (ours, but
# another prefix), someone else's routes in both namespaces.
helper pod2 SERVICE_PREFIXES=10.1.3.0/24
expect_rc 0 "run in pod2"
ip -n "$NS" route add 10.9.0.0/24 via 172.16.1.2
ip -n "$NS-pod" route add local 10.9.9.9 dev lo table local
# pod2 cleaning up the prefixes that point at pod removes none of pod's.
helper pod2 SERVICE_PREFIXES=10.1.1.0/24,10.1.2.0/24 -- cleanup
expect_rc 0 "cleanup of another pod's prefixes"
grep -q 'count=0' <<<"$ERR" || fail "cleanup in pod2 removed something: $ERR"
[ "$(node_routes | grep -c 172.16.1.2)" = 2 ] || fail "pod2's cleanup removed pod's node routes"
helper pod -- cleanup
expect_rc 0 "cleanup"
grep -q 'msg="routes removed" count=4' <<<"$ERR" || fail "cleanup did not report 4 routes: $ERR"
[ "$(node_routes)" = "10.1.3.0/24 via 172.16.1.3 dev docker0 " ] ||
    fail "cleanup touched another pod's route: [$(node_routes)]"
[ -z "$(pod_routes pod)" ] || fail "pod routes left after cleanup: $(pod_routes pod)"
ip -n "$NS" route show 10.9.0.0/24 | grep -q via || fail "cleanup removed a route not ours (node)"
ip -n "$NS-pod" route show table local 10.9.9.9 | grep -q local ||
    fail "cleanup removed a route not ours (pod)"
helper pod -- cleanup
expect_rc 0 "cleanup again"
grep -q 'count=0' <<<"$ERR" || fail "second cleanup: $ERR"
ip -n "$NS" route del 10.1.3.0/24
ip -n "$NS" route del 10.9.0.0/24
pass "cleanup removes exactly this pod's routes, and again is harmless"

# cleanup with exabgp running: the file is rewritten to announce nothing,
# exabgp is told to reload (SIGUSR1), then the routes go.
rm -f "$T/pod/exabgp.conf.exec"
ip netns exec "$NS-pod" env -i PATH="$PATH" NODE_NETNS="/var/run/netns/$NS" \
    SERVICE_PREFIXES=10.1.1.0/24,10.1.2.0/24 PEERS=10.0.0.109 EXABGP_CONF="$T/pod/exabgp.conf" \
    EXABGP="$T/fake-exabgp" FAKE_STAY=1 "$HELPER" >>"$T/stay.log" 2>&1 &
STARTED_PIDS+=("$!")
stay=$!
wait_until 10 "the helper to exec the stand-in" test -s "$T/pod/exabgp.conf.exec"
[ "$(node_routes | wc -l)" = 2 ] || fail "routes not installed under a running exabgp"
start=$SECONDS
helper pod DRAIN_SECONDS=1 -- cleanup
expect_rc 0 "cleanup with exabgp running"
[ $((SECONDS - start)) -ge 1 ] || fail "cleanup did not wait DRAIN_SECONDS"
wait_until 5 "SIGUSR1 in the stand-in" test -s "$T/pod/exabgp.conf.at-usr1"
grep -q 'neighbor 10.0.0.109' "$T/pod/exabgp.conf.at-usr1" || fail "drained file lost the peer"
! grep -q 'route ' "$T/pod/exabgp.conf.at-usr1" || fail "drained file still announces"
grep -q 'asked exabgp to withdraw' <<<"$ERR" || fail "cleanup did not log the drain: $ERR"
expect_no_routes "cleanup with exabgp running"
kill -0 "$stay" 2>/dev/null || fail "cleanup stopped exabgp; it should leave that to the kubelet"
kill "$stay"
pass "cleanup drains a running exabgp (reload with nothing announced) before removing routes"

# With TCP-MD5 the drained file keeps the password (without it exabgp closes
# the sessions instead of withdrawing) and stays 0600.  A password cleanup
# cannot read: no drain, the routes still go, one line, exit 1.
printf 'pw-%s\n' "$RANDOM" >"$T/pw"
stay_md5() {
    rm -f "$T/pod/exabgp.conf.exec" "$T/pod/exabgp.conf.at-usr1"
    ip netns exec "$NS-pod" env -i PATH="$PATH" NODE_NETNS="/var/run/netns/$NS" \
        SERVICE_PREFIXES=10.1.1.0/24 PEERS=10.0.0.109 EXABGP_CONF="$T/pod/exabgp.conf" \
        EXABGP="$T/fake-exabgp" FAKE_STAY=1 MD5_PASSWORD_FILE="$T/pw" "$HELPER" >>"$T/stay.log" 2>&1 &
    STARTED_PIDS+=("$!")
    stay=$!
    wait_until 10 "the helper to exec the stand-in" test -s "$T/pod/exabgp.conf.exec"
}
stay_md5
helper pod SERVICE_PREFIXES=10.1.1.0/24 MD5_PASSWORD_FILE="$T/pw" -- cleanup
expect_rc 0 "cleanup with a password"
wait_until 5 "SIGUSR1 in the stand-in" test -s "$T/pod/exabgp.conf.at-usr1"
grep -q 'md5-password "' "$T/pod/exabgp.conf.at-usr1" || fail "drained file lost the password"
! grep -q 'route ' "$T/pod/exabgp.conf.at-usr1" || fail "drained file still announces"
[ "$(stat -c %a "$T/pod/exabgp.conf")" = 600 ] || fail "drained file is not 0600"
expect_no_routes "cleanup with a password"
kill "$stay"
stay_md5
helper pod SERVICE_PREFIXES=10.1.1.0/24 MD5_PASSWORD_FILE="$T/no-such-pw" -- cleanup
expect_rc 1 "cleanup with an unreadable password"
expect_error "MD5_PASSWORD_FILE $T/no-such-pw: No such file or directory"
grep -q 'msg="not draining exabgp' <<<"$ERR" || fail "cleanup did not find exabgp to skip: $ERR"
[ ! -e "$T/pod/exabgp.conf.at-usr1" ] || fail "cleanup drained with a file missing the password"
grep -q 'md5-password "' "$T/pod/exabgp.conf" || fail "cleanup rewrote exabgp.conf without the password"
expect_no_routes "cleanup with an unreadable password"
kill "$stay"
pass "cleanup keeps the password in the drained file (0600); without it, no drain, routes removed, exit 1"

# All or nothing: the second route refused, the first is taken back.
FAILROUTE="$BUILD/tests/failroute.so"
[ -f "$FAILROUTE" ] || fail "missing $FAILROUTE"
for at in 2 3 4; do
    helper pod LD_PRELOAD="$FAILROUTE" FAILROUTE_AT=$at ASAN_OPTIONS=verify_asan_link_order=0
    expect_rc 1 "route $at refused"
    expect_error "Operation not permitted"
    expect_no_routes "route $at refused"
done
# and over routes a previous run left, the failure leaves nothing either
helper pod
expect_rc 0 "run before the refused replace"
helper pod LD_PRELOAD="$FAILROUTE" FAILROUTE_AT=2 ASAN_OPTIONS=verify_asan_link_order=0
expect_rc 1 "refused replace"
expect_no_routes "refused replace"
pass "a refused route leaves nothing installed"

# Bad input: one line naming what is wrong, exit 2 (config) or 1 (runtime),
# nothing installed.
echo "not a namespace" >"$T/plain"
bad() {
    local want_rc=$1 text=$2; shift 2
    helper "$@"
    expect_rc "$want_rc" "bad input ($text)"
    expect_error "$text"
    expect_no_routes "bad input ($text)"
}
bad 2 "NODE_NETNS /nonexistent/net: No such file or directory" pod NODE_NETNS=/nonexistent/net
bad 2 "is not a network namespace" pod NODE_NETNS="$T/plain"
bad 2 "is this pod's own network namespace" pod NODE_NETNS=/proc/self/ns/net
bad 2 "EXABGP /nonexistent/exabgp" pod EXABGP=/nonexistent/exabgp
bad 2 "EXABGP no-such-exabgp: not found in PATH" pod EXABGP=no-such-exabgp
bad 2 "MD5_PASSWORD_FILE /nonexistent/pw" pod MD5_PASSWORD_FILE=/nonexistent/pw
bad 2 "SERVICE_PREFIXES: \"10.1.1.1/24\" has host bits set" pod SERVICE_PREFIXES=10.1.1.1/24
bad 2 "PEER_AS: invalid value \"sixty-five\"" pod PEER_AS=sixty-five
bad 2 "cannot discover POD_IP: the pod has no IPv4 default route; set POD_IP" lonely
bad 2 "cannot discover NODE_IP" pod PEERS=192.0.2.99
ip -n "$NS" route add 172.16.9.0/24 via 10.0.0.1
bad 2 "through gateway 10.0.0.1, not directly" pod POD_IP=172.16.9.5
helper pod NODE_NETNS=/nonexistent/net POD_IP=172.16.1.2 NODE_IP=10.0.0.105 -- --dry-run
expect_rc 2 "dry run without the node namespace"
expect_error "NODE_NETNS /nonexistent/net: No such file or directory"
grep -q '^        route 10.1.1.0/24 next-hop 10.0.0.105;$' <<<"$OUT" ||
    fail "a dry run that cannot see the node still shows the file it knows: $OUT"
helper pod -- --bogus
expect_rc 2 "unknown flag"
expect_error "unknown option --bogus"
pass "bad configuration: one line, exit 2, nothing installed"

# Runtime: without the capabilities, exit 1 and nothing half done.
WRAP=(setpriv --bounding-set=-sys_admin)
helper pod SERVICE_PREFIXES=10.1.1.0/24
expect_rc 1 "without CAP_SYS_ADMIN"
expect_error "(needs CAP_SYS_ADMIN)"
WRAP=(setpriv --bounding-set=-net_admin)
helper pod SERVICE_PREFIXES=10.1.1.0/24
expect_rc 1 "without CAP_NET_ADMIN"
expect_error "cannot install node route 10.1.1.0/24 via 172.16.1.2 dev docker0"
expect_no_routes "without CAP_NET_ADMIN"
WRAP=()
pass "missing permissions: one line, exit 1, nothing installed"

# exabgp that cannot be exec'd: the routes already in are taken back.
printf '\001\002\003' >"$T/not-a-program"
chmod +x "$T/not-a-program"
helper pod EXABGP="$T/not-a-program"
expect_rc 1 "exec failure"
expect_error "cannot exec $T/not-a-program: Exec format error"
expect_no_routes "exec failure"
[ ! -e "$T/pod/exabgp.conf.pid" ] || fail "exec failure left the pid file"
pass "a failed exec removes the routes and the pid file"
