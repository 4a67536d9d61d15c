/* SPDX-License-Identifier: Apache-2.0 */
/*
 * serving.h - can this load balancer pod serve?  The answer /readyz gives,
 * and the one exabgp-helper gates the announcement on.
 *
 * Serving means: the first sync with the API server is done; keepalived is
 * running and has had the time to load the file it was started after or
 * signalled for; and, with the kernel check, the kernel's IPVS table in
 * this network namespace holds every rendered virtual server with at least
 * one real server of non-zero weight.  keepalived's health checks take
 * failing real servers out of that table, so the table is the health.
 * Nothing here looks at the API server after the first sync: an API outage
 * must never make every load balancer withdraw at once.  A pod that is
 * stopping (its preStop hook began) is not serving whatever else holds: the
 * announcement goes first, while IPVS still forwards (make-before-break).
 *
 * serving_evaluate is pure: the controller gathers the inputs (its own
 * state, the reloader's view of keepalived, the parsed table).
 */
#ifndef IPVSCTL_SERVING_H
#define IPVSCTL_SERVING_H

#include <stdbool.h>
#include <stddef.h>

#include "ipvs_table.h"
#include "reloader.h"
#include "render.h"

/* Why not: a fixed set, each one label value on /metrics. */
enum serving_reason {
    SERVING_OK,
    SERVING_NOT_SYNCED,
    SERVING_KEEPALIVED_DOWN,
    SERVING_KEEPALIVED_STARTING,
    SERVING_TABLE_UNREADABLE,
    SERVING_NO_ENDPOINTS,
    SERVING_VS_MISSING,
    SERVING_NO_LIVE_REAL_SERVER,
    SERVING_STOPPING, /* last: the values before it keep their numbers */
    SERVING__COUNT
};

enum serving_check { SERVING_CHECK_KERNEL, SERVING_CHECK_NONE };

struct serving_input {
    bool stopping; /* the pod is being deleted (--stop-file): comes before all */
    bool synced;   /* the first sync is done */
    enum keepalived_state keepalived;
    const char *keepalived_why; /* STARTING, DOWN: what was seen */
    enum serving_check check;
    /* SERVING_CHECK_KERNEL only: */
    const struct vserver *vs; /* the rendered virtual servers */
    size_t n_vs;
    const char *protocol;           /* of the address virtual servers, "TCP" */
    const size_t *endpoints;        /* real servers of weight > 0 per virtual server in the file */
    const struct ipvs_table *table; /* NULL: could not be read, see table_error */
    const char *table_error;
};

/*
 * The first reason this pod cannot serve, in the order of the fields
 * above, or SERVING_OK; why gets one line for /readyz and the log.
 */
enum serving_reason serving_evaluate(const struct serving_input *in, char *why, size_t whylen);

/* The reason's label value on /metrics ("serving" for SERVING_OK). */
const char *serving_reason_label(enum serving_reason r);

#endif
