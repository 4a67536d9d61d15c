#!/usr/bin/env bash
# keepalived inherits nothing from the controller: every socket and event
# descriptor the controller holds (the API watch connection, the metrics
# server's, curl's and its own) is close-on-exec, and the spawned program
# holds only 0, 1 and 2, even when the controller itself inherited more.
. "$(dirname "$0")/lib.sh"

start_fakeapi
ctl pod-add web-1 172.16.1.11
METRICS_PORT=$(free_port)
# The stand-in for keepalived records its pid, ignores the reload signal
# and stays up, so its descriptors can be read from /proc.  fd 7 is opened
# here without close-on-exec and inherited by the controller.
start_controller --selector app=web --virtual-server 10.1.1.1:80 \
    --metrics-address "127.0.0.1:$METRICS_PORT" \
    --keepalived-cmd "sh -c 'trap \"\" HUP; echo \$\$ >$T/standin.pid; exec sleep 600'" \
    7>"$T/inherited"
wait_until 10 "first file" has_rs 172.16.1.11 80
wait_until 10 "the stand-in started" test -s "$T/standin.pid"
child=$(cat "$T/standin.pid")
wait_until 10 "the stand-in exec'd" sh -c "[ \"\$(cat /proc/$child/comm)\" = sleep ]"
wait_until 10 "the controller's watch connection" sh -c \
    "ip netns exec $NS ss -Htnp state established '( dport = :$API_PORT )' | grep -q 'pid=$PID_controller,'"

# The controller's own descriptors: sockets, epoll, signalfd.
n=0
for fd in /proc/"$PID_controller"/fd/*; do
    fd=${fd##*/}
    link=$(readlink "/proc/$PID_controller/fd/$fd") || continue
    case $link in socket:* | anon_inode:*) ;; *) continue ;; esac
    flags=$(awk '$1 == "flags:" { print $2 }' "/proc/$PID_controller/fdinfo/$fd") || continue
    [ $((0$flags & 02000000)) != 0 ] || fail "controller fd $fd ($link) is not close-on-exec (flags $flags)"
    n=$((n + 1))
done
[ "$n" -ge 4 ] || fail "only $n sockets and event descriptors found in the controller"
[ "$(readlink "/proc/$PID_controller/fd/7")" = "$T/inherited" ] || fail "the controller did not inherit fd 7"
pass "the controller's $n sockets and event descriptors are all close-on-exec"

fds=$(ls /proc/"$child"/fd | sort -n | tr '\n' ' ')
[ "$fds" = "0 1 2 " ] || fail "the spawned program holds descriptors $fds; want 0 1 2 only ($(ls -l /proc/"$child"/fd | tail -n +2 | awk '{print $9 $10 $11}' | tr '\n' ' '))"
pass "the spawned keepalived holds only 0, 1 and 2"
