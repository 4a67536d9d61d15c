#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# md5.sh - TCP-MD5 on the pod's session: the right password comes up and
# announces; a wrong one, or none, keeps trying and never gets a session
# (the route reflector's kernel drops their SYNs); cleanup withdraws the
# prefix through the running exabgp with the session staying Established.
. "$(dirname "$0")/lib.sh"

# rr_tcpext NAME: the route reflector kernel's TcpExt counter NAME.
rr_tcpext() {
    ip netns exec "$RIG-rr" cat /proc/net/netstat |
        awk -v k="$1" '$1 == "TcpExt:" { if (!n++) { for (i = 2; i <= NF; i++) if ($i == k) c = i } else print $c }'
}
rr_tcpext_at_least() { [ "$(rr_tcpext "$1")" -ge "$2" ]; }
# lb_is_exabgp POD: the pod's load balancer process is alive and is exabgp
# (the helper exec'd it) rather than the helper or nothing.
lb_is_exabgp() {
    local pid st
    read -r pid st <<<"$(_rig_pid "$1.exabgp")"
    _rig_alive "$pid" "$st" && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q exabgp
}
# rr_knows ADDR: gobgpd answers with a real state for ADDR, not "none".
rr_state_is_not() { local s; s=$(rig_rr_state "$1"); [ "$s" != none ] && [ "$s" != "$2" ]; }

# the first pod on node N is 172.16.N.2
export RIG_MD5_PASSWORD="s3cret \"quoted\"; really"
export RIG_MD5_PEERS="172.16.1.2 172.16.2.2 172.16.3.2"
rig_up
printf '%s\n' "$RIG_MD5_PASSWORD" >"$RIG_DIR/right"
printf 'not-the-password\n' >"$RIG_DIR/wrong"

rig_pod_add 1 good >/dev/null
rig_pod_add 2 bad >/dev/null
rig_pod_add 3 none >/dev/null
nf0=$(rr_tcpext TCPMD5NotFound)
bad0=$(rr_tcpext TCPMD5Failure)
rig_lb_start good 1 10.1.1.0/24 MD5_PASSWORD_FILE="$RIG_DIR/right"
rig_lb_start bad 2 10.1.1.0/24 MD5_PASSWORD_FILE="$RIG_DIR/wrong"
rig_lb_start none 3 10.1.1.0/24
rig_wait_nexthops 10.1.1.0/24 1 20
nexthops_are 10.1.1.0/24 10.0.0.105
rig_wait_rr_state 172.16.1.2 established 10
[ "$(stat -c %a "$RIG_DIR/good/exabgp.conf")" = 600 ] || fail "exabgp.conf with a password is not 0600"
pass "the right password: session up, prefix announced"

# The others are alive and trying: the RR's kernel drops their SYNs, the
# unsigned ones as TCPMD5NotFound, the badly signed ones as TCPMD5Failure
# (each counter has one source here), twice each, so exabgp retried.
wait_until 30 "unsigned SYNs from the pod without a password" rr_tcpext_at_least TCPMD5NotFound $((nf0 + 2))
wait_until 30 "badly signed SYNs from the pod with the wrong password" rr_tcpext_at_least TCPMD5Failure $((bad0 + 2))
echo "    RR dropped $(($(rr_tcpext TCPMD5NotFound) - nf0)) unsigned and $(($(rr_tcpext TCPMD5Failure) - bad0)) badly signed SYNs"
for p in bad none; do lb_is_exabgp "$p" || fail "the load balancer of pod $p is not a running exabgp"; done
for a in 172.16.2.2 172.16.3.2; do
    rr_state_is_not "$a" established || fail "$a: the RR reports $(rig_rr_state "$a")"
done
nexthops_are 10.1.1.0/24 10.0.0.105
pass "a wrong password, or none: exabgp keeps trying, the RR drops it, no session, no nexthop"

# Graceful withdraw with MD5: cleanup rewrites the file with the password
# and nothing to announce; exabgp reloads it and withdraws, the session
# stays Established while the prefix leaves the router.
rig_wait_rr_state 172.16.1.2 established 10
rig_helper good 1 10.1.1.0/24 --md5-password-file "$RIG_DIR/right" --drain-seconds 3 cleanup \
    >>"$RIG_DIR/cleanup.log" 2>&1 &
cleanup_pid=$!
t0=$(_rig_now)
states=""
until [ -z "$(rig_nexthops 10.1.1.0/24)" ]; do
    states+="$(rig_rr_state 172.16.1.2) "
    awk -v t="$(_rig_since "$t0")" 'BEGIN { exit !(t < 15) }' ||
        fail "the prefix did not leave the router within 15s (RR states: $states)"
    sleep 0.05
done
withdrawn=$(_rig_since "$t0")
# the session through the drain and after it
until ! kill -0 "$cleanup_pid" 2>/dev/null; do
    states+="$(rig_rr_state 172.16.1.2) "
    sleep 0.1
done
wait "$cleanup_pid" || fail "cleanup failed: $(cat "$RIG_DIR/cleanup.log")"
states+="$(rig_rr_state 172.16.1.2)"
echo "    prefix withdrawn ${withdrawn}s after cleanup started"
[ -z "$(tr -d ' ' <<<"${states//established/}")" ] ||
    fail "the session left Established during the withdraw: $states"
lb_is_exabgp good || fail "exabgp of pod good is gone"
grep -q 'md5-password' "$RIG_DIR/good/exabgp.conf" || fail "the drained exabgp.conf lost the password"
! grep -q 'route ' "$RIG_DIR/good/exabgp.conf" || fail "the drained exabgp.conf still announces"
[ "$(stat -c %a "$RIG_DIR/good/exabgp.conf")" = 600 ] || fail "the drained exabgp.conf is not 0600"
[ -z "$(ip -n "$RIG-node1" route show proto 201)" ] || fail "cleanup left the node route"
pass "cleanup with MD5: prefix withdrawn, session Established throughout, file 0600 with the password"
