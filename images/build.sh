#!/usr/bin/env bash
# build.sh - build the load balancer's two container images with podman:
#
#   localhost/k8s-ipvs-lb/ipvs:TAG     ipvs-controller + keepalived (ipvs container)
#   localhost/k8s-ipvs-lb/exabgp:TAG   exabgp-helper + exabgp (exabgp container)
#
# Both Containerfiles take the base image as the build argument BASE_IMAGE.
# Without --base, the base is localhost/k8s-ipvs-lb/debian:bookworm, made
# here with debootstrap and `podman import` when it is missing, so no
# registry is needed; only Debian's archive.  Prints each image's size and
# start-up time at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    cat <<'EOF'
Usage: images/build.sh [--base IMAGE] [--tag TAG] [--rebuild-base] [--no-deps]

  --base IMAGE     base image for both stages, e.g. docker.io/library/debian:bookworm-slim
                   (default: localhost/k8s-ipvs-lb/debian:bookworm, made with debootstrap)
  --tag TAG        tag of the two images (default: the project version)
  --rebuild-base   make the debootstrap base again even if it exists
  --no-deps        do not install podman, runc, catatonit and debootstrap with apt-get

Environment: CONTAINERS_CONF (default images/containers.conf),
DEBIAN_MIRROR (default: the first bookworm main URI in this machine's apt
sources), DEBIAN_SECURITY_MIRROR (default: likewise for bookworm-security;
"none" leaves the security suite out of the base image's sources).
EOF
}

say() { printf 'images: %s\n' "$*" >&2; }
die() { printf 'images: error: %s\n' "$*" >&2; exit 1; }

VERSION=$(sed -n 's/^project(k8s-ipvs-lb VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
TAG=$VERSION
BASE=
REBUILD_BASE=0
DEPS=1
while [ $# -gt 0 ]; do
    case $1 in
    --base) [ $# -ge 2 ] || die "--base needs an image"; BASE=$2; shift 2 ;;
    --tag) [ $# -ge 2 ] || die "--tag needs a tag"; TAG=$2; shift 2 ;;
    --rebuild-base) REBUILD_BASE=1; shift ;;
    --no-deps) DEPS=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
    esac
done
[[ $TAG =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "--tag '$TAG' is not a valid image tag"

export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/images/containers.conf}
# The mirror is this machine's own (a local one where there is one), so
# that debootstrap and the images' apt-get reach what apt-get here reaches.
. "$PWD/scripts/apt-mirror.sh"
MIRROR=${DEBIAN_MIRROR:-$(apt_mirror bookworm)} ||
    die "no mirror: /etc/apt's sources have no 'bookworm main' entry; set DEBIAN_MIRROR"
SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-$(apt_mirror bookworm-security || echo none)}
DEFAULT_BASE=localhost/k8s-ipvs-lb/debian:bookworm
IPVS_IMAGE=localhost/k8s-ipvs-lb/ipvs:$TAG
EXABGP_IMAGE=localhost/k8s-ipvs-lb/exabgp:$TAG

if [ "$DEPS" = 1 ]; then
    missing=()
    # catatonit: podman kube play builds its pause image from it (a mere
    # Recommends of podman, so --no-install-recommends leaves it out)
    for p in podman runc catatonit debootstrap; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        [ "$(id -u)" = 0 ] || die "missing packages: ${missing[*]} (as root: apt-get install ${missing[*]})"
        say "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi
command -v podman >/dev/null || die "podman not found (apt-get install podman runc)"

# make_base: a minimal Debian bookworm root, trimmed like the slim images
# (no documentation, manuals or apt lists), imported as DEFAULT_BASE.
make_base() {
    local tmp
    tmp=$(mktemp -d /var/tmp/k8s-ipvs-lb-base.XXXXXX)
    # shellcheck disable=SC2064
    trap "rm -rf --one-file-system '$tmp'" RETURN
    say "making $DEFAULT_BASE with debootstrap from $MIRROR (about a minute)"
    if ! debootstrap --variant=minbase --components=main bookworm "$tmp/root" "$MIRROR" \
            >"$tmp/debootstrap.out" 2>&1; then
        tail -n 20 "$tmp/debootstrap.out" >&2
        die "debootstrap bookworm from $MIRROR failed"
    fi
    {
        echo "deb $MIRROR bookworm main"
        echo "deb $MIRROR bookworm-updates main"
        [ "$SECURITY_MIRROR" = none ] || echo "deb $SECURITY_MIRROR bookworm-security main"
    } >"$tmp/root/etc/apt/sources.list"
    # keep images small: what apt downloads is never kept, nor documentation
    cat >"$tmp/root/etc/apt/apt.conf.d/90slim" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
EOF
    cat >"$tmp/root/etc/dpkg/dpkg.cfg.d/90slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
    find "$tmp/root/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
    rm -rf "$tmp/root/usr/share/man"/* "$tmp/root/usr/share/info"/* "$tmp/root/usr/share/locale"/* \
        "$tmp/root/var/lib/apt/lists"/* "$tmp/root/var/cache/apt"/*.bin \
        "$tmp/root/var/cache/apt/archives"/*.deb "$tmp/root/var/log"/*.log
    tar -C "$tmp/root" --numeric-owner -c . |
        podman import --change 'CMD ["/bin/bash"]' - "$DEFAULT_BASE" >/dev/null
}

if [ -z "$BASE" ]; then
    BASE=$DEFAULT_BASE
    if [ "$REBUILD_BASE" = 1 ] || ! podman image exists "$BASE"; then
        make_base
    fi
fi

# build IMAGE CONTAINERFILE: the repository is the context (.containerignore
# keeps build trees out).  RUN steps use the host's network: apt needs
# Debian's archive, and that is all they reach.
build() {
    local image=$1 file=$2 t0
    t0=$(date +%s.%N)
    say "building $image from $file (base $BASE)"
    podman build --network host --layers --build-arg "BASE_IMAGE=$BASE" \
        -f "$file" -t "$image" . >&2
    say "built $image in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
}

build "$IPVS_IMAGE" images/ipvs/Containerfile
build "$EXABGP_IMAGE" images/exabgp/Containerfile

# startup IMAGE CMD...: median wall time of three `podman run` of a command
# that answers at once: the cost of starting the container and the program.
startup() {
    local image=$1 i t0 ts=()
    shift
    for i in 1 2 3; do
        t0=$(date +%s%N)
        podman run --rm --network none --entrypoint "$1" "$image" "${@:2}" >/dev/null ||
            die "$image: '$*' failed"
        ts+=($((($(date +%s%N) - t0) / 1000000)))
    done
    printf '%s\n' "${ts[@]}" | sort -n | sed -n 2p
}

echo
printf '%-36s %10s %s\n' IMAGE SIZE "START-UP (podman run to exit, median of 3)"
for pair in "$IPVS_IMAGE|ipvs-controller --version" "$EXABGP_IMAGE|exabgp --version"; do
    image=${pair%%|*}
    read -ra cmd <<<"${pair#*|}"
    size=$(podman image inspect --format '{{.Size}}' "$image")
    ms=$(startup "$image" "${cmd[@]}")
    printf '%-36s %7.1f MB %6d ms  (%s)\n' "$image" "$(awk -v s="$size" 'BEGIN { print s / 1e6 }')" "$ms" "${cmd[*]}"
done
