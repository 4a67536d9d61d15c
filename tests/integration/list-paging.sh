#!/usr/bin/env bash
# Paged lists: continue tokens long enough to overflow a fixed request
# buffer once escaped still work; tokens over the cap are refused with a
# line naming them; a relist after a paged list works; and a server that
# answers 410 to every continue token gets the backoff, not a request loop.
. "$(dirname "$0")/lib.sh"

list_count() { # list requests for pods so far
    "${CTL[@]}" stats | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["counts"]["list"]["pods"])'
}
list_count_ge() { [ "$(list_count)" -ge "$1" ]; }

# 1. 2,000 '/' in every token: 6,000 bytes escaped, over the old 4,096-byte path.
FAKEAPI_ARGS="--continue-pad 2000" start_fakeapi
"${CTL[@]}" bulk-pods 5 web >/dev/null
start_controller --selector app=web --virtual-server 10.1.1.1:80 --list-page-size 2
wait_until 20 "five pods listed through three pages" rs_count_is 5
pass "a 2,000-character continue token that needs escaping works"

# A relist after a paged list (a 410 on the watch) lists again from the first page.
listed_twice() { [ "$(grep -c 'msg=listed' "$T/controller.log")" -ge 2 ]; }
ctl fault error410event --target watch
ctl shutdown-connections
wait_until 20 "a second list after the 410" listed_twice
ctl pod-add late 10.200.1.1
wait_until 20 "the new pod, seen by the watch after the relist" rs_count_is 6
kill -0 "$PID_controller" || fail "the controller died relisting after a paged list"
pass "relist after a paged list"
kill -TERM "$PID_controller"
wait "$PID_controller" || true
stop_fakeapi

# 2. A token over the cap (4,096) is refused when the page is read, with a line.
rm -f "$T/api.port"
FAKEAPI_ARGS="--continue-pad 5000" start_fakeapi
"${CTL[@]}" bulk-pods 5 web >/dev/null
bg controller2 "$CONTROLLER" --apiserver "$API" --output "$T/ipvs2.conf" --backoff-max-ms 1000 \
    --selector app=web --virtual-server 10.1.1.1:80 --list-page-size 2
wait_until 20 "a line about the long token" \
    grep -q 'msg="invalid list response".*metadata.continue is longer than 4096 bytes' \
    "$T/controller2.log"
pass "an over-long continue token is refused with one line naming it"
kill -TERM "$PID_controller2"
wait "$PID_controller2" || true
stop_fakeapi

# 3. Every continue token answered with 410: the first restart is immediate,
#    then the backoff applies.  Count list requests over a window.
rm -f "$T/api.port"
FAKEAPI_ARGS="" start_fakeapi
"${CTL[@]}" bulk-pods 5 web >/dev/null
ctl fault http410 --target continue --count 100000
bg controller3 "$CONTROLLER" --apiserver "$API" --output "$T/ipvs3.conf" --backoff-max-ms 1000 \
    --selector app=web --virtual-server 10.1.1.1:80 --list-page-size 2
wait_until 20 "a first 410 on a continue token" grep -q 'status=410' "$T/controller3.log"
before=$(list_count)
sleep 5 # the window: what is measured is the count of requests in it
after=$(list_count)
n=$((after - before))
echo "list requests in 5 s of 410s: $n"
[ "$n" -ge 2 ] || fail "the controller stopped retrying ($n list requests in 5 s)"
[ "$n" -le 40 ] || fail "no backoff on 410 for continue tokens: $n list requests in 5 s"
grep -q 'msg="retrying later"' "$T/controller3.log" || fail "no backoff logged"
pass "410 on every continue token: $n list requests in 5 s, backing off"

ctl reset
"${CTL[@]}" bulk-pods 3 web >/dev/null
three_rs() { [ "$(grep -c real_server "$T/ipvs3.conf" 2>/dev/null)" = 3 ]; }
wait_until 30 "three pods after the 410s" three_rs
pass "lists again once the server stops answering 410"
