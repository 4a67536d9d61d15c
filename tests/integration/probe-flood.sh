#!/usr/bin/env bash
# Idle connections from one address cannot take the probes down: while 600
# connections from 127.0.0.2 are held (and reopened as the controller
# closes them), /healthz from 127.0.0.1 answers within 1 s on every try;
# connections an attacker leaves idle are closed after the idle timeout.
. "$(dirname "$0")/lib.sh"

FLOOD=600 # more than the global connection limit (512): only a per-address limit saves the probe
IDLE_S=3 # the controller's idle timeout (METRICS_IDLE_S in controller/metrics.c)

# flood.py MODE N PORT OUT: N connections from 127.0.0.2 to 127.0.0.1:PORT.
#   hold: keep N open, reopening each one the server closes; OUT says how many are open
#   once: open N once; OUT says how many the server closed, and when the last one
cat >"$T/flood.py" <<'EOF'
import os, select, socket, sys, time
mode, n, port, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

def connect():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.2", 0))
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    return s

def report(text):
    with open(out + ".tmp", "w") as f:
        f.write(text + "\n")
    os.replace(out + ".tmp", out)

socks = {}
for _ in range(n):
    s = connect()
    socks[s.fileno()] = s
start = time.monotonic()
closed, last_close = 0, 0.0
poller = select.poll()
for fd in socks:
    poller.register(fd, select.POLLIN)
report(f"open={len(socks)} closed=0 last_close_s=0")
while True:
    for fd, _ in poller.poll(200):
        s = socks.pop(fd)
        poller.unregister(fd)
        try:
            data = s.recv(1)  # the server never sends unasked: b"" or an error is a close
        except OSError:
            data = b""
        s.close()
        closed += 1
        last_close = time.monotonic() - start
        if mode == "hold":
            s = connect()
            socks[s.fileno()] = s
            poller.register(s.fileno(), select.POLLIN)
    report(f"open={len(socks)} closed={closed} last_close_s={last_close:.1f}")
    if mode == "hold":
        time.sleep(0.2)  # an attacker, not a busy loop on a shared machine
EOF

field() { sed -n "s/.*$2=\([0-9.]*\).*/\1/p" "$1" 2>/dev/null; }

start_fakeapi
ctl pod-add web-1 172.16.1.11
METRICS_PORT=$(free_port)
start_controller --selector app=web --virtual-server 10.1.1.1:80 \
    --metrics-address "127.0.0.1:$METRICS_PORT"
wait_until 10 "first file" has_rs 172.16.1.11 80
healthz() { in_ns curl -s --max-time 1 -o /dev/null -w '%{http_code} %{time_total}' \
    "http://127.0.0.1:$METRICS_PORT/healthz"; }
wait_until 10 "/healthz answers" sh -c "[ \"\$(ip netns exec $NS curl -s --max-time 1 http://127.0.0.1:$METRICS_PORT/healthz)\" = ok ]"

bg flood "$PY" "$T/flood.py" hold "$FLOOD" "$METRICS_PORT" "$T/flood.state"
wait_until 10 "$FLOOD connections opened" sh -c "[ \"\$(sed -n 's/^open=\([0-9]*\).*/\1/p' '$T/flood.state' 2>/dev/null)\" = $FLOOD ]"
# The tries span more than the idle timeout, so they also meet the reopened connections.
worst=0
for i in $(seq 12); do
    r=$(healthz) || true
    code=${r%% *} t=${r##* }
    [ "$code" = 200 ] || fail "try $i: /healthz from 127.0.0.1 got \"${r:-nothing}\" within 1 s while $FLOOD connections from 127.0.0.2 were held"
    worst=$(awk -v a="$worst" -v b="$t" 'BEGIN { print (b > a) ? b : a }')
    sleep 0.5
done
held=$(in_ns ss -Htn state established "( sport = :$METRICS_PORT and dst 127.0.0.2 )" | wc -l)
echo "figures: slowest /healthz ${worst}s over 12 tries; connections from 127.0.0.2 held by the controller: $held; attacker's closed and reopened: $(field "$T/flood.state" closed)"
[ "$(field "$T/flood.state" closed)" -gt 0 ] || fail "the controller closed none of the flood's connections"
pass "/healthz answers within 1 s on every try while $FLOOD connections from another address are held"

kill -TERM "$PID_flood" # started by this test
wait "$PID_flood" 2>/dev/null || true

# Connections left idle are closed after the idle timeout, not held forever.
bg idle "$PY" "$T/flood.py" once "$FLOOD" "$METRICS_PORT" "$T/idle.state"
wait_until $((IDLE_S + 7)) "the controller closing all $FLOOD idle connections" \
    sh -c "[ \"\$(sed -n 's/.*closed=\([0-9]*\).*/\1/p' '$T/idle.state' 2>/dev/null)\" = $FLOOD ]"
echo "figures: the last idle connection was closed $(field "$T/idle.state" last_close_s)s after it was opened"
[ "$(in_ns ss -Htn state established "( sport = :$METRICS_PORT and dst 127.0.0.2 )" | wc -l)" = 0 ] ||
    fail "the controller still holds connections from 127.0.0.2"
pass "idle connections are closed after the idle timeout"
[ "$(healthz | cut -d' ' -f1)" = 200 ] || fail "/healthz does not answer after the flood"
pass "/healthz answers after the flood"
