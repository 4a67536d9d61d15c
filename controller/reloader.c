// SPDX-License-Identifier: Apache-2.0
/*
 * reloader.c - SIGHUP keepalived by pidfile, or run and supervise it.
 *
 * keepalived must stay in the foreground under supervision (-n): a child
 * that exits 0 at once has daemonized, which we report as such.  A SIGHUP
 * sent before keepalived has installed its handlers would kill it, so a
 * reload within STARTUP_GRACE_MS of a start waits until the grace is over.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "log.h"
#include "metrics.h"
#include "netaddr.h"
#include "reloader.h"

#define STARTUP_GRACE_MS  1000
#define RESTART_WINDOW_MS 60000
#define RESTART_MAX       5

void reloader_init(struct reloader *r, const char *pidfile, const char *cmd)
{
    memset(r, 0, sizeof(*r));
    r->pidfile = pidfile;
    r->cmd = cmd;
    r->mode = pidfile ? RELOAD_PIDFILE : cmd ? RELOAD_SPAWN : RELOAD_NONE;
}

static int read_pid(const char *path, pid_t *pid, char *err, size_t errlen)
{
    char *text;
    unsigned long long v;
    int rc = read_small_file(path, 64, &text, NULL);

    if (rc < 0) {
        snprintf(err, errlen, "cannot read keepalived pidfile %s: %s", path, strerror(-rc));
        return rc;
    }
    text[strcspn(text, " \t\r\n")] = '\0';
    rc = uint_parse(text, 2, 4194304, &v);
    free(text);
    if (rc < 0) {
        snprintf(err, errlen, "keepalived pidfile %s does not hold a process id", path);
        return -EINVAL;
    }
    *pid = (pid_t)v;
    return 0;
}

/*
 * In the child, between fork and exec: close every descriptor above
 * stderr.  Ours are all close-on-exec already; this also catches what we
 * inherited from the runtime and whatever a library made without the flag
 * (curl's resolver makes a socketpair per lookup).  Only async-signal-safe
 * calls: the parent may have threads (curl's resolver) holding locks.
 */
static void close_inherited(void)
{
    struct rlimit rl;
    unsigned max = 65536;

    if (close_range(3, ~0U, 0) == 0)
        return;
    /* kernels before 5.9: close them one by one, up to the descriptor limit */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < max)
        max = (unsigned)rl.rlim_cur;
    for (unsigned fd = 3; fd < max; fd++)
        close((int)fd);
}

static int spawn(struct reloader *r, uint64_t now_ms, char *err, size_t errlen)
{
    sigset_t none;
    char *cmd;
    pid_t pid;

    /* Everything the child needs is made before fork: no malloc after it. */
    if (asprintf(&cmd, "exec %s", r->cmd) < 0) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    sigemptyset(&none);
    pid = fork();
    if (pid < 0) {
        int e = errno;
        free(cmd);
        snprintf(err, errlen, "cannot fork keepalived: %s", strerror(e));
        return -e;
    }
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        close_inherited();
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    free(cmd);
    r->child = pid;
    r->started_ms = now_ms;
    r->restart_at_ms = 0;
    log_info("keepalived started", "pid", LOG_INT(pid), "cmd", r->cmd, NULL);
    return 0;
}

int reloader_reload(struct reloader *r, uint64_t now_ms, uint64_t *retry_ms, char *err,
                    size_t errlen)
{
    pid_t pid;
    int rc;

    switch (r->mode) {
    case RELOAD_NONE:
        return 0;
    case RELOAD_PIDFILE:
        rc = read_pid(r->pidfile, &pid, err, errlen);
        if (rc < 0)
            return rc;
        if (kill(pid, SIGHUP) < 0) {
            rc = -errno;
            snprintf(err, errlen, "cannot signal keepalived pid %d from %s: %s", (int)pid,
                     r->pidfile, strerror(errno));
            return rc;
        }
        log_info("keepalived reloaded", "pid", LOG_INT(pid), "pidfile", r->pidfile, NULL);
        return 0;
    case RELOAD_SPAWN:
        if (r->failed) {
            snprintf(err, errlen, "keepalived is not running");
            return -ESRCH;
        }
        if (!r->wanted) { /* the first file is written: start it now */
            r->wanted = true;
            return spawn(r, now_ms, err, errlen);
        }
        if (!r->child) {
            /* it reads the current file when it is restarted */
            return 0;
        }
        if (now_ms < r->started_ms + STARTUP_GRACE_MS) {
            *retry_ms = r->started_ms + STARTUP_GRACE_MS;
            return -EAGAIN;
        }
        if (kill(r->child, SIGHUP) < 0) {
            snprintf(err, errlen, "cannot signal keepalived pid %d: %s", (int)r->child,
                     strerror(errno));
            return -errno;
        }
        log_info("keepalived reloaded", "pid", LOG_INT(r->child), NULL);
        return 0;
    }
    return 0;
}

void reloader_reap(struct reloader *r, uint64_t now_ms)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        char how[64];
        if (pid != r->child)
            continue;
        r->child = 0;
        if (WIFEXITED(status))
            snprintf(how, sizeof(how), "exit %d", WEXITSTATUS(status));
        else
            snprintf(how, sizeof(how), "signal %d", WTERMSIG(status));
        metrics.errors[ERR_KEEPALIVED]++;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
            now_ms < r->started_ms + STARTUP_GRACE_MS)
            log_error("keepalived exited at once with status 0; does --keepalived-cmd keep it in "
                      "the foreground (-n)?",
                      "pid", LOG_INT(pid), NULL);
        else
            log_error("keepalived exited", "pid", LOG_INT(pid), "how", how, NULL);

        if (now_ms - r->window_start_ms > RESTART_WINDOW_MS) {
            r->window_start_ms = now_ms;
            r->recent_exits = 0;
        }
        if (++r->recent_exits > RESTART_MAX) {
            log_error("keepalived keeps exiting; giving up", "exits", LOG_INT(r->recent_exits),
                      "window_s", LOG_INT(RESTART_WINDOW_MS / 1000), NULL);
            r->failed = true;
            return;
        }
        r->restart_at_ms = now_ms + (500ULL << (r->recent_exits - 1));
    }
}

long reloader_tick(struct reloader *r, uint64_t now_ms)
{
    char err[256];

    if (r->mode != RELOAD_SPAWN || !r->wanted || r->child || r->failed || !r->restart_at_ms)
        return -1;
    if (now_ms < r->restart_at_ms)
        return (long)(r->restart_at_ms - now_ms);
    if (spawn(r, now_ms, err, sizeof(err)) < 0) {
        log_error("cannot restart keepalived", "reason", err, NULL);
        r->failed = true;
        return -1;
    }
    metrics.keepalived_restarts++;
    return -1;
}

/* 1 if pid is a live process, 0 if gone or a zombie, judged by kill(0) and /proc. */
static int process_alive(pid_t pid)
{
    char path[64], *stat = NULL, *close;
    int alive = 1;

    if (kill(pid, 0) < 0 && errno == ESRCH)
        return 0;
    /* a zombie still takes signals: its state is after the last ')' of stat */
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if (read_small_file(path, 4096, &stat, NULL) == 0) {
        close = strrchr(stat, ')');
        if (close && close[1] == ' ' && (close[2] == 'Z' || close[2] == 'X'))
            alive = 0;
        free(stat);
    }
    return alive;
}

enum keepalived_state reloader_state(const struct reloader *r, uint64_t now_ms, char *why,
                                     size_t whylen)
{
    pid_t pid;

    switch (r->mode) {
    case RELOAD_NONE:
        break;
    case RELOAD_PIDFILE:
        if (read_pid(r->pidfile, &pid, why, whylen) < 0)
            return KEEPALIVED_DOWN;
        if (!process_alive(pid)) {
            snprintf(why, whylen, "pid %d from %s is not running", (int)pid, r->pidfile);
            return KEEPALIVED_DOWN;
        }
        return KEEPALIVED_RUNNING;
    case RELOAD_SPAWN:
        if (r->failed) {
            snprintf(why, whylen, "it kept exiting and is no longer restarted");
            return KEEPALIVED_DOWN;
        }
        if (!r->wanted) {
            snprintf(why, whylen, "not started yet");
            return KEEPALIVED_DOWN;
        }
        if (!r->child) {
            if (r->restart_at_ms > now_ms)
                snprintf(why, whylen, "it exited; restarting in %llu ms",
                         (unsigned long long)(r->restart_at_ms - now_ms));
            else
                snprintf(why, whylen, "it exited; restarting");
            return KEEPALIVED_DOWN;
        }
        if (now_ms < r->started_ms + STARTUP_GRACE_MS) {
            snprintf(why, whylen, "pid %d started %llu ms ago", (int)r->child,
                     (unsigned long long)(now_ms - r->started_ms));
            return KEEPALIVED_STARTING;
        }
        return KEEPALIVED_RUNNING;
    }
    return KEEPALIVED_UNWATCHED;
}

/* Within the start-up grace of the child: when its state may next change. */
long reloader_state_due(const struct reloader *r, uint64_t now_ms)
{
    if (r->mode != RELOAD_SPAWN || !r->child || now_ms >= r->started_ms + STARTUP_GRACE_MS)
        return -1;
    return (long)(r->started_ms + STARTUP_GRACE_MS - now_ms);
}

bool reloader_failed(const struct reloader *r)
{
    return r->failed;
}

void reloader_stop(struct reloader *r, unsigned grace_ms)
{
    struct timespec ts = {0, 20 * 1000 * 1000};
    int status;

    if (r->mode != RELOAD_SPAWN || !r->child)
        return;
    kill(r->child, SIGTERM);
    for (unsigned waited = 0; waited < grace_ms; waited += 20) {
        if (waitpid(r->child, &status, WNOHANG) == r->child) {
            r->child = 0;
            return;
        }
        nanosleep(&ts, NULL);
    }
    log_warn("keepalived did not stop; killing it", "pid", LOG_INT(r->child), NULL);
    kill(r->child, SIGKILL);
    waitpid(r->child, &status, 0);
    r->child = 0;
}
