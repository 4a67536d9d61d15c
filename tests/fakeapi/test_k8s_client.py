#!/usr/bin/python3
"""test_k8s_client.py - conformance test of fake_apiserver.py against a real client.

Starts the fake API server over HTTPS (certificates from gen-certs.sh in a
temporary directory, bearer token from a file) and drives it with Debian's
python3-kubernetes: create, get, list with label selectors and pagination,
watch with replay, resume, live events, bookmarks, selector transitions,
410 Expired after compaction, EndpointSlices through DiscoveryV1Api, and
401 for a wrong or rotated token.

Run: /usr/bin/python3 tests/fakeapi/test_k8s_client.py
Prints one line per check and finally "N passed, M failed"; exits 1 on any
failure.
"""

import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request

import kubernetes.client
import kubernetes.watch
from kubernetes.client.rest import ApiException

HERE = os.path.dirname(os.path.abspath(__file__))
NS = "conf"
TOKEN = "conformance-token-1"


class Env:
    """The running server and clients shared by the checks."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.ca = os.path.join(tmp, "ca.crt")
        self.token_file = os.path.join(tmp, "token")
        self.proc = None
        self.port = None

    def start(self):
        """Make certificates, write the token, start the server, wait for its port."""
        subprocess.run([os.path.join(HERE, "gen-certs.sh"), self.tmp], check=True)
        with open(self.token_file, "w") as f:
            f.write(TOKEN + "\n")
        port_file = os.path.join(self.tmp, "port")
        self.proc = subprocess.Popen([
            sys.executable, os.path.join(HERE, "fake_apiserver.py"),
            "--listen", "127.0.0.1:0", "--port-file", port_file,
            "--tls-cert", os.path.join(self.tmp, "server.crt"),
            "--tls-key", os.path.join(self.tmp, "server.key"),
            "--token-file", self.token_file, "--bookmark-interval", "0.3",
            "--log", os.path.join(self.tmp, "server.log")])
        deadline = time.time() + 15
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("fake_apiserver did not start")
            time.sleep(0.05)
        with open(port_file) as f:
            self.port = int(f.read())
        self.core, self.disc, self.version = self.apis(TOKEN)

    def stop(self):
        """Terminate the server (checks it exits 0 promptly)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                return self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode if self.proc else None

    def apis(self, token):
        """CoreV1Api, DiscoveryV1Api and VersionApi using this bearer token."""
        cfg = kubernetes.client.Configuration()
        cfg.host = "https://127.0.0.1:%d" % self.port
        cfg.ssl_ca_cert = self.ca
        cfg.api_key = {"authorization": "Bearer " + token}
        api = kubernetes.client.ApiClient(cfg)
        return (kubernetes.client.CoreV1Api(api), kubernetes.client.DiscoveryV1Api(api),
                kubernetes.client.VersionApi(api))

    def control(self, method, path, body=None):
        """Call the /_fake/ control API (no token)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request("https://127.0.0.1:%d%s" % (self.port, path), data=data,
                                     method=method)
        ctx = ssl.create_default_context(cafile=self.ca)
        with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
            return json.loads(resp.read())


def pod(name, labels, ip="10.0.0.1"):
    """A V1Pod body."""
    return kubernetes.client.V1Pod(
        metadata=kubernetes.client.V1ObjectMeta(name=name, labels=labels),
        spec=kubernetes.client.V1PodSpec(containers=[kubernetes.client.V1Container(
            name="nginx", image="nginx",
            ports=[kubernetes.client.V1ContainerPort(container_port=80)])]),
        status=kubernetes.client.V1PodStatus(phase="Running", pod_ip=ip))


def names(items):
    """metadata.name of each model object."""
    return [i.metadata.name for i in items]


def expect(cond, message):
    """Fail the current check unless cond."""
    if not cond:
        raise AssertionError(message)


def expect_status(fn, code):
    """Call fn and require an ApiException with this HTTP status; return it."""
    try:
        fn()
    except ApiException as e:
        expect(e.status == code, "want HTTP %d, got %s (%s)" % (code, e.status, e.reason))
        return e
    raise AssertionError("want HTTP %d, the call succeeded" % code)


def collect(stream, until=None, limit=50):
    """Drain a watch stream into [(type, name_or_None, rv, event)], stopping at until(event)."""
    out = []
    for ev in stream:
        raw = ev["raw_object"]
        meta = raw.get("metadata") or {}
        out.append((ev["type"], meta.get("name"), meta.get("resourceVersion"), ev))
        if (until and until(ev)) or len(out) >= limit:
            break
    return out


def later(delay, fn):
    """Run fn in a thread after delay seconds; return the thread."""
    def run():
        time.sleep(delay)
        fn()
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def run_checks(env):
    """Run every check in order; return (passed, failed)."""
    core, disc = env.core, env.disc
    state = {}
    checks = []

    def check(fn):
        checks.append(fn)
        return fn

    @check
    def version_endpoint():
        info = env.version.get_code()
        expect(info.git_version == "v1.28.0-fake", "gitVersion %r" % info.git_version)

    @check
    def create_pods():
        rvs = []
        for name, labels in (("web-1", {"app": "web"}), ("web-2", {"app": "web", "tier": "fe"}),
                             ("db-1", {"app": "db"})):
            got = core.create_namespaced_pod(NS, pod(name, labels))
            expect(got.metadata.name == name and got.metadata.namespace == NS, "name/ns")
            expect(got.metadata.uid and got.metadata.creation_timestamp, "uid/creationTimestamp")
            rvs.append(int(got.metadata.resource_version))
        expect(rvs == sorted(rvs) and len(set(rvs)) == 3, "RVs not increasing: %s" % rvs)
        state["last_create_rv"] = rvs[-1]

    @check
    def duplicate_and_missing():
        e = expect_status(lambda: core.create_namespaced_pod(NS, pod("web-1", {})), 409)
        expect(json.loads(e.body)["reason"] == "AlreadyExists", "reason %s" % e.body)
        e = expect_status(lambda: core.read_namespaced_pod("nope", NS), 404)
        expect(json.loads(e.body)["kind"] == "Status", "404 body is not a Status")

    @check
    def list_with_selector():
        got = core.list_namespaced_pod(NS, label_selector="app=web")
        expect(names(got.items) == ["web-1", "web-2"], "items %s" % names(got.items))
        expect(got.kind == "PodList" and got.api_version == "v1", "kind %s" % got.kind)
        expect(int(got.metadata.resource_version) == state["last_create_rv"],
               "list RV %s" % got.metadata.resource_version)
        state["rv0"] = got.metadata.resource_version

    @check
    def selector_syntax():
        cases = {"app in (web,db)": ["db-1", "web-1", "web-2"], "app notin (web)": ["db-1"],
                 "app!=web": ["db-1"], "app==db": ["db-1"], "tier": ["web-2"], "!app": [],
                 "!tier,app=web": ["web-1"], "app,tier=fe": ["web-2"],
                 "tier!=fe": ["db-1", "web-1"], "tier notin (fe,x)": ["db-1", "web-1"],
                 "": ["db-1", "web-1", "web-2"]}
        for sel, want in cases.items():
            got = names(core.list_namespaced_pod(NS, label_selector=sel).items)
            expect(got == want, "%r: got %s, want %s" % (sel, got, want))

    @check
    def bad_selector_is_400():
        for sel in ("app in (web", "app=", "=web", "a b", "app in ()"):
            if sel == "app=":      # empty value is valid: matches label app=""
                expect(core.list_namespaced_pod(NS, label_selector=sel).items == [], sel)
                continue
            e = expect_status(lambda: core.list_namespaced_pod(NS, label_selector=sel), 400)
            expect(json.loads(e.body)["reason"] == "BadRequest", "reason %s" % e.body)

    @check
    def pagination():
        first = core.list_namespaced_pod(NS, limit=2)
        expect(names(first.items) == ["db-1", "web-1"], "page 1 %s" % names(first.items))
        expect(first.metadata._continue, "no continue token on page 1")
        # Writes between pages must not show: pages come from one snapshot.
        before = core.read_namespaced_pod("web-2", NS).metadata.resource_version
        core.create_namespaced_pod(NS, pod("zzz-late", {"app": "late"}))
        core.patch_namespaced_pod("web-2", NS, {"metadata": {"annotations": {"a": "b"}}})
        second = core.list_namespaced_pod(NS, limit=2, _continue=first.metadata._continue)
        expect(names(second.items) == ["web-2"], "page 2 %s" % names(second.items))
        expect(second.items[0].metadata.resource_version == before and
               not second.items[0].metadata.annotations, "page 2 shows a later write")
        expect(not second.metadata._continue, "continue token on the last page")
        expect(second.metadata.resource_version == first.metadata.resource_version,
               "pages from different snapshots")
        state["old_continue"] = first.metadata._continue
        core.delete_namespaced_pod("zzz-late", NS)

    @check
    def watch_replays_history_in_order():
        start = core.list_namespaced_pod(NS, label_selector="app=web").metadata.resource_version
        core.create_namespaced_pod(NS, pod("web-3", {"app": "web"}))
        core.patch_namespaced_pod("web-3", NS, {"metadata": {"labels": {"x": "1"}}})
        core.delete_namespaced_pod("web-3", NS)
        w = kubernetes.watch.Watch()
        evs = collect(w.stream(core.list_namespaced_pod, NS, label_selector="app=web",
                               resource_version=start, allow_watch_bookmarks=True,
                               timeout_seconds=5),
                      until=lambda e: e["type"] == "DELETED")
        evs = [e for e in evs if e[0] != "BOOKMARK"]
        expect([(t, n) for t, n, _, _ in evs] ==
               [("ADDED", "web-3"), ("MODIFIED", "web-3"), ("DELETED", "web-3")],
               "events %s" % [(t, n) for t, n, _, _ in evs])
        rvs = [int(rv) for _, _, rv, _ in evs]
        expect(rvs == sorted(rvs) and len(set(rvs)) == 3, "RVs %s" % rvs)
        expect(isinstance(evs[1][3]["object"], kubernetes.client.V1Pod), "not a V1Pod")
        expect(evs[1][3]["object"].metadata.labels == {"app": "web", "x": "1"}, "labels")
        state["modified_rv"], state["deleted_rv"] = evs[1][2], evs[2][2]

    @check
    def watch_resume_sees_only_later_events():
        w = kubernetes.watch.Watch()
        evs = collect(w.stream(core.list_namespaced_pod, NS, label_selector="app=web",
                               resource_version=state["modified_rv"], timeout_seconds=1))
        expect([(t, n, rv) for t, n, rv, _ in evs] ==
               [("DELETED", "web-3", state["deleted_rv"])], "events %s" % evs)
        stats = env.control("GET", "/_fake/stats")
        last = [r for r in stats["requests"] if r["verb"] == "watch"][-1]
        expect(last["resourceVersion"] == state["modified_rv"], "stats %s" % last)
        expect(last["labelSelector"] == "app=web", "stats selector %s" % last)

    @check
    def watch_live_events():
        start = core.list_namespaced_pod(NS).metadata.resource_version

        def mutate():
            core.create_namespaced_pod(NS, pod("web-4", {"app": "web"}, ip="10.0.0.4"))
            core.patch_namespaced_pod_status("web-4", NS, {"status": {"podIP": "10.0.0.44"}})
            core.delete_namespaced_pod("web-4", NS)
        t = later(0.3, mutate)
        w = kubernetes.watch.Watch()
        evs = collect(w.stream(core.list_namespaced_pod, NS, resource_version=start,
                               timeout_seconds=5),
                      until=lambda e: e["type"] == "DELETED")
        t.join()
        expect([(t, n) for t, n, _, _ in evs] ==
               [("ADDED", "web-4"), ("MODIFIED", "web-4"), ("DELETED", "web-4")],
               "events %s" % [(t, n) for t, n, _, _ in evs])
        expect(evs[1][3]["object"].status.pod_ip == "10.0.0.44", "status patch not seen")

    @check
    def watch_from_zero_lists_current_state():
        w = kubernetes.watch.Watch()
        evs = collect(w.stream(core.list_namespaced_pod, NS, label_selector="app=web",
                               resource_version="0", timeout_seconds=1))
        expect([(t, n) for t, n, _, _ in evs] == [("ADDED", "web-1"), ("ADDED", "web-2")],
               "events %s" % [(t, n) for t, n, _, _ in evs])

    @check
    def bookmarks():
        current = core.list_namespaced_pod(NS).metadata.resource_version
        w = kubernetes.watch.Watch()
        evs = collect(w.stream(core.list_namespaced_pod, NS, resource_version=current,
                               allow_watch_bookmarks=True, timeout_seconds=1))
        marks = [e for e in evs if e[0] == "BOOKMARK"]
        expect(len(marks) >= 2 and len(marks) == len(evs), "events %s" % evs)
        expect(all(rv == current for _, _, rv, _ in marks), "bookmark RVs %s" % marks)
        expect(marks[0][3]["raw_object"]["kind"] == "Pod", "bookmark kind")
        evs = collect(w.stream(core.list_namespaced_pod, NS, resource_version=current,
                               timeout_seconds=1))
        expect(evs == [], "bookmarks sent without allowWatchBookmarks: %s" % evs)

    @check
    def selector_transitions():
        start = core.list_namespaced_pod(NS).metadata.resource_version

        def relabel():
            core.patch_namespaced_pod("web-1", NS, {"metadata": {"labels": {"app": "db"}}})
            core.patch_namespaced_pod("web-1", NS, {"metadata": {"labels": {"app": "web"}}})
        t = later(0.2, relabel)
        w = kubernetes.watch.Watch()
        evs = collect(w.stream(core.list_namespaced_pod, NS, label_selector="app=web",
                               resource_version=start, timeout_seconds=5),
                      until=lambda e: e["type"] == "ADDED")
        t.join()
        expect([(t, n) for t, n, _, _ in evs] == [("DELETED", "web-1"), ("ADDED", "web-1")],
               "events %s" % [(t, n) for t, n, _, _ in evs])
        expect(evs[0][3]["raw_object"]["metadata"]["labels"] == {"app": "db"},
               "DELETED should carry the new state")

    @check
    def compacted_watch_is_410():
        env.control("POST", "/_fake/compact")
        w = kubernetes.watch.Watch()
        try:
            evs = collect(w.stream(core.list_namespaced_pod, NS, resource_version=state["rv0"],
                                   timeout_seconds=2))
        except ApiException as e:
            expect(e.status == 410, "status %s" % e.status)
            expect("too old resource version" in str(e.reason), "reason %s" % e.reason)
            return
        errors = [e for e in evs if e[0] == "ERROR"]
        expect(errors and errors[0][3]["raw_object"]["code"] == 410, "events %s" % evs)

    @check
    def compacted_continue_is_410():
        e = expect_status(lambda: core.list_namespaced_pod(
            NS, limit=2, _continue=state["old_continue"]), 410)
        expect(json.loads(e.body)["reason"] == "Expired", "reason %s" % e.body)

    @check
    def injected_faults():
        env.control("POST", "/_fake/fault", {"kind": "http410", "target": "list"})
        expect_status(lambda: core.list_namespaced_pod(NS), 410)
        env.control("POST", "/_fake/fault", {"kind": "status500", "target": "list",
                                             "resource": "endpointslices"})
        expect(len(core.list_namespaced_pod(NS).items) == 3, "pods list hit the slice fault")
        expect_status(lambda: disc.list_namespaced_endpoint_slice(NS), 500)
        expect(disc.list_namespaced_endpoint_slice(NS).items == [], "fault consumed twice")

    @check
    def endpointslices():
        m = kubernetes.client
        body = m.V1EndpointSlice(
            metadata=m.V1ObjectMeta(name="svc-abc", labels={
                "kubernetes.io/service-name": "svc"}),
            address_type="IPv4",
            endpoints=[m.V1Endpoint(addresses=["10.1.0.1"],
                                    conditions=m.V1EndpointConditions(ready=True))],
            ports=[m.DiscoveryV1EndpointPort(name="http", port=80, protocol="TCP")])
        made = disc.create_namespaced_endpoint_slice(NS, body)
        expect(made.address_type == "IPv4" and made.metadata.uid, "create answer")
        got = disc.list_namespaced_endpoint_slice(
            NS, label_selector="kubernetes.io/service-name=svc")
        expect(got.kind == "EndpointSliceList" and names(got.items) == ["svc-abc"],
               "list %s" % names(got.items))
        expect(got.items[0].endpoints[0].addresses == ["10.1.0.1"], "addresses")
        expect(got.items[0].ports[0].port == 80, "ports")

        def mutate():
            disc.patch_namespaced_endpoint_slice("svc-abc", NS, {"endpoints": [
                {"addresses": ["10.1.0.2"], "conditions": {"ready": False}}]})
            disc.delete_namespaced_endpoint_slice("svc-abc", NS)
        t = later(0.2, mutate)
        w = kubernetes.watch.Watch()
        evs = collect(w.stream(disc.list_namespaced_endpoint_slice, NS,
                               label_selector="kubernetes.io/service-name=svc",
                               resource_version=got.metadata.resource_version,
                               allow_watch_bookmarks=True, timeout_seconds=5),
                      until=lambda e: e["type"] == "DELETED")
        t.join()
        evs = [e for e in evs if e[0] != "BOOKMARK"]
        expect([t for t, _, _, _ in evs] == ["MODIFIED", "DELETED"], "events %s" % evs)
        obj = evs[0][3]["object"]
        expect(isinstance(obj, m.V1EndpointSlice), "not a V1EndpointSlice")
        expect(obj.endpoints[0].addresses == ["10.1.0.2"] and
               obj.endpoints[0].conditions.ready is False, "patched endpoints")

    @check
    def wrong_token_is_401():
        bad_core, _, bad_version = env.apis("not-the-token")
        e = expect_status(lambda: bad_core.list_namespaced_pod(NS), 401)
        expect(json.loads(e.body)["reason"] == "Unauthorized", "reason %s" % e.body)
        expect_status(lambda: bad_version.get_code(), 401)

    @check
    def token_rotation():
        with open(env.token_file + ".new", "w") as f:
            f.write("rotated-token-2")
        os.replace(env.token_file + ".new", env.token_file)
        expect_status(lambda: core.list_namespaced_pod(NS), 401)
        new_core, _, _ = env.apis("rotated-token-2")
        expect(len(new_core.list_namespaced_pod(NS).items) == 3, "new token refused")
        with open(env.token_file, "w") as f:
            f.write(TOKEN)
        expect(len(core.list_namespaced_pod(NS).items) == 3, "old token not restored")

    @check
    def cut_connections_end_watch():
        t = later(0.5, lambda: state.setdefault(
            "closed", env.control("POST", "/_fake/shutdown-connections")["closed"]))
        began = time.time()
        w = kubernetes.watch.Watch()
        try:
            collect(w.stream(core.list_namespaced_pod, NS, resource_version="0",
                             timeout_seconds=20))
            broke = False
        except Exception:        # urllib3 ProtocolError: the chunked stream was cut
            broke = True
        t.join()
        expect(state.get("closed", 0) >= 1, "no connection closed")
        expect(time.time() - began < 5, "watch was not cut")
        expect(broke, "stream ended cleanly; expected an abrupt close")

    passed = failed = 0
    for fn in checks:
        try:
            fn()
            passed += 1
            print("ok   %s" % fn.__name__)
        except Exception as e:
            failed += 1
            print("FAIL %s: %s" % (fn.__name__, e))
            if not isinstance(e, (AssertionError, ApiException)):
                traceback.print_exc()
        sys.stdout.flush()
    return passed, failed


def main():
    """Start the server, run the checks, stop the server, report."""
    tmp = tempfile.mkdtemp(prefix="fakeapi-conf-")
    env = Env(tmp)
    passed = failed = 0
    try:
        env.start()
        passed, failed = run_checks(env)
    except Exception:
        traceback.print_exc()
        failed += 1
    finally:
        rc = env.stop()
        if env.proc is not None:
            if rc == 0:
                passed += 1
                print("ok   server_exits_0_on_sigterm")
            else:
                failed += 1
                print("FAIL server_exits_0_on_sigterm: exit status %s" % rc)
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
