#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# helper-caps.sh - exabgp runs with no capability at all: the program
# exabgp-helper execs shows CapInh, CapPrm, CapEff, CapBnd and CapAmb all
# zero in its /proc/PID/status, also when the helper itself was started with
# inheritable and ambient capabilities (as a container runtime may); and
# when the sets cannot be emptied (no SETPCAP) nothing is installed and
# nothing exec'd: one line, exit 1.
. "$(dirname "$0")/lib.sh"

# shellcheck source=helper-lib.bash
. "$(dirname "$0")/helper-lib.bash"

SETS="CapInh CapPrm CapEff CapBnd CapAmb"
# cap_of FILE SET: the hex mask of SET recorded by the stand-in in FILE.
cap_of() { awk -v s="$2:" '$1 == s { print $2 }' "$1"; }
# all_empty WHAT: every set of the stand-in exec'd last is 0.
all_empty() {
    local f="$T/pod/exabgp.conf.exec" s v
    [ -s "$f" ] || fail "$1: exabgp was not exec'd: $ERR"
    for s in $SETS; do
        v=$(cap_of "$f" "$s")
        [ "$v" = 0000000000000000 ] || fail "$1: exabgp has $s ${v:-missing}: $(cat "$f")"
    done
}
# The runtime's inheritable and ambient capabilities (what the issue saw kept).
INH=cap_net_admin,cap_sys_admin,cap_setpcap
CAPSH=(capsh --inh="$INH" --addamb=cap_net_admin --)

helper pod
expect_rc 0 "run"
all_empty "run as plain root"
pass "exabgp exec'd by a root helper has all five capability sets empty"

# Control: the wrapper really hands inheritable and ambient sets down to a
# program it starts, so the check below can fail.
rm -f "$T/ctl.exec"
ip netns exec "$NS-pod" "${CAPSH[@]}" -c 'exec "$@"' wrap "$T/fake-exabgp" "$T/ctl"
[ "$(cap_of "$T/ctl.exec" CapInh)" = 0000000000201100 ] ||
    fail "control: capsh did not give the inheritable set: $(cat "$T/ctl.exec")"
[ "$(cap_of "$T/ctl.exec" CapAmb)" = 0000000000001000 ] ||
    fail "control: capsh did not give the ambient set: $(cat "$T/ctl.exec")"

rm -f "$T/pod/exabgp.conf.exec"
WRAP=("${CAPSH[@]}" -c 'exec "$@"' wrap)
helper pod
WRAP=()
expect_rc 0 "run with inheritable and ambient capabilities"
all_empty "run started with inheritable $INH and ambient cap_net_admin"
pass "started with inheritable and ambient capabilities, exabgp still has none"

# Without SETPCAP the bounding set cannot be emptied: no exec, nothing left.
helper pod -- cleanup
expect_rc 0 "cleanup before the SETPCAP case"
rm -f "$T/pod/exabgp.conf" "$T/pod/exabgp.conf.exec"
WRAP=(setpriv --bounding-set=-setpcap)
helper pod
WRAP=()
expect_rc 1 "run without SETPCAP"
expect_error "cannot empty the capability bounding set: Operation not permitted (the container needs capability SETPCAP)"
[ ! -e "$T/pod/exabgp.conf.exec" ] || fail "exabgp exec'd although the drop failed"
[ ! -e "$T/pod/exabgp.conf" ] || fail "exabgp.conf written although the drop failed"
expect_no_routes "run without SETPCAP"
pass "no SETPCAP: one line, exit 1, no routes, no exabgp.conf, no exec"
