#!/usr/bin/env bash
# --service over HTTPS: EndpointSlices added, changed and deleted; the
# bearer token rotates under the running controller; TLS is verified (a
# wrong CA is refused with a clear error, unless told to skip it).
. "$(dirname "$0")/lib.sh"

start_fakeapi --tls
ctl slice-set web-a web --port 8080 --port-name http --endpoint 10.244.1.2 --endpoint 10.244.1.3,ready=false
ctl slice-set other-a other --port 9090 --endpoint 10.244.9.9
METRICS_PORT=$(free_port)
start_controller --service web --virtual-server 10.1.1.2:80 --token-file "$T/token" \
    --ca-file "$T/certs/ca.crt" --metrics-address "127.0.0.1:$METRICS_PORT"
wait_until 10 "slice endpoint rendered" has_rs 10.244.1.2 8080
rs_count_is 1 || fail "unready endpoint or another service's slice rendered"
pass "EndpointSlice endpoints rendered with the slice's port over HTTPS"

ctl slice-set web-b web --port 8080 --port-name http --endpoint 10.244.2.2 --endpoint 10.244.2.3,terminating=true
ctl slice-set web-a web --port 8080 --port-name http --endpoint 10.244.1.2 --endpoint 10.244.1.3
wait_until 10 "second slice and ready endpoint" rs_count_is 3
has_rs 10.244.2.2 8080 && has_rs 10.244.1.3 8080 || fail "wrong endpoints after update"
has_rs 10.244.2.3 8080 && fail "terminating endpoint rendered"
ctl slice-del web-a
wait_until 10 "deleted slice removed" rs_count_is 1
pass "slices added, updated and deleted"

# Rotate the token: the server accepts only the new one from now on; the
# controller's next request (after the cut) must read the new file.
echo "rotated-$RANDOM$RANDOM" >"$T/token.new"
mv "$T/token.new" "$T/token"
ctl shutdown-connections
ctl slice-set web-c web --port 8080 --port-name http --endpoint 10.244.3.3
wait_until 10 "update after token rotation" has_rs 10.244.3.3 8080
pass "rotated token re-read"

# A wrong token is refused with the API's status in the log, and the file stays.
sum=$(md5sum <"$T/ipvs.conf")
echo "not-the-token" >"$T/wrong-token"
in_ns "$CONTROLLER" --apiserver "$API" --output "$T/ipvs.conf" --service web \
    --virtual-server 10.1.1.2:80 --token-file "$T/wrong-token" --ca-file "$T/certs/ca.crt" \
    --once >"$T/wrong-token.log" 2>&1 && rc=0 || rc=$?
[ "$rc" = 1 ] || fail "wrong token: exit $rc, want 1"
grep -q 'status=401' "$T/wrong-token.log" || fail "401 not reported"
[ "$(md5sum <"$T/ipvs.conf")" = "$sum" ] || fail "file changed after a refused request"
pass "wrong token: 401 reported, file kept"

# Verification: a CA that did not sign the server is refused...
bash "$SRC/tests/fakeapi/gen-certs.sh" "$T/other-ca" >/dev/null
in_ns "$CONTROLLER" --apiserver "$API" --output "$T/other.conf" --service web \
    --virtual-server 10.1.1.2:80 --token-file "$T/token" --ca-file "$T/other-ca/ca.crt" \
    --once >"$T/bad-ca.log" 2>&1 && rc=0 || rc=$?
[ "$rc" = 1 ] || fail "untrusted server certificate: exit $rc, want 1"
grep -q 'certificate' "$T/bad-ca.log" || fail "certificate problem not named"
[ -e "$T/other.conf" ] && fail "a file was written from an unverified server"
# ...and accepted only when verification is explicitly skipped.
in_ns "$CONTROLLER" --apiserver "$API" --output "$T/other.conf" --service web \
    --virtual-server 10.1.1.2:80 --token-file "$T/token" --insecure-skip-tls-verify \
    --once >"$T/skip.log" 2>&1 || fail "--insecure-skip-tls-verify: exit $?"
grep -q "real_server 10.244.3.3 8080" "$T/other.conf" || fail "skip-verify run rendered nothing"
pass "TLS verified by default; skipped only on request"
