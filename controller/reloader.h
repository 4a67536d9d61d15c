/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reloader.h - make keepalived read ipvs.conf again.
 *
 * Three modes: none (only the file is written), pidfile (SIGHUP the pid
 * named in a file: keepalived runs on its own), and spawn (keepalived runs
 * as our child: we start it after the first file is written, SIGHUP it on
 * changes, restart it when it dies, and give up when it keeps dying).
 */
#ifndef IPVSCTL_RELOADER_H
#define IPVSCTL_RELOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum reload_mode { RELOAD_NONE, RELOAD_PIDFILE, RELOAD_SPAWN };

struct reloader {
    enum reload_mode mode;
    const char *pidfile; /* borrowed */
    const char *cmd;     /* borrowed */
    pid_t child;         /* spawn: 0 when not running */
    uint64_t started_ms;
    uint64_t restart_at_ms; /* spawn: when to start it again, 0: not due */
    unsigned recent_exits;  /* exits inside the window */
    uint64_t window_start_ms;
    bool wanted; /* spawn: keepalived should be running */
    bool failed; /* spawn: gave up restarting */
};

void reloader_init(struct reloader *r, const char *pidfile, const char *cmd);

/* What the serving check knows of keepalived. */
enum keepalived_state {
    KEEPALIVED_UNWATCHED, /* mode none: not ours to know */
    KEEPALIVED_RUNNING,
    KEEPALIVED_STARTING, /* spawn: started less than the start-up grace ago */
    KEEPALIVED_DOWN,
};

/*
 * Is keepalived alive?  spawn: our child exists (and has had the start-up
 * grace to read the file it was started after); pidfile: the process named
 * by the file exists and is not a zombie.  For STARTING and DOWN, why says
 * what was seen.  Reads the pidfile and /proc; never signals.
 */
enum keepalived_state reloader_state(const struct reloader *r, uint64_t now_ms, char *why,
                                     size_t whylen);

/*
 * Ask keepalived to reload.  Returns 0 when signalled (or started),
 * -EAGAIN when it should be retried at *retry_ms (keepalived is starting),
 * or another -errno with err set.
 */
int reloader_reload(struct reloader *r, uint64_t now_ms, uint64_t *retry_ms, char *err,
                    size_t errlen);

/* ms until the child's start-up grace ends (its state changes), or -1. */
long reloader_state_due(const struct reloader *r, uint64_t now_ms);

/* After SIGCHLD: reap our child; schedules a restart or marks failure. */
void reloader_reap(struct reloader *r, uint64_t now_ms);
/* Restart the child if due.  Returns ms until due, or -1. */
long reloader_tick(struct reloader *r, uint64_t now_ms);
/* True when the supervised keepalived could not be kept running. */
bool reloader_failed(const struct reloader *r);
/* Stop the child (SIGTERM, then SIGKILL after grace_ms). */
void reloader_stop(struct reloader *r, unsigned grace_ms);

#endif
