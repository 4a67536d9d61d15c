# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
# apt-mirror.sh - which Debian mirror this machine's apt uses, so that
# images/build.sh and the testbed's debootstrap fetch from the same place
# as apt-get does here (a local mirror on hosts that have one) and no host
# name is written into the project.  Source it, then:
#
#   apt_mirror SUITE [ETC_APT]
#
# prints the first URI that apt's sources give for SUITE with component
# main, in the order apt reads them: ETC_APT/sources.list, then
# ETC_APT/sources.list.d/*.list and *.sources by name (ETC_APT defaults
# to /etc/apt).  One-line entries ("deb [opts] URI SUITE COMP...") and
# deb822 stanzas (Types/URIs/Suites/Components, Enabled: no skipped) are
# both read; deb-src entries are not mirrors of binaries and are skipped.
# Returns 1 and prints nothing when no entry matches.

apt_mirror() {
    local suite=$1 etc=${2:-/etc/apt} f files=()
    [ -f "$etc/sources.list" ] && files+=("$etc/sources.list")
    for f in "$etc"/sources.list.d/*; do
        case $f in
        *.list | *.sources) [ -f "$f" ] && files+=("$f") ;;
        esac
    done
    [ ${#files[@]} -gt 0 ] || return 1
    # Per file: .list files line by line; .sources files stanza by stanza
    # (a blank line ends one; an indented line continues the field above).
    awk -v suite="$suite" '
        function has(list, word,   n, i, a) {
            n = split(list, a, /[ \t]+/)
            for (i = 1; i <= n; i++) if (a[i] == word) return 1
            return 0
        }
        function found(uri) { sub(/\/+$/, "", uri); print uri; printed = 1; exit 0 }
        function stanza_end() {
            if (types != "" && has(types, "deb") && has(suites, suite) &&
                has(comps, "main") && tolower(enabled) != "no") {
                split(uris, u, /[ \t]+/)
                found(u[1])
            }
            types = uris = suites = comps = enabled = field = ""
        }
        FNR == 1 { if (deb822) stanza_end(); deb822 = FILENAME ~ /\.sources$/ }
        deb822 {
            if ($0 ~ /^[ \t]*#/) next
            if ($0 ~ /^[ \t]*$/) { stanza_end(); next }
            if ($0 ~ /^[ \t]/) { val = $0; sub(/^[ \t]+/, "", val) }
            else {
                field = tolower($0); sub(/:.*/, "", field)
                val = $0; sub(/^[^:]*:[ \t]*/, "", val)
            }
            if (field == "types") types = types " " val
            else if (field == "uris") uris = uris " " val
            else if (field == "suites") suites = suites " " val
            else if (field == "components") comps = comps " " val
            else if (field == "enabled") enabled = val
            sub(/^ /, "", uris)
            next
        }
        {
            line = $0; sub(/#.*/, "", line)
            # the [options] block may hold spaces: drop it whole
            gsub(/\[[^]]*\]/, "", line)
            n = split(line, w, /[ \t]+/)
            i = (w[1] == "") ? 2 : 1
            if (w[i] != "deb" || n < i + 3) next
            if (w[i + 2] != suite) next
            for (j = i + 3; j <= n; j++) if (w[j] == "main") found(w[i + 1])
        }
        END { if (!printed && deb822) stanza_end(); exit !printed }
    ' "${files[@]}"
}
