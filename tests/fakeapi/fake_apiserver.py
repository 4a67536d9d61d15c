#!/usr/bin/python3
"""fake_apiserver.py - a fake Kubernetes API server for tests.

Serves the subset of kube-apiserver that the load-balancer controller uses,
with the real JSON shapes and status codes (errors are always Status objects):

  pods            /api/v1/namespaces/{ns}/pods[/{name}[/status]]
  endpointslices  /apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices[/{name}]
  cluster-wide    /api/v1/pods, /apis/discovery.k8s.io/v1/endpointslices (list, watch)
  discovery       /version, /api, /api/v1, /apis, /apis/discovery.k8s.io[/v1], /healthz

Verbs: create (POST), get, replace (PUT, pods also PUT .../status), patch
(merge, strategic treated as merge, JSON patch), delete (a pod with
finalizers only gets deletionTimestamp), list (labelSelector, fieldSelector,
limit/continue from a consistent snapshot, resourceVersionMatch=Exact) and
watch (replay from resourceVersion, synthetic ADDED from "0", selector
transitions, bookmarks, timeoutSeconds, ERROR 410 once history is gone).

Usage:
  fake_apiserver.py --listen HOST:PORT [--port-file F] [--tls-cert F --tls-key F]
                    [--token-file F] [--bookmark-interval S] [--history N] [--log F]
                    [--continue-pad N]

Control API (no token):
  POST /_fake/fault {"kind","target","count","resource","after_events"}
       kinds: drop garbage stall http410 error410event status500 slow
       targets: watch list any (also continue: lists with a token, get create update
       patch delete write)
  POST /_fake/compact            forget history (old RVs/continue tokens: 410)
  POST /_fake/reset              delete every object (DELETED events), clear faults
  GET  /_fake/stats              request counts and the last 200 requests
  DELETE /_fake/stats            clear the counts and the request log
  POST /_fake/bulk {"objects":[...]}   create or replace many objects
  POST /_fake/shutdown-connections     cut every open watch (and stalled request)
  GET  /_fake/health             {"ok": true, "resourceVersion": ...}

Standard library only; runs under /usr/bin/python3 (3.11).
"""

import argparse
import base64
import copy
import hmac
import json
import os
import random
import re
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import traceback
import uuid
from collections import OrderedDict, namedtuple
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

RESOURCES = {
    "pods": {"kind": "Pod", "apiVersion": "v1", "status": True},
    "endpointslices": {"kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
                       "status": False},
}
KIND_TO_RESOURCE = {v["kind"]: k for k, v in RESOURCES.items()}
REASONS = {400: "BadRequest", 401: "Unauthorized", 404: "NotFound", 405: "MethodNotAllowed",
           409: "Conflict", 410: "Expired", 415: "UnsupportedMediaType", 422: "Invalid",
           500: "InternalError"}
FAULT_KINDS = ("drop", "garbage", "stall", "http410", "error410event", "status500", "slow")
# "continue": only lists that carry a continue token (their later pages)
FAULT_TARGETS = ("watch", "list", "continue", "get", "create", "update", "patch", "delete",
                 "write", "any")
WRITE_VERBS = ("create", "update", "patch", "delete")
GARBAGE = b'{"type":"ADDED","object":{"metadata":\x00\xff not json }}}\n'
STALL_SECONDS = 3600
VERSION = {"major": "1", "minor": "28", "gitVersion": "v1.28.0-fake",
           "gitCommit": "0" * 40, "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
           "goVersion": "go1.21.0", "compiler": "gc", "platform": "linux/amd64"}
NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
POD_PATH = re.compile(r"^/api/v1/(?:namespaces/([^/]+)/)?(pods)(?:/([^/]+)(?:/(status))?)?/?$")
SLICE_PATH = re.compile(
    r"^/apis/discovery\.k8s\.io/v1/(?:namespaces/([^/]+)/)?(endpointslices)(?:/([^/]+))?/?$")

Event = namedtuple("Event", "rv resource ns name type obj prev")


class ApiError(Exception):
    """An error answered to the client as a Kubernetes Status object."""

    def __init__(self, code, message, reason=None, details=None):
        super().__init__(message)
        self.code, self.message = code, message
        self.reason = reason or REASONS.get(code, "Unknown")
        self.details = details

    def status(self):
        """The Status body for this error."""
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "code": self.code}
        if self.details:
            body["details"] = self.details
        return body


def expired(message):
    """A 410 Expired error."""
    return ApiError(410, message, "Expired")


def not_found(resource, name):
    """A 404 for a named object, like the real API words it."""
    return ApiError(404, '%s "%s" not found' % (resource, name), "NotFound",
                    {"name": name, "kind": resource})


def now_rfc3339():
    """The current UTC time as RFC 3339 with second precision."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def fresh(obj):
    """A deep, JSON-clean copy of obj (stored objects are never mutated)."""
    return json.loads(json.dumps(obj))


def dumps(obj):
    """Compact JSON bytes."""
    return json.dumps(obj, separators=(",", ":")).encode()


# ---------------------------------------------------------------- selectors

_SEL_TOKEN = re.compile(r"!=|==|=|!|\(|\)|,|<|>|[^\s!=(),<>]+")
_SEL_SPECIAL = {"!=", "==", "=", "!", "(", ")", ",", "<", ">"}
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def _sel_tokens(text):
    """Split a label selector into tokens."""
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        m = _SEL_TOKEN.match(text, pos)
        tokens.append(m.group())
        pos = m.end()
    return tokens


def _check_key(key):
    """Validate a label key ([prefix/]name); raise ApiError(400)."""
    prefix, _, name = key.rpartition("/")
    ok = 0 < len(name) <= 63 and _LABEL_VALUE.match(name)
    if prefix and (len(prefix) > 253 or not NAME_RE.match(prefix)):
        ok = False
    if not ok or "/" in prefix:
        raise ApiError(400, "unable to parse requirement: invalid label key %r" % key)


def parse_label_selector(text):
    """Parse a label selector into [(key, op, values)]; raise ApiError(400)."""
    toks = _sel_tokens(text or "")
    reqs, i = [], 0

    def fail(what):
        found = toks[i] if i < len(toks) else ""
        raise ApiError(400, "unable to parse requirement: found '%s', expected: %s" % (found, what))

    def plain(j):
        return j < len(toks) and toks[j] not in _SEL_SPECIAL

    while toks:
        if toks[i] == "!":
            i += 1
            if not plain(i):
                fail("identifier")
            key, op, vals = toks[i], "!", ()
            i += 1
        else:
            if not plain(i):
                fail("identifier")
            key = toks[i]
            i += 1
            t = toks[i] if i < len(toks) else ","
            if t == ",":
                op, vals = "exists", ()
            elif t in ("=", "==", "!="):
                i += 1
                vals = (toks[i],) if plain(i) else ("",)
                i += 1 if plain(i) else 0
                op = "!=" if t == "!=" else "="
            elif t in ("in", "notin"):
                op, vals = t, []
                i += 1
                if i >= len(toks) or toks[i] != "(":
                    fail("'('")
                i += 1
                while True:
                    vals.append(toks[i] if plain(i) else "")
                    i += 1 if plain(i) else 0
                    if i < len(toks) and toks[i] == ",":
                        i += 1
                    elif i < len(toks) and toks[i] == ")":
                        i += 1
                        break
                    else:
                        fail("',' or ')'")
                if vals == [""]:
                    raise ApiError(400, "for 'in', 'notin' operators, values set can't be empty")
            elif t in ("<", ">"):
                i += 1
                if not plain(i) or not re.match(r"^-?[0-9]+$", toks[i]):
                    fail("integer value")
                op, vals = t, (int(toks[i]),)
                i += 1
            else:
                fail("'=', '!=', '==', 'in', 'notin'")
        _check_key(key)
        for v in vals:
            if isinstance(v, str) and (len(v) > 63 or not _LABEL_VALUE.match(v)):
                raise ApiError(400, "unable to parse requirement: invalid label value %r" % v)
        reqs.append((key, op, frozenset(vals)))
        if i >= len(toks):
            break
        if toks[i] != ",":
            fail("','")
        i += 1
        if i >= len(toks):
            fail("identifier")
    return reqs


def labels_match(reqs, labels):
    """True if the labels dict satisfies every requirement."""
    for key, op, vals in reqs:
        present = key in labels
        value = labels.get(key)
        if op in ("=", "in"):
            ok = present and value in vals
        elif op in ("!=", "notin"):
            ok = not present or value not in vals
        elif op == "exists":
            ok = present
        elif op == "!":
            ok = not present
        else:
            try:
                n, (bound,) = int(value), vals
                ok = n > bound if op == ">" else n < bound
            except (TypeError, ValueError):
                ok = False
        if not ok:
            return False
    return True


def parse_field_selector(text):
    """Parse a field selector (path=value, path==value, path!=value) into triples."""
    reqs = []
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        m = re.match(r"^([A-Za-z0-9_.]+)\s*(!=|==|=)\s*(.*)$", part)
        if not m:
            raise ApiError(400, "invalid field selector: %r" % part)
        reqs.append((m.group(1), m.group(2) == "!=", m.group(3)))
    return reqs


def fields_match(reqs, obj):
    """True if obj satisfies every field requirement."""
    for path, negate, want in reqs:
        cur = obj
        for part in path.split("."):
            cur = cur.get(part) if isinstance(cur, dict) else None
        value = "" if cur is None else (json.dumps(cur) if not isinstance(cur, str) else cur)
        if (value == want) == negate:
            return False
    return True


def make_predicate(query):
    """Build obj -> bool from the labelSelector and fieldSelector parameters."""
    lreqs = parse_label_selector(query.get("labelSelector", ""))
    freqs = parse_field_selector(query.get("fieldSelector", ""))

    def pred(obj):
        meta = obj.get("metadata") or {}
        return labels_match(lreqs, meta.get("labels") or {}) and fields_match(freqs, obj)
    return pred


# ---------------------------------------------------------------- patches

def merge_patch(target, patch):
    """RFC 7386 JSON merge patch; returns a new value, inputs untouched."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _pointer(doc, path):
    """Resolve an RFC 6901 pointer to (parent container, last token)."""
    if not path.startswith("/"):
        raise ApiError(422, "invalid JSON pointer %r" % path, "Invalid")
    parts = [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]
    cur = doc
    for part in parts[:-1]:
        try:
            cur = cur[int(part)] if isinstance(cur, list) else cur[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise ApiError(422, "path %r does not exist" % path, "Invalid")
    return cur, parts[-1]


def json_patch(doc, ops):
    """RFC 6902 JSON patch (add, remove, replace, test, move, copy) on a copy of doc."""
    doc = copy.deepcopy(doc)
    if not isinstance(ops, list):
        raise ApiError(400, "JSON patch must be an array")

    def get(path):
        parent, key = _pointer(doc, path)
        try:
            return parent[int(key)] if isinstance(parent, list) else parent[key]
        except (KeyError, IndexError, ValueError, TypeError):
            raise ApiError(422, "path %r does not exist" % path, "Invalid")

    def remove(path):
        value = get(path)
        parent, key = _pointer(doc, path)
        del parent[int(key) if isinstance(parent, list) else key]
        return value

    def add(path, value):
        parent, key = _pointer(doc, path)
        if isinstance(parent, list):
            parent.insert(len(parent) if key == "-" else int(key), value)
        elif isinstance(parent, dict):
            parent[key] = value
        else:
            raise ApiError(422, "cannot add at %r" % path, "Invalid")

    for op in ops:
        kind, path = op.get("op"), op.get("path", "")
        if kind == "add":
            add(path, op.get("value"))
        elif kind == "remove":
            remove(path)
        elif kind == "replace":
            remove(path)
            add(path, op.get("value"))
        elif kind == "test":
            if get(path) != op.get("value"):
                raise ApiError(422, "test failed at %r" % path, "Invalid")
        elif kind == "move":
            add(path, remove(op.get("from", "")))
        elif kind == "copy":
            add(path, copy.deepcopy(get(op.get("from", ""))))
        else:
            raise ApiError(400, "unknown JSON patch op %r" % kind)
    return doc


# ---------------------------------------------------------------- state

class Conn:
    """An open streaming connection (watch or stall) that can be cut."""

    def __init__(self, sock):
        self.sock = sock
        self.killed = threading.Event()

    def kill(self):
        """Close the connection abruptly (FIN, no terminating chunk, no TLS close_notify)."""
        self.killed.set()
        try:
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)
        except OSError:
            pass


class Store:
    """All objects, the event history, faults and statistics, under one lock."""

    def __init__(self, history):
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.rv = 1                       # global resourceVersion counter
        self.objects = {r: {} for r in RESOURCES}   # resource -> {(ns, name): obj}
        self.max_hist = max(0, history)
        self.hist, self.hist_start = [], 0
        self.floor = self.rv              # history holds every event with rv > floor
        self.snapshots = OrderedDict()    # (resource, rv) -> sorted [(key, obj)]
        self.faults = []
        self.cont_pad = 0                 # --continue-pad
        self.conns = set()
        self.stopping = False
        self.counts = {}
        self.requests = []

    # -- history

    def _commit(self, resource, etype, key, obj, prev):
        """Apply one write: bump the RV, store or remove, record the event."""
        self.rv += 1
        rv = str(self.rv)
        if etype == "DELETED":
            obj = dict(prev, metadata=dict(prev["metadata"], resourceVersion=rv))
            del self.objects[resource][key]
        else:
            obj["metadata"]["resourceVersion"] = rv
            self.objects[resource][key] = obj
        self.hist.append(Event(self.rv, resource, key[0], key[1], etype, obj, prev))
        if len(self.hist) - self.hist_start > self.max_hist:
            self.hist_start += 1
            self.floor = self.hist[self.hist_start - 1].rv
            if self.hist_start > max(1024, self.max_hist):
                del self.hist[:self.hist_start]
                self.hist_start = 0
        return obj

    def events_since(self, pos):
        """Events with rv > pos (lock held); raise Expired if they were compacted."""
        if pos < self.floor:
            raise expired("too old resource version: %d (%d)" % (pos, self.floor))
        if pos >= self.rv:
            return []
        return self.hist[self.hist_start + (pos - self.floor):]

    def compact(self):
        """Forget all history: older RVs and continue tokens now answer 410."""
        with self.lock:
            self.hist, self.hist_start, self.floor = [], 0, self.rv
            self.snapshots.clear()
            return self.rv

    def _snapshot(self, resource, at):
        """Sorted [(key, obj)] of resource as of RV at (lock held)."""
        cached = self.snapshots.get((resource, at))
        if cached is not None:
            self.snapshots.move_to_end((resource, at))
            return cached
        state = dict(self.objects[resource])
        for ev in reversed(self.events_since(at)):
            if ev.resource == resource:
                if ev.prev is None:
                    state.pop((ev.ns, ev.name), None)
                else:
                    state[(ev.ns, ev.name)] = ev.prev
        items = sorted(state.items())
        self.snapshots[(resource, at)] = items
        while len(self.snapshots) > 8:
            self.snapshots.popitem(last=False)
        return items

    # -- reads

    def get(self, resource, ns, name):
        """One object or 404."""
        with self.lock:
            obj = self.objects[resource].get((ns, name))
        if obj is None:
            raise not_found(resource, name)
        return obj

    def list(self, resource, ns, pred, query):
        """A list response honouring limit, continue and resourceVersion(Match)."""
        limit = _int_param(query, "limit", 0)
        after = None
        with self.lock:
            if query.get("continue"):
                try:
                    raw = query["continue"].split("~")[0]  # drop --continue-pad's tail
                    tok = json.loads(base64.urlsafe_b64decode(raw.encode()))
                    at, after = int(tok["rv"]), tuple(tok["start"])
                except (ValueError, KeyError, TypeError):
                    raise ApiError(400, "continue key is not valid: %r" % query["continue"])
                if at < self.floor:
                    raise expired("The provided continue parameter is too old to display a "
                                  "consistent list result. You can start a new list without "
                                  "the continue parameter.")
                items = self._snapshot(resource, at)
            elif query.get("resourceVersionMatch") == "Exact" and query.get("resourceVersion"):
                at = _int_param(query, "resourceVersion", 0)
                if at < self.floor:
                    raise expired("too old resource version: %d (%d)" % (at, self.floor))
                items = self._snapshot(resource, min(at, self.rv))
            else:
                at = self.rv
                items = (self._snapshot(resource, at) if limit
                         else sorted(self.objects[resource].items()))
        out, cont = [], None
        for key, obj in items:
            if (ns is not None and key[0] != ns) or (after is not None and key <= after):
                continue
            if not pred(obj):
                continue
            if limit and len(out) == limit:
                cont = base64.urlsafe_b64encode(dumps({"rv": at, "start": list(last)})).decode()
                if self.cont_pad:
                    cont += "~" + "/" * self.cont_pad
                break
            out.append(obj)
            last = key
        info = RESOURCES[resource]
        meta = {"resourceVersion": str(at)}
        if cont:
            meta["continue"] = cont
        return {"kind": info["kind"] + "List", "apiVersion": info["apiVersion"],
                "metadata": meta, "items": out}

    # -- writes

    def create(self, resource, ns, body):
        """Create an object; 409 if it exists."""
        obj = _prepare(resource, ns, body)
        meta = obj["metadata"]
        with self.lock:
            if not meta.get("name"):
                if not meta.get("generateName"):
                    raise ApiError(422, "name or generateName is required", "Invalid")
                while True:
                    meta["name"] = meta["generateName"] + "".join(
                        random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
                    if (ns, meta["name"]) not in self.objects[resource]:
                        break
            _check_name(meta["name"])
            if (ns, meta["name"]) in self.objects[resource]:
                raise ApiError(409, '%s "%s" already exists' % (resource, meta["name"]),
                               "AlreadyExists", {"name": meta["name"], "kind": resource})
            meta.update(uid=str(uuid.uuid4()), creationTimestamp=now_rfc3339())
            meta.pop("deletionTimestamp", None)
            obj = self._commit(resource, "ADDED", (ns, meta["name"]), obj, None)
            self.cond.notify_all()
            return obj

    def update(self, resource, ns, name, body, subresource=None, patch=None):
        """Replace (body) or patch (patch: old -> new) an object or its status."""
        with self.lock:
            old = self.objects[resource].get((ns, name))
            if old is None:
                raise not_found(resource, name)
            if patch is not None:
                body = patch(old)
            new = _prepare(resource, ns, body)
            if new["metadata"].get("name", name) != name:
                raise ApiError(400, "the name of the object (%s) does not match the name on "
                               "the URL (%s)" % (new["metadata"].get("name"), name))
            want_rv = new["metadata"].get("resourceVersion")
            if want_rv and want_rv != old["metadata"]["resourceVersion"]:
                raise ApiError(409, 'Operation cannot be fulfilled on %s "%s": the object has '
                               'been modified; please apply your changes to the latest version '
                               'and try again' % (resource, name), "Conflict",
                               {"name": name, "kind": resource})
            if subresource == "status":
                new = dict(fresh(old), status=new.get("status"))
                if new["status"] is None:
                    del new["status"]
            else:
                if RESOURCES[resource]["status"]:
                    new.pop("status", None)
                    if "status" in old:
                        new["status"] = fresh(old["status"])
                for field in ("uid", "creationTimestamp", "name", "namespace"):
                    new["metadata"][field] = old["metadata"][field]
                if "deletionTimestamp" in old["metadata"]:
                    new["metadata"]["deletionTimestamp"] = old["metadata"]["deletionTimestamp"]
            new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            if new == old:
                return old                    # no-op writes do not bump the RV
            if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
                obj = self._commit(resource, "DELETED", (ns, name), None, old)
            else:
                obj = self._commit(resource, "MODIFIED", (ns, name), new, old)
            self.cond.notify_all()
            return obj

    def delete(self, resource, ns, name):
        """Delete an object; with finalizers only mark it terminating."""
        with self.lock:
            old = self.objects[resource].get((ns, name))
            if old is None:
                raise not_found(resource, name)
            if old["metadata"].get("finalizers"):
                if old["metadata"].get("deletionTimestamp"):
                    return old
                new = fresh(old)
                new["metadata"].update(deletionTimestamp=now_rfc3339(),
                                       deletionGracePeriodSeconds=0)
                obj = self._commit(resource, "MODIFIED", (ns, name), new, old)
            else:
                obj = self._commit(resource, "DELETED", (ns, name), None, old)
            self.cond.notify_all()
            return obj

    def bulk(self, objects):
        """Create or replace many objects, one RV and one event each."""
        prepared = []
        for body in objects:
            if not isinstance(body, dict) or body.get("kind") not in KIND_TO_RESOURCE:
                raise ApiError(400, "bulk: every object needs kind Pod or EndpointSlice")
            resource = KIND_TO_RESOURCE[body["kind"]]
            ns = (body.get("metadata") or {}).get("namespace") or "default"
            obj = _prepare(resource, ns, body)
            _check_name(obj["metadata"].get("name", ""))
            prepared.append((resource, ns, obj))
        created = replaced = 0
        with self.lock:
            for resource, ns, obj in prepared:
                key = (ns, obj["metadata"]["name"])
                old = self.objects[resource].get(key)
                meta = obj["metadata"]
                if old is None:
                    meta.update(uid=str(uuid.uuid4()), creationTimestamp=now_rfc3339())
                    self._commit(resource, "ADDED", key, obj, None)
                    created += 1
                else:
                    meta.update(uid=old["metadata"]["uid"],
                                creationTimestamp=old["metadata"]["creationTimestamp"])
                    self._commit(resource, "MODIFIED", key, obj, old)
                    replaced += 1
            self.cond.notify_all()
            return {"created": created, "replaced": replaced, "resourceVersion": str(self.rv)}

    def reset(self):
        """Delete every object (DELETED events) and clear the faults."""
        with self.lock:
            n = 0
            for resource in RESOURCES:
                for key in sorted(self.objects[resource]):
                    self._commit(resource, "DELETED", key, None, self.objects[resource][key])
                    n += 1
            self.faults.clear()
            self.cond.notify_all()
            return {"deleted": n, "resourceVersion": str(self.rv)}

    # -- faults, stats, connections

    def add_fault(self, spec):
        """Queue a fault from a /_fake/fault body."""
        fault = {"kind": spec.get("kind"), "target": spec.get("target", "any"),
                 "resource": spec.get("resource", "any"), "count": spec.get("count", 1),
                 "after_events": spec.get("after_events", 0)}
        if fault["kind"] not in FAULT_KINDS:
            raise ApiError(400, "unknown fault kind %r (want one of %s)"
                           % (fault["kind"], ", ".join(FAULT_KINDS)))
        if fault["target"] not in FAULT_TARGETS:
            raise ApiError(400, "unknown fault target %r" % fault["target"])
        if fault["resource"] not in list(RESOURCES) + ["any"]:
            raise ApiError(400, "unknown fault resource %r" % fault["resource"])
        for field in ("count", "after_events"):
            if not isinstance(fault[field], int) or fault[field] < 0:
                raise ApiError(400, "%s must be a non-negative integer" % field)
        with self.lock:
            if fault["count"]:
                self.faults.append(fault)
            return list(self.faults)

    def take_fault(self, verb, resource, query=None):
        """Consume and return the first queued fault matching this request, or None."""
        cont = verb == "list" and bool((query or {}).get("continue"))
        with self.lock:
            for fault in self.faults:
                target = fault["target"]
                if (target in ("any", verb) or (target == "write" and verb in WRITE_VERBS)
                        or (target == "continue" and cont)) \
                        and fault["resource"] in ("any", resource):
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self.faults.remove(fault)
                    return dict(fault)
        return None

    def record(self, verb, resource, ns, query, fault):
        """Count a request and remember it in the last-200 log."""
        with self.lock:
            per = self.counts.setdefault(verb, {r: 0 for r in RESOURCES})
            per[resource] = per.get(resource, 0) + 1
            self.requests.append({"verb": verb, "resource": resource, "namespace": ns,
                                  "resourceVersion": query.get("resourceVersion"),
                                  "labelSelector": query.get("labelSelector"),
                                  "limit": query.get("limit"),
                                  "continue": bool(query.get("continue")),
                                  "fault": fault["kind"] if fault else None,
                                  "time": time.time()})
            del self.requests[:-200]

    def stats(self):
        """The /_fake/stats document."""
        with self.lock:
            counts = {v: dict(c) for v, c in self.counts.items()}
            for verb in ("list", "watch"):
                counts.setdefault(verb, {r: 0 for r in RESOURCES})
            return {"counts": counts, "requests": list(self.requests),
                    "resourceVersion": str(self.rv), "oldestResourceVersion": str(self.floor),
                    "objects": {r: len(o) for r, o in self.objects.items()},
                    "openStreams": len(self.conns), "faults": list(self.faults)}

    def clear_stats(self):
        """Forget the counters and the request log."""
        with self.lock:
            self.counts.clear()
            self.requests.clear()

    def open_conn(self, sock):
        """Register a streaming connection."""
        conn = Conn(sock)
        with self.lock:
            self.conns.add(conn)
            if self.stopping:
                conn.killed.set()
        return conn

    def close_conn(self, conn):
        """Unregister a streaming connection."""
        with self.lock:
            self.conns.discard(conn)

    def kill_conns(self, stopping=False):
        """Cut every streaming connection; with stopping, also refuse new ones."""
        with self.lock:
            self.stopping = self.stopping or stopping
            conns = list(self.conns)
            self.cond.notify_all()
        for conn in conns:
            conn.kill()
        with self.lock:
            self.cond.notify_all()
        return len(conns)


def _int_param(query, name, default):
    """An integer query parameter; 400 if malformed."""
    value = query.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, "invalid %s: %r" % (name, value))


def _check_name(name):
    """Validate an object name as a DNS-1123 subdomain; 422 otherwise."""
    if not name or len(name) > 253 or not NAME_RE.match(name):
        raise ApiError(422, "metadata.name: Invalid value: %r: a lowercase RFC 1123 subdomain "
                       "must consist of lower case alphanumeric characters, '-' or '.'" % name,
                       "Invalid")


def _prepare(resource, ns, body):
    """Validate kind/apiVersion/namespace of a request body and return a fresh copy."""
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    info = RESOURCES[resource]
    obj = fresh(body)
    if obj.get("kind", info["kind"]) != info["kind"] or \
            obj.get("apiVersion", info["apiVersion"]) != info["apiVersion"]:
        raise ApiError(400, "expected %s %s, got %s %s" % (
            info["apiVersion"], info["kind"], obj.get("apiVersion"), obj.get("kind")))
    obj = dict({"kind": info["kind"], "apiVersion": info["apiVersion"], "metadata": {}}, **obj)
    obj["kind"], obj["apiVersion"] = info["kind"], info["apiVersion"]
    meta = obj["metadata"]
    if not isinstance(meta, dict):
        raise ApiError(400, "metadata must be an object")
    if meta.get("namespace", ns) != ns:
        raise ApiError(400, "the namespace of the provided object does not match the "
                       "namespace sent on the request")
    meta["namespace"] = ns
    return obj


def translate(ev, resource, ns, pred):
    """Map a history event to what a watcher with this filter sees, or None."""
    if ev.resource != resource or (ns is not None and ev.ns != ns):
        return None
    if ev.type == "ADDED":
        return ("ADDED", ev.obj) if pred(ev.obj) else None
    if ev.type == "DELETED":
        return ("DELETED", ev.obj) if pred(ev.prev) else None
    was, now = pred(ev.prev), pred(ev.obj)
    if was and now:
        return ("MODIFIED", ev.obj)
    if now:
        return ("ADDED", ev.obj)
    if was:
        return ("DELETED", ev.obj)
    return None


# ---------------------------------------------------------------- HTTP

class AbortConnection(Exception):
    """Raised to cut the client connection without finishing the response."""


class Handler(BaseHTTPRequestHandler):
    """One connection; dispatches Kubernetes and /_fake/ requests."""

    protocol_version = "HTTP/1.1"

    def version_string(self):
        """The Server header."""
        return "fake-apiserver/1.0"

    def setup(self):
        """Do the TLS handshake here, in the connection's own thread."""
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()

    def log_message(self, fmt, *args):
        """Log to --log, if given."""
        self.server.log("%s %s" % (self.address_string(), fmt % args))

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    # -- plumbing

    def read_body(self):
        """The request body (Content-Length or chunked), as bytes."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def json_body(self, raw):
        """Decode a JSON request body; 400 if it is not JSON."""
        try:
            return json.loads(raw or b"null")
        except ValueError as e:
            raise ApiError(400, "invalid JSON in request body: %s" % e)

    def abort(self):
        """Cut the connection: FIN without terminating chunk or TLS close_notify."""
        self.close_connection = True
        try:
            socket.socket.shutdown(self.connection, socket.SHUT_RDWR)
        except OSError:
            pass
        raise AbortConnection()

    def hold(self, conn):
        """Stall: send nothing until killed, server exit or an hour passes, then cut."""
        conn.killed.wait(STALL_SECONDS)
        self.abort()

    def send_bytes(self, code, body, fault=None, ctype="application/json"):
        """Send a complete response, applying a drop/stall/slow/garbage fault."""
        kind = fault["kind"] if fault else None
        if kind == "garbage":
            code, body = 200, GARBAGE
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        if kind == "drop":
            self.wfile.write(body[:len(body) // 2])
            self.abort()
        if kind == "stall":
            conn = self.server.store.open_conn(self.connection)
            try:
                self.hold(conn)
            finally:
                self.server.store.close_conn(conn)
        if kind == "slow":
            step = max(1, len(body) // 20)
            for i in range(0, len(body), step):
                self.wfile.write(body[i:i + step])
                time.sleep(1.0 / 20)
            return
        self.wfile.write(body)

    def send_json(self, code, obj, fault=None):
        """Send a JSON document."""
        self.send_bytes(code, dumps(obj), fault)

    def send_error_status(self, err, fault=None):
        """Send an ApiError as a Status body."""
        self.send_json(err.code, err.status(), fault)

    # -- dispatch

    def dispatch(self, method):
        """Route one request; every failure becomes a Status response."""
        self._headers_sent = False
        try:
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            body = self.read_body()
            if url.path.startswith("/_fake/"):
                self.control(method, url.path, body)
                return
            if not self.authorized():
                raise ApiError(401, "Unauthorized")
            m = POD_PATH.match(url.path) or SLICE_PATH.match(url.path)
            if m:
                self.resource_request(method, m, query, body)
            elif method == "GET" and url.path.rstrip("/") in self.discovery():
                self.send_json(200, self.discovery()[url.path.rstrip("/")])
            elif method == "GET" and url.path in ("/healthz", "/readyz", "/livez"):
                self.send_bytes(200, b"ok", ctype="text/plain")
            else:
                raise ApiError(404, "the server could not find the requested resource")
        except ApiError as err:
            if self._headers_sent:
                self.close_connection = True
            else:
                self.send_error_status(err)
        except AbortConnection:
            self.close_connection = True
        except (OSError, ssl.SSLError):
            self.close_connection = True
        except Exception:
            self.server.log("internal error: " + traceback.format_exc())
            if self._headers_sent:
                self.close_connection = True
            else:
                self.send_error_status(ApiError(500, "internal error in fake apiserver"))

    def control(self, method, path, raw):
        """Handle the /_fake/ control API (no token needed)."""
        store = self.server.store
        body = self.json_body(raw) if raw else {}
        if not isinstance(body, dict):
            raise ApiError(400, "control request body must be a JSON object")
        if method == "POST" and path == "/_fake/fault":
            self.send_json(200, {"faults": store.add_fault(body)})
        elif method == "POST" and path == "/_fake/compact":
            self.send_json(200, {"resourceVersion": str(store.compact())})
        elif method == "POST" and path == "/_fake/reset":
            self.send_json(200, store.reset())
        elif method == "GET" and path == "/_fake/stats":
            self.send_json(200, store.stats())
        elif method == "DELETE" and path == "/_fake/stats":
            store.clear_stats()
            self.send_json(200, {})
        elif method == "POST" and path == "/_fake/bulk":
            self.send_json(200, store.bulk(body.get("objects") or []))
        elif method == "POST" and path == "/_fake/shutdown-connections":
            self.send_json(200, {"closed": store.kill_conns()})
        elif method == "GET" and path == "/_fake/health":
            self.send_json(200, {"ok": True, "resourceVersion": str(store.rv)})
        else:
            raise ApiError(404, "unknown control endpoint %s %s" % (method, path))

    def end_headers(self):
        self._headers_sent = True
        super().end_headers()

    def authorized(self):
        """Check the bearer token against the (re-read) token file."""
        path = self.server.token_file
        if not path:
            return True
        try:
            with open(path) as f:
                token = f.read().strip()
        except OSError:
            return False
        auth = self.headers.get("Authorization", "")
        return bool(token) and auth.startswith("Bearer ") and \
            hmac.compare_digest(auth[7:].strip().encode(), token.encode())

    def discovery(self):
        """Minimal discovery documents keyed by path."""
        def res(name, kind, namespaced=True, verbs=("get", "list", "watch", "create", "update",
                                                    "patch", "delete")):
            return {"name": name, "singularName": kind.lower() if "/" not in name else "",
                    "namespaced": namespaced, "kind": kind, "verbs": list(verbs)}
        group = {"name": "discovery.k8s.io",
                 "versions": [{"groupVersion": "discovery.k8s.io/v1", "version": "v1"}],
                 "preferredVersion": {"groupVersion": "discovery.k8s.io/v1", "version": "v1"}}
        host = "%s:%d" % (self.server.server_address[0], self.server.server_address[1])
        return {
            "/version": VERSION,
            "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs":
                     [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}]},
            "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [group]},
            "/apis/discovery.k8s.io": dict(group, kind="APIGroup", apiVersion="v1"),
            "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
                res("pods", "Pod"), res("pods/status", "Pod", verbs=("get", "patch", "update"))]},
            "/apis/discovery.k8s.io/v1": {"kind": "APIResourceList",
                                          "groupVersion": "discovery.k8s.io/v1",
                                          "resources": [res("endpointslices", "EndpointSlice")]},
        }

    def resource_request(self, method, m, query, raw):
        """Handle a request on pods or endpointslices."""
        store = self.server.store
        ns, resource, name, sub = m.group(1), m.group(2), m.group(3), \
            (m.group(4) if m.lastindex and m.lastindex >= 4 else None)
        is_watch = query.get("watch", "").lower() in ("1", "true")
        if name is None:
            verb = {"GET": "watch" if is_watch else "list", "POST": "create"}.get(method)
        else:
            verb = {"GET": "get", "PUT": "update", "PATCH": "patch",
                    "DELETE": "delete"}.get(method)
        if verb is None or (ns is None and verb not in ("list", "watch")) or \
                (sub and verb == "delete"):
            raise ApiError(405, "the server does not allow this method on the requested "
                           "resource", "MethodNotAllowed")
        fault = store.take_fault(verb, resource, query)
        store.record(verb, resource, ns, query, fault)
        kind = fault["kind"] if fault else None
        if kind in ("http410", "error410event") and not (kind == "error410event" and is_watch):
            self.send_error_status(expired("too old resource version: %s (%d)" % (
                query.get("resourceVersion") or "0", store.floor)))
            return
        if kind == "status500":
            self.send_error_status(ApiError(500, "fake apiserver: injected internal error"))
            return
        if verb == "watch":
            self.serve_watch(resource, ns, query, fault)
            return
        try:
            if verb == "list":
                result = store.list(resource, ns, make_predicate(query), query)
            elif verb == "get":
                result = store.get(resource, ns, name)
            elif verb == "create":
                result = store.create(resource, ns, self.json_body(raw))
            elif verb == "update":
                result = store.update(resource, ns, name, self.json_body(raw), sub)
            elif verb == "patch":
                result = store.update(resource, ns, name, None, sub,
                                      patch=self.patcher(self.json_body(raw)))
            else:
                result = store.delete(resource, ns, name)
        except ApiError as err:
            self.send_error_status(err, fault)
            return
        self.send_json(201 if verb == "create" else 200, result, fault)

    def patcher(self, patch):
        """old object -> patched body, by the request's Content-Type."""
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
        if ctype in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
            if not isinstance(patch, dict):
                raise ApiError(400, "merge patch must be a JSON object")
            return lambda old: merge_patch(old, patch)
        if ctype == "application/json-patch+json":
            return lambda old: json_patch(old, patch)
        raise ApiError(415, "the body of the request was in an unknown format - accepted "
                       "media types include: application/json-patch+json, "
                       "application/merge-patch+json, application/strategic-merge-patch+json",
                       "UnsupportedMediaType")

    # -- watch

    def serve_watch(self, resource, ns, query, fault):
        """Stream watch events as chunked JSON lines until timeout, error or cut."""
        store, server = self.server.store, self.server
        pred = make_predicate(query)
        timeout = _int_param(query, "timeoutSeconds", 0)
        deadline = time.monotonic() + (timeout if timeout > 0 else 365 * 86400)
        bookmarks = query.get("allowWatchBookmarks", "").lower() in ("1", "true") \
            and server.bookmark_interval > 0
        rv_param = query.get("resourceVersion") or "0"
        kind = fault["kind"] if fault else None
        after = fault["after_events"] if fault else 0
        start_err, initial = None, []
        with store.lock:
            try:
                if rv_param == "0":
                    pos = store.rv
                    initial = [o for k, o in sorted(store.objects[resource].items())
                               if (ns is None or k[0] == ns) and pred(o)]
                else:
                    try:
                        pos = int(rv_param)
                    except ValueError:
                        raise ApiError(400, "invalid resourceVersion: %r" % rv_param)
                    store.events_since(pos)
                    if pos > store.rv:
                        raise ApiError(504, "Too large resource version: %d, current: %d"
                                       % (pos, store.rv), "Timeout", {"causes": [{
                                           "reason": "ResourceVersionTooLarge",
                                           "message": "Too large resource version"}],
                                           "retryAfterSeconds": 1})
            except ApiError as err:
                if err.code not in (410, 504):
                    raise
                start_err = err
        chunked = self.request_version != "HTTP/1.0"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.close_connection = True
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        conn = store.open_conn(self.connection)
        sent = 0

        def write(data):
            if kind == "slow":
                for i in range(0, len(data), max(1, len(data) // 4)):
                    piece = data[i:i + max(1, len(data) // 4)]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                    time.sleep(0.05)
            else:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)

        def after_event():
            """Fire a drop/garbage/stall fault once enough events went out."""
            if kind not in ("drop", "garbage", "stall") or sent < after:
                return False
            if kind == "drop":
                self.abort()
            if kind == "stall":
                self.hold(conn)
            write(GARBAGE)
            return True

        def emit(etype, obj):
            nonlocal sent
            write(dumps({"type": etype, "object": obj}) + b"\n")
            sent += 1
            return after_event()

        def bookmark(at, initial_end=False):
            meta = {"resourceVersion": str(at)}
            if initial_end:
                meta["annotations"] = {"k8s.io/initial-events-end": "true"}
            info = RESOURCES[resource]
            write(dumps({"type": "BOOKMARK", "object": {
                "kind": info["kind"], "apiVersion": info["apiVersion"], "metadata": meta}})
                + b"\n")

        try:
            done = after_event()
            if start_err is not None or kind == "error410event":
                err = start_err or expired("too old resource version: %s (%d)"
                                           % (rv_param, store.floor))
                write(dumps({"type": "ERROR", "object": err.status()}) + b"\n")
                done = True
            for obj in initial:
                if done:
                    break
                done = emit("ADDED", obj)
            if not done and bookmarks and query.get("sendInitialEvents") == "true":
                bookmark(pos, True)
            next_bookmark = time.monotonic() + server.bookmark_interval
            while not done:
                now = time.monotonic()
                if now >= deadline:
                    break
                wait = deadline - now
                if bookmarks:
                    wait = min(wait, max(0.0, next_bookmark - now))
                behind = None
                with store.lock:
                    try:
                        events = store.events_since(pos)
                        if not events and not conn.killed.is_set():
                            store.cond.wait(wait)
                            events = store.events_since(pos)
                        pos = max(pos, store.rv)
                    except ApiError as err:   # fell behind the kept history
                        events, behind = [], err
                if conn.killed.is_set():
                    self.abort()
                if behind is not None:
                    write(dumps({"type": "ERROR", "object": behind.status()}) + b"\n")
                    break
                for ev in events:
                    seen = translate(ev, resource, ns, pred)
                    if seen and emit(*seen):
                        done = True
                        break
                if not done and bookmarks and time.monotonic() >= next_bookmark:
                    bookmark(pos)
                    next_bookmark = time.monotonic() + server.bookmark_interval
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        finally:
            store.close_conn(conn)


class FakeServer(ThreadingHTTPServer):
    """Threaded HTTP(S) server carrying the store and the options."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, address, family, store, token_file, bookmark_interval, log_file):
        self.address_family = family
        self.store, self.token_file = store, token_file
        self.bookmark_interval = bookmark_interval
        self.log_file, self.log_lock = log_file, threading.Lock()
        super().__init__(address, Handler)

    def server_bind(self):
        """Bind without the reverse DNS lookup HTTPServer does."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "localhost", self.server_address[1]

    def handle_error(self, request, client_address):
        """Log handler crashes (TLS handshake failures, resets) instead of printing."""
        self.log("connection error from %s: %s" % (client_address, sys.exc_info()[1]))

    def log(self, line):
        """Append a timestamped line to the --log file."""
        if self.log_file:
            with self.log_lock:
                self.log_file.write("%.3f %s\n" % (time.time(), line.rstrip()))
                self.log_file.flush()


def parse_listen(text):
    """HOST:PORT (IPv6 as [::1]:0 or ::1:0) -> (host, port, family)."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("--listen wants HOST:PORT, got %r" % text)
    return host, int(port), socket.AF_INET6 if ":" in host else socket.AF_INET


def write_port_file(path, port):
    """Write the port atomically (temp file + rename)."""
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def main(argv=None):
    """Parse options, serve until SIGTERM/SIGINT, exit 0."""
    ap = argparse.ArgumentParser(description="Fake Kubernetes API server for tests.")
    ap.add_argument("--listen", required=True, type=parse_listen, help="HOST:PORT, port 0 = pick")
    ap.add_argument("--port-file", help="write the bound port here once listening")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--token-file", help="require Authorization: Bearer <file content>")
    ap.add_argument("--bookmark-interval", type=float, default=1.0,
                    help="seconds between watch bookmarks (0 disables)")
    ap.add_argument("--history", type=int, default=10000, help="events kept for watch resume")
    ap.add_argument("--log", help="append a request log to this file")
    ap.add_argument("--continue-pad", type=int, default=0, metavar="N",
                    help="append '~' and N '/' to continue tokens (long, escaped in URLs)")
    args = ap.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    host, port, family = args.listen
    log_file = open(args.log, "a") if args.log else None
    store = Store(args.history)
    store.cont_pad = args.continue_pad
    server = FakeServer((host, port), family, store, args.token_file,
                        args.bookmark_interval, log_file)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                     daemon=True).start()
    server.log("listening on %s port %d (%s)" % (host, server.server_address[1],
                                                  "https" if args.tls_cert else "http"))
    if args.port_file:
        write_port_file(args.port_file, server.server_address[1])
    while not stop.wait(0.5):
        pass
    server.store.kill_conns(stopping=True)
    server.shutdown()
    server.server_close()
    server.log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
