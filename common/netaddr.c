// SPDX-License-Identifier: Apache-2.0
/*
 * netaddr.c - strict address, port and prefix parsing (see netaddr.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netaddr.h"

int netaddr_parse(const char *s, struct netaddr *out)
{
    struct netaddr a;

    memset(&a, 0, sizeof(a));
    if (!s || !*s || strlen(s) >= NETADDR_STRLEN)
        return -EINVAL;
    if (inet_pton(AF_INET, s, &a.u.v4) == 1)
        a.family = AF_INET;
    else if (inet_pton(AF_INET6, s, &a.u.v6) == 1)
        a.family = AF_INET6;
    else
        return -EINVAL;
    *out = a;
    return 0;
}

const char *netaddr_format(const struct netaddr *a, char *buf)
{
    if (!inet_ntop(a->family, a->u.bytes, buf, NETADDR_STRLEN))
        snprintf(buf, NETADDR_STRLEN, "invalid");
    return buf;
}

size_t netaddr_len(const struct netaddr *a)
{
    return a->family == AF_INET ? 4 : 16;
}

int netaddr_cmp(const struct netaddr *a, const struct netaddr *b)
{
    if (a->family != b->family)
        return a->family == AF_INET ? -1 : 1;
    return memcmp(a->u.bytes, b->u.bytes, netaddr_len(a));
}

int uint_parse(const char *s, unsigned long long min, unsigned long long max,
               unsigned long long *out)
{
    unsigned long long v = 0;

    if (!s || !*s || strlen(s) > 20)
        return -EINVAL;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        unsigned d = (unsigned)(*p - '0');
        if (v > (~0ULL - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    if (v < min || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

int port_parse(const char *s, uint16_t *out)
{
    unsigned long long v;
    int rc = uint_parse(s, 1, 65535, &v);

    if (rc == 0)
        *out = (uint16_t)v;
    return rc;
}

int hostport_parse(const char *s, struct netaddr *addr, uint16_t *port)
{
    char host[NETADDR_STRLEN + 2];
    const char *colon;
    size_t hlen;

    if (!s)
        return -EINVAL;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':')
            return -EINVAL;
        hlen = (size_t)(end - s - 1);
        if (hlen >= sizeof(host))
            return -EINVAL;
        memcpy(host, s + 1, hlen);
        host[hlen] = '\0';
        colon = end + 1;
        if (netaddr_parse(host, addr) < 0 || addr->family != AF_INET6)
            return -EINVAL;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return -EINVAL;
        hlen = (size_t)(colon - s);
        if (hlen >= sizeof(host))
            return -EINVAL;
        memcpy(host, s, hlen);
        host[hlen] = '\0';
        if (netaddr_parse(host, addr) < 0 || addr->family != AF_INET)
            return -EINVAL;
    }
    return port_parse(colon + 1, port) < 0 ? -EINVAL : 0;
}

int prefix_parse(const char *s, struct netaddr *addr, unsigned *plen)
{
    char host[NETADDR_STRLEN];
    const char *slash = s ? strchr(s, '/') : NULL;
    unsigned long long len;
    size_t hlen;

    if (!slash)
        return -EINVAL;
    hlen = (size_t)(slash - s);
    if (hlen >= sizeof(host))
        return -EINVAL;
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    if (netaddr_parse(host, addr) < 0)
        return -EINVAL;
    if (uint_parse(slash + 1, 0, addr->family == AF_INET ? 32 : 128, &len) < 0)
        return -EINVAL;
    *plen = (unsigned)len;
    for (unsigned bit = (unsigned)len; bit < netaddr_len(addr) * 8; bit++) {
        if (addr->u.bytes[bit / 8] & (0x80 >> (bit % 8)))
            return -EDOM;
    }
    return 0;
}

bool prefix_overlaps(const struct netaddr *a, unsigned alen, const struct netaddr *b, unsigned blen)
{
    unsigned n = alen < blen ? alen : blen;

    if (a->family != b->family)
        return false;
    for (unsigned bit = 0; bit < n; bit++) {
        unsigned mask = 0x80u >> (bit % 8);
        if ((a->u.bytes[bit / 8] & mask) != (b->u.bytes[bit / 8] & mask))
            return false;
    }
    return true;
}
