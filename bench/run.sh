#!/usr/bin/env bash
# bench/run.sh - the controller's figures: render time and RSS at 10, 1,000
# and 10,000 endpoints, and event-to-reload latency over CHANGES pod changes
# (default 1,000) through the fake API server with PODS pods (default 10,000).
# Prints figures; not a pass/fail test.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
bash scripts/deps.sh
cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
ninja -C build/bench >/dev/null
export BUILD=$SRC/build/bench SRC

echo "== render (collect + render, median of 51 rounds)"
for n in 10 1000 10000; do "$BUILD/bench/bench_render" "$n"; done

echo "== event to SIGHUP through the fake API server"
. tests/integration/lib.sh
start_fakeapi
start_controller --selector app=web --virtual-server 10.1.1.1:80 \
    --keepalived-pidfile "$T/keepalived.pid" --debounce-ms 50 --max-delay-ms 500 \
    --min-reload-interval-ms 100 --log-level ${LOG_LEVEL:-warn}
in_ns "$PY" bench/event_latency.py --api "$API" --pidfile "$T/keepalived.pid" \
    --conf "$T/ipvs.conf" --controller-pid "$PID_controller" \
    --pods "${PODS:-10000}" --changes "${CHANGES:-1000}" --spacing-ms "${SPACING_MS:-150}"
echo "(debounce 50 ms, min reload interval 100 ms)"
