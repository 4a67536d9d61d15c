#!/usr/bin/env bash
# Every golden rendering is a configuration keepalived 2.2 itself accepts.
. "$(dirname "$0")/lib.sh"

n=0
for d in "$SRC"/tests/render/*/; do
    grep -q '^virtual_server' "$d/expected.conf" || continue
    cat >"$T/keepalived.conf" <<KEOF
global_defs {
    router_id golden
}
include $d/expected.conf
KEOF
    keepalived --config-test -f "$T/keepalived.conf" >"$T/check.log" 2>&1 ||
        { cat "$T/check.log"; fail "$(basename "$d"): keepalived --config-test failed"; }
    n=$((n + 1))
done
[ "$n" -ge 5 ] || fail "only $n golden files checked"
pass "$n golden files pass keepalived --config-test"
