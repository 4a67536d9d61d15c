// SPDX-License-Identifier: Apache-2.0
/*
 * serving.c - the serving state from the controller's, keepalived's and
 * the kernel's facts.
 *
 * How "keepalived has loaded the current file" is known: the controller
 * starts a supervised keepalived only once the file is written, and
 * signals keepalived (both modes) after every write.  keepalived's own
 * confirmation is not visible to us (its log is its own), so:
 *   - with the kernel check, the table is the evidence: every rendered
 *     virtual server is there with a live real server.  Only real servers
 *     change at run time (the virtual servers come from our flags), and a
 *     reload that has not finished yet leaves the previous, still
 *     health-checked, real servers serving; requiring the exact current
 *     set would make every load balancer withdraw at each endpoint change,
 *     since all of them reload at once;
 *   - without it (--serving-check none), a spawned keepalived counts once
 *     it has been up for the start-up grace, a pidfile's once its process
 *     is alive after the first sync has signalled it.
 */
#include <stdio.h>
#include <string.h>

#include "serving.h"

static const char *const labels[SERVING__COUNT] = {
    [SERVING_OK] = "serving",
    [SERVING_NOT_SYNCED] = "not_synced",
    [SERVING_KEEPALIVED_DOWN] = "keepalived_not_running",
    [SERVING_KEEPALIVED_STARTING] = "keepalived_starting",
    [SERVING_TABLE_UNREADABLE] = "ipvs_table_unreadable",
    [SERVING_NO_ENDPOINTS] = "no_endpoints",
    [SERVING_VS_MISSING] = "virtual_server_missing",
    [SERVING_NO_LIVE_REAL_SERVER] = "no_live_real_server",
    [SERVING_STOPPING] = "stopping",
};

const char *serving_reason_label(enum serving_reason r)
{
    return (unsigned)r < SERVING__COUNT ? labels[r] : "unknown";
}

/* "10.1.1.1:80 TCP", "[2001:db8::1]:443 TCP" or "fwmark 1". */
static void vs_name(const struct vserver *vs, const char *protocol, char *out, size_t outlen)
{
    char a[NETADDR_STRLEN];

    if (vs->fwmark)
        snprintf(out, outlen, "fwmark %u", (unsigned)vs->mark);
    else
        snprintf(out, outlen, vs->addr.family == AF_INET6 ? "[%s]:%u %s" : "%s:%u %s",
                 netaddr_format(&vs->addr, a), (unsigned)vs->port, protocol);
}

static enum serving_reason check_table(const struct serving_input *in, char *why, size_t whylen)
{
    char name[NETADDR_STRLEN + 32];

    if (!in->table) {
        snprintf(why, whylen, "the kernel's IPVS table is unreadable: %s",
                 in->table_error ? in->table_error : "unknown error");
        return SERVING_TABLE_UNREADABLE;
    }
    for (size_t i = 0; i < in->n_vs; i++) {
        const struct vserver *vs = &in->vs[i];
        const struct ipvs_service *s;

        vs_name(vs, in->protocol, name, sizeof(name));
        if (in->endpoints[i] == 0) {
            snprintf(why, whylen, "virtual server %s has no ready endpoints", name);
            return SERVING_NO_ENDPOINTS;
        }
        s = vs->fwmark ? ipvs_table_find_fwmark(in->table, vs->mark)
                       : ipvs_table_find(in->table, in->protocol, &vs->addr, vs->port);
        if (!s) {
            snprintf(why, whylen, "virtual server %s is not in the kernel's IPVS table", name);
            return SERVING_VS_MISSING;
        }
        if (s->live == 0) {
            snprintf(why, whylen,
                     "virtual server %s has no real server with weight > 0 (%u in the table)", name,
                     s->dests);
            return SERVING_NO_LIVE_REAL_SERVER;
        }
    }
    return SERVING_OK;
}

enum serving_reason serving_evaluate(const struct serving_input *in, char *why, size_t whylen)
{
    const char *kwhy = in->keepalived_why ? in->keepalived_why : "";

    if (in->stopping) {
        snprintf(why, whylen, "the pod is stopping: withdrawing before keepalived stops");
        return SERVING_STOPPING;
    }
    if (!in->synced) {
        snprintf(why, whylen, "the first sync with the API server is not done");
        return SERVING_NOT_SYNCED;
    }
    switch (in->keepalived) {
    case KEEPALIVED_DOWN:
        snprintf(why, whylen, "keepalived is not running: %s", kwhy);
        return SERVING_KEEPALIVED_DOWN;
    case KEEPALIVED_STARTING:
        snprintf(why, whylen, "keepalived is starting: %s", kwhy);
        return SERVING_KEEPALIVED_STARTING;
    case KEEPALIVED_UNWATCHED:
    case KEEPALIVED_RUNNING:
        break;
    }
    if (in->check == SERVING_CHECK_KERNEL) {
        enum serving_reason r = check_table(in, why, whylen);
        if (r != SERVING_OK)
            return r;
    }
    snprintf(why, whylen, "serving");
    return SERVING_OK;
}
