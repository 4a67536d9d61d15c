#!/usr/bin/env bash
# The controller's memory is bounded by what it uses, not by what the API
# sends: against bodies within the default caps (a 30 MB list page, 4 MB
# watch events of {} or of [[[...]]], 10,000 pods of 20 KB in pages) its
# peak RSS (VmHWM) stays under LIMIT_MB (default 64, half the manifest's
# limit), and it still applies the pod sent after them.  bench/memory.sh
# prints the figures.
. "$(dirname "$0")/lib.sh"

# ASan's shadow memory and quarantine add tens of MB; the bound is there
# to catch hundreds (bc9a274: 2,359 MB on the first case).
if grep -qs '^LB_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt"; then
    LIMIT_MB=${LIMIT_MB:-128}
else
    LIMIT_MB=${LIMIT_MB:-64}
fi
BIGAPI="$SRC/tests/fakeapi/bigapi.py"

hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

for sc in page-30mb-braces event-braces event-nested event-braces-kept list-10k; do
    rm -f "$T/$sc.port"
    bg "api-$sc" "$PY" "$BIGAPI" --port-file "$T/$sc.port" "$sc"
    api_pid=$!
    wait_until 30 "bigapi $sc" test -s "$T/$sc.port"
    bg "ctl-$sc" "$CONTROLLER" --apiserver "http://127.0.0.1:$(cat "$T/$sc.port")" \
        --namespace default --selector app=web --virtual-server 10.1.1.1:80 \
        --output "$T/$sc.conf" --backoff-max-ms 1000
    ctl_pid=$!
    # the pod sent after the big body: everything before it has been read
    wait_until 120 "$sc: the pod after the big body" grep -q 'pod=marker' "$T/ctl-$sc.log"
    wait_until 20 "$sc: the pod after the big body rendered" grep -q "10.99.0.1" "$T/$sc.conf"
    kb=$(hwm_kb "$ctl_pid")
    [ -n "$kb" ] || fail "$sc: the controller is gone"
    echo "$sc: peak RSS $((kb / 1024)) MB"
    [ "$kb" -le $((LIMIT_MB * 1024)) ] || fail "$sc: peak RSS $((kb / 1024)) MB over ${LIMIT_MB} MB"
    kill -TERM "$ctl_pid" "$api_pid"
    wait "$ctl_pid" "$api_pid" 2>/dev/null || true
    pass "$sc: peak RSS $((kb / 1024)) MB, under ${LIMIT_MB} MB"
done

# the object over the caps was skipped with one line naming it
grep -q 'msg="skipping object over the size caps" pod=hostile' "$T/ctl-event-braces-kept.log" ||
    fail "no line naming the object over the caps"
pass "an object over the caps is skipped with one line naming it"
