#!/usr/bin/env bash
# demo.sh - the controller end to end against the test API server, in a
# network namespace of its own: HTTPS with a bearer token, pods scaled up,
# made unready and deleted, and after each step the ipvs.conf keepalived
# was reloaded with.  Then the BGP half on the namespace rig: three load
# balancer pods running exabgp-helper and exabgp, and the router's ECMP
# route following them.  (The full testbed with real IPVS replaces this as
# the main job once it exists.)
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD

bash scripts/deps.sh
cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
ninja -C build/demo >/dev/null

export BUILD=$SRC/build/demo SRC
# the test helpers give the namespace, the fake API server and the cleanup trap
# shellcheck source=../tests/integration/lib.sh
. tests/integration/lib.sh

step() { printf '\n== %s\n' "$*"; }
show() {
    sleep 0.6
    echo "--- $T/ipvs.conf (real servers: $(rs_count), keepalived reloads: $(reloads))"
    grep -E '^(virtual_server|#)|real_server' "$T/ipvs.conf" | sed 's/^/    /'
}

step "fake Kubernetes API over HTTPS with a bearer token, in namespace $NS"
start_fakeapi --tls
echo "API at $API"
start_keepalived
METRICS_PORT=9273
start_controller --selector app=web --virtual-server 10.1.1.1:80 --token-file "$T/token" \
    --ca-file "$T/certs/ca.crt" --keepalived-pidfile "$T/keepalived.pid" \
    --health-check http:/ --metrics-address "127.0.0.1:$METRICS_PORT"
wait_until 10 "controller ready" in_ns curl -sf "http://127.0.0.1:$METRICS_PORT/readyz"

step "three web pods become ready"
ctl pod-add web-1 172.16.1.11
ctl pod-add web-2 172.16.2.12
ctl pod-add web-3 172.16.3.13
wait_until 10 "three servers" rs_count_is 3
show

step "web-2 fails its readiness probe"
ctl pod-ready web-2 false
wait_until 10 "two servers" rs_count_is 2
show

step "web-3 is deleted, web-4 scheduled"
ctl pod-del web-3
ctl pod-add web-4 172.16.1.14
wait_until 10 "web-4" has_rs 172.16.1.14 80
show

step "the API goes away: the file stays as it is"
stop_fakeapi
sleep 2
show

step "keepalived accepts the file"
keepalived --config-test -f "$T/keepalived.conf" && echo "keepalived --config-test: OK"

step "metrics"
in_ns curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" | grep -E '^ipvs_controller_(endpoints|reloads_total|relists_total|watch_restarts_total|errors_total\{kind="api_connect"\}|ready) '

step "controller log (logfmt)"
tail -n 8 "$T/controller.log"

step "BGP and ECMP: exabgp-helper and exabgp in three load balancer pods (testbed/rig)"
bash testbed/rig/demo.sh
echo
echo "demo finished"
