# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
# lib.sh - shared by build.sh and run.sh: where the VM's cache lives, what
# goes into it, and how to (re)build it.  Source it; call vm_ensure_cache,
# which sets VM_ROOTFS, VM_BOOT and VM_KVER.  See README.md beside this file.
#
# The cache has two independent parts, each built into a temporary
# directory and renamed into place (an interrupted build never leaves a half
# entry behind), each keyed by a hash of everything that goes into it:
#
#   rootfs-KEY/            debootstrap'ed Debian root filesystem (read-only
#                          9p root of the guest); KEY = hash of the suite,
#                          the package list and the recipe below
#   boot-KVER-KEY/         vmlinux (PVH ELF) or vmlinuz, initramfs.cpio,
#                          modules/ (the selected module tree, depmod'ed);
#                          KEY = hash of the kernel package version, the
#                          module selection, busybox and the guest init
#   debs/                  the downloaded linux-image .deb
#
# Recipe functions are hashed with `declare -f`, so editing one of them
# changes the key and the part is rebuilt.

VM_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${TESTBED_CACHE:=/var/cache/k8s-ipvs-lb-testbed}"
: "${TESTBED_SUITE:=bookworm}"
# TESTBED_MIRROR: debootstrap's mirror; by default the one this machine's
# apt uses for the suite (scripts/apt-mirror.sh), so a local mirror works
# and no host is named here.  Building the root filesystem fails
# with one line when there is none.
if [ -z "${TESTBED_MIRROR:-}" ]; then
    . "$VM_LIB_DIR/../../scripts/apt-mirror.sh"
    TESTBED_MIRROR=$(apt_mirror "$TESTBED_SUITE") || TESTBED_MIRROR=""
fi
: "${TESTBED_EXTRA_PACKAGES:=}"     # space-separated, added to the rootfs
: "${TESTBED_KERNEL:=}"             # e.g. linux-image-6.1.0-56-amd64 (default: what linux-image-amd64 depends on)

# What the boxes of the testbed run, and the runtime libraries the project's
# binaries link.  bird2: the rig's alternative router; curl, openssl,
# iputils-ping: the demo's and the fake API server's helpers, and debugging.
VM_PACKAGES=(
    keepalived ipvsadm iptables exabgp gobgpd frr nginx-light wrk
    python3 iproute2 kmod procps
    libcurl4 libjansson4 libmicrohttpd12 libnl-3-200 libnl-route-3-200
    bird2 curl openssl iputils-ping
)
# shellcheck disable=SC2206 # word splitting intended
VM_PACKAGES+=($TESTBED_EXTRA_PACKAGES)

# Modules copied into the guest's module tree (plus everything they depend
# on): directories of the kernel package's lib/modules/KVER/kernel/, and
# single modules by name.
VM_MODULE_DIRS=(
    net/netfilter net/ipv4 net/ipv6 net/bridge net/sched net/8021q net/802
    net/llc net/core net/packet net/key net/xfrm net/mpls net/psample
    net/tls net/9p
    drivers/net/ipvlan drivers/net/vxlan drivers/net/bonding drivers/net/team
    drivers/virtio fs/9p fs/overlayfs fs/netfs fs/fscache
    crypto arch/x86/crypto lib
)
VM_MODULE_NAMES=(
    veth dummy ifb macvlan macvtap tap tun vrf geneve nlmon wireguard
    virtio_console virtio_rng
)
# Loaded by the initramfs, in dependency order, to reach the 9p root.
VM_BOOT_MODULES=(virtio_pci 9pnet_virtio 9p overlay)

VM_BOOT_PACKAGES=(qemu-system-x86 debootstrap busybox-static kmod)

vm_say() { printf 'testbed-vm: %s\n' "$*" >&2; }
vm_die() { printf 'testbed-vm: error: %s\n' "$*" >&2; exit 1; }

vm_hash() { sha256sum | cut -c1-12; }

# vm_rmtree DIR: remove a build directory, first unmounting anything a
# killed debootstrap may have left mounted inside it, never crossing into
# another file system.
vm_rmtree() {
    local dir=$1 mnts m
    [ -e "$dir" ] || return 0
    dir=$(readlink -f "$dir")
    mnts=$(awk -v d="$dir/" 'index($2 "/", d) == 1 { print $2 }' /proc/mounts | sort -r)
    for m in $mnts; do
        umount -l "$m" 2>/dev/null || true
    done
    rm -rf --one-file-system "$dir"
}

# vm_need_tools: install (as root, with apt) what building and running the
# VM needs, or name what is missing.
vm_need_tools() {
    local missing=() p st
    for p in "${VM_BOOT_PACKAGES[@]}"; do
        st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        [ "$st" = "install ok installed" ] || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ]; then
        vm_die "missing packages: ${missing[*]} (as root: apt-get install ${missing[*]})"
    fi
    vm_say "installing ${missing[*]} ..."
    local log
    log=$(mktemp /tmp/testbed-vm-apt.XXXXXX)
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            "${missing[@]}" >"$log" 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$log" 2>&1 || true
        if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
                "${missing[@]}" >>"$log" 2>&1; then
            tail -n 20 "$log" >&2
            rm -f "$log"
            vm_die "could not install ${missing[*]} with apt-get"
        fi
    fi
    rm -f "$log"
    local t
    for t in qemu-system-x86_64 debootstrap busybox depmod; do
        command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || [ -x "/sbin/$t" ] ||
            vm_die "$t not found even after installing ${missing[*]}"
    done
}

# ---------------------------------------------------------------- rootfs

# Runs on the freshly debootstrap'ed tree $1 (not yet in place).
vm_rootfs_customize() {
    local t=$1
    echo testbed >"$t/etc/hostname"
    printf '127.0.0.1\tlocalhost\n127.0.1.1\ttestbed\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
        >"$t/etc/hosts"
    : >"$t/etc/fstab"
    # mount points the guest init uses
    mkdir -p "$t/lib/modules" "$t/run" "$t/tmp" "$t/proc" "$t/sys" "$t/dev"
    # the VM has no network: no resolver, no apt lists, no downloaded debs
    rm -f "$t/etc/resolv.conf"
    rm -rf "$t/var/lib/apt/lists/"* "$t/var/cache/apt/"*.bin
    find "$t/var/cache/apt/archives" -name '*.deb' -delete
    rm -rf "$t/usr/share/doc/"* "$t/usr/share/man/"* "$t/usr/share/info/"*
    # the packages' own services are never started in the guest; the tests
    # run their daemons themselves
    rm -f "$t/usr/sbin/policy-rc.d"
}

vm_rootfs_key() {
    {
        echo "suite=$TESTBED_SUITE"
        printf '%s\n' "${VM_PACKAGES[@]}" | sort -u
        declare -f vm_rootfs_customize vm_rootfs_build
    } | vm_hash
}

vm_rootfs_build() {
    local dest=$1 tmp=$2 log=$3
    local pkgs
    pkgs=$(printf '%s\n' "${VM_PACKAGES[@]}" | sort -u | paste -sd, -)
    vm_say "building root filesystem (first time, about a minute): debootstrap $TESTBED_SUITE + ${pkgs//,/ }"
    vm_say "  log: $log"
    if ! debootstrap --variant=minbase --include="$pkgs" --components=main \
            "$TESTBED_SUITE" "$tmp" "$TESTBED_MIRROR" >"$log" 2>&1; then
        tail -n 25 "$log" >&2
        if [ -f "$tmp/debootstrap/debootstrap.log" ]; then
            tail -n 25 "$tmp/debootstrap/debootstrap.log" >&2
        fi
        return 1
    fi
    vm_rootfs_customize "$tmp"
    # sanity: the tools the boxes need are there
    local b
    for b in keepalived ipvsadm iptables exabgp gobgpd gobgp nginx wrk python3 ip modprobe; do
        [ -n "$(chroot "$tmp" /bin/sh -c "command -v $b" 2>/dev/null)" ] || {
            echo "$b missing from the root filesystem" >&2
            return 1
        }
    done
    [ -x "$tmp/usr/lib/frr/zebra" ] || { echo "frr's zebra missing from the root filesystem" >&2; return 1; }
    {
        echo "suite=$TESTBED_SUITE mirror=$TESTBED_MIRROR"
        echo "packages=$pkgs"
        echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    } >"$tmp/.testbed-stamp"
    mv -T "$tmp" "$dest"
}

# ---------------------------------------------------------------- kernel

# vm_kernel_pkg: the linux-image package to use (TESTBED_KERNEL, or what the
# linux-image-amd64 meta package currently depends on), its version and
# KVER; sets VM_KPKG VM_KPKG_VER VM_KVER.  Offline with no apt lists, falls
# back to the newest kernel already in the cache.
vm_kernel_pkg() {
    local pkg=$TESTBED_KERNEL out ver="" memo=$TESTBED_CACHE/.kernel-choice stamp
    # apt-cache takes a second or more: remember its answer until apt's
    # lists or package cache change
    stamp=$(stat -c %Y /var/lib/apt/lists /var/cache/apt/pkgcache.bin 2>/dev/null | paste -sd. - || true)
    if [ -n "$stamp" ] && [ -f "$memo" ]; then
        local m_stamp m_req m_pkg m_ver
        read -r m_stamp m_req m_pkg m_ver <"$memo" || true
        if [ "$m_stamp" = "$stamp" ] && [ "$m_req" = "${pkg:--}" ] && [ -n "$m_ver" ]; then
            VM_KPKG=$m_pkg VM_KPKG_VER=$m_ver VM_KVER=${m_pkg#linux-image-}
            return 0
        fi
    fi
    if [ -z "$pkg" ]; then
        out=$(apt-cache depends linux-image-amd64 2>/dev/null || true)
        pkg=$(awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-amd64$/ { print $2; exit }' <<<"$out")
    fi
    if [ -n "$pkg" ]; then
        out=$(apt-cache policy "$pkg" 2>/dev/null || true)
        ver=$(awk '$1 == "Candidate:" { print $2; exit }' <<<"$out")
        [ "$ver" = "(none)" ] && ver=""
    fi
    if [ -z "$pkg" ] || [ -z "$ver" ]; then
        local deb
        deb=$(find "$TESTBED_CACHE/debs" -maxdepth 1 -name "${pkg:-linux-image-6.1*}_*.deb" 2>/dev/null |
            sort -V | tail -n 1)
        if [ -n "$deb" ]; then
            pkg=$(basename "$deb"); ver=${pkg#*_}; ver=${ver%_*}; pkg=${pkg%%_*}
        elif [ "$(id -u)" = 0 ] && [ -z "${VM_APT_UPDATED:-}" ]; then
            vm_say "apt knows no linux-image package: apt-get update"
            VM_APT_UPDATED=1
            apt-get update -q >/dev/null 2>&1 || true
            vm_kernel_pkg
            return
        else
            vm_die "cannot find a linux-image-*-amd64 package (apt-get update first, or set TESTBED_KERNEL)"
        fi
    fi
    VM_KPKG=$pkg
    VM_KPKG_VER=$ver
    VM_KVER=${pkg#linux-image-}
    if [ -n "$stamp" ] && [ -w "$TESTBED_CACHE" ]; then
        echo "$stamp ${TESTBED_KERNEL:--} $VM_KPKG $VM_KPKG_VER" >"$memo.$$" && mv -f "$memo.$$" "$memo"
    fi
}

# Writes the guest's init scripts into the initramfs staging tree; their
# text is part of the boot key through these files.
VM_GUEST_FILES=("$VM_LIB_DIR/guest/init" "$VM_LIB_DIR/guest/stage2")

vm_boot_key() {
    {
        echo "$VM_KPKG $VM_KPKG_VER"
        printf '%s\n' "${VM_MODULE_DIRS[@]}" "${VM_MODULE_NAMES[@]}" "${VM_BOOT_MODULES[@]}"
        dpkg-query -W -f='${Version}\n' busybox-static 2>/dev/null || true
        cat "${VM_GUEST_FILES[@]}"
        declare -f vm_boot_build vm_select_modules vm_extract_vmlinux vm_make_initramfs
    } | vm_hash
}

vm_fetch_kernel_deb() {
    local deb_dir=$TESTBED_CACHE/debs deb
    mkdir -p "$deb_dir"
    deb=$(find "$deb_dir" -maxdepth 1 -name "${VM_KPKG}_${VM_KPKG_VER//:/%3a}_*.deb" -print -quit)
    if [ -z "$deb" ]; then
        vm_say "downloading $VM_KPKG $VM_KPKG_VER"
        local tmp
        tmp=$(mktemp -d "$deb_dir/.dl.XXXXXX")
        if ! (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$VM_KPKG=$VM_KPKG_VER" >/dev/null 2>"$tmp/err"); then
            if [ -z "${VM_APT_UPDATED:-}" ]; then
                VM_APT_UPDATED=1
                apt-get update -q >/dev/null 2>&1 || true
                (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$VM_KPKG=$VM_KPKG_VER" >/dev/null 2>"$tmp/err") || true
            fi
        fi
        deb=$(find "$tmp" -maxdepth 1 -name '*.deb' -print -quit)
        if [ -z "$deb" ]; then
            cat "$tmp/err" >&2
            rm -rf "$tmp"
            vm_die "could not download $VM_KPKG $VM_KPKG_VER"
        fi
        mv "$deb" "$deb_dir/"
        deb=$deb_dir/$(basename "$deb")
        rm -rf "$tmp"
    fi
    VM_KDEB=$deb
}

# vm_select_modules SRC DST KVER: copy the selected modules and their
# dependencies (hard and soft) from the depmod'ed tree SRC to DST.
vm_select_modules() {
    local src=$1 dst=$2 kver=$3
    local sm=$src/lib/modules/$kver dm=$dst/lib/modules/$kver
    local want=() d n
    mkdir -p "$dst"
    for d in "${VM_MODULE_DIRS[@]}"; do
        [ -d "$sm/kernel/$d" ] || { echo "no module directory kernel/$d" >&2; return 1; }
        want+=("kernel/$d/")
    done
    for n in "${VM_MODULE_NAMES[@]}" "${VM_BOOT_MODULES[@]}"; do
        want+=("=$n")
    done
    # modules.dep lines are "path: dep dep ..." with the full (transitive)
    # dependency list; softdeps ("softdep m pre: a b post: c") are added by
    # name, and followed until nothing new turns up.
    printf '%s\n' "${want[@]}" | awk -v depf="$sm/modules.dep" -v softf="$sm/modules.softdep" \
            -v aliasf="$sm/modules.alias" '
        function modname(p,   b) { b = p; sub(/.*\//, "", b); sub(/\.ko.*$/, "", b); gsub(/-/, "_", b); return b }
        function add(p,   i, k, m, a, s) {
            if (p in sel) return
            sel[p] = 1
            k = split(deps[p], a, " ")
            for (i = 1; i <= k; i++) if (a[i] != "") add(a[i])
            m = modname(p)
            if (m in soft) { k = split(soft[m], s, " "); for (i = 1; i <= k; i++) addname(s[i]) }
        }
        function addname(x,   i, k, a) {
            if (x in path) { add(path[x]); return }
            if (x in alias) { k = split(alias[x], a, " "); for (i = 1; i <= k; i++) if (a[i] in path) add(path[a[i]]) }
        }
        BEGIN {
            while ((getline line < depf) > 0) {
                p = line; sub(/:.*/, "", p); d = line; sub(/^[^:]*:[ ]*/, "", d)
                deps[p] = d; path[modname(p)] = p; order[++n] = p
            }
            # softdeps may name an alias ("crc32c"): every module it stands for
            while ((getline line < aliasf) > 0) {
                k = split(line, f, " ")
                if (f[1] != "alias" || f[3] == "") continue
                x = f[2]; gsub(/-/, "_", x); alias[x] = alias[x] " " f[3]
            }
            while ((getline line < softf) > 0) {
                k = split(line, f, " ")
                if (f[1] != "softdep") continue
                m = f[2]; gsub(/-/, "_", m)
                for (i = 3; i <= k; i++) if (f[i] !~ /:$/) { x = f[i]; gsub(/-/, "_", x); soft[m] = soft[m] " " x }
            }
        }
        /^=/ { nm = substr($0, 2); gsub(/-/, "_", nm)
               if (!(nm in path)) { print "unknown module " nm > "/dev/stderr"; bad = 1; next }
               add(path[nm]); next }
        { for (i = 1; i <= n; i++) if (index(order[i], $0) == 1) add(order[i]) }
        END { for (p in sel) print p; exit bad }
    ' >"$dst/.selected" || return 1
    mkdir -p "$dm"
    (cd "$sm" && tar -cf - -T "$dst/.selected" \
        modules.order modules.builtin modules.builtin.modinfo) | (cd "$dm" && tar -xf -)
    rm -f "$dst/.selected"
    depmod -b "$dst" "$kver"
}

# vm_extract_vmlinux VMLINUZ OUT: find the compressed payload inside a
# bzImage and decompress it to an ELF vmlinux (what scripts/extract-vmlinux
# does; this is our own). Fails if no payload yields an ELF file.
vm_extract_vmlinux() {
    local in=$1 out=$2 magic cmd off offs
    local -a tries=(
        $'\xfd7zXZ:xz -dc'
        $'\x28\xb5\x2f\xfd:zstd -dcq'
        $'\x1f\x8b\x08:gzip -dc'
    )
    local t
    for t in "${tries[@]}"; do
        magic=${t%%:*} cmd=${t#*:}
        command -v "${cmd%% *}" >/dev/null || continue
        offs=$(LC_ALL=C grep -aboF -- "$magic" "$in" 2>/dev/null | cut -d: -f1 | head -n 5 || true)
        for off in $offs; do
            # trailing bytes after the payload make the decompressor complain;
            # what counts is an ELF file coming out
            tail -c "+$((off + 1))" "$in" | $cmd >"$out" 2>/dev/null || true
            if [ -s "$out" ] && [ "$(head -c 4 "$out" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
                return 0
            fi
        done
    done
    rm -f "$out"
    return 1
}

# vm_make_initramfs STAGE OUT MODROOT KVER: busybox, the boot modules (in
# load order) and the guest init, as an uncompressed newc cpio archive.
vm_make_initramfs() {
    local st=$1 out=$2 modroot=$3 kver=$4 a p i=0
    mkdir -p "$st"/{bin,dev,proc,sys,m,lower,rw,newroot}
    cp /bin/busybox "$st/bin/busybox"
    for a in $("$st/bin/busybox" --list); do
        [ "$a" = busybox ] || ln -s busybox "$st/bin/$a"
    done
    mknod -m 600 "$st/dev/console" c 5 1
    mknod -m 666 "$st/dev/null" c 1 3
    local deps
    deps=$(modprobe -d "$modroot" -S "$kver" --show-depends -a "${VM_BOOT_MODULES[@]}")
    : >"$st/m/order"
    # shellcheck disable=SC2013 # module paths hold no blanks
    for p in $(awk '$1 == "insmod" { print $2 }' <<<"$deps"); do
        grep -qxF "$(basename "$p")" "$st/m/order" && continue
        cp "$p" "$st/m/"
        basename "$p" >>"$st/m/order"
        i=$((i + 1))
    done
    [ "$i" -gt 0 ] || { echo "no boot modules found" >&2; return 1; }
    install -m 755 "$VM_LIB_DIR/guest/init" "$st/init"
    install -m 755 "$VM_LIB_DIR/guest/stage2" "$st/stage2"
    (cd "$st" && find . -mindepth 1 | LC_ALL=C sort | busybox cpio -o -H newc -R 0:0 >"$out" 2>/dev/null)
    [ -s "$out" ]
}

vm_boot_build() {
    local dest=$1 tmp=$2
    mkdir -p "$tmp"
    vm_fetch_kernel_deb
    vm_say "unpacking $(basename "$VM_KDEB")"
    dpkg-deb -x "$VM_KDEB" "$tmp/pkg"
    local kdir=$tmp/pkg/lib/modules/$VM_KVER
    [ -d "$kdir" ] || kdir=$tmp/pkg/usr/lib/modules/$VM_KVER
    [ -d "$kdir" ] || { echo "no modules for $VM_KVER in $VM_KDEB" >&2; return 1; }
    mkdir -p "$tmp/full/lib/modules"
    mv "$kdir" "$tmp/full/lib/modules/$VM_KVER"
    depmod -b "$tmp/full" "$VM_KVER"
    vm_say "selecting modules"
    vm_select_modules "$tmp/full" "$tmp/out/modules" "$VM_KVER"
    cp "$tmp/pkg/boot/vmlinuz-$VM_KVER" "$tmp/out/vmlinuz"
    cp "$tmp/pkg/boot/config-$VM_KVER" "$tmp/out/config"
    vm_say "extracting vmlinux (PVH entry, boots faster than the bzImage)"
    if vm_extract_vmlinux "$tmp/out/vmlinuz" "$tmp/out/vmlinux" &&
            vm_qemu_loads "$tmp/out/vmlinux"; then
        :
    else
        vm_say "no bootable vmlinux could be extracted; the VM will boot the bzImage"
        rm -f "$tmp/out/vmlinux"
    fi
    vm_say "making the initramfs"
    vm_make_initramfs "$tmp/stage" "$tmp/out/initramfs.cpio" "$tmp/out/modules" "$VM_KVER"
    {
        echo "kernel=$VM_KPKG $VM_KPKG_VER"
        echo "modules=$(find "$tmp/out/modules" -name '*.ko*' | wc -l)"
        echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    } >"$tmp/out/.testbed-stamp"
    mv -T "$tmp/out" "$dest"
    rm -rf "$tmp"
}

# vm_qemu_loads KERNEL: does qemu accept KERNEL for direct boot (a vmlinux
# needs the PVH ELF note)?  Starts a stopped machine and quits it.
vm_qemu_loads() {
    local out
    out=$(printf 'quit\n' | timeout 30 qemu-system-x86_64 -M pc -accel tcg -nodefaults \
        -no-user-config -display none -S -m 256 -kernel "$1" -monitor stdio 2>&1) || {
        printf '%s\n' "$out" >&2
        return 1
    }
}

# ---------------------------------------------------------------- driver

# vm_prune KIND CURRENT: remove cache entries of KIND other than CURRENT
# that no running VM holds (run.sh keeps a shared lock on their stamp).
vm_prune() {
    local kind=$1 cur=$2 d
    for d in "$TESTBED_CACHE/$kind"-*; do
        if [ ! -d "$d" ] || [ "$d" = "$cur" ]; then continue; fi
        if [ -f "$d/.testbed-stamp" ]; then
            flock -n -x "$d/.testbed-stamp" true 2>/dev/null || continue
        fi
        vm_say "removing stale $(basename "$d")"
        vm_rmtree "$d"
    done
}

# vm_step FUNC ARGS...: run a build step in a fresh bash with errexit in
# force (a function called from an `if` would run with errexit off).
vm_step() {
    export TESTBED_CACHE TESTBED_MIRROR TESTBED_SUITE TESTBED_EXTRA_PACKAGES TESTBED_KERNEL
    export VM_KPKG VM_KPKG_VER VM_KVER
    bash -c 'set -euo pipefail; . "$0"; "$@"' "$VM_LIB_DIR/lib.sh" "$@"
}

vm_ensure_cache() {
    vm_need_tools
    mkdir -p "$TESTBED_CACHE"
    vm_kernel_pkg
    local rkey bkey
    rkey=$(vm_rootfs_key)
    bkey=$(vm_boot_key)
    VM_ROOTFS=$TESTBED_CACHE/rootfs-$rkey
    VM_BOOT=$TESTBED_CACHE/boot-$VM_KVER-$bkey
    if [ -f "$VM_ROOTFS/.testbed-stamp" ] && [ -f "$VM_BOOT/.testbed-stamp" ]; then
        return 0
    fi
    [ "$(id -u)" = 0 ] || vm_die "the VM cache $TESTBED_CACHE needs building, as root"
    local lockfd
    exec {lockfd}>>"$TESTBED_CACHE/.lock"
    if ! flock -n "$lockfd"; then
        vm_say "waiting for another build of $TESTBED_CACHE"
        flock "$lockfd"
    fi
    # leftovers of interrupted builds (we hold the lock: nobody else builds)
    local d
    for d in "$TESTBED_CACHE"/.tmp-*; do
        [ -e "$d" ] && vm_rmtree "$d"
    done
    local t0=$SECONDS tmp
    if [ ! -f "$VM_ROOTFS/.testbed-stamp" ]; then
        tmp=$TESTBED_CACHE/.tmp-rootfs-$rkey
        [ -n "$TESTBED_MIRROR" ] || {
            exec {lockfd}>&-
            vm_die "no mirror: /etc/apt's sources have no '$TESTBED_SUITE main' entry; set TESTBED_MIRROR"
        }
        if ! vm_step vm_rootfs_build "$VM_ROOTFS" "$tmp" "$TESTBED_CACHE/rootfs-build.log"; then
            vm_rmtree "$tmp"
            exec {lockfd}>&-
            vm_die "building the root filesystem failed (log: $TESTBED_CACHE/rootfs-build.log)"
        fi
        vm_say "root filesystem built in $((SECONDS - t0)) s: $VM_ROOTFS ($(du -sh "$VM_ROOTFS" | cut -f1))"
        vm_prune rootfs "$VM_ROOTFS"
    fi
    if [ ! -f "$VM_BOOT/.testbed-stamp" ]; then
        t0=$SECONDS
        tmp=$TESTBED_CACHE/.tmp-boot-$bkey
        vm_say "building kernel, modules and initramfs for $VM_KVER"
        if ! vm_step vm_boot_build "$VM_BOOT" "$tmp"; then
            vm_rmtree "$tmp"
            exec {lockfd}>&-
            vm_die "building the kernel part failed"
        fi
        vm_say "kernel part built in $((SECONDS - t0)) s: $VM_BOOT"
        vm_prune boot "$VM_BOOT"
        local deb
        for deb in "$TESTBED_CACHE"/debs/*.deb; do
            [ -f "$deb" ] || continue
            case $(basename "$deb") in
                "${VM_KPKG}_${VM_KPKG_VER//:/%3a}_"*) ;;
                *) rm -f "$deb" ;;
            esac
        done
    fi
    exec {lockfd}>&-
}
