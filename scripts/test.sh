#!/usr/bin/env bash
# test.sh - everything CI runs, from a fresh Debian 12 machine as root:
# dependencies, the clang-format check, a -Werror build with all tests
# (unit, golden, integration, the real python3-kubernetes client against
# the fake API server), all of them again with the controller built with
# ASan+UBSan, bounded libFuzzer runs, the manifests checked offline, both
# images built and the load balancer pod run from its manifest by podman,
# and the testbed's quick run in a VM with real IPVS.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
JOBS=$(nproc)

bash scripts/deps.sh

echo "== format"
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
clang-format --dry-run --Werror $files

echo "== build (gcc, -Werror) and all tests"
cmake -S . -B build/ci -G Ninja -DLB_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build/ci
ctest --test-dir build/ci --output-on-failure -j "$JOBS"

echo "== unit and integration tests again under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build/asan -G Ninja -DLB_WERROR=ON -DLB_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
ninja -C build/asan
ctest --test-dir build/asan --output-on-failure -j "$JOBS"

echo "== fuzzing (bounded)"
CC=clang cmake -S . -B build/fuzz -G Ninja -DLB_WERROR=ON -DLB_SANITIZE=ON -DLB_FUZZ=ON \
    -DLB_FUZZ_SECONDS="${LB_FUZZ_SECONDS:-75}" >/dev/null
ninja -C build/fuzz fuzz_stream fuzz_options fuzz_ipvs_table
ctest --test-dir build/fuzz --output-on-failure -L fuzz

echo "== manifests: offline against the Kubernetes schemas, unknown fields refused"
BUILD="$SRC/build/ci" bash tests/manifests/run.sh

echo "== images: build both, their entry points, the manifest's pod under podman kube play"
bash tests/images/apt-mirror.sh
bash images/build.sh
bash tests/images/entrypoint.sh
BUILD="$SRC/build/ci" SRC="$SRC" bash tests/images/kube-play.sh

echo "== testbed smoke run: qemu (TCG) with a Debian kernel that has IPVS"
bash testbed/run --quick

if command -v vagrant >/dev/null; then
    echo "== Vagrantfile (the testbed as separate VMs)"
    VAGRANT_CHECKPOINT_DISABLE=1 vagrant validate
fi

echo "all test stages passed"
