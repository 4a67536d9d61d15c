#!/usr/bin/python3
"""bigapi.py - a minimal API server with big or hostile bodies, for memory.

Usage: bigapi.py --port-file F SCENARIO

Used by bench/memory.sh (figures) and tests/integration/memory-bound.sh
(the controller's peak memory stays under a bound).
Serves /api/v1/namespaces/NS/pods lists and watches, generated on the fly
(the fake API server in tests/fakeapi keeps every object in memory and would
need gigabytes for these), over plain HTTP/1.0 so bodies stream until close.

Scenarios:
  list-10k        10,000 pods of 20 KB, in pages of ?limit= (the daemon's 500)
  relist-10k      the same, then a 410 on the watch and the same list again
  page-500        one page of 500 pods of 20 KB
  page-30mb       one page of 1,500 pods of 20 KB (30 MB, ?limit= ignored)
  page-30mb-braces one page with one pod whose spec is 30 MB of {}
  event-braces    empty list, then one 4 MB watch event: a pod whose spec is {} repeated
  event-braces-kept  the {} in status.conditions (a path the decoder reads)
  event-values    status.conditions: 0,0,0,... (many small values)
  event-nested    spec: [[[...]]] 120 deep, repeated
  event-string    status.podIP: one 4 MB string
After the big body, watches send a pod named "marker" (ready, 10.99.0.1)
so the bench knows everything before it was read.
"""

import argparse
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

POD_BYTES = 20 * 1024
EVENT_BYTES = 4 * 1024 * 1024 - 4096  # under the 4 MiB default cap


def pod(name, ip, extra_status=None, spec=None):
    """A running, ready pod shaped like a real one, padded to about 20 KB."""
    now = "2026-01-01T00:00:00Z"
    obj = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": "default", "uid": "0" * 36, "resourceVersion": "5",
            "creationTimestamp": now, "labels": {"app": "web", "pod-template-hash": "abc"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": ""},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                 "name": "web-abc", "uid": "1" * 36, "controller": True}],
        },
        "spec": spec if spec is not None else {
            "containers": [{"name": "c%d" % i, "image": "registry.example/web:1.2.3",
                            "env": [{"name": "VAR_%d" % j, "value": "value-%d" % j}
                                    for j in range(20)],
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                            "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}
                           for i in range(3)],
            "nodeName": "node-1", "restartPolicy": "Always"},
        "status": {
            "phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "hostIP": "192.0.2.1",
            "conditions": [{"type": t, "status": "True", "lastTransitionTime": now}
                           for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
            "containerStatuses": [{"name": "c%d" % i, "ready": True, "restartCount": 0,
                                   "image": "registry.example/web:1.2.3",
                                   "state": {"running": {"startedAt": now}}} for i in range(3)],
        },
    }
    if extra_status:
        obj["status"].update(extra_status)
    if spec is None:
        pad = POD_BYTES - len(json.dumps(obj))
        obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = \
            "x" * max(0, pad)
    return obj


TEMPLATE = json.dumps(pod("NAME_", "IP_")).encode()


def pod_bytes(i):
    """Pod number i as bytes (from a template: fast enough for 10,000)."""
    ip = "10.%d.%d.%d" % (100 + i // 65536, (i // 256) % 256, i % 256)
    return TEMPLATE.replace(b"NAME_", b"web-%d" % i).replace(b"IP_", ip.encode())


def fill(unit, total):
    """unit repeated, comma-separated, to about total bytes."""
    n = max(1, total // (len(unit) + 1))
    return b",".join([unit] * n)


def hostile_event(scenario):
    """The ADDED event of one hostile pod, under the event cap."""
    head = json.dumps(pod("hostile", "10.98.0.1", spec={})).encode()
    room = EVENT_BYTES - len(head) - 200
    if scenario == "event-braces":
        return head.replace(b'"spec": {}', b'"spec": {"x": [' + fill(b"{}", room) + b"]}")
    if scenario == "event-braces-kept":
        return head.replace(b'"conditions": [', b'"conditions": [' + fill(b"{}", room) + b",")
    if scenario == "event-values":
        return head.replace(b'"conditions": [', b'"conditions": [' + fill(b"0", room) + b",")
    if scenario == "event-nested":
        unit = b"[" * 120 + b"]" * 120
        return head.replace(b'"spec": {}', b'"spec": {"x": [' + fill(unit, room) + b"]}")
    if scenario == "event-string":
        return head.replace(b'"podIP": "10.98.0.1"', b'"podIP": "' + b"1" * room + b'"')
    raise SystemExit("unknown scenario " + scenario)


def event(etype, obj_bytes):
    return b'{"type": "' + etype.encode() + b'", "object": ' + obj_bytes + b"}\n"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def start(self, code=200):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.end_headers()

    def do_GET(self):
        url = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if not url.path.endswith("/pods"):
            self.send_error(404)
            return
        if q.get("watch"):
            self.watch()
        else:
            self.list(q)

    def list(self, q):
        sc = self.server.scenario
        items = []
        cont = ""
        if sc in ("list-10k", "relist-10k"):
            limit = int(q.get("limit", "500"))
            first = int(q.get("continue", "0") or "0")
            last = min(10000, first + limit)
            items = [pod_bytes(i) for i in range(first, last)]
            cont = str(last) if last < 10000 else ""
        elif sc == "page-500":
            items = [pod_bytes(i) for i in range(500)]
        elif sc == "page-30mb":
            items = [pod_bytes(i) for i in range(1500)]
        elif sc == "page-30mb-braces":
            big = json.dumps(pod("braces", "10.98.0.2", spec={})).encode()
            items = [big.replace(b'"spec": {}', b'"spec": {"x": [' +
                                 fill(b"{}", 30 * 1024 * 1024) + b"]}")]
        meta = b'{"resourceVersion": "10"' + (b', "continue": "%s"' % cont.encode()
                                               if cont else b"") + b"}"
        self.start()
        self.wfile.write(b'{"kind": "PodList", "apiVersion": "v1", "metadata": ' + meta +
                         b', "items": [')
        for i, item in enumerate(items):
            self.wfile.write((b"," if i else b"") + item)
        self.wfile.write(b"]}")

    def watch(self):
        sc = self.server.scenario
        self.start()
        self.server.watches += 1
        if sc == "relist-10k" and self.server.watches == 1:
            self.wfile.write(event("ERROR", b'{"kind": "Status", "code": 410, '
                                            b'"message": "too old resource version"}'))
            return
        if sc.startswith("event-") and self.server.watches == 1:
            self.wfile.write(event("ADDED", hostile_event(sc)))
        self.wfile.write(event("ADDED", json.dumps(pod("marker", "10.99.0.1")).encode()))
        self.wfile.flush()
        time.sleep(3600)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("scenario")
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.scenario = a.scenario
    srv.watches = 0
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
