// SPDX-License-Identifier: Apache-2.0
/*
 * controller.c - the event loop and the sync step.
 *
 * A change from the watcher marks the state dirty.  The sync runs once the
 * changes have been quiet for --debounce-ms, or --max-delay-ms after the
 * first of a burst, whichever comes first: render, compare with the bytes
 * last written, write atomically, reload.  Reloads are further spaced by
 * --min-reload-interval-ms, because keepalived reloaded many times a
 * second stops finishing the removals it has pending.
 *
 * The loop polls curl's sockets, a signalfd and the metrics server's
 * epoll descriptor together, so one thread does everything and signal
 * handlers do nothing at all.
 *
 * The serving state (serving.h) is evaluated every SERVING_PERIOD_MS
 * (SERVING_WAIT_PERIOD_MS while not serving, so the log line saying when
 * the pod began to serve is close to when it did), at once after anything
 * that may change it (a sync, a reload, keepalived
 * exiting), and before answering a request if it is older than
 * SERVING_FRESH_MS, so /readyz is never more than that stale for the
 * helper polling it, while a flood of requests reads the kernel's table at
 * most ten times a second.
 *
 * Stopping: the preStop hook creates --stop-file; from then on the state is
 * "stopping" (503) while keepalived and IPVS go on forwarding.  SIGTERM
 * comes once the hook returned, after the withdrawal and the drain; only
 * then is keepalived stopped (teardown), and it removes its virtual
 * servers as it exits.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "controller.h"
#include "hash.h"
#include "ipvs_table.h"
#include "log.h"
#include "metrics.h"
#include "reloader.h"
#include "serving.h"
#include "store.h"
#include "watcher.h"

#define RETRY_MS    1000
#define MAX_POLL_MS 1000
#define NEVER       UINT64_MAX

#define SERVING_PERIOD_MS      1000 /* while serving */
#define SERVING_WAIT_PERIOD_MS 250  /* while not: the log dates the transition closely */
#define SERVING_FRESH_MS       100

struct controller {
    const struct ctl_config *cfg;
    struct render_config rc;
    struct api api;
    CURLM *multi;
    struct watcher watcher;
    struct reloader reloader;
    struct metrics_server *ms;
    int sigfd;
    bool stop;
    int exit_code;

    bool dirty;
    uint64_t first_change_ms; /* of the changes not yet rendered */
    uint64_t last_change_ms;
    uint64_t sync_retry_ms; /* after a failed write */

    uint64_t last_hash; /* of the file as last written or found */
    size_t last_len;
    bool have_last;
    bool reload_pending;
    uint64_t reload_at_ms;
    uint64_t last_reload_ms;
    bool synced; /* file and keepalived up to date at least once */
    char selector[320];

    /* the serving state */
    size_t vs_endpoints[OPT_MAX_VS]; /* real servers of weight > 0 per virtual server in the file */
    struct ipvs_table table;         /* storage reused by every check */
    enum serving_reason serving;
    bool stopping; /* --stop-file seen: for the rest of this process */
    bool serving_stale;
    uint64_t serving_at_ms;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A hash of the rendered bytes rather than a second copy of a file that
 * may be megabytes keeps the resident size down.
 */
static uint64_t content_hash(const struct buf *b)
{
    return fnv1a64(FNV1A64_INIT, b->data, b->len);
}

static void remember(struct controller *c, const struct buf *out)
{
    c->last_hash = content_hash(out);
    c->last_len = out->len;
    c->have_last = true;
}

static void on_change(void *arg)
{
    struct controller *c = arg;
    uint64_t now = now_ms();

    if (!c->dirty)
        c->first_change_ms = now;
    c->dirty = true;
    c->last_change_ms = now;
}

static uint64_t sync_due(const struct controller *c)
{
    uint64_t quiet, bound;

    if (!c->dirty || !watcher_synced(&c->watcher))
        return NEVER;
    quiet = c->last_change_ms + c->cfg->debounce_ms;
    bound = c->first_change_ms + c->cfg->max_delay_ms;
    quiet = quiet < bound ? quiet : bound;
    return quiet > c->sync_retry_ms ? quiet : c->sync_retry_ms;
}

/* The file on disk and keepalived both reflect the API as we last saw it. */
static void mark_synced(struct controller *c)
{
    if (!c->synced)
        log_info("first sync complete", "output", c->cfg->output, "endpoints",
                 LOG_INT(metrics.endpoints), NULL);
    c->synced = true;
    c->serving_stale = true;
    metrics.ready = true;
    metrics.last_sync = wall_seconds();
}

static void reload(struct controller *c, uint64_t now)
{
    uint64_t earliest = c->last_reload_ms + c->cfg->min_reload_interval_ms;
    uint64_t retry = now + RETRY_MS;
    char err[512];
    int rc;

    if (c->last_reload_ms && now < earliest) {
        c->reload_at_ms = earliest;
        return;
    }
    rc = reloader_reload(&c->reloader, now, &retry, err, sizeof(err));
    if (rc == 0) {
        if (c->reloader.mode != RELOAD_NONE)
            metrics.reloads++;
        c->reload_pending = false;
        c->last_reload_ms = now;
        c->serving_stale = true;
        mark_synced(c);
        return;
    }
    if (rc != -EAGAIN) {
        metrics.errors[ERR_RELOAD]++;
        log_error("reload failed", "reason", err, NULL);
        if (c->cfg->once) {
            c->exit_code = 1;
            c->stop = true;
        }
    }
    c->reload_at_ms = retry;
}

static void sync_now(struct controller *c, uint64_t now)
{
    struct endpoint *eps = NULL;
    struct buf out;
    struct timespec t0, t1;
    size_t n = 0, real_servers, per_vs[OPT_MAX_VS];
    int rc;

    buf_init(&out, SIZE_MAX);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (store_collect_ordered(c->watcher.store, c->rc.flow ? STORE_BY_AGE : STORE_BY_ADDRESS, &eps,
                              &n) < 0 ||
        render_ipvs_conf(&c->rc, eps, n, &out) < 0) {
        log_error("out of memory rendering", "output", c->cfg->output, NULL);
        c->sync_retry_ms = now + RETRY_MS;
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    metrics.last_render_seconds =
        (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    metrics.render_seconds_sum += metrics.last_render_seconds;
    metrics.render_count++;
    metrics.objects = store_count(c->watcher.store);
    real_servers = render_count_real_servers(&c->rc, eps, n);
    /* weight-0 entries (flow mode's not-ready endpoints) cannot serve */
    for (size_t v = 0; v < c->rc.n_vs; v++)
        per_vs[v] = render_count_vs_ready(&c->rc, v, eps, n);
    c->dirty = false;

    if (!c->have_last && file_has_content(c->cfg->output, out.data, out.len) == 1) {
        remember(c, &out);
        log_info("configuration already up to date", "output", c->cfg->output, NULL);
    } else if (c->have_last && out.len == c->last_len && content_hash(&out) == c->last_hash) {
        log_debug("configuration unchanged", "output", c->cfg->output, NULL);
    } else {
        rc = atomic_write_file(c->cfg->output, out.data, out.len, 0644);
        if (rc < 0) {
            metrics.errors[ERR_WRITE]++;
            log_error("cannot write configuration; the previous file stays", "output",
                      c->cfg->output, "error", strerror(-rc), NULL);
            c->dirty = true;
            c->sync_retry_ms = now + RETRY_MS;
            if (c->cfg->once) {
                c->exit_code = 1;
                c->stop = true;
            }
            goto out;
        }
        metrics.writes++;
        remember(c, &out);
        c->reload_pending = true;
        log_info("configuration written", "output", c->cfg->output, "real_servers",
                 LOG_INT(real_servers), "objects", LOG_INT(metrics.objects), NULL);
    }
    metrics.endpoints = real_servers;
    memcpy(c->vs_endpoints, per_vs, c->rc.n_vs * sizeof(per_vs[0])); /* what the file holds */
    c->serving_stale = true;
    c->sync_retry_ms = 0;
    /* keepalived under supervision starts once the first file is in place */
    if (!c->synced && c->reloader.mode == RELOAD_SPAWN)
        c->reload_pending = true;
    if (c->reload_pending)
        reload(c, now);
    else
        mark_synced(c);
out:
    free(eps);
    buf_free(&out);
    malloc_trim(0); /* give the render's and the decoder's garbage back */
}

static void handle_signals(struct controller *c)
{
    struct signalfd_siginfo si;

    while (read(c->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        switch (si.ssi_signo) {
        case SIGTERM:
        case SIGINT:
            log_info("stopping", "signal", LOG_INT(si.ssi_signo), NULL);
            c->stop = true;
            break;
        case SIGCHLD:
            reloader_reap(&c->reloader, now_ms());
            c->serving_stale = true;
            break;
        default:
            break;
        }
    }
}

static void handle_transfers(struct controller *c)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg == CURLMSG_DONE && watcher_owns(&c->watcher, msg->easy_handle))
            watcher_done(&c->watcher, msg->data.result, now_ms());
    }
}

static long until(uint64_t at, uint64_t now)
{
    if (at == NEVER)
        return -1;
    return at > now ? (long)(at - now) : 0;
}

static long min_timeout(long a, long b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

/*
 * Gather the serving inputs, evaluate, publish on /readyz and /metrics,
 * and log a change of state or reason once.
 */
static void serving_update(struct controller *c, uint64_t now)
{
    struct serving_input in = {0};
    char kwhy[256] = "", terr[320] = "", why[sizeof(metrics.serving_why)];
    enum serving_reason r;

    /*
     * One stat per evaluation: the preStop hook's file is seen within a
     * second, and by the gate's next probe at once (a request re-evaluates
     * a state older than SERVING_FRESH_MS).  Sticky: nothing undoes a stop.
     */
    if (!c->stopping && c->cfg->stop_file && access(c->cfg->stop_file, F_OK) == 0) {
        c->stopping = true;
        log_info("stopping: the preStop hook asked; /readyz answers 503 so the announcement is "
                 "withdrawn while keepalived keeps serving until SIGTERM",
                 "stop_file", c->cfg->stop_file, NULL);
    }
    in.stopping = c->stopping;
    in.synced = c->synced;
    in.keepalived = reloader_state(&c->reloader, now, kwhy, sizeof(kwhy));
    in.keepalived_why = kwhy;
    in.check = c->cfg->serving_check;
    in.vs = c->rc.vs;
    in.n_vs = c->rc.n_vs;
    in.protocol = c->rc.protocol;
    in.endpoints = c->vs_endpoints;
    if (in.check == SERVING_CHECK_KERNEL && c->synced) {
        /* only the kernel's word counts: a table that cannot be read is not serving */
        int rc = ipvs_table_read(&c->table, c->cfg->ipvs_table, terr, sizeof(terr));
        if (rc == 0)
            in.table = &c->table;
        else if (rc == -ENOENT) /* the likeliest cause, named */
            snprintf(terr + strlen(terr), sizeof(terr) - strlen(terr),
                     " (is ip_vs loaded? --serving-check none on hosts without IPVS)");
        in.table_error = terr;
    }
    r = serving_evaluate(&in, why, sizeof(why));

    if (r != c->serving || !c->serving_at_ms) {
        bool first = !c->serving_at_ms;
        if (r == SERVING_OK)
            log_info("serving", "reason", serving_reason_label(r), NULL);
        else if (!first || r != SERVING_NOT_SYNCED) /* not at start-up: that is a given */
            log_warn("not serving", "reason", serving_reason_label(r), "detail", why, NULL);
        if (!first)
            metrics.serving_transitions++;
    }
    c->serving = r;
    c->serving_stale = false;
    c->serving_at_ms = now ? now : 1;
    metrics.serving = r == SERVING_OK;
    metrics.serving_reason = (int)r;
    snprintf(metrics.serving_why, sizeof(metrics.serving_why), "%s", why);
}

static uint64_t serving_due(const struct controller *c, uint64_t now)
{
    long grace = reloader_state_due(&c->reloader, now);
    uint64_t period = c->serving == SERVING_OK ? SERVING_PERIOD_MS : SERVING_WAIT_PERIOD_MS;
    uint64_t due = c->serving_stale ? now : c->serving_at_ms + period;

    if (grace >= 0 && now + (uint64_t)grace < due)
        due = now + (uint64_t)grace;
    return due;
}

/* One turn: wait for something, then do whatever is due.  Returns the next timeout. */
static void turn(struct controller *c, long timeout)
{
    struct curl_waitfd fds[2];
    unsigned nfds = 0;
    int running;
    uint64_t now;

    fds[nfds++] = (struct curl_waitfd){.fd = c->sigfd, .events = CURL_WAIT_POLLIN};
    if (c->ms)
        fds[nfds++] =
            (struct curl_waitfd){.fd = metrics_server_fd(c->ms), .events = CURL_WAIT_POLLIN};
    curl_multi_poll(c->multi, fds, nfds, (int)timeout, NULL);
    curl_multi_perform(c->multi, &running);
    handle_transfers(c);
    handle_signals(c);
    if (c->ms) {
        /* a request may be waiting: answer it with a fresh state */
        now = now_ms();
        if (fds[1].revents && now >= c->serving_at_ms + SERVING_FRESH_MS)
            serving_update(c, now);
        metrics_server_run(c->ms);
    }

    now = now_ms();
    if (c->cfg->once && !watcher_synced(&c->watcher) && c->watcher.state == W_WAIT &&
        c->watcher.start_at_ms > now) {
        log_error("--once: could not list; the previous file stays", "output", c->cfg->output,
                  NULL);
        c->exit_code = 1;
        c->stop = true;
        return;
    }
    if (now >= sync_due(c))
        sync_now(c, now);
    else if (c->reload_pending && now >= c->reload_at_ms)
        reload(c, now);
    if (reloader_failed(&c->reloader)) {
        c->exit_code = 1;
        c->stop = true;
    }
    if (c->cfg->once && c->synced && !c->reload_pending)
        c->stop = true;
    now = now_ms();
    if (!c->cfg->once && now >= serving_due(c, now))
        serving_update(c, now);
}

static long next_timeout(struct controller *c)
{
    uint64_t now = now_ms();
    long t = MAX_POLL_MS;

    t = min_timeout(t, watcher_tick(&c->watcher, now));
    t = min_timeout(t, reloader_tick(&c->reloader, now));
    t = min_timeout(t, until(sync_due(c), now));
    if (c->reload_pending)
        t = min_timeout(t, until(c->reload_at_ms, now));
    if (!c->cfg->once)
        t = min_timeout(t, until(serving_due(c, now), now));
    return t;
}

/*
 * curl_multi_init (curl 7.88) makes its wake-up socketpair without
 * SOCK_CLOEXEC and has no hook to change that, so mark every socket we hold
 * close-on-exec once it exists: none is meant for keepalived.  Other
 * descriptors we open carry O_CLOEXEC already; what we inherited is closed
 * in the child before exec (reloader.c).
 */
static int cloexec_sockets(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int rc = 0;

    if (!d)
        return -errno;
    while ((e = readdir(d))) {
        struct stat st;
        int fd = atoi(e->d_name), flags;
        if (fd <= 2 || fd == dirfd(d) || fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
            continue;
        flags = fcntl(fd, F_GETFD);
        if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
            rc = -errno;
    }
    closedir(d);
    return rc;
}

void controller_wiring(const struct ctl_config *cfg, struct watcher_config *wc,
                       struct render_config *rc, char *selector, size_t sellen)
{
    memset(wc, 0, sizeof(*wc));
    if (cfg->mode == SELECT_PODS) {
        wc->res = &k8s_pods;
        wc->selector = cfg->selector;
    } else {
        snprintf(selector, sellen, "kubernetes.io/service-name=%s", cfg->service);
        wc->res = &k8s_endpointslices;
        wc->selector = selector;
        wc->decode.port_name = cfg->port_name;
        /* TUN keeps the virtual port: the slices' ports are not used in flow mode */
        wc->decode.port_fixed = cfg->target_port != 0 || cfg->lb_mode == LB_MODE_FLOW;
    }
    wc->decode.flow = cfg->lb_mode == LB_MODE_FLOW;
    wc->decode.vips = cfg->vips;
    wc->decode.n_vips = cfg->n_vips;
    options_render_config(cfg, rc);
}

static int setup(struct controller *c, const struct ctl_config *cfg)
{
    struct watcher_config wc;
    sigset_t mask;
    char err[256];
    int rc;

    memset(c, 0, sizeof(*c));
    c->cfg = cfg;
    c->sigfd = -1;
    ipvs_table_init(&c->table);
    reloader_init(&c->reloader, cfg->keepalived_pidfile, cfg->keepalived_cmd);

    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    c->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (c->sigfd < 0) {
        log_error("signalfd failed", "error", strerror(errno), NULL);
        return -1;
    }

    if (cfg->metrics_address) {
        c->ms = metrics_server_start(cfg->metrics_address, err, sizeof(err));
        if (!c->ms) {
            log_error("cannot start the metrics server", "reason", err, NULL);
            return -1;
        }
        log_info("serving metrics", "address", cfg->metrics_address, NULL);
    }

    c->api.base = cfg->apiserver;
    c->api.token_file = cfg->token_file;
    c->api.ca_file = cfg->ca_file;
    c->api.insecure = cfg->insecure_skip_tls_verify;
    c->multi = curl_multi_init();
    if (!c->multi) {
        log_error("curl_multi_init failed", NULL);
        return -1;
    }
    rc = cloexec_sockets();
    if (rc < 0)
        log_warn("cannot make every socket close-on-exec; keepalived's child closes them", "error",
                 strerror(-rc), NULL);

    controller_wiring(cfg, &wc, &c->rc, c->selector, sizeof(c->selector));
    wc.api = &c->api;
    wc.namespace = cfg->namespace;
    wc.page_size = cfg->list_page_size;
    wc.list_timeout_s = cfg->list_timeout_s;
    wc.watch_timeout_s = cfg->watch_timeout_s;
    wc.watch_idle_timeout_s = cfg->watch_idle_timeout_s;
    wc.backoff_max_ms = cfg->backoff_max_ms;
    wc.max_list_bytes = cfg->max_list_bytes;
    wc.max_event_bytes = cfg->max_event_bytes;
    wc.on_change = on_change;
    wc.arg = c;
    if (watcher_init(&c->watcher, &wc, c->multi) < 0)
        return -1;
    log_info("starting", "apiserver", cfg->apiserver, "namespace", cfg->namespace, "resource",
             wc.res->kind, "selector", wc.selector, "output", cfg->output, "serving_check",
             cfg->serving_check == SERVING_CHECK_KERNEL ? cfg->ipvs_table : "none", "mode",
             cfg->lb_mode == LB_MODE_FLOW ? "flow" : "nat", NULL);
    /*
     * A preStop hook that ran before this container restarted (a liveness
     * failure runs it too) must not keep the new process from serving.
     */
    if (cfg->stop_file && unlink(cfg->stop_file) == 0)
        log_info("removed a stale stop file", "stop_file", cfg->stop_file, NULL);
    serving_update(c, now_ms()); /* not serving until synced, from the first request on */
    return 0;
}

static void teardown(struct controller *c)
{
    reloader_stop(&c->reloader, 5000);
    watcher_free(&c->watcher);
    if (c->multi)
        curl_multi_cleanup(c->multi);
    metrics_server_stop(c->ms);
    ipvs_table_free(&c->table);
    if (c->sigfd >= 0)
        close(c->sigfd);
}

int controller_run(const struct ctl_config *cfg)
{
    struct controller c;

    if (setup(&c, cfg) < 0) {
        teardown(&c);
        return 1;
    }
    while (!c.stop)
        turn(&c, next_timeout(&c));
    teardown(&c);
    return c.exit_code;
}
