// SPDX-License-Identifier: Apache-2.0
/*
 * ipvs_table.c - parse /proc/net/ip_vs into virtual servers and counts.
 *
 * Why the proc file and not generic netlink (IPVS_CMD_GET_SERVICE/DEST):
 * it is per network namespace like netlink, needs no capability to read,
 * no new library and no socket, and a test can stand in a fixture file for
 * it on a host without IPVS.  One read of a seq_file walks the table under
 * the kernel's RCU lock, page by page; reading it in one pass is as
 * consistent as a netlink dump, which is also paged.
 *
 * The parser is strict about the tokens it uses (protocol, address and
 * port, mark, weight) and ignores the rest of a line (scheduler flags,
 * persistence, connection counts), so a kernel that adds a column does not
 * make every load balancer withdraw.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipvs_table.h"

#define MAX_TOKENS 4 /* what any line needs: the rest is ignored */

struct token {
    const char *p;
    size_t n;
};

void ipvs_table_init(struct ipvs_table *t)
{
    memset(t, 0, sizeof(*t));
}

void ipvs_table_free(struct ipvs_table *t)
{
    free(t->svc);
    ipvs_table_init(t);
}

void ipvs_table_reset(struct ipvs_table *t)
{
    t->n = 0;
    t->line = 0;
}

/* Split at spaces and tabs; returns the number of tokens found (at most max). */
static size_t tokenize(const char *s, size_t len, struct token *tok, size_t max)
{
    size_t n = 0, i = 0;

    while (n < max) {
        while (i < len && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i == len)
            break;
        tok[n].p = s + i;
        while (i < len && s[i] != ' ' && s[i] != '\t')
            i++;
        tok[n].n = (size_t)(s + i - tok[n].p);
        n++;
    }
    return n;
}

static bool tok_is(const struct token *t, const char *word)
{
    return t->n == strlen(word) && memcmp(t->p, word, t->n) == 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Exactly n hex digits (n <= 8). */
static int parse_hex(const char *p, size_t n, uint32_t *out)
{
    uint32_t v = 0;

    for (size_t i = 0; i < n; i++) {
        int d = hexval(p[i]);
        if (d < 0)
            return -EINVAL;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 0;
}

/* "0A010101:0050" or "[2001:0db8:...]:0050". */
static int parse_addrport(const struct token *t, struct netaddr *a, uint16_t *port)
{
    const char *colon;
    uint32_t v, p;

    memset(a, 0, sizeof(*a));
    if (t->n >= 2 && t->p[0] == '[') {
        char text[INET6_ADDRSTRLEN + 1];
        const char *close = memchr(t->p, ']', t->n);
        size_t alen;

        if (!close || (size_t)(close - t->p) + 6 != t->n || close[1] != ':')
            return -EINVAL;
        alen = (size_t)(close - t->p) - 1;
        if (alen == 0 || alen >= sizeof(text) || memchr(t->p + 1, '\0', alen))
            return -EINVAL;
        memcpy(text, t->p + 1, alen);
        text[alen] = '\0';
        if (inet_pton(AF_INET6, text, &a->u.v6) != 1)
            return -EINVAL;
        a->family = AF_INET6;
        colon = close + 1;
    } else {
        if (t->n != 13 || t->p[8] != ':' || parse_hex(t->p, 8, &v) < 0)
            return -EINVAL;
        a->family = AF_INET;
        a->u.v4.s_addr = htonl(v);
        colon = t->p + 8;
    }
    if (parse_hex(colon + 1, 4, &p) < 0)
        return -EINVAL;
    *port = (uint16_t)p;
    return 0;
}

/* A decimal int, maybe negative, the whole token. */
static int parse_weight(const struct token *t, long *out)
{
    char buf[16], *end;

    if (t->n == 0 || t->n >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, t->p, t->n);
    buf[t->n] = '\0';
    errno = 0;
    *out = strtol(buf, &end, 10);
    if (errno || *end || end == buf)
        return -EINVAL;
    return 0;
}

static bool proto_ok(const struct token *t)
{
    if (t->n == 0 || t->n >= sizeof(((struct ipvs_service *)0)->proto))
        return false;
    for (size_t i = 0; i < t->n; i++) {
        char c = t->p[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

static struct ipvs_service *add_service(struct ipvs_table *t)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        struct ipvs_service *s = realloc(t->svc, cap * sizeof(*s));
        if (!s)
            return NULL;
        t->svc = s;
        t->cap = cap;
    }
    memset(&t->svc[t->n], 0, sizeof(t->svc[0]));
    return &t->svc[t->n++];
}

int ipvs_table_parse_line(struct ipvs_table *t, const char *line, size_t len, char *err,
                          size_t errlen)
{
    struct token tok[MAX_TOKENS];
    struct ipvs_service *s;
    size_t n;

    t->line++;
    if (len && line[len - 1] == '\r')
        len--;
    n = tokenize(line, len, tok, MAX_TOKENS);
    if (n == 0 || (len >= 17 && memcmp(line, "IP Virtual Server", 17) == 0) ||
        tok_is(&tok[0], "Prot") || (n >= 2 && tok_is(&tok[1], "RemoteAddress:Port")))
        return 0; /* blank or a header */

    if (tok_is(&tok[0], "->")) {
        struct netaddr a;
        uint16_t port;
        long w;

        if (t->n == 0) {
            snprintf(err, errlen, "line %u: a real server before any virtual server", t->line);
            return -EINVAL;
        }
        if (n < 4 || parse_addrport(&tok[1], &a, &port) < 0 || parse_weight(&tok[3], &w) < 0) {
            snprintf(err, errlen, "line %u: not a real server line (-> ADDR:PORT FORWARD WEIGHT)",
                     t->line);
            return -EINVAL;
        }
        s = &t->svc[t->n - 1];
        s->dests++;
        if (w > 0)
            s->live++;
        return 0;
    }

    if (n < 3 || !proto_ok(&tok[0])) {
        snprintf(err, errlen, "line %u: not a virtual server line (PROTO ADDR:PORT SCHEDULER)",
                 t->line);
        return -EINVAL;
    }
    if (t->n >= IPVS_TABLE_MAX_SERVICES) {
        snprintf(err, errlen, "more than %d virtual servers", IPVS_TABLE_MAX_SERVICES);
        return -E2BIG;
    }
    {
        struct ipvs_service parsed;
        memset(&parsed, 0, sizeof(parsed));
        if (tok_is(&tok[0], "FWM")) {
            parsed.fwmark = true;
            if (tok[1].n != 8 || parse_hex(tok[1].p, 8, &parsed.mark) < 0) {
                snprintf(err, errlen, "line %u: firewall mark is not 8 hex digits", t->line);
                return -EINVAL;
            }
        } else {
            memcpy(parsed.proto, tok[0].p, tok[0].n);
            if (parse_addrport(&tok[1], &parsed.addr, &parsed.port) < 0) {
                snprintf(err, errlen,
                         "line %u: virtual server address is not HEX:PORT or [IPV6]:PORT", t->line);
                return -EINVAL;
            }
        }
        s = add_service(t);
        if (!s) {
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
        *s = parsed;
    }
    return 0;
}

int ipvs_table_parse(struct ipvs_table *t, const char *text, size_t len, char *err, size_t errlen)
{
    size_t i = 0;

    ipvs_table_reset(t);
    while (i < len) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len;
        int rc = ipvs_table_parse_line(t, text + i, end - i, err, errlen);
        if (rc < 0)
            return rc;
        i = end + 1;
    }
    return 0;
}

int ipvs_table_read(struct ipvs_table *t, const char *path, char *err, size_t errlen)
{
    char line[IPVS_TABLE_LINE_MAX + 2];
    FILE *f;
    int rc = 0;

    ipvs_table_reset(t);
    f = fopen(path, "re");
    if (!f) {
        rc = -errno;
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return rc;
    }
    while (fgets(line, sizeof(line), f)) {
        size_t n = strlen(line);
        if (n && line[n - 1] == '\n') {
            n--;
        } else if (!feof(f)) {
            snprintf(err, errlen, "%s: line %u longer than %d bytes", path, t->line + 1,
                     IPVS_TABLE_LINE_MAX);
            rc = -EINVAL;
            break;
        }
        rc = ipvs_table_parse_line(t, line, n, err, errlen);
        if (rc < 0) {
            /* name the file: the message is the operator's only clue */
            char inner[256];
            snprintf(inner, sizeof(inner), "%s", err);
            snprintf(err, errlen, "%s: %s", path, inner);
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        rc = -EIO;
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(EIO));
    }
    fclose(f);
    return rc;
}

static const struct ipvs_service *best(const struct ipvs_service *a, const struct ipvs_service *b)
{
    return !a || b->live > a->live ? b : a;
}

const struct ipvs_service *ipvs_table_find(const struct ipvs_table *t, const char *proto,
                                           const struct netaddr *addr, uint16_t port)
{
    const struct ipvs_service *found = NULL;

    for (size_t i = 0; i < t->n; i++) {
        const struct ipvs_service *s = &t->svc[i];
        if (!s->fwmark && s->port == port && strcmp(s->proto, proto) == 0 &&
            netaddr_cmp(&s->addr, addr) == 0)
            found = best(found, s);
    }
    return found;
}

const struct ipvs_service *ipvs_table_find_fwmark(const struct ipvs_table *t, uint32_t mark)
{
    const struct ipvs_service *found = NULL;

    for (size_t i = 0; i < t->n; i++) {
        if (t->svc[i].fwmark && t->svc[i].mark == mark)
            found = best(found, &t->svc[i]);
    }
    return found;
}
