// SPDX-License-Identifier: Apache-2.0
/*
 * metrics.c - Prometheus exposition and the libmicrohttpd server.
 *
 * The port is reachable by every pod, and the kubelet's liveness probe
 * uses it too, so no single client address may starve the others:
 *   - each address holds at most METRICS_PER_IP connections; libmicrohttpd
 *     accepts and at once closes any beyond that, so they neither count
 *     towards the global limit nor wait in the listen backlog;
 *   - a connection idle for METRICS_IDLE_S seconds is closed (a probe or a
 *     scrape sends its request at once; Prometheus reconnects after);
 *   - the global limit (METRICS_MAX_CONNECTIONS, less if the descriptor
 *     limit is low) is well above what one address can take.  At the
 *     global limit libmicrohttpd stops accepting and new connections wait
 *     in the kernel's listen backlog (its default, SOMAXCONN) until an
 *     idle one times out;
 *   - each connection's memory pool is small: requests here are one line
 *     and a few headers, and the responses are copied out of it.
 * The daemon has no threads: the controller's loop polls its epoll
 * descriptor and calls MHD_run, at least every second, which is also when
 * idle connections are timed out.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "metrics.h"
#include "netaddr.h"
#include "serving.h"
#include "version.h"

struct metrics metrics;

#define METRICS_PER_IP          8
#define METRICS_IDLE_S          3
#define METRICS_MAX_CONNECTIONS 512
#define METRICS_FD_RESERVE      64 /* for the API connection, files, signalfd, keepalived */
#define METRICS_POOL_BYTES      (16 * 1024)

struct metrics_server {
    struct MHD_Daemon *daemon;
};

static const char *const error_kinds[ERR__COUNT] = {
    [ERR_API_CONNECT] = "api_connect", [ERR_API_STATUS] = "api_status",
    [ERR_DECODE] = "decode",           [ERR_OVERSIZE] = "oversize",
    [ERR_OBJECT] = "invalid_object",   [ERR_WRITE] = "write",
    [ERR_RELOAD] = "reload",           [ERR_KEEPALIVED] = "keepalived_exit",
};

static int counter(struct buf *out, const char *name, const char *help, uint64_t v)
{
    return buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
                      (unsigned long long)v);
}

static int gauge(struct buf *out, const char *name, const char *help, double v)
{
    return buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %.17g\n", name, help, name, name, v);
}

int metrics_format(const struct metrics *m, struct buf *out)
{
    int err = 0;

    err |= buf_printf(out,
                      "# HELP ipvs_controller_build_info Version of the running controller.\n"
                      "# TYPE ipvs_controller_build_info gauge\n"
                      "ipvs_controller_build_info{version=\"%s\"} 1\n",
                      LB_VERSION);
    err |= gauge(out, "ipvs_controller_endpoints", "Real servers in the rendered configuration.",
                 (double)m->endpoints);
    err |= gauge(out, "ipvs_controller_objects", "Pods or EndpointSlices known from the API.",
                 (double)m->objects);
    err |= gauge(out, "ipvs_controller_ready", "1 once the first sync has completed.",
                 m->ready ? 1 : 0);
    err |= gauge(out, "ipvs_controller_serving",
                 "1 while this pod can serve: what /readyz answers 200 for.", m->serving ? 1 : 0);
    err |= buf_puts(out, "# HELP ipvs_controller_serving_reason Why this pod is not serving: 1 for "
                         "the reason /readyz gives, 0 for the others.\n"
                         "# TYPE ipvs_controller_serving_reason gauge\n");
    for (int i = SERVING_OK + 1; i < SERVING__COUNT; i++)
        err |= buf_printf(out, "ipvs_controller_serving_reason{reason=\"%s\"} %d\n",
                          serving_reason_label((enum serving_reason)i),
                          !m->serving && m->serving_reason == i);
    err |= counter(out, "ipvs_controller_serving_transitions_total",
                   "Changes of the serving state or of its reason.", m->serving_transitions);
    err |=
        counter(out, "ipvs_controller_reloads_total", "keepalived reloads signalled.", m->reloads);
    err |= counter(out, "ipvs_controller_config_writes_total", "Times ipvs.conf was replaced.",
                   m->writes);
    err |= counter(out, "ipvs_controller_watch_restarts_total", "Watch requests reopened.",
                   m->watch_restarts);
    err |= counter(out, "ipvs_controller_relists_total", "Full lists after the first.", m->relists);
    err |= counter(out, "ipvs_controller_watch_events_total", "Watch events received.", m->events);
    err |= counter(out, "ipvs_controller_keepalived_restarts_total",
                   "Supervised keepalived processes restarted.", m->keepalived_restarts);
    err |= buf_puts(out, "# HELP ipvs_controller_errors_total Errors by kind.\n"
                         "# TYPE ipvs_controller_errors_total counter\n");
    for (int i = 0; i < ERR__COUNT; i++)
        err |= buf_printf(out, "ipvs_controller_errors_total{kind=\"%s\"} %llu\n", error_kinds[i],
                          (unsigned long long)m->errors[i]);
    err |= gauge(out, "ipvs_controller_last_sync_timestamp_seconds",
                 "Unix time of the last successful sync; 0 before the first.", m->last_sync);
    err |= gauge(out, "ipvs_controller_last_render_duration_seconds", "Time the last render took.",
                 m->last_render_seconds);
    err |= buf_printf(out,
                      "# HELP ipvs_controller_render_duration_seconds Time spent rendering.\n"
                      "# TYPE ipvs_controller_render_duration_seconds summary\n"
                      "ipvs_controller_render_duration_seconds_sum %.9f\n"
                      "ipvs_controller_render_duration_seconds_count %llu\n",
                      m->render_seconds_sum, (unsigned long long)m->render_count);
    return err;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             const char *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    (void)upload;
    (void)con_cls;

    if (*upload_size)
        return reply(conn, MHD_HTTP_BAD_REQUEST, "text/plain", "no body expected\n", 17);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET only\n", 9);
    if (strcmp(url, "/metrics") == 0) {
        struct buf b;
        enum MHD_Result ret;
        buf_init(&b, 1 << 20);
        if (metrics_format(&metrics, &b) < 0) {
            buf_free(&b);
            return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "error\n", 6);
        }
        ret = reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4", b.data, b.len);
        buf_free(&b);
        return ret;
    }
    if (strcmp(url, "/healthz") == 0)
        return reply(conn, MHD_HTTP_OK, "text/plain", "ok\n", 3);
    if (strcmp(url, "/readyz") == 0) {
        char body[sizeof(metrics.serving_why) + 32];
        int n;
        if (metrics.serving)
            return reply(conn, MHD_HTTP_OK, "text/plain", "serving\n", 8);
        n = snprintf(body, sizeof(body), "not serving: %s\n",
                     metrics.serving_why[0] ? metrics.serving_why : "starting");
        return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", body,
                     n < (int)sizeof(body) ? (size_t)n : sizeof(body) - 1);
    }
    return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n", 10);
}

/* The global connection limit that leaves the rest of the process its descriptors. */
static unsigned connection_limit(void)
{
    struct rlimit rl;
    rlim_t n;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
        return METRICS_MAX_CONNECTIONS;
    n = rl.rlim_cur > 2 * METRICS_FD_RESERVE ? rl.rlim_cur - METRICS_FD_RESERVE : rl.rlim_cur / 2;
    return n < METRICS_MAX_CONNECTIONS ? (unsigned)n : METRICS_MAX_CONNECTIONS;
}

struct metrics_server *metrics_server_start(const char *address, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    struct netaddr a;
    uint16_t port;
    struct metrics_server *s;

    if (hostport_parse(address, &a, &port) < 0) {
        snprintf(err, errlen, "--metrics-address: \"%s\" is not ADDR:PORT", address);
        return NULL;
    }
    memset(&ss, 0, sizeof(ss));
    if (a.family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        sin->sin_addr = a.u.v4;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        sin6->sin6_addr = a.u.v6;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->daemon = MHD_start_daemon(
        MHD_USE_EPOLL | (a.family == AF_INET6 ? MHD_USE_IPv6 : 0), port, NULL, NULL, handle, NULL,
        MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_CONNECTION_LIMIT, connection_limit(),
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)METRICS_PER_IP, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)METRICS_IDLE_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_POOL_BYTES,
        MHD_OPTION_END);
    if (!s->daemon) {
        snprintf(err, errlen, "--metrics-address: cannot listen on %s: %s", address,
                 strerror(errno ? errno : EADDRINUSE));
        free(s);
        return NULL;
    }
    return s;
}

int metrics_server_fd(const struct metrics_server *s)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    return info ? info->epoll_fd : -1;
}

void metrics_server_run(struct metrics_server *s)
{
    MHD_run(s->daemon);
}

void metrics_server_stop(struct metrics_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->daemon);
    free(s);
}
