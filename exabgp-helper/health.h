/* SPDX-License-Identifier: Apache-2.0 */
/*
 * health.h - the load balancer's health endpoint as the gate sees it: a
 * URL checked once at option time, and one HTTP GET of it with a hard
 * deadline.
 *
 * Only what runs inside the pod is accepted: http://ADDR:PORT/PATH with
 * ADDR an IP literal ([v6] in brackets) or localhost.  No name is ever
 * resolved and no TLS is spoken, so a probe cannot block on DNS or a
 * handshake; its only cost is one TCP connection to the pod's own address.
 */
#ifndef HELPER_HEALTH_H
#define HELPER_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

#define HEALTH_PATH_MAX 200

struct health_url {
    struct netaddr addr;
    uint16_t port;
    char host[NETADDR_STRLEN + 2]; /* as the Host header: "127.0.0.1", "[::1]", "localhost" */
    char path[HEALTH_PATH_MAX + 1];
};

/*
 * Parse v into out.  0, or -EINVAL with a short reason in why (no value
 * quoted: the caller names the variable and the value).
 */
int health_url_parse(const char *v, struct health_url *out, char *why, size_t whylen);

struct health_result {
    int status;       /* the HTTP status, 0 when none was read */
    char reason[160]; /* "HTTP 503: not synced", "connection refused", "timed out after 400 ms" */
};

/*
 * One GET of u, everything (connect, send, the answer up to EOF or 1 KiB)
 * within timeout_ms.  0 when a status line was read (res->status set),
 * else a negative errno; res->reason says what happened either way.
 */
int health_probe(const struct health_url *u, int timeout_ms, struct health_result *res);

#endif
