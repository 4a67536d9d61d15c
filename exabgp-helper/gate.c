// SPDX-License-Identifier: Apache-2.0
/*
 * gate.c - the health gate, exabgp's API process.
 *
 * exabgp starts it with pipes on stdin and stdout (stderr is exabgp's, so
 * the log lines land in the container log), takes every line on stdout as
 * a text command, and with exabgp.api.ack (the default) answers each on
 * stdin with "done" or "error".  An API announcement lives in exabgp's
 * adj-rib-out: it reaches each neighbor when its session comes up and
 * stays across sessions and configuration reloads until withdrawn, so the
 * gate only speaks on a change.  A withdraw is a BGP UPDATE: the sessions
 * stay up.
 *
 * exabgp respawns a dead API process (5 times a minute, then it exits),
 * so a fresh gate starts undecided rather than withdrawn: a respawn does
 * not flap a healthy announcement.  cleanup's marker file wins over
 * everything: once it exists the gate withdraws and never announces again.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "buf.h"
#include "gate.h"
#include "health.h"
#include "log.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

enum gate_action gate_step(struct gate_state *g, bool ok)
{
    if (ok) {
        g->fails = 0;
        if (g->oks < GATE_RISE)
            g->oks++;
        if (g->oks >= GATE_RISE && g->status != GATE_UP) {
            g->status = GATE_UP;
            return GATE_ANNOUNCE;
        }
    } else {
        g->oks = 0;
        if (g->fails < GATE_FALL)
            g->fails++;
        if (g->fails >= GATE_FALL && g->status != GATE_DOWN) {
            g->status = GATE_DOWN;
            return GATE_WITHDRAW;
        }
    }
    return GATE_NONE;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct gate {
    const struct helper_config *cfg;
    char node[NETADDR_STRLEN];
    char *marker, *confirm;
    bool acks;        /* exabgp answers each command */
    unsigned unacked; /* commands written, not yet answered */
    char in[4096];    /* partial line from exabgp */
    size_t in_len;
};

/* One command per prefix; 0 or -errno (exabgp is gone). */
static int tell(struct gate *g, const char *verb)
{
    const struct helper_config *cfg = g->cfg;
    struct buf b;
    char a[NETADDR_STRLEN];
    int rc = 0;
    size_t off = 0;

    buf_init(&b, 64 * 1024);
    for (size_t i = 0; i < cfg->n_prefixes && rc == 0; i++)
        rc = buf_printf(&b, "%s route %s/%u next-hop %s\n", verb,
                        netaddr_format(&cfg->prefixes[i].addr, a), cfg->prefixes[i].len, g->node);
    while (rc == 0 && off < b.len) {
        ssize_t n = write(STDOUT_FILENO, b.data + off, b.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = -errno;
        else
            off += (size_t)n;
    }
    buf_free(&b);
    if (rc == 0 && g->acks)
        g->unacked += (unsigned)cfg->n_prefixes;
    return rc;
}

/* Lines from exabgp: acknowledgements, or "shutdown".  0, or 1 to stop. */
static int take_line(struct gate *g, const char *line)
{
    if (!strcmp(line, "done") || !strcmp(line, "error")) {
        if (g->unacked)
            g->unacked--;
        if (!strcmp(line, "error"))
            log_warn("exabgp refused a command of the health gate", NULL);
        return 0;
    }
    if (!strcmp(line, "shutdown"))
        return 1;
    log_debug("ignoring a line from exabgp", "line", line, NULL);
    return 0;
}

/* Read what exabgp wrote; 0, 1 to stop (EOF, shutdown). */
static int read_stdin(struct gate *g)
{
    ssize_t n = read(STDIN_FILENO, g->in + g->in_len, sizeof(g->in) - 1 - g->in_len);
    char *line, *nl;

    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 0 : 1;
    if (n == 0)
        return 1;
    g->in_len += (size_t)n;
    g->in[g->in_len] = '\0';
    line = g->in;
    while ((nl = strchr(line, '\n'))) {
        *nl = '\0';
        if (nl > line && nl[-1] == '\r')
            nl[-1] = '\0';
        if (take_line(g, line))
            return 1;
        line = nl + 1;
    }
    g->in_len = strlen(line);
    memmove(g->in, line, g->in_len);
    if (g->in_len == sizeof(g->in) - 1)
        g->in_len = 0; /* a line this long is no answer of exabgp's */
    return 0;
}

static bool env_false(const char *dotted, const char *underscored)
{
    const char *v = getenv(dotted);
    if (!v)
        v = getenv(underscored);
    return v && (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no"));
}

int gate_run(const struct helper_config *cfg)
{
    struct gate g = {.cfg = cfg};
    struct gate_state st = {GATE_UNKNOWN, 0, 0};
    struct sigaction sa = {.sa_handler = on_signal};
    long long next_probe;
    bool draining = false, confirmed = false;
    const char *why_stop = "exabgp closed the pipe or said shutdown";
    int rc = 0;

    netaddr_format(&cfg->node_ip, g.node);
    if (asprintf(&g.marker, "%s%s", cfg->exabgp_conf, GATE_WITHDRAW_SUFFIX) < 0 ||
        asprintf(&g.confirm, "%s%s", cfg->exabgp_conf, GATE_WITHDRAWN_SUFFIX) < 0) {
        log_error("out of memory", NULL);
        return 1;
    }
    g.acks = !env_false("exabgp.api.ack", "exabgp_api_ack");
    /* no SA_RESTART: a signal ends the poll below at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);

    log_info("health gate started", "url", cfg->health_url, "interval_ms",
             LOG_INT(GATE_INTERVAL_MS), "timeout_ms", LOG_INT(GATE_TIMEOUT_MS), "rise",
             LOG_INT(GATE_RISE), "fall", LOG_INT(GATE_FALL), "prefixes", LOG_INT(cfg->n_prefixes),
             "next_hop", g.node, NULL);
    next_probe = now_ms();
    while (!stop_signal) {
        struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
        long long wait;
        int n;

        if (!draining && access(g.marker, F_OK) == 0) {
            /* cleanup: withdraw whatever the state, and stay withdrawn */
            draining = true;
            log_info("withdrawing: cleanup asked (the pod is stopping); announcing no more",
                     "marker", g.marker, NULL);
            rc = tell(&g, "withdraw");
            if (rc < 0)
                break;
            st.status = GATE_DOWN;
        }
        if (draining && !confirmed && g.unacked == 0) {
            confirmed = true;
            if (atomic_write_file(g.confirm, "withdrawn\n", 10, 0644) < 0)
                log_warn("cannot confirm the withdrawal to cleanup", "path", g.confirm, NULL);
        }
        if (!draining && now_ms() >= next_probe) {
            struct health_result res;
            bool ok;
            enum gate_action act;

            next_probe = now_ms() + GATE_INTERVAL_MS;
            ok = health_probe(&cfg->health, GATE_TIMEOUT_MS, &res) == 0 && res.status == 200;
            act = gate_step(&st, ok);
            if (act == GATE_ANNOUNCE) {
                log_info("announcing: the health endpoint answers 200", "url", cfg->health_url,
                         "reason", res.reason, "prefixes", LOG_INT(cfg->n_prefixes), NULL);
                rc = tell(&g, "announce");
            } else if (act == GATE_WITHDRAW) {
                log_warn("withdrawing: the health endpoint fails", "url", cfg->health_url, "reason",
                         res.reason, "failures", LOG_INT(GATE_FALL), NULL);
                rc = tell(&g, "withdraw");
            } else if (!ok) {
                log_debug("health probe failed", "url", cfg->health_url, "reason", res.reason,
                          NULL);
            }
            if (rc < 0)
                break;
        }
        wait = draining ? GATE_INTERVAL_MS : next_probe - now_ms();
        n = poll(&pfd, 1, (int)(wait < 0 ? 0 : wait));
        if (n > 0 && read_stdin(&g))
            break;
    }
    if (rc < 0) {
        log_error("health gate: cannot write to exabgp", "error", strerror(-rc), NULL);
    } else {
        if (stop_signal)
            why_stop = strsignal(stop_signal);
        log_info("health gate stopped", "reason", why_stop, NULL);
    }
    free(g.marker);
    free(g.confirm);
    return rc < 0 ? 1 : 0;
}
