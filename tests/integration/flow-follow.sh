#!/usr/bin/env bash
# --mode flow in the daemon: real servers oldest first (creation time, not
# name or address), a pod that is not ready stays in its place at weight 0,
# a terminating one goes, a virtual server without a ready one is left
# out, and keepalived accepts every file it is given.
. "$(dirname "$0")/lib.sh"

start_fakeapi
start_keepalived
start_controller --mode flow --selector app=web --virtual-server 10.1.1.1:80 \
    --keepalived-pidfile "$T/keepalived.pid"

# "ADDR PORT WEIGHT" per real server, in file order
servers() {
    awk '/^    real_server / { a = $2 " " $3 } /^        weight / { print a " " $2 }' "$T/ipvs.conf"
}
servers_are() { [ "$(servers | tr '\n' ,)" = "$1" ]; }
config_ok() {
    keepalived --config-test -f "$T/keepalived.conf" >"$T/config-test.log" 2>&1 ||
        fail "rendered file fails keepalived --config-test: $(cat "$T/config-test.log")"
}

ctl pod-add web-c 172.16.2.13
wait_until 10 "web-c rendered" servers_are "172.16.2.13 80 1,"
# creation times have whole seconds: the next pods are younger
s0=$(date +%s)
past_s0() { [ "$(date +%s)" -gt "$s0" ]; }
wait_until 3 "the next second" past_s0
ctl pod-add web-a 172.16.1.11
ctl pod-add web-b 172.16.1.12 --ready false
wait_until 10 "web-a and web-b rendered after web-c" \
    servers_are "172.16.2.13 80 1,172.16.1.11 80 1,172.16.1.12 80 0,"
awk '/^virtual_server/ { on = 1; next } on && NF { print; if (++n == 5) exit }' "$T/ipvs.conf" \
    >"$T/head.txt"
printf '    lvs_sched mh\n    mh-port\n    mh-fallback\n    lvs_method TUN\n    protocol TCP\n' |
    diff - "$T/head.txt" >/dev/null || fail "virtual server head: $(cat "$T/head.txt")"
grep -qx '    inhibit_on_failure' "$T/ipvs.conf" || fail "no inhibit_on_failure"
config_ok
pass "oldest first (web-c, then web-a; web-b not ready at weight 0), mh flags after lvs_sched"

ctl pod-ready web-c false
wait_until 10 "web-c at weight 0 in its place" \
    servers_are "172.16.2.13 80 0,172.16.1.11 80 1,172.16.1.12 80 0,"
ctl pod-ready web-b true
wait_until 10 "web-b at weight 1 in its place" \
    servers_are "172.16.2.13 80 0,172.16.1.11 80 1,172.16.1.12 80 1,"
config_ok
pass "readiness changes the weight, never the place"

ctl pod-terminating web-a
wait_until 10 "terminating web-a gone" servers_are "172.16.2.13 80 0,172.16.1.12 80 1,"
ctl pod-terminating web-b
wait_until 10 "terminating web-b gone" servers_are ""
grep -qx '# virtual_server 10.1.1.1 80: no ready endpoints' "$T/ipvs.conf" ||
    fail "no comment for the virtual server without a ready real server"
config_ok
pass "terminating pods dropped; without a ready one the virtual server is left out"

ctl pod-ready web-c true
wait_until 10 "web-c back" servers_are "172.16.2.13 80 1,"
config_ok
pass "and written again once one is ready"
