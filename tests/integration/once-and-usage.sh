#!/usr/bin/env bash
# --once (list, render, reload, exit 0; exit 1 and the file untouched when
# the API is down) and bad usage (exit 2, one line naming the fault).
. "$(dirname "$0")/lib.sh"

start_fakeapi
start_keepalived
ctl pod-add web-1 172.16.1.11
ctl pod-add web-2 172.16.1.12
before=$(reloads)
in_ns "$CONTROLLER" --apiserver "$API" --output "$T/ipvs.conf" --selector app=web \
    --virtual-server 10.1.1.1:80 --keepalived-pidfile "$T/keepalived.pid" --once \
    --list-page-size 1 >"$T/once.log" 2>&1 || fail "--once exited $?"
rs_count_is 2 || fail "--once did not render both pods"
stats=$("${CTL[@]}" stats) || fail "fakectl stats failed"
grep -q '"continue": true' <<<"$stats" || fail "the list was not paged"
wait_until 5 "keepalived reloaded by --once" '[ "$(reloads)" -gt "$before" ]'
pass "--once renders, reloads and exits 0"

# the same again: nothing changed, so no write and no reload
before=$(reloads)
in_ns "$CONTROLLER" --apiserver "$API" --output "$T/ipvs.conf" --selector app=web \
    --virtual-server 10.1.1.1:80 --keepalived-pidfile "$T/keepalived.pid" --once \
    >"$T/once2.log" 2>&1 || fail "second --once exited $?"
grep -q "already up to date" "$T/once2.log" || fail "unchanged file not recognised"
sleep 0.5
[ "$(reloads)" = "$before" ] || fail "--once reloaded an unchanged file"
pass "--once with nothing new: no reload"

stop_fakeapi
sum=$(md5sum <"$T/ipvs.conf")
in_ns "$CONTROLLER" --apiserver "$API" --output "$T/ipvs.conf" --selector app=web \
    --virtual-server 10.1.1.1:80 --once >"$T/once3.log" 2>&1 && rc=0 || rc=$?
[ "$rc" = 1 ] || fail "--once with the API down exited $rc, want 1"
[ "$(md5sum <"$T/ipvs.conf")" = "$sum" ] || fail "--once with the API down touched the file"
grep -q "could not list; the previous file stays" "$T/once3.log" || fail "no clear message"
pass "--once with the API down: exit 1, file untouched"

# --once with a pidfile naming no process: exit 1, clear message
echo 999999 >"$T/stale.pid"
start_fakeapi
ctl pod-add web-3 172.16.1.13
in_ns "$CONTROLLER" --apiserver "$API" --output "$T/ipvs.conf" --selector app=web \
    --virtual-server 10.1.1.1:80 --keepalived-pidfile "$T/stale.pid" --once \
    >"$T/once4.log" 2>&1 && rc=0 || rc=$?
[ "$rc" = 1 ] || fail "--once with a stale pidfile exited $rc, want 1"
grep -q "cannot signal keepalived pid 999999" "$T/once4.log" || fail "stale pid not named"
pass "--once with a stale pidfile: exit 1 naming the pid"

# Bad usage: exit 2 and exactly one line that names the fault.
usage() {
    local want=$1; shift
    out=$("$CONTROLLER" "$@" 2>&1) && rc=0 || rc=$?
    [ "$rc" = 2 ] || fail "'$*' exited $rc, want 2"
    [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || fail "'$*' printed more than one line: $out"
    case "$out" in *"$want"*) ;; *) fail "'$*' said '$out', want '$want'" ;; esac
}
usage "--virtual-server" --apiserver http://127.0.0.1:1 --selector a=b --virtual-server 1.2.3.4
usage "exactly one of --selector or --service" --apiserver http://127.0.0.1:1 --virtual-server 1.2.3.4:80
usage "--lb-kind" --apiserver http://127.0.0.1:1 --selector a=b --virtual-server 1.2.3.4:80 --lb-kind FOO
usage "--selector" --apiserver http://127.0.0.1:1 --selector 'a=b;rm' --virtual-server 1.2.3.4:80
usage "KUBERNETES_SERVICE_HOST" --selector a=b --virtual-server 1.2.3.4:80
usage "--once cannot supervise" --apiserver http://127.0.0.1:1 --selector a=b \
    --virtual-server 1.2.3.4:80 --once --keepalived-cmd keepalived
IPVS_CONTROLLER_LB_ALGO=fastest usage "IPVS_CONTROLLER_LB_ALGO" --apiserver http://127.0.0.1:1 \
    --selector a=b --virtual-server 1.2.3.4:80
help=$("$CONTROLLER" --help) || fail "--help exited $?"
grep -q "Exit status" <<<"$help" || fail "--help does not document exit codes"
grep -q "IPVS_CONTROLLER_VIRTUAL_SERVER" <<<"$help" || fail "--help lacks env names"
version=$("$CONTROLLER" --version) || fail "--version exited $?"
grep -q "^ipvs-controller [0-9]" <<<"$version" || fail "--version says '$version'"
pass "bad usage: exit 2 with one line naming the fault"

# An output directory that does not exist: the daemon logs and keeps the old file.
in_ns "$CONTROLLER" --apiserver "$API" --output "$T/nodir/ipvs.conf" --selector app=web \
    --virtual-server 10.1.1.1:80 --once >"$T/once5.log" 2>&1 && rc=0 || rc=$?
[ "$rc" = 1 ] || fail "unwritable output exited $rc, want 1"
grep -q "cannot write configuration" "$T/once5.log" || fail "write error not explained"
pass "unwritable output: exit 1 with the reason"
