#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""echo.py - a tiny traffic tool for the namespace rig (stdlib only).

serve   --name NAME [--port 80] [--address 0.0.0.0]
        Accept TCP connections; answer each with NAME and a newline, close.
        Run it inside a load balancer pod: the pod's local route for the
        service range makes it answer for every service address.

connect ADDR[:PORT] [--count N] [--timeout S]
        Open N sequential TCP connections to ADDR (port 80 by default), each
        from a fresh source port, read the answer, and print one JSON object:
        {"target", "total", "ok", "failures", "counts": {name: n},
         "errors": {kind: n}, "source_ports": distinct ports used}.
"""
import argparse
import errno
import json
import random
import signal
import socket
import sys
import threading


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


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--name", required=True)
    s.add_argument("--port", type=int, default=80)
    s.add_argument("--address", default="0.0.0.0")
    c = sub.add_parser("connect")
    c.add_argument("target")
    c.add_argument("--count", type=int, default=100)
    c.add_argument("--timeout", type=float, default=2.0)
    args = p.parse_args()
    if args.mode == "serve":
        serve(args)
        return 0
    return connect(args)


if __name__ == "__main__":
    sys.exit(main())
