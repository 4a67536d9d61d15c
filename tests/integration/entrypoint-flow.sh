#!/usr/bin/env bash
# The ipvs entry point's flow mode, on the host: the mode from
# IPVS_CONTROLLER_MODE or run's --mode (which wins), anything else exit 2;
# the steps each mode does not use are skipped with a line (so one
# IPVS_PREPARE serves both); the sloppy step sets net.ipv4.vs.sloppy_tcp
# and, where /proc/sys is read-only (the ipvs container after the init
# container), only confirms it or names the fix; IPVS_TIMEOUTS (or flow
# mode's default) becomes keepalived's lvs_timeouts in global_defs, which
# keepalived accepts, nat mode's keepalived.conf stays byte for byte what it
# was, and a bad value exits 2 before anything is written or run.
#
# This host has no IPVS, so net.ipv4.vs.* does not exist: the real kernel's
# answer is checked ("IPVS is not loaded"), and for the rest a mount
# namespace puts a stand-in net/ipv4/vs directory under /proc/sys (the
# testbed's VM sets the real one).
. "$(dirname "$0")/lib.sh"

ENTRY=$SRC/images/ipvs/ipvs-entrypoint
KA=$T/keepalived
# a stand-in ipvs-controller: records its arguments, exits 0
mkdir -p "$T/bin" "$KA"
printf '#!/bin/sh\nprintf "%%s\\n" "$*" >"%s/controller.args"\n' "$T" >"$T/bin/ipvs-controller"
chmod 755 "$T/bin/ipvs-controller"

# ep [ENV=VALUE...] [-- ARGS...]: the entry point in the test's namespace
# with only the environment given; sets RC and OUT (stderr and stdout)
ep() {
    local envs=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    RC=0
    OUT=$(in_ns env -i PATH="$T/bin:$PATH" KEEPALIVED_DIR="$KA" KEEPALIVED_RUN_DIR="$KA" "${envs[@]}" sh "$ENTRY" "$@" 2>&1) || RC=$?
}
expect() {
    [ "$RC" = "$1" ] || fail "$3: exit $RC, want $1: $OUT"
    [[ $OUT == *"$2"* ]] || fail "$3: want '$2' in: $OUT"
    pass "$3: $(grep -F -- "$2" <<<"$OUT" | head -1)"
}
conf() { cat "$KA/keepalived.conf"; }
host=$(in_ns cat /proc/sys/kernel/hostname)

# --- the mode
ep IPVS_CONTROLLER_MODE=dsr IPVS_PREPARE=none -- prepare
expect 2 "ipvs-entrypoint: IPVS_CONTROLLER_MODE: unknown mode 'dsr' (modes: nat, flow)" "unknown mode in the environment"
ep IPVS_CONTROLLER_MODE=flow IPVS_PREPARE=none -- run --mode=Flow
expect 2 "ipvs-entrypoint: --mode: unknown mode 'Flow' (modes: nat, flow)" "run's --mode wins and is checked"
[ ! -e "$T/controller.args" ] || fail "the controller ran after a bad mode"

# --- steps a mode does not use pass with a line; those it uses run
ep IPVS_PREPARE=sloppy -- prepare
expect 0 "ipvs-entrypoint: sloppy: not used in nat mode" "sloppy in nat mode"
ep IPVS_CONTROLLER_MODE=flow IPVS_PREPARE=conntrack,masquerade -- prepare
expect 0 "conntrack: not used in flow mode" "conntrack in flow mode"
[[ $OUT == *"masquerade: not used in flow mode"* ]] || fail "masquerade ran in flow mode: $OUT"
in_ns iptables -t nat -S POSTROUTING | grep -q MASQUERADE && fail "flow mode added a masquerade rule"
ep IPVS_PREPARE=sloppy -- run --mode flow
expect 1 "ipvs-entrypoint: sloppy: net.ipv4.vs.sloppy_tcp does not exist: IPVS is not loaded (see the modules step)" \
    "sloppy in flow mode (--mode), on a kernel without IPVS"
ep IPVS_CONTROLLER_MODE=flow IPVS_PREPARE=forward,bogus -- prepare
expect 2 "IPVS_PREPARE: unknown step 'bogus' (steps: modules,forward,conntrack,masquerade,sloppy, or none)" "unknown step"

# --- the sloppy step on a stand-in net/ipv4/vs, as the privileged init
# container (writable) and as the ipvs container (/proc/sys read-only) see it
# (procfs has no vs directory to mount on: the stand-in is all of net/ipv4)
mkdir -p "$T/ipv4/vs"
echo 0 >"$T/ipv4/vs/sloppy_tcp"
sloppy() { cat "$T/ipv4/vs/sloppy_tcp"; }
# in_vs RO -- ENTRY-ARGS: the entry point with the stand-in mounted, and
# /proc/sys read-only (as runtimes mount it) when RO is ro
in_vs() {
    local ro=$1
    shift 2
    RC=0
    OUT=$(in_ns unshare -m sh -c '
        set -e
        mount --make-rprivate /
        [ "$1" = ro ] && mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys
        mount --bind "$2" /proc/sys/net/ipv4
        [ "$1" = ro ] && mount -o remount,bind,ro /proc/sys/net/ipv4
        shift 2
        exec env -i PATH="$PATH" IPVS_CONTROLLER_MODE=flow IPVS_PREPARE=sloppy sh "$@"' sh "$ro" "$T/ipv4" "$ENTRY" "$@" 2>&1) || RC=$?
}
in_vs ro -- prepare
expect 1 "ipvs-entrypoint: sloppy: cannot set net.ipv4.vs.sloppy_tcp=1 (it is 0): /proc/sys is read-only in this container; run 'ipvs-entrypoint prepare' in a privileged init container" \
    "sloppy_tcp 0 where /proc/sys is read-only"
[ "$(sloppy)" = 0 ] || fail "sloppy_tcp written through a read-only /proc/sys"
in_vs rw -- prepare
expect 0 "ipvs-entrypoint: sloppy: set net.ipv4.vs.sloppy_tcp=1" "the init container sets sloppy_tcp"
[ "$(sloppy)" = 1 ] || fail "sloppy_tcp is $(sloppy) after the init container"
in_vs ro -- prepare
[ "$RC" = 0 ] && [ -z "$OUT" ] || fail "sloppy_tcp already 1, read-only /proc/sys: exit $RC: $OUT"
pass "sloppy_tcp already 1: the ipvs container confirms it, silently, through a read-only /proc/sys"

# --- keepalived.conf: nat mode's is what it always was
want_nat=$(printf 'global_defs {\n    router_id %s\n}\ninclude %s/ipvs.conf' "$host" "$KA")
ep IPVS_PREPARE=none -- run --selector app=web
expect 0 "" "nat mode runs the controller"
[ "$(conf)" = "$want_nat" ] || fail "nat mode's keepalived.conf changed: $(conf)"
[[ $OUT != *timeouts* ]] || fail "nat mode speaks of timeouts: $OUT"
[ "$(cat "$T/controller.args")" = "--selector app=web" ] || fail "the controller got '$(cat "$T/controller.args")'"
pass "nat mode: keepalived.conf byte for byte as before, no lvs_timeouts"

# lvs_line: keepalived.conf's lvs_timeouts line, inside global_defs
lvs_line() { sed -n '/^global_defs {$/,/^}$/s/^    lvs_timeouts /lvs_timeouts /p' "$KA/keepalived.conf"; }
rm -f "$T/controller.args"
ep IPVS_PREPARE=none -- run --mode flow --selector app=web
expect 0 "ipvs-entrypoint: timeouts: lvs_timeouts tcp 300 tcpfin 30 udp 300 (seconds; flow mode's default)" "flow mode's default timeouts"
[ "$(lvs_line)" = "lvs_timeouts tcp 300 tcpfin 30 udp 300" ] || fail "flow mode's keepalived.conf: $(conf)"
[ "$(cat "$T/controller.args")" = "--mode flow --selector app=web" ] || fail "the controller got '$(cat "$T/controller.args")'"
echo "# empty" >"$KA/ipvs.conf"
keepalived --config-test -f "$KA/keepalived.conf" >"$T/config-test.log" 2>&1 ||
    fail "keepalived --config-test refuses flow mode's keepalived.conf: $(cat "$T/config-test.log")"
pass "flow mode: lvs_timeouts tcp 300 tcpfin 30 udp 300 in global_defs, keepalived --config-test accepts it"

ep IPVS_PREPARE=none IPVS_TIMEOUTS="900 120 300" -- run
expect 0 "timeouts: lvs_timeouts tcp 900 tcpfin 120 udp 300 (seconds; IPVS_TIMEOUTS)" "IPVS_TIMEOUTS in nat mode"
[ "$(lvs_line)" = "lvs_timeouts tcp 900 tcpfin 120 udp 300" ] || fail "IPVS_TIMEOUTS: $(conf)"
ep IPVS_PREPARE=none IPVS_CONTROLLER_MODE=flow IPVS_TIMEOUTS="  60	10 0 " -- run
expect 0 "lvs_timeouts tcp 60 tcpfin 10 udp 0" "IPVS_TIMEOUTS with blanks, one kept as the kernel's"
ep IPVS_PREPARE=none IPVS_CONTROLLER_MODE=flow IPVS_TIMEOUTS="0 0 0" -- run
expect 0 "" "IPVS_TIMEOUTS 0 0 0 in flow mode"
[ "$(conf)" = "$want_nat" ] || fail "IPVS_TIMEOUTS=0 0 0 wrote: $(conf)"
pass "IPVS_TIMEOUTS 0 0 0: the kernel's timeouts, no lvs_timeouts"

# --- bad timeouts: exit 2, keepalived.conf as it was, the controller not run
ep IPVS_PREPARE=none -- run --mode flow
good=$(conf)
rm -f "$T/controller.args"
bad_timeouts() {
    ep IPVS_PREPARE=none IPVS_CONTROLLER_MODE=flow IPVS_TIMEOUTS="$1" -- run
    expect 2 "ipvs-entrypoint: IPVS_TIMEOUTS: $2" "IPVS_TIMEOUTS '$1' refused"
    [ "$(grep -c . <<<"$OUT")" = 1 ] || fail "IPVS_TIMEOUTS '$1': more than one line: $OUT"
    [ "$(conf)" = "$good" ] || fail "IPVS_TIMEOUTS '$1': keepalived.conf changed: $(conf)"
    [ ! -e "$T/controller.args" ] || fail "IPVS_TIMEOUTS '$1': the controller ran"
}
bad_timeouts "300 30" "'300 30' is not three numbers of seconds, TCP TCPFIN UDP (e.g. '300 30 300'; 0 keeps the kernel's)"
bad_timeouts "300,30,300" "'300,30,300' is not three numbers of seconds"
bad_timeouts "300 30 300 5" "'300 30 300 5' is not three numbers of seconds"
bad_timeouts "300 30 abc" "'abc' in '300 30 abc' is not a whole number of seconds"
bad_timeouts "-1 30 300" "'-1' in '-1 30 300' is not a whole number of seconds"
bad_timeouts "* * *" "'*' in '* * *' is not a whole number of seconds"
bad_timeouts "300 030 300" "'030' in '300 030 300' has a leading zero"
bad_timeouts "86401 30 300" "86401 in '86401 30 300' is more than 86400 seconds (a day)"
bad_timeouts "300 30 99999999999999999999" "99999999999999999999 in '300 30 99999999999999999999' is more than 86400 seconds"
ep IPVS_TIMEOUTS="1 2" IPVS_PREPARE=forward -- prepare
expect 2 "IPVS_TIMEOUTS: '1 2' is not three numbers" "bad timeouts stop prepare before any step"
[[ $OUT != *forward* ]] || fail "a step ran before the timeouts were checked: $OUT"
