#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# apt-mirror.sh - scripts/apt-mirror.sh finds the mirror that apt's own
# sources give for a suite, in both formats and in apt's reading order;
# each case is a made-up /etc/apt under the test's temporary directory.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
. "$SRC/scripts/apt-mirror.sh"

# shellcheck source=../lib/assert.sh
. "$SRC/tests/lib/assert.sh"
TMP=$(mktemp -d /tmp/apt-mirror-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# case NAME SUITE WANT FILE=CONTENT...: a fresh etc/apt holding the files;
# WANT is the URI apt_mirror must print, or "-" for none (exit 1)
case_() {
    local name=$1 suite=$2 want=$3 etc=$TMP/$RANDOM got rc=0 spec
    shift 3
    mkdir -p "$etc/sources.list.d"
    for spec in "$@"; do printf '%b' "${spec#*=}" >"$etc/${spec%%=*}"; done
    got=$(apt_mirror "$suite" "$etc") || rc=$?
    if [ "$want" = - ]; then
        [ "$rc" = 1 ] && [ -z "$got" ] || fail "$name: want none (exit 1), got '$got' (exit $rc)"
    else
        [ "$rc" = 0 ] && [ "$got" = "$want" ] || fail "$name: want '$want', got '$got' (exit $rc)"
    fi
    pass "$name: ${got:-none}"
}

case_ "one-line entry with options" bookworm http://m.example/debian \
    'sources.list=# local\ndeb-src http://src.example/debian bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://m.example/debian/ bookworm main contrib\n'
case_ "suite and component must both match" bookworm http://c.example/debian \
    'sources.list=deb http://a.example/debian bookworm-updates main\ndeb http://b.example/debian bookworm contrib\ndeb http://c.example/debian bookworm main\n'
case_ "deb822, disabled stanza skipped, continuation lines" bookworm http://d.example/debian \
    'sources.list.d/a.sources=Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\nComponents: main\nEnabled: no\n\nTypes: deb-src deb\n# a comment inside\nURIs: http://d.example/debian\n  http://e.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n -----END PGP PUBLIC KEY BLOCK-----\n'
case_ "sources.list before sources.list.d" bookworm http://first.example/debian \
    'sources.list=deb http://first.example/debian bookworm main\n' \
    'sources.list.d/0.list=deb http://later.example/debian bookworm main\n'
case_ "sources.list.d by name, .list and .sources alike" bookworm-security http://s.example/debian-security \
    'sources.list.d/b.list=deb http://t.example/debian-security bookworm-security main\n' \
    'sources.list.d/a.sources=Types: deb\nURIs: http://s.example/debian-security\nSuites: bookworm-security\nComponents: main\n' \
    'sources.list.d/0.list.disabled=deb http://u.example/debian-security bookworm-security main\n'
case_ "no entry for the suite" bookworm - \
    'sources.list=deb http://a.example/debian trixie main\n' \
    'sources.list.d/x.sources=Types: deb\nURIs: http://a.example/debian\nSuites: bullseye\nComponents: main\n'
case_ "no sources at all" bookworm -
