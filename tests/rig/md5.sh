#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# md5.sh - TCP-MD5 on the pod's session: the right password comes up and
# announces; a wrong one, or none, never gets a session.
. "$(dirname "$0")/lib.sh"

# the first pod on node N is 172.16.N.2
export RIG_MD5_PASSWORD="s3cret \"quoted\"; really"
export RIG_MD5_PEERS="172.16.1.2 172.16.2.2 172.16.3.2"
rig_up
printf '%s\n' "$RIG_MD5_PASSWORD" >"$RIG_DIR/right"
printf 'not-the-password\n' >"$RIG_DIR/wrong"

rig_pod_add 1 good >/dev/null
rig_pod_add 2 bad >/dev/null
rig_pod_add 3 none >/dev/null
rig_lb_start good 1 10.1.1.0/24 MD5_PASSWORD_FILE="$RIG_DIR/right"
rig_lb_start bad 2 10.1.1.0/24 MD5_PASSWORD_FILE="$RIG_DIR/wrong"
rig_lb_start none 3 10.1.1.0/24
rig_wait_nexthops 10.1.1.0/24 1 20
nexthops_are 10.1.1.0/24 10.0.0.105
[ "$(stat -c %a "$RIG_DIR/good/exabgp.conf")" = 600 ] || fail "exabgp.conf with a password is not 0600"
pass "the right password: session up, prefix announced"

# exabgp retries every few seconds; give both the others time to try
sleep 8
nexthops_are 10.1.1.0/24 10.0.0.105
for a in 172.16.2.2 172.16.3.2; do
    s=$(rig_rr_state "$a")
    [ "$s" != established ] || fail "$a has a session without the right password"
done
pass "a wrong password, or none, gets no session and no nexthop"
