// SPDX-License-Identifier: Apache-2.0
/*
 * main.c - exabgp-helper: the exabgp container's entry point.
 *
 * run:     check everything (no route of someone else's where ours go, no
 *          connected subnet overlapped), discover what is missing, empty the
 *          capability sets exabgp will inherit, install the two routes (all
 *          or none), write exabgp.conf, exec exabgp in our place.
 * cleanup: have the running exabgp withdraw (through the health gate when
 *          it runs one, then a reload with nothing to announce), report it in
 *          WITHDRAWN_FILE for the ipvs container's preStop, let the
 *          withdrawal spread, remove our routes.
 * health-gate (internal): exabgp's API process with HEALTH_URL set (gate.c).
 *
 * Nothing is touched until every input has been checked; a failure after
 * the routes went in takes them back out.  Exit: 0 done, 1 runtime, 2 config.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "caps.h"
#include "conf.h"
#include "gate.h"
#include "log.h"
#include "options.h"
#include "route.h"

#define CONF_MAX (256 * 1024)

/* Exit status for a negative errno from the modules: -EINVAL is the config. */
static int exit_code(int rc)
{
    return rc == -EINVAL ? 2 : 1;
}

static int fail(int rc, const char *err)
{
    fprintf(stderr, "exabgp-helper: %s\n", err);
    return exit_code(rc);
}

/* Find the exabgp binary the way execvp would; 0 or -EINVAL with err set. */
static int resolve_exabgp(const char *name, char *out, size_t outlen, char *err, size_t errlen)
{
    const char *path = getenv("PATH");

    if (strchr(name, '/')) {
        if (access(name, X_OK) < 0) {
            snprintf(err, errlen, "EXABGP %s: %s", name, strerror(errno));
            return -EINVAL;
        }
        snprintf(out, outlen, "%s", name);
        return 0;
    }
    for (const char *p = path ? path : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"; *p;) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n) {
            snprintf(out, outlen, "%.*s/%s", (int)n, p, name);
            if (access(out, X_OK) == 0)
                return 0;
        }
        p += n + (end ? 1 : 0);
    }
    snprintf(err, errlen, "EXABGP %s: not found in PATH (install exabgp or set EXABGP)", name);
    return -EINVAL;
}

/* This program's path for exabgp.conf's run line; 0 or -EINVAL with err set. */
static int resolve_self(struct plan *plan, char *err, size_t errlen)
{
    ssize_t n = readlink("/proc/self/exe", plan->self, sizeof(plan->self) - 1);

    if (n < 0) {
        snprintf(err, errlen, "cannot find this program for HEALTH_URL's gate: /proc/self/exe: %s",
                 strerror(errno));
        return -EINVAL;
    }
    plan->self[n] = '\0';
    if (conf_check_word(plan->self) < 0) {
        snprintf(err, errlen,
                 "HEALTH_URL: exabgp cannot run this program from a path with spaces or "
                 "quotes (%.300s)",
                 plan->self);
        return -EINVAL;
    }
    if (conf_check_word(plan->cfg->exabgp_conf) < 0) {
        char show[300];
        snprintf(err, errlen,
                 "HEALTH_URL: EXABGP_CONF must be a path without spaces or quotes for the "
                 "gate (%s)",
                 log_excerpt(plan->cfg->exabgp_conf, show, sizeof(show)));
        return -EINVAL;
    }
    return 0;
}

/* Settings exabgp 4.2 needs in a container, unless the user chose otherwise. */
static void exabgp_env(void)
{
    static const char *const want[][2] = {
        {"exabgp.daemon.daemonize", "false"}, /* we exec it: it must stay our pid */
        {"exabgp.api.cli", "false"},          /* no named pipes to look for */
        {"exabgp.log.destination", "stdout"}, /* the container log */
        /*
         * uid 0 without capabilities (caps_drop_for_exec): it can re-read
         * its 0600 file when cleanup has it reload, which the "exabgp"
         * user it would otherwise switch to could not.
         */
        {"exabgp.daemon.user", "root"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        char alt[64];
        size_t j;
        for (j = 0; want[i][0][j] && j + 1 < sizeof(alt); j++)
            alt[j] = want[i][0][j] == '.' ? '_' : want[i][0][j];
        alt[j] = '\0';
        if (!getenv(alt))
            setenv(want[i][0], want[i][1], 0);
    }
}

static char *pidfile_path(const struct helper_config *cfg)
{
    char *p;
    return asprintf(&p, "%s.pid", cfg->exabgp_conf) < 0 ? NULL : p;
}

/* The pid in the pid file if it is a live exabgp (run exec'd into it), else 0. */
static pid_t running_exabgp(const struct helper_config *cfg)
{
    char *path = pidfile_path(cfg), *text = NULL, *cmd = NULL, proc[64];
    unsigned long long pid = 0;
    size_t n;
    pid_t found = 0;

    if (!path || read_small_file(path, 64, &text, &n) < 0)
        goto out;
    text[strcspn(text, "\n")] = '\0';
    /* 1 too: in its container, exabgp is process 1 (the cmdline check below
     * keeps a stale file from naming some other init) */
    if (uint_parse(text, 1, 4194304, &pid) < 0)
        goto out;
    snprintf(proc, sizeof(proc), "/proc/%llu/cmdline", pid);
    if (read_small_file(proc, 4096, &cmd, &n) < 0)
        goto out;
    /* NULs separate the arguments; a recycled pid is not exabgp */
    for (size_t i = 0; i < n; i++)
        cmd[i] = cmd[i] ? cmd[i] : ' ';
    if (strstr(cmd, "exabgp"))
        found = (pid_t)pid;
out:
    free(cmd);
    free(text);
    free(path);
    return found;
}

static char *gate_file(const struct helper_config *cfg, const char *suffix)
{
    char *p;
    return asprintf(&p, "%s%s", cfg->exabgp_conf, suffix) < 0 ? NULL : p;
}

static void unlink_gate_files(const struct helper_config *cfg)
{
    const char *const suffixes[] = {GATE_WITHDRAW_SUFFIX, GATE_WITHDRAWN_SUFFIX};
    for (size_t i = 0; i < 2; i++) {
        char *p = gate_file(cfg, suffixes[i]);
        if (p)
            unlink(p);
        free(p);
    }
}

/* Does the exabgp.conf the running exabgp loaded start a health gate? */
static bool running_gated(const struct helper_config *cfg)
{
    char *text = NULL;
    size_t n;
    bool gated;

    if (read_small_file(cfg->exabgp_conf, CONF_MAX, &text, &n) < 0)
        return false;
    gated = strstr(text, "\nprocess health-gate {") != NULL;
    free(text);
    return gated;
}

/*
 * Have the health gate withdraw and stay silent: create the marker it
 * checks at every probe, wait for its confirmation (it writes it once
 * exabgp acknowledged the withdraws).  0, or -ETIMEDOUT.
 */
static int gate_withdraw(const struct helper_config *cfg, char *err, size_t errlen)
{
    char *marker = gate_file(cfg, GATE_WITHDRAW_SUFFIX);
    char *confirm = gate_file(cfg, GATE_WITHDRAWN_SUFFIX);
    int rc = -ENOMEM;

    if (!marker || !confirm)
        goto out;
    unlink(confirm);
    rc = atomic_write_file(marker, "withdraw\n", 9, 0644);
    if (rc < 0) {
        snprintf(err, errlen, "cannot write %s: %s", marker, strerror(-rc));
        goto out;
    }
    rc = -ETIMEDOUT;
    /* the gate looks every GATE_INTERVAL_MS, or after a probe of at most GATE_TIMEOUT_MS */
    for (int waited = 0; waited < 3000; waited += 20) {
        if (access(confirm, F_OK) == 0) {
            rc = 0;
            break;
        }
        usleep(20 * 1000);
    }
    if (rc < 0)
        snprintf(err, errlen, "the health gate did not confirm the withdrawal within 3 s (%s)",
                 confirm);
out:
    free(marker);
    free(confirm);
    return rc;
}

/*
 * Tell the ipvs container's preStop (WITHDRAWN_FILE, in a volume both
 * containers mount) that nothing is announced any more: what it waits for
 * before its drain, after which keepalived may stop.  what: one word.
 */
static void report_withdrawn(const struct helper_config *cfg, const char *what)
{
    char line[64];
    int rc;

    if (!cfg->withdrawn_file)
        return;
    snprintf(line, sizeof(line), "%s\n", what);
    rc = atomic_write_file(cfg->withdrawn_file, line, strlen(line), 0644);
    if (rc < 0)
        log_warn("cannot report the withdrawal; the ipvs container waits its timeout", "path",
                 cfg->withdrawn_file, "error", strerror(-rc), NULL);
}

static int write_conf(const struct plan *plan, bool announce, char *err, size_t errlen)
{
    struct buf b;
    int rc;

    buf_init(&b, CONF_MAX);
    rc = conf_render(plan, announce, &b);
    if (rc == 0)
        /* 0600 whether or not it holds a password: exabgp (uid 0) is its only reader */
        rc = atomic_write_file(plan->cfg->exabgp_conf, b.data, b.len, 0600);
    if (rc < 0)
        snprintf(err, errlen, "cannot write EXABGP_CONF %s: %s", plan->cfg->exabgp_conf,
                 strerror(-rc));
    buf_free(&b);
    return rc == -EINVAL ? -EIO : rc;
}

/*
 * --dry-run: the file run would write and the routes it would install, or
 * that cleanup would remove.  With routes_unknown (why the node could not
 * be seen) only the file is known.
 */
static int print_plan(const struct plan *plan, bool run, const char *routes_unknown)
{
    struct buf b;
    int rc;

    buf_init(&b, CONF_MAX);
    rc = run ? conf_render(plan, true, &b) : 0;
    if (rc == 0 && routes_unknown)
        rc = buf_printf(&b, "\n# routes: unknown, run would fail: %s\n", routes_unknown);
    else if (rc == 0 && run)
        rc = buf_printf(&b, "\n# routes run would install\n");
    else if (rc == 0)
        rc = buf_printf(&b, "# routes cleanup would remove, if present\n");
    if (rc == 0 && !routes_unknown)
        rc = conf_render_routes(plan, &b);
    if (rc == 0)
        fwrite(b.data, 1, b.len, stdout);
    buf_free(&b);
    return rc == 0 && fflush(stdout) == 0 ? 0 : 1;
}

static int do_run(struct plan *plan, struct nl_sock *node, struct nl_sock *pod)
{
    const struct helper_config *cfg = plan->cfg;
    char err[512], ignored[512], pid[32];
    char *pidfile = NULL;
    int rc, removed;

    /*
     * exabgp needs no privilege: it connects out and reads its file.  Empty
     * what it would inherit first: if that fails nothing is installed yet.
     * Our own effective set stays until the exec, for the routes and their
     * rollback.  Emptying the bounding set takes CAP_SETPCAP.
     */
    rc = caps_drop_for_exec(err, sizeof(err));
    if (rc < 0)
        return fail(-EPERM, err);
    rc = route_install(node, pod, plan, err, sizeof(err));
    if (rc < 0)
        return fail(rc, err);
    log_info("routes installed", "prefixes", LOG_INT(cfg->n_prefixes), "node_dev",
             plan->node_ifname, NULL);
    /* a cleanup of an earlier exabgp in this pod must not silence this one's gate */
    unlink_gate_files(cfg);
    if (cfg->withdrawn_file)
        unlink(cfg->withdrawn_file); /* nor the ipvs container's next preStop */
    rc = write_conf(plan, true, err, sizeof(err));
    if (rc < 0) {
        route_remove(node, pod, plan, &removed, ignored, sizeof(ignored));
        return fail(rc, err);
    }

    /* after the exec our pid is exabgp's: cleanup finds it here */
    pidfile = pidfile_path(cfg);
    snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
    if (!pidfile || atomic_write_file(pidfile, pid, strlen(pid), 0644) < 0)
        log_warn("cannot write the pid file; cleanup will not drain", "path", pidfile, NULL);

    /* the netlink sockets are close-on-exec; kept for the rollback below */
    exabgp_env();
    log_info("exec exabgp", "path", plan->exabgp, "conf", cfg->exabgp_conf, NULL);
    fflush(NULL);
    execv(plan->exabgp, (char *[]){(char *)"exabgp", cfg->exabgp_conf, NULL});

    /* still here: leave nothing behind */
    snprintf(err, sizeof(err), "cannot exec %.400s: %s", plan->exabgp, strerror(errno));
    if (pidfile)
        unlink(pidfile);
    free(pidfile);
    route_remove(node, pod, plan, &removed, ignored, sizeof(ignored));
    return fail(-EIO, err);
}

/*
 * no_drain: why the running exabgp cannot be drained (the password could not
 * be read: a file without it would close the sessions instead of
 * withdrawing), or NULL.  Then the routes still go, and cleanup fails.
 */
static int do_cleanup(struct plan *plan, struct nl_sock *node, struct nl_sock *pod,
                      const char *no_drain)
{
    const struct helper_config *cfg = plan->cfg;
    pid_t pid = running_exabgp(cfg);
    char err[512];
    int rc, removed = 0;

    if (pid && no_drain) {
        log_warn("not draining exabgp: its sessions need the password", "pid", LOG_INT(pid),
                 "error", no_drain, NULL);
    } else if (pid && cfg->n_peers) {
        /*
         * A gate's announcements live in exabgp's adj-rib-out and survive a
         * reload: the gate itself must withdraw them, before the reload
         * below could stop it (a file without the gate does).
         */
        if (running_gated(cfg)) {
            rc = gate_withdraw(cfg, err, sizeof(err));
            if (rc == 0)
                log_info("the health gate withdrew", "pid", LOG_INT(pid), NULL);
            else
                log_warn("the health gate did not withdraw; draining anyway", "error", err, NULL);
        }
        rc = write_conf(plan, false, err, sizeof(err));
        if (rc == 0 && kill(pid, SIGUSR1) == 0) {
            log_info("asked exabgp to withdraw", "pid", LOG_INT(pid), "drain_seconds",
                     LOG_INT(cfg->drain_seconds), NULL);
            report_withdrawn(cfg, "withdrawn");
            sleep(cfg->drain_seconds);
        } else {
            log_warn("cannot make exabgp withdraw; removing the routes anyway", "pid", LOG_INT(pid),
                     "error", rc < 0 ? err : strerror(errno), NULL);
        }
    } else if (pid) {
        log_warn("PEERS not set: cannot make exabgp withdraw first", "pid", LOG_INT(pid), NULL);
        report_withdrawn(cfg, "no-peers");
    } else {
        log_info("no exabgp running: nothing to withdraw", "pidfile_of", cfg->exabgp_conf, NULL);
        report_withdrawn(cfg, "not-running");
    }
    rc = route_remove(node, pod, plan, &removed, err, sizeof(err));
    log_info("routes removed", "count", LOG_INT(removed), NULL);
    if (rc < 0)
        return fail(rc, err);
    return no_drain ? fail(-EIO, no_drain) : 0;
}

int main(int argc, char **argv)
{
    struct helper_config cfg;
    struct plan plan = {.cfg = &cfg};
    struct nl_sock *pod = NULL, *node = NULL;
    char err[512], md5_err[512] = "";
    int rc;

    log_init("exabgp-helper", LOG_INFO);
    switch (helper_options_parse(argc, argv, &cfg, err, sizeof(err))) {
    case OPT_EXIT_OK:
        helper_options_free(&cfg);
        return 0;
    case OPT_ERROR:
        helper_options_free(&cfg);
        return fail(-EINVAL, err);
    case OPT_OK:
        break;
    }
    log_init("exabgp-helper", cfg.log_level);
    if (cfg.cmd == CMD_GATE) {
        /* exabgp's API process: no namespaces, no routes, no privilege */
        rc = gate_run(&cfg);
        helper_options_free(&cfg);
        return rc;
    }
    if (cfg.hold_time > HELPER_HOLD_WARN)
        log_warn("long hold time: a load balancer that fails silently keeps its route this long",
                 "hold_time", LOG_INT(cfg.hold_time), NULL);

    /* everything that can be checked before touching anything */
    rc = 0;
    if (cfg.cmd == CMD_RUN)
        rc = resolve_exabgp(cfg.exabgp, plan.exabgp, sizeof(plan.exabgp), err, sizeof(err));
    /* cleanup needs it too: the drained file must keep the sessions' password */
    if (rc == 0 && cfg.md5_password_file &&
        helper_read_md5(cfg.md5_password_file, &plan.md5, md5_err, sizeof(md5_err)) < 0) {
        if (cfg.cmd == CMD_RUN) {
            snprintf(err, sizeof(err), "%s", md5_err);
            rc = -EINVAL;
        }
    }
    /* with the gate, exabgp runs this very program: its path goes in the file
     * (cleanup's drained file too: it keeps the gate) */
    if (rc == 0 && cfg.health_url)
        rc = resolve_self(&plan, err, sizeof(err));
    if (rc == 0)
        rc = route_open_self(&pod, err, sizeof(err));
    if (rc == 0)
        rc = route_open_netns(cfg.node_netns, &node, err, sizeof(err));
    if (rc == 0)
        rc = route_discover_pod(pod, &plan, err, sizeof(err));
    if (rc == 0 && cfg.cmd == CMD_RUN)
        rc = route_discover_node(node, &plan, err, sizeof(err));
    if (rc < 0 && cfg.dry_run && cfg.cmd == CMD_RUN && cfg.pod_ip_set && cfg.node_ip_set) {
        /* what the file would be is known; show it, then fail as run would */
        plan.pod_ip = cfg.pod_ip;
        plan.node_ip = cfg.node_ip;
        plan.router_id = cfg.router_id_set ? cfg.router_id : cfg.pod_ip;
        print_plan(&plan, true, err);
    }
    /* run would replace or shadow what is not ours: refuse before anything is written */
    if (rc == 0 && cfg.cmd == CMD_RUN)
        rc = route_check_connected(node, pod, &plan, err, sizeof(err));
    if (rc == 0 && cfg.cmd == CMD_RUN)
        rc = route_check_foreign(node, pod, &plan, err, sizeof(err));
    if (rc < 0) {
        rc = fail(rc == -ENOENT ? -EINVAL : rc, err);
        goto out;
    }
    plan.router_id = cfg.router_id_set ? cfg.router_id : plan.pod_ip;
    {
        char p[NETADDR_STRLEN], n[NETADDR_STRLEN];
        if (cfg.cmd == CMD_RUN)
            log_info("starting", "pod_ip", netaddr_format(&plan.pod_ip, p), "node_ip",
                     netaddr_format(&plan.node_ip, n), "node_dev", plan.node_ifname, "node_netns",
                     cfg.node_netns, NULL);
        else
            log_info("cleaning up", "pod_ip", netaddr_format(&plan.pod_ip, p), "node_netns",
                     cfg.node_netns, NULL);
    }

    if (cfg.dry_run)
        rc = print_plan(&plan, cfg.cmd == CMD_RUN, NULL);
    else if (cfg.cmd == CMD_RUN)
        rc = do_run(&plan, node, pod); /* returns only on failure */
    else
        rc = do_cleanup(&plan, node, pod, md5_err[0] ? md5_err : NULL);
out:
    route_close(node);
    route_close(pod);
    free(plan.md5);
    helper_options_free(&cfg);
    return rc;
}
