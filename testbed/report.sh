#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# report.sh OUT - turn full.sh's raw results in OUT into OUT/report.md with
# PNG plots (gnuplot) beside the CSV, our figures next to the paper's.
set -euo pipefail
OUT=${1:?usage: report.sh OUTDIR}
if ! command -v gnuplot >/dev/null; then
    echo "installing gnuplot-nox for the plots"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gnuplot-nox >/dev/null
fi

# stats CSV COLUMN [FILTER_COLUMN VALUE]: n min p50 p90 p99 max
stats() {
    python3 - "$@" <<'PY'
import csv, sys
path, col = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(path)))
if len(sys.argv) > 4:
    rows = [r for r in rows if r[sys.argv[3]] == sys.argv[4]]
v = sorted(float(r[col]) for r in rows if r[col] != "")
q = lambda p: v[min(len(v) - 1, int(round(p * (len(v) - 1))))]
print(f"| {len(v)} | {v[0]:.3f} | {q(.5):.3f} | {q(.9):.3f} | {q(.99):.3f} | {v[-1]:.3f} |")
PY
}

# stage_table CSV: the stages of stages.sh's rows, one line each
stage_table() {
    local c
    echo "| stage | n | min | p50 | p90 | p99 | max |"
    echo "|---|---|---|---|---|---|---|"
    for c in synced keepalived_started vs_in_ipvs ipvs_programmed serving bgp_established announced route_in_router; do
        if awk -F, -v c="$c" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next }
                               $k != "" { n++ } END { exit !n }' "$1"; then
            echo "| $c $(stats "$1" "$c")"
        fi
    done
}

[ ! -f "$OUT/fig13c.csv" ] || gnuplot <<GP
set terminal pngcairo size 800,450
set output "$OUT/fig13c.png"
set datafile separator ","
set title "ECMP update delay, random changes of load balancer pods (cf. paper Fig. 13c)"
set xlabel "delay (s)"; set ylabel "changes"
binwidth = 0.5
bin(x) = binwidth * floor(x / binwidth) + binwidth / 2
set boxwidth binwidth * 0.9
set style fill solid 0.6
plot "$OUT/fig13c.csv" every ::1 using (bin(\$3)):(1) smooth frequency with boxes title "measured"
GP

if [ -f "$OUT/fig13a.csv" ]; then
    gnuplot <<GP
set terminal pngcairo size 800,450
set output "$OUT/fig13a.png"
set datafile separator ","
set title "Throughput against load balancer pods (cf. paper Fig. 13a; TCG: shared 2 vCPUs)"
set xlabel "load balancer pods"; set ylabel "requests/s"
set yrange [0:*]; set xtics 1
set style fill solid 0.6; set boxwidth 0.5
plot "$OUT/fig13a.csv" every ::1 using 1:2 with boxes title "measured (wrk, 64 connections)"
GP
fi

if [ -f "$OUT/fig13b.csv" ]; then
    gnuplot <<GP
set terminal pngcairo size 900,450
set output "$OUT/fig13b.png"
set datafile separator ","
set title "Throughput while load balancer pods come and go (cf. paper Fig. 13b)"
set xlabel "time (s)"; set ylabel "requests/s"; set y2label "nexthops / failed requests"
set yrange [0:*]; set y2range [0:*]; set ytics nomirror; set y2tics
plot "$OUT/fig13b.csv" every ::1 using 1:3 with linespoints title "requests/s", \
     "" every ::1 using 1:2 axes x1y2 with steps title "router nexthops", \
     "" every ::1 using 1:4 axes x1y2 with impulses lw 3 title "failed requests"$(
    [ ! -f "$OUT/fig13b-flow.csv" ] || printf '%s' ", \\
     \"$OUT/fig13b-flow.csv\" every ::1 using 1:3 with linespoints title \"requests/s, flow mode\", \\
     \"\" every ::1 using (\$1 + 0.3):4 axes x1y2 with impulses lw 3 title \"failed requests, flow mode\"")
GP
fi

if [ -f "$OUT/fig10.csv" ]; then
    for m in ipvs iptables-dnat nginx-proxy; do
        awk -F, -v m="$m" 'NR > 1 && $2 == m { print $1, $3 }' "$OUT/fig10.csv" | sort -n >"$OUT/.fig10-$m.dat"
    done
    gnuplot <<GP
set terminal pngcairo size 800,450
set output "$OUT/fig10.png"
set title "Throughput against web pods, one load balancer (cf. paper Fig. 10; TCG)"
set xlabel "web pods"; set ylabel "requests/s"; set yrange [0:*]; set xtics 1
plot "$OUT/.fig10-ipvs.dat" using 1:2 with linespoints lw 2 title "IPVS pod (ours)", \
     "$OUT/.fig10-iptables-dnat.dat" using 1:2 with linespoints lw 2 title "iptables DNAT", \
     "$OUT/.fig10-nginx-proxy.dat" using 1:2 with linespoints lw 2 title "nginx reverse proxy"
GP
    rm -f "$OUT"/.fig10-*.dat
fi

# flows.png: live and answering connections over time, one panel per mode,
# a dashed line at each event's start
if [ -f "$OUT/flows-live.csv" ] && [ -f "$OUT/flows-events.csv" ]; then
    fmodes=$(awk -F, 'NR > 1 && !seen[$1]++ { printf "%s ", $1 }' "$OUT/flows-live.csv")
    n=0
    for m in $fmodes; do
        n=$((n + 1))
        awk -F, -v m="$m" 'NR > 1 && $1 == m { print $2, $3, $4 }' "$OUT/flows-live.csv" >"$OUT/.flows-$m.dat"
    done
    {
        echo "set terminal pngcairo size 1000,$((260 * n + 60))"
        echo "set output \"$OUT/flows.png\""
        echo "set multiplot layout $n,1 title \"Long-lived connections through load balancer changes (issue 12)\""
        echo "set ylabel \"connections\"; set yrange [0:*]; set key below"
        for m in $fmodes; do
            echo "unset arrow; unset label"
            awk -F, -v m="$m" 'NR > 1 && $1 == m {
                printf "set arrow from %s, graph 0 to %s, graph 1 nohead dt 2 lc rgb \"gray40\"\n", $8, $8
                printf "set label \"%s (%s broken)\" at %s, graph 0.08 rotate by 90 font \",8\"\n", $2, $4, $8 + 0.8 }' "$OUT/flows-events.csv"
            echo "set title \"$m mode\"; set xlabel \"time since the client started (s)\""
            echo "plot \"$OUT/.flows-$m.dat\" using 1:2 with steps lw 2 title \"live\", \\"
            echo "     \"\" using 1:3 with steps lw 1 title \"answering within 1 s\""
        done
        echo "unset multiplot"
    } | gnuplot
    rm -f "$OUT"/.flows-*.dat
fi

{
    echo "# Testbed report"
    echo
    echo "Measured in a qemu VM under TCG (no KVM) on $(nproc) host cores; Debian 6.1 kernel"
    echo "with IPVS; every box a network namespace.  Absolute times include TCG's"
    echo "slowness at starting programs and are shown as measured, not adjusted."
    echo
    if [ -f "$OUT/fig10.csv" ]; then
        echo "## Fig. 10: throughput of one load balancer against the web pods"
        echo
        echo "wrk from the client (2 threads, 64 connections) through the router to one"
        echo "load balancer: our IPVS pod, a pod doing iptables DNAT (statistic nth), and"
        echo "nginx as a reverse proxy (raw: fig10.csv)."
        echo
        echo "| web pods | IPVS pod | iptables DNAT | nginx proxy |"
        echo "|---|---|---|---|"
        for k in 1 2 3 4; do
            row=$(awk -F, -v k="$k" 'NR > 1 && $1 == k { v[$2] = $3 } END { printf "%s | %s | %s", v["ipvs"], v["iptables-dnat"], v["nginx-proxy"] }' "$OUT/fig10.csv")
            echo "| $k | $row |"
        done
        echo
        echo "Paper: IPVS about as fast as iptables DNAT, both far above nginx as an L7"
        echo "proxy, all rising with the web pods until the 1 Gb/s link saturates.  Under"
        echo "TCG the client, the load balancer and the web pods share 2 emulated CPUs,"
        echo "so absolute numbers are small and do not rise with more pods; compare the"
        echo "methods within a row.  Measured, not adjusted."
        echo
        echo "![Fig. 10](fig10.png)"
        echo
    fi
    if [ -f "$OUT/fig12.txt" ]; then
    echo "## Fig. 12: the router's routing table"
    echo
    echo '```'
    cat "$OUT/fig12.txt"
    echo '```'
    echo
    echo "Paper: one, then three nexthops for 10.1.1.0/24 via the nodes, and a second"
    echo "service with two; the same shape appears above."
    echo
    echo "## Controller reaction: web pod added or removed -> in every IPVS table"
    echo
    echo "Seconds from the API server's answer to the change until all three load"
    echo "balancer pods' IPVS tables have it (raw: reaction.csv)."
    echo
    echo "| event | n | min | p50 | p90 | p99 | max |"
    echo "|---|---|---|---|---|---|---|"
    echo "| add $(stats "$OUT/reaction.csv" seconds event add)"
    echo "| remove $(stats "$OUT/reaction.csv" seconds event remove)"
    echo
    echo "The paper's controller polled; it gave no figure."
    echo
    echo "## Fig. 13c: ECMP update delay"
    echo
    echo "Load balancer pods started (whole pod: controller, keepalived, helper,"
    echo "exabgp) or deleted (both preStop hooks as the manifest orders them:"
    echo "the announcement withdrawn, IPVS drained, then the containers stopped) at"
    echo "random, timed to the router's kernel table (raw: fig13c.csv).  A start"
    echo "now ends when the pod serves and its route is in the router: the gate"
    echo "holds the announcement until IPVS is programmed."
    echo
    echo "| change | n | min | p50 | p90 | p99 | max |"
    echo "|---|---|---|---|---|---|---|"
    echo "| all $(stats "$OUT/fig13c.csv" seconds)"
    echo "| start $(stats "$OUT/fig13c.csv" seconds change start)"
    echo "| stop $(stats "$OUT/fig13c.csv" seconds change stop)"
    echo "| paper | | | 1.9 | 3.9 | | 9.9 |"
    echo
    echo "![Fig. 13c](fig13c.png)"
    fi
    if [ -f "$OUT/fig13c-stages.csv" ] || [ -f "$OUT/start-stages.csv" ]; then
        echo
        echo "## Fig. 13c's start delay by stage"
        echo
        echo "Each start of a whole load balancer pod, seconds from the start of its"
        echo "containers to each stage: the controller's first sync and keepalived's"
        echo "start (its log), the virtual server and then every real server in the"
        echo "pod's /proc/net/ip_vs, serving (/readyz 200, its log), the BGP session"
        echo "Established on the route reflector, the gate's announcement (its log) and"
        echo "the route in the router's kernel table.  Polled stages are seen late by"
        echo "as long as a poll takes (it forks ip and gobgp: under TCG with traffic"
        echo "running, up to about a second), so a polled stage can show after a logged"
        echo "one that followed it; the polling also costs the VM some CPU."
        if [ -f "$OUT/fig13c-stages.csv" ]; then
            echo
            echo "The starts of Fig. 13c above (raw: fig13c-stages.csv):"
            echo
            stage_table "$OUT/fig13c-stages.csv"
        fi
        if [ -f "$OUT/start-stages.csv" ]; then
            echo
            echo "The replacements after the health experiment's graceful deletions, with"
            echo "a client's requests running (raw: start-stages.csv):"
            echo
            stage_table "$OUT/start-stages.csv"
        fi
        echo
        echo "Reading it: start to synced is the ipvs container's start (the entry"
        echo "point's steps, the controller, the API list); synced to serving is ours"
        echo "(keepalived's start and IPVS); bgp_established is exabgp's start (Python);"
        echo "announced is the later of serving and the session, plus the gate's rise;"
        echo "announced to route_in_router is BGP through the route reflector, the"
        echo "router's bgpd and zebra."
    fi
    if [ -f "$OUT/health.csv" ]; then
        echo
        echo "## Announce only while serving (issue 11)"
        echo
        echo "health.sh: a client sends requests through the VIP without pause (a new"
        echo "connection each, 3 at a time) while three load balancer pods carry them;"
        echo "one event at a time.  left: seconds from the event to the pod's nexthop"
        echo "leaving the router's table; back: from the recovery (keepalived restarted"
        echo "by the controller, the controller's container restarted, the DROP rule"
        echo "removed, the API back, the replacement pod started) to its return.  Failed"
        echo "requests are counted by when they started: between the event and the"
        echo "withdrawal, while the nexthop was out, and in the ${SETTLE:-3} s after it was back"
        echo "(raw: health.csv, every request in health-client.log).  The gate columns are"
        echo "when exabgp-helper's gate logged its decision (from the event, and from the"
        echo "recovery): what remains of left and back is BGP's way through exabgp, the"
        echo "route reflector, the router's bgpd and zebra."
        echo
        echo "| event | pod | left (s) | gate withdrew (s) | back (s) | gate announced (s) | failed before left | failed while out | failed after back |"
        echo "|---|---|---|---|---|---|---|---|---|"
        tail -n +2 "$OUT/health.csv" | while IFS=, read -r ev pod left _ back rb fb ro fo ra fa gw ga; do
            echo "| $ev | $pod | ${left:--} | ${gw:--} | $back | ${ga:--} | $fb of $rb | $fo of $ro | $fa of $ra |"
        done
        echo
        echo "Goal: the nexthop leaves within 2 s, no request fails once it has left,"
        echo "and a graceful deletion fails none.  api-down: the new pod's session came"
        echo "up while the API refused connections and it announced nothing until it"
        echo "had synced (asserted), while the three synced pods' controllers kept"
        echo "serving (asserted: no \"not serving\" line during the outage); its"
        echo "back is from the API's return.  Times are TCG's, measured, not adjusted."
        if [ -f "$OUT/health-flaps.csv" ]; then
            echo
            echo "Withdrawals nobody asked for, over the whole run (the gate's probe of a"
            echo "serving controller timed out, $(awk -F, 'NR > 1 { s += $2 } END { print s + 0 }' "$OUT/health-flaps.csv") in all): $(awk -F, 'NR > 1 { printf "%s%s %s", sep, $1, $2; sep = ", " }' "$OUT/health-flaps.csv")."
            echo "Under TCG the VM stalls for up to 2 s at times (keepalived logs its"
            echo "timers expiring late), longer than the gate's 300 ms probe timeout"
            echo "twice in a row: each such stall withdraws a healthy pod for a moment."
        fi
    fi
    if [ -f "$OUT/fig13a.csv" ]; then
        echo
        echo "## Fig. 13a: throughput and each load balancer's share"
        echo
        echo "wrk from the client (2 threads, 64 keep-alive connections) to 10.1.1.10"
        echo "with 1 to 4 load balancer pods; shares are each pod's part of the"
        echo "connections IPVS scheduled (raw: fig13a.csv)."
        echo
        echo "| load balancers | requests/s | errors | shares |"
        echo "|---|---|---|---|"
        tail -n +2 "$OUT/fig13a.csv" | while IFS=, read -r k rps errs s1 s2 s3 s4; do
            echo "| $k | $rps | $errs | $(echo "$s1 $s2 $s3 $s4" | xargs | sed 's/ / \/ /g') |"
        done
        echo
        echo "Paper: throughput grows about linearly with the load balancers, each"
        echo "carrying an equal share.  Here every load balancer gets a share, as ECMP"
        echo "hashes the 64 connections by L4 ports (unevenly at so few), but throughput cannot grow: every box,"
        echo "the client and all load balancers share the VM's 2 emulated CPUs (TCG)."
        echo "Measured, not adjusted."
        echo
        echo "![Fig. 13a](fig13a.png)"
    fi
    # fig13b_after KIND [CSV]: failed requests in the slices from each
    # change of KIND (start|stop) up to the next change, "N over K changes"
    fig13b_after() {
        awk -F, -v k="$1" 'NR == 1 { next }
            $5 != "" { split($5, w, " "); cur = w[1]; if (cur == k) n++ }
            cur == k { s += $4 }
            END { printf "%d over %d changes", s, n }' "${2:-$OUT/fig13b.csv}"
    }
    if [ -f "$OUT/fig13b.csv" ]; then
        total=$(awk -F, 'NR > 1 { s += $4 } END { print s + 0 }' "$OUT/fig13b.csv")
        slices=$(awk -F, 'NR > 1 { n++ } END { print n + 0 }' "$OUT/fig13b.csv")
        echo
        echo "## Fig. 13b: throughput while the load balancers change"
        echo
        echo "wrk in 2 s slices (32 connections each) while every fourth slice starts"
        echo "or deletes (both preStop hooks) a load balancer pod at random (raw:"
        echo "fig13b.csv).  Failed requests over all $slices slices: $total (wrk's socket"
        echo "errors and non-2xx answers); in the four slices from each start:"
        echo "$(fig13b_after start), from each deletion: $(fig13b_after stop)."
        echo "Before the health gate and the make-before-break deletion (issue 11) the"
        echo "same experiment failed 98 to 122 requests over 10 changes, all of them"
        echo "at stops.  What still fails: at a start or a deletion the router"
        echo "re-hashes some open keep-alive connections (Linux's ECMP moves flows of"
        echo "pods that stay, too) to a pod with no IPVS state for them, which answers"
        echo "with a reset; no drain keeps a flow the router has moved (issue 12's"
        echo "flow-preserving mode does)."
        if [ -f "$OUT/fig13b-flow.csv" ]; then
            ftotal=$(awk -F, 'NR > 1 { s += $4 } END { print s + 0 }' "$OUT/fig13b-flow.csv")
            echo
            echo "The same changes (the same random draws) with the load balancer pods in"
            echo "flow mode (issue 12: Maglev with the port, sloppy_tcp, TUN; raw:"
            echo "fig13b-flow.csv): $ftotal failed requests over all slices; from each start:"
            echo "$(fig13b_after start "$OUT/fig13b-flow.csv"), from each deletion: $(fig13b_after stop "$OUT/fig13b-flow.csv")."
        fi
        echo
        echo "![Fig. 13b](fig13b.png)"
    fi
    if [ -f "$OUT/flows.csv" ]; then
        echo
        echo "## Long-lived connections through load balancer changes (issue 12)"
        echo
        echo "flows.sh: the client holds $(awk -F, 'NR == 2 { print $3 }' "$OUT/flows.csv") HTTP keep-alive connections through the VIP,"
        echo "each sending a request every 100 ms and checking every answer, while the"
        echo "load balancer pods change; the same schedule in NAT mode (the paper's) and"
        echo "in flow mode (Maglev with the port, sloppy_tcp, TUN: K8S_MODE=flow).  A"
        echo "connection is broken by a reset, no answer within 60 s, or a wrong answer"
        echo "(another web pod, another request's); broken ones are replaced.  Raw:"
        echo "flows.csv, flows-events.csv (kinds, times), flows-live.csv, flows-*/."
        echo
        echo "| event | NAT broken | flow broken | NAT longest wait (s) | flow longest wait (s) |"
        echo "|---|---|---|---|---|"
        awk -F, 'NR > 1 { k = $2; if (!(k in o)) { o[k] = ++n; e[n] = k }
                          b[$1, k] = $4 " of " $3; w[$1, k] = $13 }
                 END { for (i = 1; i <= n; i++) { k = e[i]
                         printf "| %s | %s | %s | %s | %s |\n", k, b["nat", k], b["flow", k], w["nat", k], w["flow", k] } }' \
            "$OUT/flows-events.csv"
        echo
        echo "Kinds of breakage (reset / timeout / wrong answer), per mode and event:"
        echo "$(awk -F, 'NR > 1 { printf "%s%s %s %s/%s/%s", sep, $1, $2, $5, $6, $7; sep = "; " }' "$OUT/flows-events.csv")."
        sl=$(awk -F, 'NR > 1 && $2 == "silent" { printf "%s%s mode: nexthop gone %s s after the pod fell silent, longest wait %s s", sep, $1, $11, ($13 == "" ? "under 1" : $13); sep = "; " }' "$OUT/flows-events.csv")
        echo
        echo "Silent death ($sl): the router keeps sending a share"
        echo "of the flows to the silent pod until the route reflector's hold time"
        echo "(HOLD_TIME 9 s) ends its session and the withdrawal reaches the router;"
        echo "then each stalled connection waits for TCP's next retransmission, whose"
        echo "timer has backed off exponentially meanwhile (0.2, 0.4, 0.8, ... s), so a"
        echo "stall lasts from the detection time up to about twice it.  A shorter hold"
        echo "time (3 s, the least BGP allows) or BFD would shorten both parts."
        echo
        echo "fresh-after-web-add: the router moves a share of the flows to the new pod,"
        echo "whose Maglev table already holds the fourth web pod, while the flows still"
        echo "go to the web pod the older pods' connection entries pinned them to when"
        echo "there were three; for the quarter or so whose Maglev slot now belongs to"
        echo "the new web pod, the new load balancer sends them there, which has no such"
        echo "connection and resets it.  Only shared connection state would keep them"
        echo "(IPVS's connection synchronisation daemon between the pods), or a web pod"
        echo "set that does not change while flows are long-lived."
        if [ -f "$OUT/flows-client-address.csv" ]; then
            echo
            echo "The client's address as the web pods see it (X-Client-Address):"
            echo "$(awk -F, '{ printf "%s%s mode %s", sep, $1, $2; sep = ", " }' "$OUT/flows-client-address.csv") (the client is 192.0.2.2)."
        fi
        if [ -f "$OUT/flows-probes.csv" ] && [ "$(wc -l <"$OUT/flows-probes.csv")" -gt 1 ]; then
            echo
            echo "Table agreement: the same flows asked of the kernel in two pods"
            echo "(ipvsprobe.py: SYNs from one test address with distinct source ports,"
            echo "their /proc/net/ip_vs_conn entries compared).  lb1 saw the web pods arrive"
            echo "one by one, lb4 started with all four; ctl holds lb1's real servers in"
            echo "the reverse list order (a wrong rendering order: the check, order and"
            echo "flows, fails for it as it must; a different order changes only a few of"
            echo "Maglev's 4093 slots, so 1,000 flows may all still agree); same-flows-again and"
            echo "web-add-kept ask lb1 about the same flows again (address + 1, port - 1:"
            echo "Maglev hashes their sum) before and after the fourth web pod came."
            echo
            echo "| mode | check | pods | flows | same web pod | another |"
            echo "|---|---|---|---|---|---|"
            tail -n +2 "$OUT/flows-probes.csv" | while IFS=, read -r m c p f sa d; do echo "| $m | $c | $p | $f | $sa | $d |"; done
        fi
        if [ -f "$OUT/flows-flood.csv" ] && [ "$(wc -l <"$OUT/flows-flood.csv")" -gt 1 ]; then
            echo
            echo "ACK flood (sloppy_tcp's cost): spoofed ACKs from 198.51.100.0/24 to the"
            echo "VIP, the IPVS connection entries of two load balancer pods before and"
            echo "after (flows-flood.csv).  With sloppy_tcp every ACK without state"
            echo "creates an entry in ESTABLISHED that lives for the tcp timeout."
            echo
            echo "| mode | pod | entries before | after | from the flood | expires in (s) | entry size (B) | ACKs sent | in (s) | timeouts tcp/tcpfin/udp |"
            echo "|---|---|---|---|---|---|---|---|---|---|"
            tail -n +2 "$OUT/flows-flood.csv" | while IFS=, read -r m p b a fl emin emax osz _ sent secs to; do
                echo "| $m | $p | $b | $a | $fl | ${emin:--}..${emax:--} | $osz | $sent | $secs | $to |"
            done
        fi
        echo
        echo "![flows](flows.png)"
    fi
} >"$OUT/report.md"
echo "report: $OUT/report.md"
