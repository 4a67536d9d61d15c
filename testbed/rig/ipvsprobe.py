#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""ipvsprobe.py - ask the kernel's IPVS what it decides (stdlib only, root).

map VIP[:PORT] --source ADDR [--first-port 20000] [--count 1000] [--wait 20]
        Run inside a load balancer pod's namespace, with ADDR on one of its
        interfaces.  Opens COUNT non-blocking TCP connections from
        ADDR:(FIRST_PORT + i) to VIP:PORT; each SYN is scheduled by IPVS on
        its way out (LOCAL_OUT) and leaves an entry in /proc/net/ip_vs_conn.
        Prints one JSON object: "map" {i: "DEST:DPORT"} for every i IPVS
        scheduled (at most WAIT seconds are given to them), "seen" how
        many, "order" the service's real servers as /proc/net/ip_vs lists
        them (the kernel's list order, newest first: "ADDR:PORT WEIGHT").
        Maglev hashes ADDR + PORT as one sum (ip_vs_mh.c, ip_vs_mh_hashkey),
        so a second probe from ADDR+k with FIRST_PORT-k asks about the same
        flows again while being new connections to IPVS.

count   [--flood-net 198.51.100.0/24]
        Entries of /proc/net/ip_vs_conn in this namespace as JSON: total,
        per state, how many come from FLOOD_NET, their Expires range in
        seconds, and the ip_vs_conn slab (global: objects and bytes each).

flood VIP[:PORT] [--count 50000] [--net 198.51.100.0/24]
        COUNT TCP ACKs without any connection behind them, from addresses
        of NET (spoofed) and distinct source ports, to VIP:PORT, through a
        raw socket, as fast as it can; prints JSON: sent, seconds, rate.
        Bounded by COUNT; for the testbed's client namespace only.
"""
import argparse
import ipaddress
import json
import os
import random
import socket
import struct
import sys
import time


def parse_target(text):
    host, sep, port = text.rpartition(":")
    if not sep:
        return text, 80
    return host, int(port)


def hexaddr(text):
    return "%08X" % int(ipaddress.IPv4Address(text))


def unhex(addr, port):
    return f"{ipaddress.IPv4Address(int(addr, 16))}:{int(port, 16)}"


def conn_lines():
    """The rows of /proc/net/ip_vs_conn, each split in words."""
    with open("/proc/net/ip_vs_conn") as f:
        next(f, None)
        for line in f:
            w = line.split()
            if len(w) >= 9:
                yield w


def service_order(vip, port):
    """The service's real servers in the kernel's list order."""
    want = f"{hexaddr(vip)}:{port:04X}"
    order, inside = [], False
    with open("/proc/net/ip_vs") as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0] in ("TCP", "UDP", "FWM"):
                inside = w[0] == "TCP" and w[1] == want
            elif w[0] == "->" and inside and len(w) >= 4 and ":" in w[1]:
                a, p = w[1].split(":")
                order.append(f"{unhex(a, p)} {w[3]}")
    return order


def probe_map(args):
    vip, port = parse_target(args.target)
    src, vhex, phex = hexaddr(args.source), hexaddr(vip), "%04X" % port
    socks = []
    try:
        for i in range(args.count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.setblocking(False)
            s.bind((args.source, args.first_port + i))
            s.connect_ex((vip, port))
        deadline = time.monotonic() + args.wait
        while True:
            got = {}
            for w in conn_lines():
                if w[0] == "TCP" and w[1] == src and w[3] == vhex and w[4] == phex:
                    i = int(w[2], 16) - args.first_port
                    if 0 <= i < args.count:
                        got[i] = unhex(w[5], w[6])
            if len(got) == args.count or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        order = service_order(vip, port)
    finally:
        for s in socks:
            s.close()
    print(json.dumps({"source": args.source, "first_port": args.first_port,
                      "count": args.count, "seen": len(got), "order": order,
                      "map": {str(i): got[i] for i in sorted(got)}}))
    return 0 if got else 1


def count(args):
    net = ipaddress.IPv4Network(args.flood_net)
    lo, hi = int(net.network_address), int(net.broadcast_address)
    total, flood, states, exp = 0, 0, {}, []
    for w in conn_lines():
        total += 1
        states[w[7]] = states.get(w[7], 0) + 1
        if lo <= int(w[1], 16) <= hi:
            flood += 1
            exp.append(int(w[8]))
    slab = {}
    try:
        with open("/proc/slabinfo") as f:
            for line in f:
                w = line.split()
                if w and w[0] == "ip_vs_conn":
                    slab = {"active_objs": int(w[1]), "objsize": int(w[3])}
    except OSError:
        pass
    print(json.dumps({"entries": total, "states": states, "from_flood_net": flood,
                      "flood_expires_min": min(exp) if exp else None,
                      "flood_expires_max": max(exp) if exp else None,
                      "slab": slab}))
    return 0


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def flood(args):
    vip, port = parse_target(args.target)
    net = ipaddress.IPv4Network(args.net)
    hosts = [int(h) for h in net.hosts()]
    dst = socket.inet_aton(vip)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    rnd = random.Random(args.seed)
    t0 = time.monotonic()
    sent = 0
    for i in range(args.count):
        # distinct (address, port) pairs: the addresses turn fastest
        src = struct.pack("!I", hosts[i % len(hosts)])
        sport = 1024 + (i // len(hosts)) % 64000
        seq, ack = rnd.getrandbits(32), rnd.getrandbits(32)
        tcp = struct.pack("!HHIIBBHHH", sport, port, seq, ack, 5 << 4, 0x10, 1024, 0, 0)
        pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
        # IP_HDRINCL: the kernel fills in the total length, the id and the
        # header checksum
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0, 64, socket.IPPROTO_TCP, 0, src, dst)
        try:
            s.sendto(ip + tcp, (vip, 0))
            sent += 1
        except BlockingIOError:
            time.sleep(0.001)
    secs = time.monotonic() - t0
    print(json.dumps({"sent": sent, "seconds": round(secs, 3),
                      "rate": round(sent / secs) if secs > 0 else None,
                      "net": args.net, "target": f"{vip}:{port}"}))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("map")
    m.add_argument("target")
    m.add_argument("--source", required=True)
    m.add_argument("--first-port", type=int, default=20000)
    m.add_argument("--count", type=int, default=1000)
    m.add_argument("--wait", type=float, default=20.0)
    c = sub.add_parser("count")
    c.add_argument("--flood-net", default="198.51.100.0/24")
    f = sub.add_parser("flood")
    f.add_argument("target")
    f.add_argument("--count", type=int, default=50000)
    f.add_argument("--net", default="198.51.100.0/24")
    f.add_argument("--seed", type=int, default=12)
    args = p.parse_args()
    if os.geteuid() != 0:
        p.error("needs root")
    if args.cmd == "map":
        if not 1 <= args.count <= 20000 or not 1024 <= args.first_port <= 65535 - args.count:
            p.error("--count 1..20000 and the ports within 1024..65535")
        return probe_map(args)
    if args.cmd == "flood":
        if not 1 <= args.count <= 1000000:
            p.error("--count 1..1000000 (the flood is bounded)")
        return flood(args)
    return count(args)


if __name__ == "__main__":
    sys.exit(main())
