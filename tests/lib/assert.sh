# SPDX-License-Identifier: Apache-2.0
# assert.sh - the one assertion library of every test script (integration,
# rig, images, manifests, the testbed's scenarios): fail, pass, and a
# wait_until that evaluates its condition afresh on every try.
#
# Sourced, never run.  Needs bash.
#
# The condition of wait_until is either one string, evaluated by the shell
# on each try (so command substitutions in it run again each time):
#
#     wait_until 5 "keepalived reloaded" '[ "$(reloads)" -ge 1 ]'
#
# or a command with its arguments, run as given on each try:
#
#     wait_until 10 "three real servers" rs_count_is 3
#
# Never write `wait_until 5 what test "$(x)" -ge 1`: the caller's shell
# expands $(x) once, before the first try, and the loop would re-check a
# frozen value.  Quote the whole condition instead, as above.

# fail MESSAGE...: say what is wrong, end the test with status 1.
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# pass MESSAGE...: one line for a check that held.
pass() { echo "ok - $*"; }

# _assert_us: microseconds since the epoch.
_assert_us() { echo "${EPOCHREALTIME/[.,]/}"; }

# _assert_secs_us S: S seconds (whole or with a fraction) in microseconds.
_assert_secs_us() { awk -v s="$1" 'BEGIN { printf "%d", s * 1000000 }'; }
# _assert_fmt_us US: microseconds as seconds with 3 decimals.
_assert_fmt_us() { printf '%d.%03d' $(($1 / 1000000)) $(($1 % 1000000 / 1000)); }

# wait_until SECONDS WHAT CONDITION...: try CONDITION every 0.1 s until it
# holds; fail naming WHAT after SECONDS.  Sets WAITED to the seconds it
# took (3 decimals), for tests that report a figure.
WAITED=""
wait_until() {
    local secs=$1 what=$2 t0 deadline
    shift 2
    [ $# -ge 1 ] || fail "wait_until: no condition for: $what"
    t0=$(_assert_us)
    deadline=$((t0 + $(_assert_secs_us "$secs")))
    while :; do
        if [ $# -eq 1 ]; then
            eval "$1" >/dev/null 2>&1 && break
        else
            "$@" >/dev/null 2>&1 && break
        fi
        [ "$(_assert_us)" -lt "$deadline" ] || fail "timed out after ${secs}s waiting for: $what"
        sleep 0.1
    done
    WAITED=$(_assert_fmt_us $(($(_assert_us) - t0)))
}

# holds_for SECONDS WHAT CONDITION...: CONDITION must hold on every try for
# SECONDS (the negative of wait_until: something that must not happen).
holds_for() {
    local secs=$1 what=$2 deadline
    shift 2
    deadline=$(($(_assert_us) + $(_assert_secs_us "$secs")))
    while [ "$(_assert_us)" -lt "$deadline" ]; do
        if [ $# -eq 1 ]; then
            eval "$1" >/dev/null 2>&1 || fail "no longer true: $what"
        else
            "$@" >/dev/null 2>&1 || fail "no longer true: $what"
        fi
        sleep 0.1
    done
}
