// SPDX-License-Identifier: Apache-2.0
/*
 * render.c - write keepalived's virtual_server blocks.
 *
 * Uses keepalived 2.x's lvs_sched / lvs_method keywords.  A fwmark service
 * takes the IPv4 endpoints and, without a target port, real servers without
 * a port (IPVS then keeps the packet's destination port).
 *
 * Flow mode adds the scheduler flags mh-port (hash the client's port too,
 * or all of a client's connections land on one web pod) and mh-fallback
 * (a flow whose web pod is at weight 0 goes to the next in the table
 * instead of being refused).  keepalived checks the scheduler when it
 * parses those flags, so they follow lvs_sched.
 */
#include <string.h>

#include "render.h"

static const char *const schedulers[] = {
    "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "mh", "sed", "nq", "fo", "ovf", "twos",
};

bool render_sched_valid(const char *name)
{
    for (size_t i = 0; i < sizeof(schedulers) / sizeof(schedulers[0]); i++) {
        if (strcmp(name, schedulers[i]) == 0)
            return true;
    }
    return false;
}

bool render_path_valid(const char *path)
{
    /*
     * RFC 3986 path and query characters, less those keepalived's parser
     * treats specially: '#' and '!' start comments, '$' expands
     * definitions, braces and quotes are syntax, whitespace splits words.
     */
    static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                             "-._~/?&=%:@+,;*";
    size_t n = strlen(path);

    if (n == 0 || n > 512 || path[0] != '/')
        return false;
    return strspn(path, ok) == n;
}

static int vs_family(const struct vserver *vs)
{
    return vs->fwmark ? AF_INET : vs->addr.family;
}

/* The port of a real server; 0 means none is written. */
static uint16_t rs_port(const struct render_config *rc, const struct vserver *vs,
                        const struct endpoint *ep)
{
    if (rc->target_port)
        return rc->target_port;
    if (ep->port)
        return ep->port;
    return vs->fwmark ? 0 : vs->port;
}

static size_t count_family(const struct endpoint *eps, size_t n, int family, bool ready_only)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        k += eps[i].addr.family == family && !(eps[i].not_ready && ready_only);
    return k;
}

/*
 * A virtual server needs a ready real server to be written: keepalived
 * lowers the quorum to the sum of the weights, and a quorum of 0 is a
 * configuration error to it (and underflows its hysteresis).  Flow mode's
 * weight-0 entries come with it or not at all.
 */
size_t render_count_vs_real_servers(const struct render_config *rc, size_t v,
                                    const struct endpoint *eps, size_t n)
{
    int family = vs_family(&rc->vs[v]);

    return count_family(eps, n, family, true) ? count_family(eps, n, family, false) : 0;
}

size_t render_count_vs_ready(const struct render_config *rc, size_t v, const struct endpoint *eps,
                             size_t n)
{
    return count_family(eps, n, vs_family(&rc->vs[v]), true);
}

size_t render_count_real_servers(const struct render_config *rc, const struct endpoint *eps,
                                 size_t n)
{
    size_t k = 0;

    for (size_t v = 0; v < rc->n_vs; v++)
        k += render_count_vs_real_servers(rc, v, eps, n);
    return k;
}

/* Milliseconds as keepalived's timer seconds: "2", "0.5", "0.25". */
static const char *seconds(unsigned ms, char buf[16])
{
    int n = snprintf(buf, 16, "%u.%03u", ms / 1000, ms % 1000);

    while (n > 0 && buf[n - 1] == '0')
        buf[--n] = '\0';
    if (n > 0 && buf[n - 1] == '.')
        buf[--n] = '\0';
    return buf;
}

/* A checker's timing: connect_timeout, retry and delay_before_retry. */
static int render_check_timing(const struct render_config *rc, struct buf *out)
{
    char t[16];
    int err = buf_printf(out,
                         "            connect_timeout %s\n"
                         "            retry %u\n",
                         seconds(rc->hc_timeout_ms, t), rc->hc_retry);

    if (rc->hc_retry > 0)
        err |= buf_printf(out, "            delay_before_retry %s\n",
                          seconds(rc->hc_retry_delay_ms, t));
    return err;
}

/* The body of every real_server block after its weight: the health check. */
static int render_rs_body(const struct render_config *rc, struct buf *out)
{
    int err = 0;

    switch (rc->hc) {
    case HC_NONE:
        break;
    case HC_TCP:
        err |= buf_puts(out, "        TCP_CHECK {\n");
        err |= render_check_timing(rc, out);
        err |= buf_puts(out, "        }\n");
        break;
    case HC_HTTP:
        err |= buf_printf(out,
                          "        HTTP_GET {\n"
                          "            url {\n"
                          "                path %s\n"
                          "            }\n",
                          rc->hc_path);
        err |= render_check_timing(rc, out);
        err |= buf_puts(out, "        }\n");
        break;
    }
    return err | buf_puts(out, "    }\n");
}

static int render_vs(const struct render_config *rc, const struct vserver *vs,
                     const struct endpoint *eps, size_t n, const struct buf *body, struct buf *out)
{
    char a[NETADDR_STRLEN], head[NETADDR_STRLEN + 32];
    int family = vs_family(vs), err = 0;

    if (vs->fwmark)
        snprintf(head, sizeof(head), "fwmark %u", (unsigned)vs->mark);
    else
        snprintf(head, sizeof(head), "%s %u", netaddr_format(&vs->addr, a), (unsigned)vs->port);

    if (count_family(eps, n, family, true) == 0)
        return buf_printf(out, "# virtual_server %s: no ready endpoints\n\n", head);

    err |= buf_printf(out, "virtual_server %s {\n", head);
    err |= buf_printf(out, "    lvs_sched %s\n", rc->sched);
    if (rc->flow)
        err |= buf_puts(out, "    mh-port\n"
                             "    mh-fallback\n");
    err |= buf_printf(out, "    lvs_method %s\n", rc->method);
    if (!vs->fwmark)
        err |= buf_printf(out, "    protocol %s\n", rc->protocol);
    /* a failing check sets weight 0: the real server keeps its place and its Maglev slots */
    if (rc->flow)
        err |= buf_puts(out, "    inhibit_on_failure\n");
    if (rc->persistence_timeout)
        err |= buf_printf(out, "    persistence_timeout %u\n", rc->persistence_timeout);
    if (rc->hc != HC_NONE) {
        char t[16];
        err |= buf_printf(out, "    delay_loop %s\n", seconds(rc->hc_interval_ms, t));
    }

    for (size_t i = 0; i < n; i++) {
        uint16_t port;

        if (eps[i].addr.family != family)
            continue;
        port = rs_port(rc, vs, &eps[i]);
        netaddr_format(&eps[i].addr, a);
        if (port)
            err |= buf_printf(out, "\n    real_server %s %u {\n", a, (unsigned)port);
        else
            err |= buf_printf(out, "\n    real_server %s {\n", a);
        err |= buf_printf(out, "        weight %d\n", eps[i].not_ready ? 0 : 1);
        err |= buf_append(out, body->data, body->len);
    }
    err |= buf_puts(out, "}\n\n");
    return err;
}

int render_ipvs_conf(const struct render_config *rc, const struct endpoint *eps, size_t n,
                     struct buf *out)
{
    struct buf body;
    int err = buf_puts(out, "# Generated by ipvs-controller from the Kubernetes API; "
                            "edits are overwritten.\n\n");

    buf_init(&body, 4096);
    err |= render_rs_body(rc, &body);
    for (size_t v = 0; v < rc->n_vs && err == 0; v++)
        err = render_vs(rc, &rc->vs[v], eps, n, &body, out);
    buf_free(&body);
    return err;
}
