#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""echo.py - a tiny traffic tool for the namespace rig (stdlib only).

serve   --name NAME [--port 80] [--address 0.0.0.0] [--http]
        Accept TCP connections; answer each with NAME and a newline, close.
        Run it inside a load balancer pod: the pod's local route for the
        service range makes it answer for every service address.  With
        --http it speaks HTTP/1.1 keep-alive as the testbed's nginx web pods
        do: "NAME" for /, "NAME CLIENT PATH" for /echo/... (flows.py's
        requests, on a host without IPVS).

connect ADDR[:PORT] [--count N] [--timeout S]
        Open N sequential TCP connections to ADDR (port 80 by default), each
        from a fresh source port, read the answer, and print one JSON object:
        {"target", "total", "ok", "failures", "counts": {name: n},
         "errors": {kind: n}, "source_ports": distinct ports used}.

load    ADDR[:PORT] [--workers 3] [--pause 0.02] [--timeout 2] [--http]
        Continuous requests until SIGTERM or SIGINT: WORKERS threads, each
        opening one connection at a time (a new source port each, so ECMP
        hashes every request afresh), pausing PAUSE seconds between them.
        With --http each sends "GET / HTTP/1.0" and the answer is the first
        line of the body (an nginx web pod's address); without, the answer
        is what an echo server says.  One line per request on stdout, as
        the request ends: "START END ANSWER" with START and END in seconds
        since the epoch (the clock of every log line in the rig), ANSWER
        "FAIL:<error>" for a refused, reset, timed out or empty exchange.
"""
import argparse
import errno
import json
import random
import signal
import socket
import sys
import threading
import time


def http_session(conn, name):
    """Answer HTTP/1.1 requests on CONN until the client closes it."""
    client = conn.getpeername()[0]
    buf = b""
    while True:
        head, sep, rest = buf.partition(b"\r\n\r\n")
        if not sep:
            chunk = conn.recv(4096)
            if not chunk or len(buf) > 65536:
                return
            buf += chunk
            continue
        buf = rest
        words = head.split(b"\r\n", 1)[0].decode(errors="replace").split()
        path = words[1] if len(words) > 1 else "/"
        body = f"{name} {client} {path}\n" if path.startswith("/echo/") else f"{name}\n"
        conn.sendall(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                      f"X-Client-Address: {client}\r\n"
                      f"Content-Length: {len(body)}\r\n\r\n{body}").encode())


def serve(args):
    answer = (args.name + "\n").encode()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.address, args.port))
    srv.listen(128)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"echo: {args.name} listening on {args.address}:{args.port}", flush=True)

    def answer_one(conn):
        with conn:
            try:
                if args.http:
                    http_session(conn, args.name)
                else:
                    conn.sendall(answer)
            except OSError:
                pass

    while True:
        conn, _ = srv.accept()
        threading.Thread(target=answer_one, args=(conn,), daemon=True).start()


def parse_target(text):
    host, sep, port = text.rpartition(":")
    if not sep:
        return text, 80
    return host, int(port)


def bind_fresh(s, candidates, used):
    """Bind S to a source port not used before in this run."""
    while candidates:
        p = candidates.pop()
        if p in used:
            continue
        try:
            s.bind(("0.0.0.0", p))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                continue
            raise
        used.add(p)
        return
    raise OSError(errno.EADDRNOTAVAIL, "no fresh source port left")


def connect(args):
    host, port = parse_target(args.target)
    counts, errors, ports = {}, {}, set()
    # the kernel may hand the same ephemeral port out again once a connection
    # is gone; pick distinct ones so every connection is a new 5-tuple
    candidates = random.sample(range(20000, 61000), min(args.count * 2 + 100, 41000))
    ok = 0
    for _ in range(args.count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(args.timeout)
        try:
            bind_fresh(s, candidates, ports)
            s.connect((host, port))
            data = b""
            while True:
                chunk = s.recv(256)
                if not chunk:
                    break
                data += chunk
            name = data.decode(errors="replace").strip()
            if not name:
                raise ConnectionError("empty answer")
            counts[name] = counts.get(name, 0) + 1
            ok += 1
        except (OSError, ConnectionError) as e:
            kind = type(e).__name__
            errors[kind] = errors.get(kind, 0) + 1
        finally:
            s.close()
    print(json.dumps({
        "target": f"{host}:{port}",
        "total": args.count,
        "ok": ok,
        "failures": args.count - ok,
        "counts": dict(sorted(counts.items())),
        "errors": errors,
        "source_ports": len(ports),
    }, sort_keys=False))
    return 0


def one_request(host, port, timeout, http):
    """One connection: the answer's first line, or raise."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
        if http:
            s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        data = b""
        while len(data) < 65536:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    text = data.decode(errors="replace")
    if http:
        head, sep, body = text.partition("\r\n\r\n")
        if not sep or not head.startswith("HTTP/1.") or head.split()[1:2] != ["200"]:
            raise ConnectionError("not a 200 answer")
        text = body
    answer = text.strip().split("\n")[0].strip()
    if not answer or " " in answer:
        raise ConnectionError("empty answer")
    return answer


def load(args):
    host, port = parse_target(args.target)
    stop = threading.Event()
    out = threading.Lock()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    def worker():
        while not stop.is_set():
            t0 = time.time()
            try:
                answer = one_request(host, port, args.timeout, args.http)
            except (OSError, ConnectionError) as e:
                answer = "FAIL:" + type(e).__name__
            t1 = time.time()
            with out:
                sys.stdout.write(f"{t0:.3f} {t1:.3f} {answer}\n")
                sys.stdout.flush()
            stop.wait(args.pause)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.workers)]
    for t in threads:
        t.start()
    while not stop.wait(0.5):
        pass
    for t in threads:
        t.join(args.timeout + 1)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--name", required=True)
    s.add_argument("--port", type=int, default=80)
    s.add_argument("--address", default="0.0.0.0")
    s.add_argument("--http", action="store_true")
    c = sub.add_parser("connect")
    c.add_argument("target")
    c.add_argument("--count", type=int, default=100)
    c.add_argument("--timeout", type=float, default=2.0)
    g = sub.add_parser("load")
    g.add_argument("target")
    g.add_argument("--workers", type=int, default=3)
    g.add_argument("--pause", type=float, default=0.02)
    g.add_argument("--timeout", type=float, default=2.0)
    g.add_argument("--http", action="store_true")
    args = p.parse_args()
    if args.mode == "load":
        return load(args)
    if args.mode == "serve":
        serve(args)
        return 0
    return connect(args)


if __name__ == "__main__":
    sys.exit(main())
