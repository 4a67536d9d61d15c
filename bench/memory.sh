#!/usr/bin/env bash
# bench/memory.sh - the controller's peak memory (VmHWM) on big and hostile
# API responses, for the current tree and for an older commit.
#
#   bash bench/memory.sh [OLD_COMMIT] [SCENARIO...]
#
# OLD_COMMIT (default bc9a274, before lists were streamed; "none" to skip) is
# built from `git archive` in build/bench-old(-src); the tree in build/bench.  Each
# scenario (see tests/fakeapi/bigapi.py) starts tests/fakeapi/bigapi.py and a real
# ipvs-controller against it on 127.0.0.1, waits until the controller has
# applied the pod sent after the big body (or 180 s), and prints the
# controller's VmHWM.  Prints figures; not a pass/fail test.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
OLD=${1:-bc9a274}
shift || true
SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=(list-10k relist-10k page-500 page-30mb page-30mb-braces
    event-braces event-braces-kept event-values event-nested event-string)

W=$(mktemp -d /tmp/ipvsctl-membench.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$W"
}
trap cleanup EXIT

build() { # build DIR SRCDIR
    cmake -S "$2" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
    ninja -C "$1" controller/ipvs-controller >/dev/null
}
build "$SRC/build/bench" "$SRC"
BINS=("new=$SRC/build/bench/controller/ipvs-controller")
if [ "$OLD" != none ]; then
    rm -rf "$SRC/build/bench-old-src"
    mkdir -p "$SRC/build/bench-old-src"
    git -C "$SRC" archive "$OLD" | tar -x -C "$SRC/build/bench-old-src"
    build "$SRC/build/bench-old" "$SRC/build/bench-old-src"
    BINS=("old=$SRC/build/bench-old/controller/ipvs-controller" "${BINS[@]}")
fi

# run SCENARIO BINARY: prints the peak RSS in MB, and the outcome
run() {
    local sc=$1 bin=$2 api ctl deadline hwm=0 h outcome="done"
    rm -f "$W/port" "$W"/*.log "$W/ipvs.conf"
    "$SRC/tests/fakeapi/bigapi.py" --port-file "$W/port" "$sc" &
    api=$!
    PIDS+=("$api")
    for _ in $(seq 100); do [ -s "$W/port" ] && break; sleep 0.1; done
    "$bin" --apiserver "http://127.0.0.1:$(cat "$W/port")" --namespace default \
        --selector app=web --virtual-server 10.1.1.1:80 --output "$W/ipvs.conf" \
        --backoff-max-ms 2000 >"$W/ctl.log" 2>&1 &
    ctl=$!
    PIDS+=("$ctl")
    deadline=$((SECONDS + 180))
    # VmHWM is read on every turn: a controller that crashes still has a figure
    until grep -qs 'pod=marker' "$W/ctl.log"; do
        h=$(awk '/^VmHWM/ { print $2 }' "/proc/$ctl/status" 2>/dev/null || true)
        [ -z "$h" ] || hwm=$h
        if ! kill -0 "$ctl" 2>/dev/null; then outcome="exited"; break; fi
        if [ $SECONDS -ge $deadline ]; then outcome="timeout"; break; fi
        sleep 0.2
    done
    h=$(awk '/^VmHWM/ { print $2 }' "/proc/$ctl/status" 2>/dev/null || true)
    [ -z "$h" ] || hwm=$h
    kill -TERM "$ctl" "$api" 2>/dev/null || true
    wait "$ctl" "$api" 2>/dev/null || true
    local notes
    notes=$(grep -Eo 'skipping object over the size caps|invalid watch event|watch event over the size cap|list response over the size cap|invalid list response|watch stream is not a sequence of JSON objects' \
        "$W/ctl.log" | sort | uniq -c | tr -s ' ' | paste -sd';' || true)
    printf '%-18s %-4s %8s MB  %-8s %s\n' "$sc" "$3" "$((hwm / 1024))" "$outcome" "$notes"
}

printf '%-18s %-4s %11s  %-8s %s\n' scenario code "peak RSS" outcome "log lines"
for sc in "${SCENARIOS[@]}"; do
    for b in "${BINS[@]}"; do
        run "$sc" "${b#*=}" "${b%%=*}"
    done
done
