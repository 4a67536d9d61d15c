#!/usr/bin/python3
"""fakectl.py - command-line client for fake_apiserver.py, for shell tests.

Usage: fakectl.py --server URL [--ns NS] [--cacert F] [--token F] CMD ...

Mutating commands print the resulting resourceVersion; stats and raw print
JSON.  Exit 0 on success; on an HTTP error print one line
"fakectl: METHOD PATH: CODE MESSAGE" to stderr and exit 1.  Run with -h
(or CMD -h) for the list of commands.  Standard library only.
"""

import argparse
import ipaddress
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.request

MERGE = "application/merge-patch+json"
HOLD_FINALIZER = "fake.k8s.io/hold"


class Failure(Exception):
    """An HTTP or connection error, reported as one line."""

    def __init__(self, method, path, code, message):
        super().__init__("fakectl: %s %s: %s %s" % (method, path, code, message))


class Client:
    """Tiny JSON-over-HTTP(S) client for the fake API server."""

    def __init__(self, args):
        self.base = args.server.rstrip("/")
        self.ns = args.ns
        self.token_file = args.token
        self.timeout = args.timeout
        self.ctx = None
        if self.base.startswith("https:"):
            self.ctx = ssl.create_default_context(cafile=args.cacert)
            if args.insecure:
                self.ctx.check_hostname = False
                self.ctx.verify_mode = ssl.CERT_NONE

    def call(self, method, path, body=None, ctype="application/json"):
        """Send one request and return the decoded JSON answer (or None)."""
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", ctype)
        if self.token_file:
            with open(self.token_file) as f:
                req.add_header("Authorization", "Bearer " + f.read().strip())
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self.ctx) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                message = json.loads(raw).get("message") or e.reason
            except (ValueError, AttributeError):
                message = raw.decode("utf-8", "replace").strip() or e.reason
            raise Failure(method, path, e.code, message)
        except (urllib.error.URLError, OSError) as e:
            raise Failure(method, path, "ERR", getattr(e, "reason", e))
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return raw.decode("utf-8", "replace")

    def pods(self, name=""):
        """Path of the pods collection or of one pod."""
        return "/api/v1/namespaces/%s/pods%s" % (self.ns, "/" + name if name else "")

    def slices(self, name=""):
        """Path of the endpointslices collection or of one slice."""
        return "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices%s" % (
            self.ns, "/" + name if name else "")


def parse_bool(text):
    """'true'/'false' (and 1/0, yes/no) to bool."""
    low = text.lower()
    if low in ("true", "1", "yes"):
        return True
    if low in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError("want true or false, got %r" % text)


def parse_labels(text):
    """'k=v,k2=v2' to a dict ('' is no labels)."""
    labels = {}
    for part in filter(None, text.split(",")):
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise argparse.ArgumentTypeError("bad label %r, want k=v" % part)
        labels[key.strip()] = value.strip()
    return labels


def ready_conditions(ready):
    """Pod conditions for a running pod that is (not) ready."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    flag = "True" if ready else "False"
    return [{"type": t, "status": s, "lastProbeTime": None, "lastTransitionTime": now}
            for t, s in (("Initialized", "True"), ("Ready", flag),
                         ("ContainersReady", flag), ("PodScheduled", "True"))]


def pod_body(ns, name, ip, ready=True, labels=None, port=80):
    """A running nginx Pod with the given IP and readiness."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns,
                     "labels": {"app": "web"} if labels is None else labels},
        "spec": {"containers": [{"name": "nginx", "image": "nginx",
                                 "ports": [{"containerPort": port, "protocol": "TCP"}]}]},
        "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                   "conditions": ready_conditions(ready)},
    }


def rv_of(obj):
    """The resourceVersion of an object answer."""
    return ((obj or {}).get("metadata") or {}).get("resourceVersion", "")


def cmd_pod_add(c, a):
    obj = c.call("POST", c.pods(), pod_body(c.ns, a.name, a.ip, a.ready, a.labels, a.port))
    return rv_of(obj)


def cmd_pod_ready(c, a):
    pod = c.call("GET", c.pods(a.name))
    conds = [cd for cd in (pod.get("status") or {}).get("conditions") or []
             if cd.get("type") not in ("Ready", "ContainersReady")]
    conds += [cd for cd in ready_conditions(a.ready) if cd["type"] in ("Ready", "ContainersReady")]
    return rv_of(c.call("PATCH", c.pods(a.name) + "/status",
                        {"status": {"conditions": conds}}, MERGE))


def cmd_pod_ip(c, a):
    return rv_of(c.call("PATCH", c.pods(a.name) + "/status",
                        {"status": {"podIP": a.ip, "podIPs": [{"ip": a.ip}]}}, MERGE))


def cmd_pod_terminating(c, a):
    pod = c.call("GET", c.pods(a.name))
    finalizers = pod["metadata"].get("finalizers") or []
    if HOLD_FINALIZER not in finalizers:
        c.call("PATCH", c.pods(a.name),
               {"metadata": {"finalizers": finalizers + [HOLD_FINALIZER]}}, MERGE)
    return rv_of(c.call("DELETE", c.pods(a.name)))


def cmd_pod_del(c, a):
    pod = c.call("GET", c.pods(a.name))
    if pod["metadata"].get("finalizers"):
        obj = c.call("PATCH", c.pods(a.name), {"metadata": {"finalizers": None}}, MERGE)
        if pod["metadata"].get("deletionTimestamp"):
            return rv_of(obj)          # dropping the finalizers removed it
    return rv_of(c.call("DELETE", c.pods(a.name)))


def cmd_pod_labels(c, a):
    pod = c.call("GET", c.pods(a.name))
    patch = {k: None for k in pod["metadata"].get("labels") or {}}
    patch.update(a.labels)
    return rv_of(c.call("PATCH", c.pods(a.name), {"metadata": {"labels": patch}}, MERGE))


def parse_endpoint(text):
    """'IP[,ready=false][,serving=..][,terminating=true][,node=N][,zone=Z][,pod=P]'."""
    ip, *opts = text.split(",")
    try:
        addr = ipaddress.ip_address(ip.strip())
    except ValueError:
        raise argparse.ArgumentTypeError("bad endpoint address %r" % ip)
    kv = dict(parse_labels(",".join(opts)))
    unknown = set(kv) - {"ready", "serving", "terminating", "node", "zone", "pod", "hostname"}
    if unknown:
        raise argparse.ArgumentTypeError("unknown endpoint option(s) %s" % ", ".join(unknown))
    terminating = parse_bool(kv.get("terminating", "false"))
    ready = parse_bool(kv.get("ready", "false" if terminating else "true"))
    ep = {"addresses": [str(addr)], "conditions": {
        "ready": ready, "serving": parse_bool(kv.get("serving", "true")),
        "terminating": terminating}}
    if "node" in kv:
        ep["nodeName"] = kv["node"]
    if "zone" in kv:
        ep["zone"] = kv["zone"]
    if "hostname" in kv:
        ep["hostname"] = kv["hostname"]
    if "pod" in kv:
        ep["targetRef"] = {"kind": "Pod", "name": kv["pod"]}
    return addr.version, ep


def cmd_slice_set(c, a):
    versions = {v for v, _ in a.endpoint}
    if len(versions) > 1:
        raise SystemExit("fakectl: slice-set: endpoints mix IPv4 and IPv6")
    ports = []
    if a.port is not None:
        ports = [{"name": a.port_name, "port": a.port, "protocol": a.protocol}]
    body = {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": a.name, "namespace": c.ns,
                     "labels": {"kubernetes.io/service-name": a.service,
                                "endpointslice.kubernetes.io/managed-by": "fakectl"}},
        "addressType": "IPv6" if versions == {6} else "IPv4",
        "endpoints": [ep for _, ep in a.endpoint],
        "ports": ports,
    }
    for _, ep in a.endpoint:
        if "targetRef" in ep:
            ep["targetRef"]["namespace"] = c.ns
    try:
        return rv_of(c.call("POST", c.slices(), body))
    except Failure as e:
        if " 409 " not in str(e):
            raise
    old = c.call("GET", c.slices(a.name))
    body["metadata"]["resourceVersion"] = rv_of(old)
    return rv_of(c.call("PUT", c.slices(a.name), body))


def cmd_slice_del(c, a):
    return rv_of(c.call("DELETE", c.slices(a.name)))


def cmd_raw(c, a):
    body = None
    if a.json is not None:
        body = (sys.stdin.read() if a.json == "-" else a.json).encode()
    ctype = a.content_type or (MERGE if a.method.upper() == "PATCH" else "application/json")
    out = c.call(a.method.upper(), a.path, body, ctype)
    return out if isinstance(out, str) else json.dumps(out)


def cmd_fault(c, a):
    spec = {"kind": a.kind, "target": a.target, "count": a.count, "after_events": a.after,
            "resource": a.resource}
    c.call("POST", "/_fake/fault", spec)


def cmd_compact(c, a):
    return c.call("POST", "/_fake/compact")["resourceVersion"]


def cmd_reset(c, a):
    return c.call("POST", "/_fake/reset")["resourceVersion"]


def cmd_stats(c, a):
    return json.dumps(c.call("GET", "/_fake/stats"), indent=1)


def cmd_shutdown_connections(c, a):
    return str(c.call("POST", "/_fake/shutdown-connections")["closed"])


def cmd_bulk_pods(c, a):
    base = ipaddress.ip_address(a.ip_base)
    objs = [pod_body(c.ns, "%s-%d" % (a.prefix, i), str(base + 1 + i), a.ready, a.labels, a.port)
            for i in range(a.n)]
    rv = ""
    for i in range(0, len(objs), 2000):
        rv = c.call("POST", "/_fake/bulk", {"objects": objs[i:i + 2000]})["resourceVersion"]
    return rv


def build_parser():
    """The argparse tree for all commands."""
    ap = argparse.ArgumentParser(prog="fakectl.py", description=__doc__.split("\n")[0])
    ap.add_argument("--server", default=os.environ.get("FAKEAPI_SERVER"),
                    help="http(s)://HOST:PORT (default $FAKEAPI_SERVER)")
    ap.add_argument("--ns", default="default", help="namespace (default: default)")
    ap.add_argument("--cacert", help="CA bundle for https")
    ap.add_argument("--token", help="file holding the bearer token (re-read per call)")
    ap.add_argument("--insecure", action="store_true", help="skip TLS verification")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="CMD")

    def add(name, func, help_text):
        p = sub.add_parser(name, help=help_text)
        p.set_defaults(func=func)
        return p

    p = add("pod-add", cmd_pod_add, "create a running nginx Pod")
    p.add_argument("name")
    p.add_argument("ip")
    p.add_argument("--ready", type=parse_bool, default=True)
    p.add_argument("--labels", type=parse_labels, default={"app": "web"})
    p.add_argument("--port", type=int, default=80)
    p = add("pod-ready", cmd_pod_ready, "set the Ready condition")
    p.add_argument("name")
    p.add_argument("ready", type=parse_bool)
    p = add("pod-ip", cmd_pod_ip, "change status.podIP(s)")
    p.add_argument("name")
    p.add_argument("ip")
    p = add("pod-terminating", cmd_pod_terminating, "add a finalizer and delete (terminating)")
    p.add_argument("name")
    p = add("pod-del", cmd_pod_del, "delete a Pod for good (drops finalizers)")
    p.add_argument("name")
    p = add("pod-labels", cmd_pod_labels, "set the labels to exactly k=v,...")
    p.add_argument("name")
    p.add_argument("labels", type=parse_labels)
    p = add("slice-set", cmd_slice_set, "create or replace an EndpointSlice")
    p.add_argument("name")
    p.add_argument("service")
    p.add_argument("--port", type=int)
    p.add_argument("--port-name", default="")
    p.add_argument("--protocol", default="TCP")
    p.add_argument("--endpoint", type=parse_endpoint, action="append", default=[],
                   help="IP[,ready=false][,serving=false][,terminating=true][,node=N]"
                        "[,zone=Z][,pod=P][,hostname=H]; repeat for more")
    p = add("slice-del", cmd_slice_del, "delete an EndpointSlice")
    p.add_argument("name")
    p = add("raw", cmd_raw, "any request; JSON body '-' reads stdin")
    p.add_argument("method")
    p.add_argument("path")
    p.add_argument("json", nargs="?")
    p.add_argument("--content-type")
    p = add("fault", cmd_fault, "queue a fault")
    p.add_argument("kind", choices=("drop", "garbage", "stall", "http410", "error410event",
                                    "status500", "slow"))
    p.add_argument("--target", default="any",
                   help="watch, list, continue (lists with a token), get, ..., write, any")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--after", type=int, default=0, help="events before the fault (watch)")
    p.add_argument("--resource", default="any")
    add("compact", cmd_compact, "discard the watch history")
    add("reset", cmd_reset, "delete every object, clear faults")
    add("stats", cmd_stats, "print request statistics")
    add("shutdown-connections", cmd_shutdown_connections, "cut every open watch")
    p = add("bulk-pods", cmd_bulk_pods, "create N pods PREFIX-0.. with IPs ip-base+1..")
    p.add_argument("n", type=int)
    p.add_argument("prefix")
    p.add_argument("--ip-base", default="10.200.0.0")
    p.add_argument("--ready", type=parse_bool, default=True)
    p.add_argument("--labels", type=parse_labels, default={"app": "web"})
    p.add_argument("--port", type=int, default=80)
    return ap


def main(argv=None):
    """Run one command; 0 on success, 1 on a request failure."""
    ap = build_parser()
    args = ap.parse_args(argv)
    if not args.server:
        ap.error("--server is required (or set FAKEAPI_SERVER)")
    try:
        out = args.func(Client(args), args)
    except Failure as e:
        print(e, file=sys.stderr)
        return 1
    if out not in (None, ""):
        print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
