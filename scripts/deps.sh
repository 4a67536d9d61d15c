#!/usr/bin/env bash
# deps.sh - install, from Debian's archive, what building and testing need.
# Idempotent: asks apt only when a package is missing.
set -euo pipefail

PKGS=(
    build-essential cmake ninja-build pkg-config clang clang-format
    libcurl4-openssl-dev libjansson-dev libnl-3-dev libnl-route-3-dev
    libcmocka-dev libmicrohttpd-dev
    keepalived python3 python3-kubernetes openssl curl iproute2 procps util-linux libcap2-bin
    exabgp gobgpd frr bird2 nginx-light
)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# These packages may start system services; the tests run their own, in
# namespaces of their own.
for svc in keepalived frr bird exabgp nginx; do
    if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
        systemctl stop "$svc" || true
    fi
done
