// SPDX-License-Identifier: Apache-2.0
/*
 * options.c - environment variables, flags, defaults and validation for
 * exabgp-helper.
 *
 * One const table drives getopt_long, the environment fallback and --help.
 * The variable names are the contract with the pod manifest (the Downward
 * API fills POD_IP and NODE_IP); the flag of each is its name in lower case
 * with dashes.  Precedence: flag, then environment, then default.  Every
 * message names the variable or flag the bad value came from.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomicfile.h"
#include "buf.h"
#include "options.h"
#include "plan.h"
#include "version.h"

#define NODE_NETNS_DEFAULT  "/var/run/netns/node"
#define EXABGP_CONF_DEFAULT "/etc/exabgp/exabgp.conf"

enum opt_id {
    O_POD_IP = 256,
    O_NODE_IP,
    O_PREFIXES,
    O_PEERS,
    O_LOCAL_AS,
    O_PEER_AS,
    O_ROUTER_ID,
    O_HOLD_TIME,
    O_MD5,
    O_NODE_NETNS,
    O_CONF,
    O_EXABGP,
    O_DRAIN,
    O_HEALTH_URL,
    O_WITHDRAWN_FILE,
    O_LOG_LEVEL,
    O_DRY_RUN,
    O_HELP,
    O_VERSION,
};

struct opt_def {
    const char *env; /* NULL: a flag only */
    const char *flag;
    enum opt_id id;
    const char *arg; /* NULL: a switch */
    const char *help;
};

static const struct opt_def opt_defs[] = {
    {"POD_IP", "pod-ip", O_POD_IP, "ADDR",
     "this pod's address (default: the address of the pod's default-route interface)"},
    {"NODE_IP", "node-ip", O_NODE_IP, "ADDR",
     "the node's address, announced as next hop (default: the node namespace's source "
     "address towards the first peer)"},
    {"SERVICE_PREFIXES", "service-prefixes", O_PREFIXES, "CIDR[,CIDR...]",
     "service ranges to announce and route to this pod (required; IPv4, /8 or longer; see "
     "below for the ranges refused)"},
    {"PEERS", "peers", O_PEERS, "ADDR[,ADDR...]",
     "route reflectors to peer with (required by run)"},
    {"LOCAL_AS", "local-as", O_LOCAL_AS, "AS", "our AS number (default: PEER_AS, iBGP)"},
    {"PEER_AS", "peer-as", O_PEER_AS, "AS", "the route reflectors' AS number (default 65021)"},
    {"ROUTER_ID", "router-id", O_ROUTER_ID, "ADDR", "BGP router id (default: POD_IP)"},
    {"HOLD_TIME", "hold-time", O_HOLD_TIME, "SECONDS",
     "BGP hold time, 3..65535; a silent failure is noticed within it (default 9)"},
    {"MD5_PASSWORD_FILE", "md5-password-file", O_MD5, "PATH",
     "TCP-MD5 password for the sessions, 1..80 bytes (default: none)"},
    {"NODE_NETNS", "node-netns", O_NODE_NETNS, "PATH",
     "the node's network namespace (default " NODE_NETNS_DEFAULT ")"},
    {"EXABGP_CONF", "exabgp-conf", O_CONF, "PATH",
     "exabgp configuration to write (default " EXABGP_CONF_DEFAULT "); its pid file is PATH.pid"},
    {"EXABGP", "exabgp", O_EXABGP, "PATH", "exabgp binary to exec (default: exabgp from PATH)"},
    {"DRAIN_SECONDS", "drain-seconds", O_DRAIN, "SECONDS",
     "cleanup: wait this long after exabgp withdrew before removing the routes (default 2)"},
    {"HEALTH_URL", "health-url", O_HEALTH_URL, "URL",
     "announce only while this answers 200: http://ADDR:PORT/PATH, ADDR an IP address or "
     "localhost; empty: announce unconditionally (default " HEALTH_URL_DEFAULT ")"},
    {"WITHDRAWN_FILE", "withdrawn-file", O_WITHDRAWN_FILE, "PATH",
     "cleanup: create PATH once exabgp withdrew (before the drain), for the ipvs container's "
     "preStop in a shared volume; run removes it (default: none)"},
    {"LOG_LEVEL", "log-level", O_LOG_LEVEL, "LEVEL", "debug, info, warn or error (default info)"},
    {NULL, "dry-run", O_DRY_RUN, NULL,
     "print the configuration and the routes; touch nothing, exec nothing"},
    {NULL, "help", O_HELP, NULL, "show this help"},
    {NULL, "version", O_VERSION, NULL, "show the version"},
};

#define N_OPTS (sizeof(opt_defs) / sizeof(opt_defs[0]))

static void usage_refused(void);

static void usage(void)
{
    printf("Usage: exabgp-helper [run|cleanup] [options]\n\n"
           "run (the default) checks every input, writes exabgp.conf announcing the service\n"
           "prefixes with the node as next hop, routes the prefixes to this pod in the node's\n"
           "network namespace, accepts them locally in the pod's, then execs exabgp.\n"
           "cleanup has that exabgp withdraw the prefixes (it stays up, peered, announcing\n"
           "nothing), waits DRAIN_SECONDS, then removes exactly those routes.\n\n"
           "With HEALTH_URL set, exabgp.conf holds the neighbors and no routes, and exabgp\n"
           "runs this program as its API process (the hidden subcommand health-gate), which\n"
           "GETs HEALTH_URL every %d ms (each within %d ms) and has exabgp announce the\n"
           "prefixes after %d answers of 200 in a row and withdraw them after %d failures in\n"
           "a row (another status, refused, timed out): a withdrawal within %d ms of the URL\n"
           "answering non-200 or refusing, %d ms of it hanging; an announcement within\n"
           "%d ms of it answering 200; the BGP sessions stay up throughout.  Nothing is\n"
           "announced before the first 200s.  Each change is one log line with its reason.\n"
           "cleanup creates EXABGP_CONF.withdraw, which the gate obeys: it withdraws,\n"
           "confirms in EXABGP_CONF.withdrawn and announces no more; run removes both.\n"
           "With WITHDRAWN_FILE set, cleanup then creates that file too (also when no exabgp\n"
           "runs), before it drains: the ipvs container's preStop waits for it, so keepalived\n"
           "keeps forwarding until the withdrawal and the drain are over (make-before-break).\n\n"
           "Each setting is an environment variable, shown first, or the flag after it;\n"
           "a flag wins over its variable.\n\n",
           GATE_INTERVAL_MS, GATE_TIMEOUT_MS, GATE_RISE, GATE_FALL, GATE_INTERVAL_MS * GATE_FALL,
           GATE_INTERVAL_MS + GATE_TIMEOUT_MS * GATE_FALL, GATE_INTERVAL_MS * GATE_RISE);
    for (size_t i = 0; i < N_OPTS; i++) {
        const struct opt_def *d = &opt_defs[i];
        printf("  %s%s--%s%s%s\n      %s\n", d->env ? d->env : "", d->env ? ", " : "", d->flag,
               d->arg ? " " : "", d->arg ? d->arg : "", d->help);
    }
    usage_refused();
    printf("\nRoutes carry route protocol %d (\"exabgp-helper\"), so cleanup touches only ours.\n"
           "Exit status: 0 cleanup or dry run done; 1 runtime failure (netlink, permission,\n"
           "writing the file, dropping capabilities, exec); 2 bad usage or configuration (bad\n"
           "value, refused prefix, a route not ours in the way, missing namespace path,\n"
           "password file or exabgp binary).  run does not return on success.\n",
           RTPROT_EXABGP_HELPER);
}

/* An IPv4 address a host may have: not 0.0.0.0, loopback, multicast or broadcast. */
static int parse_host4(const char *v, struct netaddr *out)
{
    uint32_t a;

    if (netaddr_parse(v, out) < 0 || out->family != AF_INET)
        return -EINVAL;
    a = ntohl(out->u.v4.s_addr);
    if (a == 0 || (a >> 24) == 127 || (a >> 28) == 0xe || a == 0xffffffffu)
        return -EINVAL;
    return 0;
}

int helper_parse_as(const char *v, uint32_t *out)
{
    unsigned long long x;

    /* 23456 is AS_TRANS, a placeholder in 2-byte sessions, never an AS */
    if (uint_parse(v, 1, 0xffffffffULL, &x) < 0 || x == 23456)
        return -EINVAL;
    *out = (uint32_t)x;
    return 0;
}

/*
 * Address space no service prefix may touch: announcing or routing any of it
 * breaks the node or its neighbours (IANA special-purpose registries, RFC
 * 6890 and 8190).  A prefix is refused when it overlaps an entry, either way
 * round.  The first match names the range, so more specific entries come
 * first.  Documentation, benchmarking and shared (CGN) ranges are allowed:
 * tests and some clusters use them.  The IPv6 entries name the range before
 * the IPv4-only check refuses the family.
 */
static const struct refused_range {
    const char *prefix;
    const char *what;
} refused_ranges[] = {
    {"0.0.0.0/8", "\"this network\""},
    {"127.0.0.0/8", "loopback"},
    {"169.254.0.0/16", "link-local"},
    {"224.0.0.0/4", "multicast"},
    {"255.255.255.255/32", "limited broadcast"},
    {"240.0.0.0/4", "reserved"},
    {"::/128", "unspecified"},
    {"::1/128", "loopback"},
    {"::ffff:0:0/96", "IPv4-mapped"},
    {"::/96", "IPv4-compatible (deprecated)"},
    {"fe80::/10", "link-local"},
    {"fec0::/10", "site-local (deprecated)"},
    {"ff00::/8", "multicast"},
};

/* Shortest prefix accepted: a shorter one takes over too much address space. */
static const unsigned min_prefix_len[] = {[0] = 8, [1] = 16}; /* IPv4, IPv6 */

static void usage_refused(void)
{
    printf("\nSERVICE_PREFIXES: a prefix shorter than /%u (IPv4) is refused, and so is any\n"
           "prefix overlapping one of these ranges:\n",
           min_prefix_len[0]);
    for (size_t i = 0; i < sizeof(refused_ranges) / sizeof(refused_ranges[0]); i++)
        printf("  %-18s %s\n", refused_ranges[i].prefix, refused_ranges[i].what);
    printf("run and --dry-run also refuse a prefix overlapping a subnet connected to the node\n"
           "or the pod, and a route for the same prefix that is not ours in either namespace.\n");
}

/* 0, or -EINVAL with err naming the refused range p overlaps. */
static int prefix_refused(const char *show, const struct prefix *p, char *err, size_t errlen)
{
    unsigned min = min_prefix_len[p->addr.family == AF_INET6];

    if (p->len < min) {
        snprintf(err, errlen, "\"%s\" is shorter than /%u, the shortest %s prefix accepted", show,
                 min, p->addr.family == AF_INET6 ? "IPv6" : "IPv4");
        return -EINVAL;
    }
    for (size_t i = 0; i < sizeof(refused_ranges) / sizeof(refused_ranges[0]); i++) {
        struct netaddr r;
        unsigned rlen;

        /* the table is constant text; a typo in it shows in the unit tests */
        if (prefix_parse(refused_ranges[i].prefix, &r, &rlen) < 0)
            continue;
        if (prefix_overlaps(&p->addr, p->len, &r, rlen)) {
            snprintf(err, errlen, "\"%s\" overlaps %s (%s); refusing", show,
                     refused_ranges[i].prefix, refused_ranges[i].what);
            return -EINVAL;
        }
    }
    return 0;
}

/*
 * Split a comma-separated list; calls item(ctx, element) with each element
 * stripped of surrounding spaces.  An empty element is an error.
 */
static int split_list(const char *v, int (*item)(void *ctx, const char *s), void *ctx)
{
    char one[128];
    const char *p = v;

    for (;;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        int rc;

        while (n && isspace((unsigned char)*p)) {
            p++;
            n--;
        }
        while (n && isspace((unsigned char)p[n - 1]))
            n--;
        if (n == 0 || n >= sizeof(one))
            return -EINVAL;
        memcpy(one, p, n);
        one[n] = '\0';
        rc = item(ctx, one);
        if (rc < 0)
            return rc;
        if (!end)
            return 0;
        p = end + 1;
    }
}

struct list_ctx {
    struct helper_config *cfg;
    char *err;
    size_t errlen;
};

static int prefix_item(void *vctx, const char *s)
{
    struct list_ctx *ctx = vctx;
    struct helper_config *cfg = ctx->cfg;
    struct prefix p;
    char show[48], buf[NETADDR_STRLEN];
    int rc = prefix_parse(s, &p.addr, &p.len);

    log_excerpt(s, show, sizeof(show));
    if (rc == -EDOM) {
        /* name the network the user most likely meant */
        struct netaddr net = p.addr;
        uint32_t mask = p.len ? 0xffffffffu << (32 - p.len) : 0;
        if (net.family == AF_INET) {
            net.u.v4.s_addr = htonl(ntohl(net.u.v4.s_addr) & mask);
            snprintf(ctx->err, ctx->errlen, "\"%s\" has host bits set (did you mean %s/%u?)", show,
                     netaddr_format(&net, buf), p.len);
        } else {
            snprintf(ctx->err, ctx->errlen, "\"%s\" has host bits set", show);
        }
        return -EINVAL;
    }
    if (rc < 0 || !strchr(s, '/')) {
        snprintf(ctx->err, ctx->errlen, "\"%s\" is not a CIDR prefix like 10.1.1.0/24", show);
        return -EINVAL;
    }
    if (p.len == 0) {
        snprintf(ctx->err, ctx->errlen, "\"%s\" would announce a default route; refusing", show);
        return -EINVAL;
    }
    if (prefix_refused(show, &p, ctx->err, ctx->errlen) < 0)
        return -EINVAL;
    if (p.addr.family != AF_INET) {
        snprintf(ctx->err, ctx->errlen, "\"%s\": only IPv4 service prefixes are supported", show);
        return -EINVAL;
    }
    for (size_t i = 0; i < cfg->n_prefixes; i++) {
        if (cfg->prefixes[i].len == p.len && !netaddr_cmp(&cfg->prefixes[i].addr, &p.addr)) {
            snprintf(ctx->err, ctx->errlen, "\"%s\" is listed twice", show);
            return -EINVAL;
        }
    }
    if (cfg->n_prefixes == HELPER_MAX_PREFIXES) {
        snprintf(ctx->err, ctx->errlen, "more than %d prefixes", HELPER_MAX_PREFIXES);
        return -EINVAL;
    }
    cfg->prefixes[cfg->n_prefixes++] = p;
    return 0;
}

static int peer_item(void *vctx, const char *s)
{
    struct list_ctx *ctx = vctx;
    struct helper_config *cfg = ctx->cfg;
    struct netaddr a;
    char show[48];

    log_excerpt(s, show, sizeof(show));
    if (parse_host4(s, &a) < 0) {
        snprintf(ctx->err, ctx->errlen, "\"%s\" is not a unicast IPv4 address", show);
        return -EINVAL;
    }
    for (size_t i = 0; i < cfg->n_peers; i++) {
        if (!netaddr_cmp(&cfg->peers[i], &a)) {
            snprintf(ctx->err, ctx->errlen, "\"%s\" is listed twice", show);
            return -EINVAL;
        }
    }
    if (cfg->n_peers == HELPER_MAX_PEERS) {
        snprintf(ctx->err, ctx->errlen, "more than %d peers", HELPER_MAX_PEERS);
        return -EINVAL;
    }
    cfg->peers[cfg->n_peers++] = a;
    return 0;
}

int helper_read_md5(const char *path, char **out, char *err, size_t errlen)
{
    char *s = NULL;
    size_t n;
    int rc = read_small_file(path, 4096, &s, &n);

    if (rc < 0) {
        snprintf(err, errlen, "MD5_PASSWORD_FILE %s: %s", path,
                 rc == -EFBIG ? "too large for a password" : strerror(-rc));
        return rc;
    }
    /* one trailing newline is how editors and `echo` leave it */
    if (n && s[n - 1] == '\n')
        s[--n] = '\0';
    if (n && s[n - 1] == '\r')
        s[--n] = '\0';
    if (n == 0 || n > HELPER_MD5_MAX || strlen(s) != n) {
        snprintf(err, errlen, "MD5_PASSWORD_FILE %s: the password must be 1..%d bytes without NUL",
                 path, HELPER_MD5_MAX);
        free(s);
        return -EINVAL;
    }
    *out = s;
    return 0;
}

/* Apply one setting; source is the variable or flag name, for the message. */
static int apply(struct helper_config *cfg, enum opt_id id, const char *v, const char *source,
                 char *err, size_t errlen)
{
    struct list_ctx ctx = {cfg, err, errlen};
    const char *why = "";
    char show[48];
    unsigned long long x;
    int rc = 0;

    err[0] = '\0';
    switch (id) {
    case O_POD_IP:
        rc = parse_host4(v, &cfg->pod_ip);
        cfg->pod_ip_set = true;
        why = " (want a unicast IPv4 address)";
        break;
    case O_NODE_IP:
        rc = parse_host4(v, &cfg->node_ip);
        cfg->node_ip_set = true;
        why = " (want a unicast IPv4 address)";
        break;
    case O_ROUTER_ID:
        rc = netaddr_parse(v, &cfg->router_id);
        if (rc == 0 && (cfg->router_id.family != AF_INET || cfg->router_id.u.v4.s_addr == 0))
            rc = -EINVAL;
        cfg->router_id_set = true;
        why = " (want a non-zero dotted quad)";
        break;
    case O_PREFIXES:
        cfg->n_prefixes = 0;
        rc = split_list(v, prefix_item, &ctx);
        why = " (an empty or overlong element in the list)";
        break;
    case O_PEERS:
        cfg->n_peers = 0;
        rc = split_list(v, peer_item, &ctx);
        why = " (an empty or overlong element in the list)";
        break;
    case O_LOCAL_AS:
        rc = helper_parse_as(v, &cfg->local_as);
        why = " (want an AS number 1..4294967295, not 23456)";
        break;
    case O_PEER_AS:
        rc = helper_parse_as(v, &cfg->peer_as);
        why = " (want an AS number 1..4294967295, not 23456)";
        break;
    case O_HOLD_TIME:
        rc = uint_parse(v, 3, 65535, &x);
        cfg->hold_time = (unsigned)x;
        why = " (want 3..65535 seconds)";
        break;
    case O_DRAIN:
        rc = uint_parse(v, 0, 3600, &x);
        cfg->drain_seconds = (unsigned)x;
        why = " (want 0..3600 seconds)";
        break;
    case O_MD5:
        rc = *v ? str_assign(&cfg->md5_password_file, v) : -EINVAL;
        break;
    case O_NODE_NETNS:
        rc = *v ? str_assign(&cfg->node_netns, v) : -EINVAL;
        break;
    case O_CONF:
        rc = *v && v[strlen(v) - 1] != '/' ? str_assign(&cfg->exabgp_conf, v) : -EINVAL;
        why = " (want a file path)";
        break;
    case O_EXABGP:
        rc = *v ? str_assign(&cfg->exabgp, v) : -EINVAL;
        break;
    case O_HEALTH_URL: {
        char reason[160];
        free(cfg->health_url);
        cfg->health_url = NULL;
        cfg->health_url_set = true;
        if (!*v)
            break; /* the gate is off */
        if (health_url_parse(v, &cfg->health, reason, sizeof(reason)) < 0) {
            snprintf(err, errlen,
                     "invalid value \"%s\" (%s; want http://ADDR:PORT/PATH, ADDR an IP address or "
                     "localhost, or empty)",
                     log_excerpt(v, show, sizeof(show)), reason);
            rc = -EINVAL;
            break;
        }
        rc = str_assign(&cfg->health_url, v);
        break;
    }
    case O_WITHDRAWN_FILE:
        rc = *v && v[strlen(v) - 1] != '/' ? str_assign(&cfg->withdrawn_file, v) : -EINVAL;
        why = " (want a file path)";
        break;
    case O_LOG_LEVEL:
        rc = log_level_parse(v, &cfg->log_level) < 0 ? -EINVAL : 0;
        why = " (want debug, info, warn or error)";
        break;
    case O_DRY_RUN:
        cfg->dry_run = true;
        break;
    case O_HELP:
    case O_VERSION:
        break;
    }
    if (rc == -ENOMEM) {
        snprintf(err, errlen, "out of memory");
        return rc;
    }
    if (rc < 0) {
        if (err[0]) {
            char detail[256];
            snprintf(detail, sizeof(detail), "%s", err);
            snprintf(err, errlen, "%s: %s", source, detail);
        } else {
            snprintf(err, errlen, "%s: invalid value \"%s\"%s", source,
                     log_excerpt(v, show, sizeof(show)), why);
        }
        return -EINVAL;
    }
    return 0;
}

static void defaults(struct helper_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->cmd = CMD_RUN;
    cfg->peer_as = 65021;
    cfg->hold_time = 9;
    cfg->drain_seconds = 2;
    cfg->log_level = LOG_INFO;
}

static int finish(struct helper_config *cfg, bool local_as_set, char *err, size_t errlen)
{
    if ((!cfg->node_netns && str_assign(&cfg->node_netns, NODE_NETNS_DEFAULT) < 0) ||
        (!cfg->exabgp_conf && str_assign(&cfg->exabgp_conf, EXABGP_CONF_DEFAULT) < 0) ||
        (!cfg->exabgp && str_assign(&cfg->exabgp, "exabgp") < 0)) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if (!cfg->health_url_set) {
        if (health_url_parse(HEALTH_URL_DEFAULT, &cfg->health, err, errlen) < 0 ||
            str_assign(&cfg->health_url, HEALTH_URL_DEFAULT) < 0) {
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
    }
    if (!local_as_set)
        cfg->local_as = cfg->peer_as;
    if (cfg->n_prefixes == 0) {
        snprintf(err, errlen, "SERVICE_PREFIXES is required (the service ranges to announce)");
        return -EINVAL;
    }
    /* cleanup can do without: it then only removes the routes */
    if (cfg->n_peers == 0 && cfg->cmd == CMD_RUN) {
        snprintf(err, errlen, "PEERS is required (the route reflector addresses)");
        return -EINVAL;
    }
    /* exabgp starts the gate from the file run wrote, with these set */
    if (cfg->cmd == CMD_GATE && (!cfg->health_url || !cfg->node_ip_set)) {
        snprintf(err, errlen,
                 "health-gate needs HEALTH_URL and NODE_IP (exabgp runs it, from "
                 "the exabgp.conf written by run)");
        return -EINVAL;
    }
    return 0;
}

enum opt_result helper_options_parse(int argc, char **argv, struct helper_config *cfg, char *err,
                                     size_t errlen)
{
    struct option longopts[N_OPTS + 1];
    bool local_as_set = false;
    char name[64], show[48];
    int c;

    defaults(cfg);
    for (size_t i = 0; i < N_OPTS; i++) {
        longopts[i] = (struct option){opt_defs[i].flag, opt_defs[i].arg ? required_argument : 0,
                                      NULL, (int)opt_defs[i].id};
    }
    memset(&longopts[N_OPTS], 0, sizeof(longopts[N_OPTS]));

    for (size_t i = 0; i < N_OPTS; i++) {
        const char *v = opt_defs[i].env ? getenv(opt_defs[i].env) : NULL;
        /*
         * an empty variable is how a manifest leaves a Downward API field
         * unset; HEALTH_URL alone takes empty as a value (the gate off)
         */
        if (!v || (!*v && opt_defs[i].id != O_HEALTH_URL))
            continue;
        if (apply(cfg, opt_defs[i].id, v, opt_defs[i].env, err, errlen) < 0)
            return OPT_ERROR;
        local_as_set |= opt_defs[i].id == O_LOCAL_AS;
    }

    /* 0, not 1: glibc then forgets the state of an earlier parse (tests, fuzzer) */
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (c == '?' || c == ':') {
            const char *bad = argv[optind - 1];
            snprintf(err, errlen, "%s option %s (see --help)",
                     c == '?' ? "unknown" : "missing value for",
                     log_excerpt(bad, show, sizeof(show)));
            return OPT_ERROR;
        }
        if (c == O_HELP) {
            usage();
            return OPT_EXIT_OK;
        }
        if (c == O_VERSION) {
            printf("exabgp-helper %s\n", LB_VERSION);
            return OPT_EXIT_OK;
        }
        for (size_t i = 0; i < N_OPTS; i++) {
            if ((int)opt_defs[i].id == c)
                snprintf(name, sizeof(name), "--%s", opt_defs[i].flag);
        }
        if (apply(cfg, (enum opt_id)c, optarg ? optarg : "", name, err, errlen) < 0)
            return OPT_ERROR;
        local_as_set |= c == O_LOCAL_AS;
    }
    if (optind < argc) {
        if (!strcmp(argv[optind], "run")) {
            cfg->cmd = CMD_RUN;
        } else if (!strcmp(argv[optind], "cleanup")) {
            cfg->cmd = CMD_CLEANUP;
        } else if (!strcmp(argv[optind], "health-gate")) {
            cfg->cmd = CMD_GATE; /* internal: exabgp's API process */
        } else {
            snprintf(err, errlen, "unknown subcommand \"%s\" (want run or cleanup)",
                     log_excerpt(argv[optind], show, sizeof(show)));
            return OPT_ERROR;
        }
        if (optind + 1 < argc) {
            snprintf(err, errlen, "unexpected argument \"%s\"",
                     log_excerpt(argv[optind + 1], show, sizeof(show)));
            return OPT_ERROR;
        }
    }
    if (finish(cfg, local_as_set, err, errlen) < 0)
        return OPT_ERROR;
    return OPT_OK;
}

void helper_options_free(struct helper_config *cfg)
{
    free(cfg->md5_password_file);
    free(cfg->node_netns);
    free(cfg->exabgp_conf);
    free(cfg->exabgp);
    free(cfg->health_url);
    free(cfg->withdrawn_file);
    cfg->md5_password_file = cfg->node_netns = cfg->exabgp_conf = cfg->exabgp = NULL;
    cfg->health_url = cfg->withdrawn_file = NULL;
}
