/* SPDX-License-Identifier: Apache-2.0 */
/*
 * netaddr.h - strict parsing and printing of IP addresses, ports and
 * prefixes.
 *
 * Everything that reaches a generated configuration file goes through here:
 * an address is parsed with inet_pton and printed back with inet_ntop, so
 * only canonical text leaves; a port is a decimal number in 1..65535.
 */
#ifndef LB_NETADDR_H
#define LB_NETADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#define NETADDR_STRLEN INET6_ADDRSTRLEN

struct netaddr {
    int family; /* AF_INET or AF_INET6 */
    union {
        struct in_addr v4;
        struct in6_addr v6;
        uint8_t bytes[16];
    } u;
};

/* Parse a bare IPv4 or IPv6 address (no brackets, no zone).  0 or -EINVAL. */
int netaddr_parse(const char *s, struct netaddr *out);
/* Canonical text into buf (NETADDR_STRLEN bytes); returns buf. */
const char *netaddr_format(const struct netaddr *a, char *buf);
/* Total order: IPv4 before IPv6, then by bytes. */
int netaddr_cmp(const struct netaddr *a, const struct netaddr *b);
size_t netaddr_len(const struct netaddr *a);

/* Parse a decimal port 1..65535 (no sign, no spaces).  0 or -EINVAL/-ERANGE. */
int port_parse(const char *s, uint16_t *out);
/* Parse a decimal unsigned number in [min, max].  0 or -EINVAL/-ERANGE. */
int uint_parse(const char *s, unsigned long long min, unsigned long long max,
               unsigned long long *out);

/* "1.2.3.4:80" or "[::1]:80".  0 or -EINVAL. */
int hostport_parse(const char *s, struct netaddr *addr, uint16_t *port);

/*
 * "10.1.1.0/24"; the host bits must be zero.  0, -EINVAL, or -EDOM (host
 * bits set; addr and plen are filled so the caller can name the network).
 */
int prefix_parse(const char *s, struct netaddr *addr, unsigned *plen);
/* Do a/alen and b/blen share an address (one contains the other)?  False across families. */
bool prefix_overlaps(const struct netaddr *a, unsigned alen, const struct netaddr *b,
                     unsigned blen);

#endif
