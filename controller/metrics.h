/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.h - the controller's counters and the HTTP endpoint serving them.
 *
 * Counters are plain fields updated by the single controller thread.  The
 * server (libmicrohttpd) runs without threads of its own: it exposes one
 * epoll descriptor that the main loop polls, and metrics_serve() answers
 * whatever is ready.  /metrics is Prometheus text, /healthz says the loop
 * is turning, /readyz says whether this pod can serve (serving.h).
 */
#ifndef IPVSCTL_METRICS_H
#define IPVSCTL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum metrics_error {
    ERR_API_CONNECT, /* transport: refused, reset, timeout, TLS */
    ERR_API_STATUS,  /* the API answered with a non-2xx status */
    ERR_DECODE,      /* a response or event that is not what the API sends */
    ERR_OVERSIZE,    /* a response or event over its cap */
    ERR_OBJECT,      /* an object or field skipped as invalid */
    ERR_WRITE,       /* the output file could not be written */
    ERR_RELOAD,      /* keepalived could not be signalled */
    ERR_KEEPALIVED,  /* the supervised keepalived exited */
    ERR__COUNT
};

struct metrics {
    uint64_t errors[ERR__COUNT];
    uint64_t reloads;
    uint64_t writes;
    uint64_t watch_restarts;
    uint64_t relists;
    uint64_t events;
    uint64_t keepalived_restarts;
    uint64_t endpoints; /* real servers in the file */
    uint64_t objects;   /* objects in the store */
    double last_sync;   /* unix time of the last successful sync, 0: never */
    double render_seconds_sum;
    uint64_t render_count;
    double last_render_seconds;
    bool ready;
    /* the serving state (serving.h), as last evaluated; /readyz answers it */
    bool serving;
    int serving_reason; /* enum serving_reason */
    char serving_why[384];
    uint64_t serving_transitions;
};

extern struct metrics metrics;

/* Append the Prometheus text exposition to out. */
int metrics_format(const struct metrics *m, struct buf *out);

struct metrics_server;

/* Listen on "ADDR:PORT".  NULL with err set on failure. */
struct metrics_server *metrics_server_start(const char *address, char *err, size_t errlen);
/* The descriptor to poll for input. */
int metrics_server_fd(const struct metrics_server *s);
/* Answer whatever is ready; never blocks. */
void metrics_server_run(struct metrics_server *s);
void metrics_server_stop(struct metrics_server *s);

#endif
