#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run.sh - boot the testbed VM (qemu, TCG) and run SCRIPT in it as root.
#
#   testbed/vm/run.sh [OPTIONS] --share HOSTDIR SCRIPT [ARGS...]
#
# HOSTDIR is shared read-write with the guest and mounted there at the same
# absolute path as on the host.  SCRIPT (absolute, or relative to the
# current directory) must lie inside HOSTDIR; it runs in the guest from the
# same directory as on the host when that is inside HOSTDIR (else from
# HOSTDIR), with stdin /dev/null.  An executable SCRIPT runs by its #! line,
# anything else through bash.  Its console output streams to stdout; its exit
# status becomes run.sh's.  The VM powers off when SCRIPT ends.
#
# Options:
#   --mem MB          guest memory (default 2048)
#   --cpus N          guest CPUs (default: host cores, at most 4)
#   --timeout S       wall-clock limit for the VM, boot included (default 1800)
#   --env NAME=VALUE  export NAME in SCRIPT's environment (repeatable)
#   --verbose         the guest prints its boot time and SCRIPT's exit status
#   --kernel-log      show the kernel's boot messages (no "quiet")
#
# Exit status: SCRIPT's; 124 timeout; 125 the VM ended without reporting
# SCRIPT's status (boot failure, kernel panic); 2 bad usage; 130 interrupted.
# Builds the cache first if it is missing or stale (see build.sh).
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

usage() {
    sed -n '3,25p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
bad() { echo "run.sh: $*" >&2; exit 2; }

mem=2048
cpus=$(nproc)
[ "$cpus" -le 4 ] || cpus=4         # more vCPUs only slow TCG's boot
timeout_s=1800
share=""
verbose=0
klog=0
envs=()
while [ $# -gt 0 ]; do
    case $1 in
        --mem) [ $# -ge 2 ] || usage; mem=$2; shift 2 ;;
        --cpus) [ $# -ge 2 ] || usage; cpus=$2; shift 2 ;;
        --timeout) [ $# -ge 2 ] || usage; timeout_s=$2; shift 2 ;;
        --share) [ $# -ge 2 ] || usage; share=$2; shift 2 ;;
        --env) [ $# -ge 2 ] || usage; envs+=("$2"); shift 2 ;;
        --verbose) verbose=1; shift ;;
        --kernel-log) klog=1; shift ;;
        -h|--help) usage ;;
        --) shift; break ;;
        -*) bad "unknown option $1 (--help lists them)" ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || usage
[ -n "$share" ] || bad "--share HOSTDIR is required"
if ! [[ $mem =~ ^[0-9]+$ ]] || [ "$mem" -lt 256 ]; then bad "--mem wants megabytes (>= 256), not '$mem'"; fi
if ! [[ $cpus =~ ^[0-9]+$ ]] || [ "$cpus" -lt 1 ]; then bad "--cpus wants a count, not '$cpus'"; fi
if ! [[ $timeout_s =~ ^[0-9]+$ ]] || [ "$timeout_s" -lt 1 ]; then bad "--timeout wants seconds, not '$timeout_s'"; fi
for e in "${envs[@]}"; do
    [[ $e =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || bad "--env wants NAME=VALUE, not '$e'"
    [[ $e != *$'\n'* ]] || bad "--env values cannot hold newlines"
done

[ -d "$share" ] || bad "share $share is not a directory"
share=$(realpath -e "$share")
[[ $share != *$'\n'* ]] || bad "the share's path cannot hold newlines"
case $share in
    /|/bin|/boot|/dev|/dev/*|/etc|/lib|/lib64|/proc|/proc/*|/run|/run/testbed|/run/testbed/*|\
    /sbin|/sys|/sys/*|/tmp|/usr|/usr/bin|/usr/lib|/usr/sbin|/var)
        bad "cannot share $share: the guest needs that path itself" ;;
esac
script=$1
shift
[ -e "$script" ] || bad "SCRIPT $script does not exist"
script=$(realpath -e "$script")
case $script in
    "$share"/*) ;;
    *) bad "SCRIPT $script is not inside the share $share" ;;
esac
cwd=$(pwd -P)
case $cwd in
    "$share"|"$share"/*) ;;
    *) cwd=$share ;;
esac

command -v qemu-system-x86_64 >/dev/null || [ "$(id -u)" = 0 ] ||
    bad "qemu-system-x86_64 missing (as root: apt-get install qemu-system-x86)"
vm_ensure_cache

kernel=$VM_BOOT/vmlinux
[ -f "$kernel" ] || kernel=$VM_BOOT/vmlinuz

ctl=""
qpid=""
spid=""
# shellcheck disable=SC2317 # called by the trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
        kill -TERM "$qpid" 2>/dev/null || true
        local i
        for i in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$qpid" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL "$qpid" 2>/dev/null || true
        wait "$qpid" 2>/dev/null || true
    fi
    if [ -n "$spid" ]; then
        kill "$spid" 2>/dev/null || true
        wait "$spid" 2>/dev/null || true
    fi
    [ -n "$ctl" ] && rm -rf "$ctl"
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted; stopping the VM" >&2; exit 130' INT TERM HUP

# Shared locks on the cache entries in use: build.sh's pruning skips them.
exec {rlock}<"$VM_ROOTFS/.testbed-stamp" {block}<"$VM_BOOT/.testbed-stamp"
flock -s "$rlock"
flock -s "$block"

ctl=$(mktemp -d /tmp/testbed-vm.XXXXXX)
printf '%s\n' "$share" >"$ctl/share"
printf '%s\n' "$cwd" >"$ctl/cwd"
printf '%q ' "$script" "$@" >"$ctl/cmd"
: >"$ctl/env"
for e in "${envs[@]}"; do printf '%s\n' "$e" >>"$ctl/env"; done
[ "$verbose" = 1 ] && : >"$ctl/verbose"

append="console=ttyS0 panic=-1 mitigations=off cryptomgr.notests acpi=noirq rdinit=/init"
if [ "$klog" = 1 ]; then append+=" loglevel=7"; else append+=" quiet loglevel=3"; fi
append+=${TESTBED_VM_APPEND:+ $TESTBED_VM_APPEND}   # debugging: extra kernel arguments

fs() { # fs TAG PATH [readonly]
    local ro=""
    [ "${3:-}" = ro ] && ro=",readonly=on"
    # a comma in an option value is written twice
    printf '%s\n' -fsdev "local,id=fs_$1,path=${2//,/,,},security_model=passthrough,multidevs=remap$ro" \
        -device "virtio-9p-pci,fsdev=fs_$1,mount_tag=$1"
}
mapfile -t fsargs < <(
    fs root "$VM_ROOTFS" ro
    fs modules "$VM_BOOT/modules/lib/modules" ro
    fs ctl "$ctl"
    fs work "$share"
)

# shellcheck disable=SC2054 # commas belong to qemu's option syntax
qemu=(
    qemu-system-x86_64 -name testbed-vm
    -machine pc -accel tcg,thread=multi -cpu "${TESTBED_VM_CPU:-max}" -smp "$cpus" -m "$mem"
    -nodefaults -no-user-config -display none -nic none -no-reboot
    -chardev stdio,id=con,signal=off -serial chardev:con
    -kernel "$kernel" -initrd "$VM_BOOT/initramfs.cpio" -append "$append"
    "${fsargs[@]}"
)
[ "$verbose" = 1 ] && vm_say "booting $(basename "$kernel") of $VM_KVER: ${cpus} CPUs, ${mem} MiB, share $share"

t0=$(date +%s.%N)
# qemu and the timer die with run.sh even if it is killed outright
die_with_us=()
setpriv_help=$(setpriv --help 2>&1 || true)
if [[ $setpriv_help == *--pdeathsig* ]]; then
    die_with_us=(setpriv --pdeathsig KILL --)
fi
"${die_with_us[@]}" "${qemu[@]}" </dev/null &
qpid=$!
"${die_with_us[@]}" sleep "$timeout_s" &
spid=$!

qrc=0
while :; do
    done_pid=""
    wait -n -p done_pid "$qpid" "$spid" || qrc=$?
    [ -n "$done_pid" ] && break
    # 127: no such child left (cannot happen, but never spin)
    [ "$qrc" = 127 ] && { done_pid=$qpid; break; }
done
if [ "$done_pid" = "$spid" ]; then
    spid=""
    echo "run.sh: timed out after ${timeout_s}s; killing the VM" >&2
    kill -TERM "$qpid" 2>/dev/null || true
    wait "$qpid" 2>/dev/null || true
    qpid=""
    exit 124
fi
qpid=""
elapsed=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
if [ ! -f "$ctl/rc" ]; then
    echo "run.sh: the VM ended (qemu exit status $qrc, after ${elapsed}s) without reporting SCRIPT's exit status: see the console output above" >&2
    exit 125
fi
rc=$(cat "$ctl/rc")
[[ $rc =~ ^[0-9]+$ ]] || { echo "run.sh: bad exit status '$rc' from the guest" >&2; exit 125; }
[ "$verbose" = 1 ] && vm_say "SCRIPT exited with $rc; VM ran ${elapsed}s"
exit "$rc"
