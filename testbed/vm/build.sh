#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# build.sh - make sure the testbed VM's cache (root filesystem, kernel,
# modules, initramfs) exists and is current; build what is missing or stale.
# Fast when the cache is current.  Progress goes to stderr; the cache
# directory is printed on stdout.  See README.md beside this file.
#
#   sudo testbed/vm/build.sh            # TESTBED_CACHE=/var/cache/k8s-ipvs-lb-testbed
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

case "${1:-}" in
    -h|--help)
        sed -n '3,8p' "$0" | sed 's/^# \{0,1\}//'
        exit 0 ;;
    "") ;;
    *) echo "usage: $0 [--help]" >&2; exit 2 ;;
esac

vm_ensure_cache
vm_say "root filesystem: $VM_ROOTFS"
vm_say "kernel $VM_KVER:  $VM_BOOT ($(if [ -f "$VM_BOOT/vmlinux" ]; then echo "vmlinux, PVH"; else echo bzImage; fi))"
echo "$TESTBED_CACHE"
