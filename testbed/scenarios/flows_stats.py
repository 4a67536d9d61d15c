#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""flows_stats.py - the figures of flows.sh from its raw files (stdlib only).

compare A.json B.json
        Two ipvsprobe.py maps of the same flows: prints "SAME DIFFER MISSING"
        (flows both scheduled to the same real server, to different ones,
        and flows only one of them scheduled).

tables OUT MODE...
        From OUT/flows-MODE/{events,client.log,series} write
          OUT/flows.csv         mode,event,connections,broken
          OUT/flows-events.csv  the same rows with the kinds of breakage,
                                times and the longest stall
          OUT/flows-live.csv    mode,t,live,answering,broken_total
        and print flows-events.csv.  Times in the CSVs are seconds since
        the mode's client started.  A failure belongs to the event whose
        window (its start up to the next event's start) holds the moment
        the failed request was sent; so does a stall: an answer that took
        more than 1 s, or a failure that came more than 1 s after its
        request (max_stall_s: the longest wait of either kind).
"""
import csv
import json
import os
import sys


def compare(a_path, b_path):
    a = json.load(open(a_path))["map"]
    b = json.load(open(b_path))["map"]
    same = sum(1 for k in a if k in b and a[k] == b[k])
    differ = sum(1 for k in a if k in b and a[k] != b[k])
    missing = len(set(a) ^ set(b))
    print(same, differ, missing)
    return 0


def read_events(path):
    """[(name, start, done, extra dict)] in file order."""
    out = []
    for line in open(path):
        w = line.split()
        if len(w) < 3:
            continue
        extra = dict(x.split("=", 1) for x in w[3:] if "=" in x)
        out.append((w[0], float(w[1]), float(w[2]), extra))
    return out


def tables(out, modes):
    rows, live_rows = [], []
    for mode in modes:
        raw = os.path.join(out, f"flows-{mode}")
        events = read_events(os.path.join(raw, "events"))
        series = []
        for line in open(os.path.join(raw, "series")):
            w = line.split()
            if len(w) == 5:
                series.append((float(w[0]), int(w[1]), int(w[2]), int(w[3]), int(w[4])))
        if not series:
            raise SystemExit(f"flows_stats: {raw}/series is empty")
        t0 = series[0][0]
        fails, stalls = [], []
        for line in open(os.path.join(raw, "client.log")):
            w = line.split()
            if len(w) >= 5 and w[1] == "fail":
                fails.append((float(w[4]), w[3]))
                # a broken connection waited too, until it broke
                stalls.append((float(w[4]), float(w[0]) - float(w[4])))
            elif len(w) >= 5 and w[1] == "stall":
                stalls.append((float(w[4]), float(w[3])))
        for s in series:
            live_rows.append([mode, f"{s[0] - t0:.1f}", s[1], s[2], s[4]])
        for i, (name, start, done, extra) in enumerate(events):
            end = events[i + 1][1] if i + 1 < len(events) else float("inf")
            before = [s for s in series if s[0] <= start]
            conns = before[-1][1] if before else series[0][1]
            kinds = {"reset": 0, "timeout": 0, "wrong": 0}
            for t, kind in fails:
                if start <= t < end:
                    kinds[kind] = kinds.get(kind, 0) + 1
            st = [d for t, d in stalls if start <= t < end and d > 1.0]
            left = extra.get("left")
            rows.append({
                "mode": mode, "event": name, "connections": conns,
                "broken": sum(kinds.values()),
                "reset": kinds["reset"], "timeout": kinds["timeout"], "wrong": kinds["wrong"],
                "start_s": f"{start - t0:.1f}", "done_s": f"{done - t0:.1f}",
                "change_s": f"{done - start:.3f}",
                "nexthop_left_s": f"{float(left) - start:.3f}" if left else "",
                "stalled": len(st),
                "max_stall_s": f"{max(st):.3f}" if st else "",
            })
    with open(os.path.join(out, "flows.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["mode", "event", "connections", "broken"])
        for r in rows:
            w.writerow([r["mode"], r["event"], r["connections"], r["broken"]])
    cols = ["mode", "event", "connections", "broken", "reset", "timeout", "wrong",
            "start_s", "done_s", "change_s", "nexthop_left_s", "stalled", "max_stall_s"]
    with open(os.path.join(out, "flows-events.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, cols, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    with open(os.path.join(out, "flows-live.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["mode", "t", "live", "answering", "broken_total"])
        w.writerows(live_rows)
    print(",".join(cols))
    for r in rows:
        print(",".join(str(r[c]) for c in cols))
    return 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "compare":
        return compare(sys.argv[2], sys.argv[3])
    if len(sys.argv) >= 4 and sys.argv[1] == "tables":
        return tables(sys.argv[2], sys.argv[3:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
