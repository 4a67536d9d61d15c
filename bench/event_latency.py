#!/usr/bin/env python3
"""Event-to-reload latency of ipvs-controller, through the fake API server.

This process stands in for keepalived: it writes its pid to the pidfile the
controller signals and notes when each SIGHUP arrives.  It loads N ready
pods, waits for the controller to render them, then makes M changes one at
a time (a pod's readiness flips), each time measuring from just before the
API write to the SIGHUP.  Changes are spaced past the controller's minimum
reload interval so each one gets its own reload.  Prints figures only.
"""
import argparse
import json
import os
import signal
import statistics
import time
import urllib.request

hups = []


def on_hup(signum, frame):
    hups.append(time.monotonic())


def request(api, method, path, body=None, ctype="application/json"):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(api + path, data=data, method=method,
                                 headers={"Content-Type": ctype})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.read()


def pod(i, ready=True):
    ip = "10.%d.%d.%d" % (200 + i // 65536, (i // 256) % 256, i % 256)
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-%d" % i, "namespace": "default", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def count_rs(path):
    try:
        with open(path) as f:
            return sum(1 for line in f if "real_server" in line)
    except OSError:
        return -1


def proc_status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for " + what)
        time.sleep(0.005)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--api", required=True)
    ap.add_argument("--pidfile", required=True)
    ap.add_argument("--conf", required=True)
    ap.add_argument("--controller-pid", type=int, required=True)
    ap.add_argument("--pods", type=int, default=100)
    ap.add_argument("--changes", type=int, default=1000)
    ap.add_argument("--spacing-ms", type=int, default=150)
    a = ap.parse_args()

    signal.signal(signal.SIGHUP, on_hup)
    with open(a.pidfile + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(a.pidfile + ".tmp", a.pidfile)

    t0 = time.monotonic()
    for start in range(0, a.pods, 1000):
        request(a.api, "POST", "/_fake/bulk",
                {"objects": [pod(i) for i in range(start, min(a.pods, start + 1000))]})
    wait_until(lambda: count_rs(a.conf) == a.pods, 300, "%d real servers" % a.pods)
    print("loaded %d pods and rendered them in %.2f s" % (a.pods, time.monotonic() - t0))
    time.sleep(1)

    lat = []
    ready = [True] * a.pods
    for k in range(a.changes):
        i = k % a.pods
        ready[i] = not ready[i]
        before = len(hups)
        start = time.monotonic()
        request(a.api, "PATCH", "/api/v1/namespaces/default/pods/web-%d/status" % i,
                {"status": {"conditions": [{"type": "Ready",
                                            "status": "True" if ready[i] else "False"}]}},
                ctype="application/merge-patch+json")
        wait_until(lambda: len(hups) > before, 30, "reload after change %d" % k)
        lat.append((hups[before] - start) * 1000)
        time.sleep(a.spacing_ms / 1000)

    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
    print("changes=%d endpoints=%d event_to_sighup_ms: min=%.1f p50=%.1f p90=%.1f p99=%.1f "
          "max=%.1f mean=%.1f" % (len(lat), a.pods, lat[0], q(0.5), q(0.9), q(0.99), lat[-1],
                                  statistics.mean(lat)))
    print("controller rss_kb=%d peak_rss_kb=%d" % (proc_status(a.controller_pid, "VmRSS"),
                                                  proc_status(a.controller_pid, "VmHWM")))


if __name__ == "__main__":
    main()
