#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""flows.py - long-lived client connections through the VIP (stdlib only).

flows.py ADDR[:PORT] --log FILE --series FILE [--connections 60]
         [--interval 0.1] [--timeout 60] [--stall 1.0] [--reopen 1.0]

Holds CONNECTIONS HTTP/1.1 keep-alive connections to ADDR (port 80 by
default).  Each sends "GET /echo/CID/SEQ" every INTERVAL seconds, one
request at a time, and checks every answer: status 200 and the body
"POD CLIENT /echo/CID/SEQ" (the testbed's nginx web pods answer so), with
POD the same web pod for the connection's whole life.  A connection is
broken by:

  reset    the peer reset or closed it (ECONNRESET, EPIPE, EOF, or any
           other socket error; the detail names it)
  timeout  no answer within TIMEOUT seconds
  wrong    an answer that is not the one expected, or from another pod

A broken connection is closed and replaced by a fresh one REOPEN seconds
later, so the client keeps CONNECTIONS open.  Runs until SIGTERM/SIGINT.

LOG, one line per happening, TIME in seconds since the epoch (the clock of
every log line in the rig):

  TIME open CID SPORT                  established
  TIME pod CID POD CLIENT              its first answer: the web pod and the
                                       client address the web pod saw
  TIME fail CID KIND SENT DETAIL       broken; SENT: when the request that
                                       failed was sent (TIME if none was out)
  TIME stall CID SECONDS SENT          an answer that took more than STALL s
  TIME connfail CID DETAIL             a connection that never opened (not
                                       counted as broken)

SERIES, every 0.5 s: "TIME live answering connecting broken_total": live
connections (established, not broken), those of them with no request
waiting for more than STALL seconds, connections being opened, and the
connections broken so far.
"""
import argparse
import errno
import heapq
import selectors
import signal
import socket
import sys
import time


def parse_target(text):
    host, sep, port = text.rpartition(":")
    if not sep:
        return text, 80
    return host, int(port)


class Conn:
    """One client connection and where it is in its request cycle."""

    def __init__(self, cid, sock):
        self.cid = cid
        self.sock = sock
        self.state = "connecting"   # connecting | idle | waiting
        self.opened = time.monotonic()
        self.seq = 0
        self.sent_wall = 0.0        # time.time() of the request out
        self.sent_mono = 0.0
        self.next_send = 0.0
        self.buf = b""
        self.pod = None


class Flows:
    def __init__(self, args):
        self.host, self.port = parse_target(args.target)
        self.args = args
        self.sel = selectors.DefaultSelector()
        self.conns = {}             # cid -> Conn
        self.next_cid = 1
        self.broken = 0
        self.reopen_at = []         # monotonic times at which to open one more
        self.sends = []             # heap of (monotonic time, cid): requests due
        self.log = open(args.log, "a", buffering=1)
        self.series = open(args.series, "a", buffering=1)
        self.stop = False

    def say(self, *words):
        self.log.write(f"{time.time():.3f} " + " ".join(str(w) for w in words) + "\n")

    def open_one(self):
        cid = self.next_cid
        self.next_cid += 1
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            s.connect((self.host, self.port))
        except BlockingIOError:
            pass
        except OSError as e:
            self.say("connfail", cid, errno.errorcode.get(e.errno, str(e.errno)))
            s.close()
            self.reopen_at.append(time.monotonic() + self.args.reopen)
            return
        c = Conn(cid, s)
        self.conns[cid] = c
        self.sel.register(s, selectors.EVENT_WRITE, c)

    def drop(self, c):
        try:
            self.sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        c.sock.close()
        del self.conns[c.cid]
        self.reopen_at.append(time.monotonic() + self.args.reopen)

    def fail(self, c, kind, detail):
        sent = f"{c.sent_wall:.3f}" if c.state == "waiting" else f"{time.time():.3f}"
        self.say("fail", c.cid, kind, sent, detail)
        self.broken += 1
        self.drop(c)

    def connected(self, c):
        err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            self.say("connfail", c.cid, errno.errorcode.get(err, str(err)))
            self.drop(c)
            return
        c.state = "idle"
        c.next_send = time.monotonic()
        heapq.heappush(self.sends, (c.next_send, c.cid))
        self.sel.modify(c.sock, selectors.EVENT_READ, c)
        self.say("open", c.cid, c.sock.getsockname()[1])

    def send(self, c, now):
        c.seq += 1
        req = f"GET /echo/{c.cid}/{c.seq} HTTP/1.1\r\nHost: flows\r\n\r\n".encode()
        c.sent_wall = time.time()
        c.sent_mono = now
        c.state = "waiting"
        try:
            n = c.sock.send(req)
        except OSError as e:
            self.fail(c, "reset", errno.errorcode.get(e.errno, str(e.errno)))
            return
        if n != len(req):
            # one small request at a time never fills a send buffer
            self.fail(c, "reset", f"short-send-{n}")

    def readable(self, c):
        try:
            chunk = c.sock.recv(4096)
        except BlockingIOError:
            return
        except OSError as e:
            self.fail(c, "reset", errno.errorcode.get(e.errno, str(e.errno)))
            return
        if not chunk:
            self.fail(c, "reset", "EOF")
            return
        if c.state != "waiting":
            self.fail(c, "wrong", "unasked-data")
            return
        c.buf += chunk
        if len(c.buf) > 65536:
            self.fail(c, "wrong", "answer-too-long")
            return
        self.parse(c)

    def parse(self, c):
        head, sep, rest = c.buf.partition(b"\r\n\r\n")
        if not sep:
            return
        lines = head.decode(errors="replace").split("\r\n")
        length = None
        for h in lines[1:]:
            name, _, value = h.partition(":")
            if name.strip().lower() == "content-length":
                try:
                    length = int(value.strip())
                except ValueError:
                    length = -1
        if length is None or length < 0:
            self.fail(c, "wrong", "no-content-length")
            return
        if len(rest) < length:
            return
        body, c.buf = rest[:length], rest[length:]
        status = lines[0].split()
        if len(status) < 2 or status[1] != "200":
            self.fail(c, "wrong", "status-" + (status[1] if len(status) > 1 else "none"))
            return
        words = body.decode(errors="replace").split()
        want = f"/echo/{c.cid}/{c.seq}"
        if len(words) != 3 or words[2] != want:
            self.fail(c, "wrong", "body-" + "_".join(words)[:80])
            return
        if c.pod is None:
            c.pod = words[0]
            self.say("pod", c.cid, words[0], words[1])
        elif words[0] != c.pod:
            self.fail(c, "wrong", f"pod-{c.pod}-then-{words[0]}")
            return
        if c.buf:
            self.fail(c, "wrong", "unasked-data")
            return
        now = time.monotonic()
        took = now - c.sent_mono
        if took > self.args.stall:
            self.say("stall", c.cid, f"{took:.3f}", f"{c.sent_wall:.3f}")
        c.state = "idle"
        # keep the cadence: the next request INTERVAL after this one went
        c.next_send = max(c.sent_mono + self.args.interval, now)
        heapq.heappush(self.sends, (c.next_send, c.cid))

    def sample(self, now):
        live = answering = connecting = 0
        for c in self.conns.values():
            if c.state == "connecting":
                connecting += 1
                continue
            live += 1
            if c.state != "waiting" or now - c.sent_mono <= self.args.stall:
                answering += 1
        self.series.write(f"{time.time():.3f} {live} {answering} {connecting} {self.broken}\n")

    def run(self):
        a = self.args
        for _ in range(a.connections):
            self.open_one()
        next_sample = time.monotonic()
        while not self.stop:
            now = time.monotonic()
            # requests due, from the heap: under TCG a scan of every
            # connection on each wake-up would cost the VM a CPU
            while self.sends and self.sends[0][0] <= now:
                _, cid = heapq.heappop(self.sends)
                c = self.conns.get(cid)
                if c is not None and c.state == "idle":
                    self.send(c, now)
            if now >= next_sample:
                # twice a second: replacements, time-outs, the sample
                due = [t for t in self.reopen_at if t <= now]
                if due:
                    self.reopen_at = [t for t in self.reopen_at if t > now]
                    for _ in due:
                        self.open_one()
                for c in list(self.conns.values()):
                    if c.state == "connecting":
                        if now - c.opened > a.timeout:
                            self.say("connfail", c.cid, "connect-timeout")
                            self.drop(c)
                    elif c.state == "waiting" and now - c.sent_mono > a.timeout:
                        self.fail(c, "timeout", f"no-answer-in-{a.timeout:g}s")
                self.sample(now)
                next_sample += 0.5
            deadline = next_sample
            if self.sends:
                deadline = min(deadline, self.sends[0][0])
            for key, ev in self.sel.select(max(0.0, deadline - time.monotonic())):
                c = key.data
                if c.cid not in self.conns:
                    continue
                if c.state == "connecting":
                    self.connected(c)
                else:
                    self.readable(c)
        self.sample(time.monotonic())
        return 0


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target")
    p.add_argument("--log", required=True)
    p.add_argument("--series", required=True)
    p.add_argument("--connections", type=int, default=60)
    p.add_argument("--interval", type=float, default=0.1)
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--stall", type=float, default=1.0)
    p.add_argument("--reopen", type=float, default=1.0)
    args = p.parse_args()
    if args.connections < 1 or args.interval <= 0 or args.timeout <= 0:
        p.error("--connections, --interval and --timeout must be positive")
    f = Flows(args)

    def on_signal(*_):
        f.stop = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return f.run()


if __name__ == "__main__":
    sys.exit(main())
