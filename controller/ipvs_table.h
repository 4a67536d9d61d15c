/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ipvs_table.h - the kernel's IPVS table as /proc/net/ip_vs shows it.
 *
 * The serving check asks one question of the kernel: does each virtual
 * server we render exist, and does it have a real server of non-zero
 * weight?  This module turns the text of /proc/net/ip_vs (one network
 * namespace's table, as the kernel's ip_vs_info_seq_show prints it) into a
 * list of virtual servers with two counts each; the real servers
 * themselves are not kept.  Parsing is pure: no logging, errors in err.
 *
 * The format, per the kernel (net/netfilter/ipvs/ip_vs_ctl.c):
 *
 *     IP Virtual Server version 1.2.1 (size=4096)
 *     Prot LocalAddress:Port Scheduler Flags
 *       -> RemoteAddress:Port Forward Weight ActiveConn InActConn
 *     TCP  0A010101:0050 rr
 *       -> AC100102:0050      Masq    1      0          0
 *     TCP  [2001:0db8:0000:0000:0000:0000:0000:0001]:0050 rr
 *       -> [2001:0db8:0000:0000:0000:0000:0000:0002]:0050      Masq    0      0          0
 *     FWM  00000001 rr
 *
 * IPv4 addresses and ports in hex (host order), IPv6 addresses in
 * brackets, a firewall-mark service as FWM and the mark in hex; the
 * scheduler may be followed by "ops" and "persistent T MASK".
 */
#ifndef IPVSCTL_IPVS_TABLE_H
#define IPVSCTL_IPVS_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

#define IPVS_TABLE_PATH "/proc/net/ip_vs"
/* More virtual servers than this is not a table we wrote: refuse it. */
#define IPVS_TABLE_MAX_SERVICES 65536
/* The longest line the kernel prints is an IPv6 real server, about 100 bytes. */
#define IPVS_TABLE_LINE_MAX 256

struct ipvs_service {
    bool fwmark;
    uint32_t mark;       /* fwmark only */
    char proto[8];       /* "TCP", "UDP", "SCTP"...; empty for fwmark */
    struct netaddr addr; /* not fwmark */
    uint16_t port;       /* not fwmark */
    unsigned dests;      /* real servers */
    unsigned live;       /* real servers with weight > 0 */
};

struct ipvs_table {
    struct ipvs_service *svc; /* owned */
    size_t n, cap;
    unsigned line; /* lines seen, for messages */
};

void ipvs_table_init(struct ipvs_table *t);
/* Release the storage; the table is then empty and reusable. */
void ipvs_table_free(struct ipvs_table *t);
/* Forget the services (keeping the storage) before parsing a new text. */
void ipvs_table_reset(struct ipvs_table *t);

/*
 * Parse one line (without its newline) into t.  Header and blank lines
 * are accepted and ignored.  0, -EINVAL (err names the line and what is
 * wrong with it), -E2BIG past IPVS_TABLE_MAX_SERVICES, or -ENOMEM.
 */
int ipvs_table_parse_line(struct ipvs_table *t, const char *line, size_t len, char *err,
                          size_t errlen);

/* Reset t and parse a whole text, line by line.  As ipvs_table_parse_line. */
int ipvs_table_parse(struct ipvs_table *t, const char *text, size_t len, char *err, size_t errlen);

/*
 * Reset t and parse the file at path, streaming (no copy of the file is
 * held).  As ipvs_table_parse, or -errno with err set when it cannot be read.
 */
int ipvs_table_read(struct ipvs_table *t, const char *path, char *err, size_t errlen);

/*
 * The virtual server proto addr:port (proto as the kernel names it, e.g.
 * "TCP"), or NULL.  If the kernel lists it twice, the one with the most
 * live real servers.
 */
const struct ipvs_service *ipvs_table_find(const struct ipvs_table *t, const char *proto,
                                           const struct netaddr *addr, uint16_t port);
/* The firewall-mark virtual server with this mark (any family), or NULL; as above. */
const struct ipvs_service *ipvs_table_find_fwmark(const struct ipvs_table *t, uint32_t mark);

#endif
