// SPDX-License-Identifier: Apache-2.0
/*
 * options.c - flags, IPVS_CONTROLLER_* environment variables, in-cluster
 * defaults and validation for ipvs-controller.
 *
 * One const table drives getopt_long, the environment fallback and --help,
 * so a flag cannot exist without its variable and its documentation.
 * Precedence: flag, then environment, then default.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "atomicfile.h"
#include "buf.h"
#include "netaddr.h"
#include "options.h"
#include "version.h"

#define SA_DIR_DEFAULT "/var/run/secrets/kubernetes.io/serviceaccount"

#define STR_(x) #x
#define STR(x)  STR_(x)

enum opt_id {
    O_APISERVER = 256,
    O_TOKEN_FILE,
    O_CA_FILE,
    O_INSECURE,
    O_SA_DIR,
    O_NAMESPACE,
    O_SELECTOR,
    O_SERVICE,
    O_PORT_NAME,
    O_VS,
    O_MODE,
    O_TARGET_PORT,
    O_LB_ALGO,
    O_LB_KIND,
    O_PROTOCOL,
    O_HC,
    O_HC_INTERVAL,
    O_HC_TIMEOUT,
    O_HC_RETRY,
    O_HC_RETRY_DELAY,
    O_PERSISTENCE,
    O_OUTPUT,
    O_PIDFILE,
    O_CMD,
    O_METRICS,
    O_SERVING_CHECK,
    O_IPVS_TABLE,
    O_STOP_FILE,
    O_ONCE,
    O_DEBOUNCE,
    O_MAX_DELAY,
    O_MIN_RELOAD,
    O_BACKOFF_MAX,
    O_WATCH_TIMEOUT,
    O_WATCH_IDLE,
    O_LIST_TIMEOUT,
    O_PAGE_SIZE,
    O_MAX_LIST,
    O_MAX_EVENT,
    O_LOG_LEVEL,
    O_HELP,
    O_VERSION,
};

struct opt_def {
    const char *name;
    enum opt_id id;
    const char *arg; /* NULL: a switch */
    const char *help;
};

static const struct opt_def opt_defs[] = {
    {"apiserver", O_APISERVER, "URL",
     "API server, http:// or https:// (default: in-cluster, from KUBERNETES_SERVICE_HOST/_PORT)"},
    {"token-file", O_TOKEN_FILE, "PATH",
     "bearer token, re-read before every request (in-cluster: the service account's)"},
    {"ca-file", O_CA_FILE, "PATH",
     "CA bundle for the API server (in-cluster: the service account's)"},
    {"insecure-skip-tls-verify", O_INSECURE, NULL, "do not verify the API server's certificate"},
    {"serviceaccount-dir", O_SA_DIR, "DIR", "service account files (default " SA_DIR_DEFAULT ")"},
    {"namespace", O_NAMESPACE, "NS",
     "namespace to watch (default: the service account's, else default)"},
    {"selector", O_SELECTOR, "LABELS",
     "watch Pods matching this label selector (at most " STR(OPT_SELECTOR_MAX) " bytes)"},
    {"service", O_SERVICE, "NAME", "watch this Service's EndpointSlices"},
    {"port-name", O_PORT_NAME, "NAME", "EndpointSlice port to use when a slice has several"},
    {"virtual-server", O_VS, "ADDR:PORT|fwmark:N",
     "a virtual server; repeatable (environment: comma-separated)"},
    {"mode", O_MODE, "nat|flow",
     "nat (default), or flow: mh, TUN, oldest real server first; flows survive load balancer "
     "changes (see Flow mode)"},
    {"target-port", O_TARGET_PORT, "PORT",
     "the pods' port (default: the virtual port; --service: the EndpointSlice port)"},
    {"lb-algo", O_LB_ALGO, "NAME",
     "IPVS scheduler: rr wrr lc wlc lblc lblcr dh sh mh sed nq fo ovf twos (default rr; "
     "flow: mh)"},
    {"lb-kind", O_LB_KIND, "NAT|DR|TUN", "forwarding method (default NAT; flow: TUN)"},
    {"protocol", O_PROTOCOL, "TCP|UDP|SCTP", "virtual server protocol (default TCP)"},
    {"health-check", O_HC, "tcp|http:PATH|none", "real server health check (default tcp)"},
    {"health-check-interval", O_HC_INTERVAL, "SECONDS",
     "seconds between checks, to ms (default 2)"},
    {"health-check-timeout", O_HC_TIMEOUT, "SECONDS",
     "connect timeout of a check, to ms (default 2)"},
    {"health-check-retry", O_HC_RETRY, "N", "failed checks before removal, less one (default 1)"},
    {"health-check-retry-delay", O_HC_RETRY_DELAY, "SECONDS",
     "wait before a retry, to ms (default 1)"},
    {"persistence-timeout", O_PERSISTENCE, "SECONDS", "client persistence; 0 disables (default 0)"},
    {"output", O_OUTPUT, "PATH", "file to write (default /etc/keepalived/ipvs.conf)"},
    {"keepalived-pidfile", O_PIDFILE, "PATH", "reload: SIGHUP the pid in this file"},
    {"keepalived-cmd", O_CMD, "CMD",
     "reload: run CMD (through /bin/sh, keep it in the foreground: -n), supervise it, SIGHUP it"},
    {"metrics-address", O_METRICS, "ADDR:PORT", "serve /metrics, /healthz and /readyz here"},
    {"serving-check", O_SERVING_CHECK, "kernel|none",
     "/readyz consults the kernel's IPVS table, or not (none: hosts without IPVS); default kernel"},
    {"ipvs-table", O_IPVS_TABLE, "PATH",
     "the table the kernel check reads (default " IPVS_TABLE_PATH "; tests give a fixture)"},
    {"stop-file", O_STOP_FILE, "PATH",
     "the pod is stopping once PATH exists: /readyz 503 (see Stopping); removed at start"},
    {"once", O_ONCE, NULL, "list, render, reload once, then exit"},
    {"debounce-ms", O_DEBOUNCE, "MS", "quiet time before rendering after a change (default 50)"},
    {"max-delay-ms", O_MAX_DELAY, "MS", "longest a change waits under a burst (default 500)"},
    {"min-reload-interval-ms", O_MIN_RELOAD, "MS", "least time between two reloads (default 500)"},
    {"backoff-max-ms", O_BACKOFF_MAX, "MS", "longest wait between reconnects (default 30000)"},
    {"watch-timeout", O_WATCH_TIMEOUT, "SECONDS",
     "ask the server to end each watch after about this long (default 300)"},
    {"watch-idle-timeout", O_WATCH_IDLE, "SECONDS",
     "reconnect a watch silent for this long (default 120)"},
    {"list-timeout", O_LIST_TIMEOUT, "SECONDS",
     "give up on a list request after this (default 60)"},
    {"list-page-size", O_PAGE_SIZE, "N", "objects per list page (default 500)"},
    {"max-list-bytes", O_MAX_LIST, "BYTES",
     "cap on one list page, K/M/G suffix allowed (default 64M)"},
    {"max-event-bytes", O_MAX_EVENT, "BYTES", "cap on one watch event (default 4M)"},
    {"log-level", O_LOG_LEVEL, "LEVEL", "debug, info, warn or error (default info)"},
    {"help", O_HELP, NULL, "show this help"},
    {"version", O_VERSION, NULL, "show the version"},
};

#define N_OPTS (sizeof(opt_defs) / sizeof(opt_defs[0]))

static void env_name(const char *flag, char *out, size_t outlen)
{
    size_t n = (size_t)snprintf(out, outlen, "IPVS_CONTROLLER_");
    for (; *flag && n + 1 < outlen; flag++)
        out[n++] = *flag == '-' ? '_' : (char)toupper((unsigned char)*flag);
    out[n] = '\0';
}

static void usage(void)
{
    char env[64];

    printf("Usage: ipvs-controller (--selector LABELS | --service NAME) --virtual-server ADDR:PORT "
           "[options]\n\n"
           "Watches the Kubernetes API for a service's backends, keeps keepalived's ipvs.conf\n"
           "in step and reloads keepalived.  Each flag may also be set by the environment\n"
           "variable shown under it; a flag wins over its variable.\n\n");
    for (size_t i = 0; i < N_OPTS; i++) {
        const struct opt_def *d = &opt_defs[i];
        char left[80];
        snprintf(left, sizeof(left), "--%s%s%s", d->name, d->arg ? " " : "", d->arg ? d->arg : "");
        printf("  %-40s %s\n", left, d->help);
        if (d->id != O_HELP && d->id != O_VERSION) {
            env_name(d->name, env, sizeof(env));
            printf("  %-40s   env %s\n", "", env);
        }
    }
    printf("\nServing state (/readyz, and the metrics ipvs_controller_serving and\n"
           "ipvs_controller_serving_reason): 200 only while this pod can serve, else 503 and\n"
           "one line saying why.  It needs the first sync with the API server (after that the\n"
           "API server is never consulted: an outage must not withdraw every load balancer);\n"
           "keepalived running (--keepalived-cmd: our child, up for 1 s since it was started\n"
           "after the file was written; --keepalived-pidfile: the pid alive; neither: not\n"
           "checked); and with --serving-check kernel, every --virtual-server in this network\n"
           "namespace's IPVS table with a real server of weight > 0.  keepalived's health\n"
           "checks take failing real servers out of the table, and keepalived writes the\n"
           "table from the file it loaded, so the table is the evidence that keepalived has\n"
           "loaded the file and that the service has a healthy backend.  A virtual server\n"
           "with no ready endpoints is reported as such.  The state is re-read every second\n"
           "(every 250 ms while not serving) and before answering a request when older than\n"
           "100 ms; each change is logged once.\n");
    printf("\nFlow mode (--mode flow): connections survive load balancer pods coming and\n"
           "going, since any pod maps a flow to the same web pod.  Each virtual server gets\n"
           "lvs_sched mh with mh-port and mh-fallback, lvs_method TUN and inhibit_on_failure\n"
           "(a failing check sets weight 0 and keeps the real server's place).  Real servers\n"
           "are written oldest first (--selector: creationTimestamp, then name; --service:\n"
           "by address, EndpointSlices carry no age), since keepalived adds new ones in file\n"
           "order at the head of the kernel's list: a fresh pod and one that saw them arrive\n"
           "then hold the same list.  Endpoints not ready but with an address are written\n"
           "with weight 0 (terminating ones are dropped; a virtual server with none ready is\n"
           "left out).  TUN keeps the port: the web pods listen on the virtual port\n"
           "(EndpointSlice ports are not used) and hold the virtual address on tunl0; this\n"
           "pod needs net.ipv4.vs.sloppy_tcp=1.  --lb-algo other than mh, --lb-kind other\n"
           "than TUN, a --target-port other than the virtual port and --persistence-timeout\n"
           "are refused; a fwmark virtual server needs --health-check none and no\n"
           "--target-port (keepalived drops its real servers' ports under TUN).\n");
    printf("\nStopping (make-before-break): once --stop-file exists, /readyz answers 503\n"
           "\"the pod is stopping\" for the rest of this process's life, whatever else holds,\n"
           "so exabgp-helper's gate withdraws the announcement while keepalived and IPVS\n"
           "keep serving the connections in flight.  The ipvs container's preStop hook\n"
           "(ipvs-entrypoint prestop) creates the file, waits for the withdrawal and the\n"
           "drain, and returns; only then does SIGTERM reach this process, which stops\n"
           "keepalived (--keepalived-cmd; keepalived removes its virtual servers as it\n"
           "exits).  A SIGTERM without the preStop (the grace period ran out, a node shut\n"
           "down without one) stops keepalived at once: the gate then withdraws within\n"
           "1.5 s of /readyz going away, and requests arriving in between are lost.  A stale\n"
           "file (a preStop before a container restart) is removed at start.\n");
    printf("\nExit status: 0 on success (--once done, or stopped by SIGTERM/SIGINT);\n"
           "1 on a runtime failure (--once could not sync, keepalived died and could not be\n"
           "restarted, the output could not be written); 2 on bad usage or configuration.\n");
}

static int parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes")) {
        *out = true;
        return 0;
    }
    if (!*v || !strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no")) {
        *out = false;
        return 0;
    }
    return -EINVAL;
}

static int parse_uint(const char *v, unsigned min, unsigned max, unsigned *out)
{
    unsigned long long x;
    int rc = uint_parse(v, min, max, &x);
    if (rc == 0)
        *out = (unsigned)x;
    return rc;
}

/*
 * Seconds with at most three decimals ("2", "0.5", "0.25") as milliseconds
 * within [min_ms, max_ms]; keepalived takes fractional checker timers.
 */
static int parse_seconds(const char *v, unsigned min_ms, unsigned max_ms, unsigned *out)
{
    char whole[16];
    const char *dot = strchr(v, '.');
    size_t n = dot ? (size_t)(dot - v) : strlen(v);
    unsigned long long s, frac = 0;
    unsigned scale = 1000;

    if (n == 0 || n >= sizeof(whole))
        return -EINVAL;
    memcpy(whole, v, n);
    whole[n] = '\0';
    if (uint_parse(whole, 0, max_ms / 1000, &s) < 0)
        return -EINVAL;
    if (dot) {
        size_t k = strlen(dot + 1);
        if (k == 0 || k > 3 || strspn(dot + 1, "0123456789") != k)
            return -EINVAL;
        for (size_t i = 0; i < k; i++) {
            scale /= 10;
            frac += (unsigned long long)(dot[1 + i] - '0') * scale;
        }
    }
    if (s * 1000 + frac < min_ms || s * 1000 + frac > max_ms)
        return -ERANGE;
    *out = (unsigned)(s * 1000 + frac);
    return 0;
}

static int parse_size(const char *v, size_t *out)
{
    char num[32];
    size_t n = strlen(v);
    unsigned long long x, mult = 1;

    if (n == 0 || n >= sizeof(num))
        return -EINVAL;
    memcpy(num, v, n + 1);
    switch (num[n - 1]) {
    case 'K':
    case 'k':
        mult = 1ULL << 10;
        break;
    case 'M':
    case 'm':
        mult = 1ULL << 20;
        break;
    case 'G':
    case 'g':
        mult = 1ULL << 30;
        break;
    default:
        break;
    }
    if (mult != 1)
        num[n - 1] = '\0';
    if (uint_parse(num, 1, (1ULL << 40) / mult, &x) < 0)
        return -EINVAL;
    if (x * mult < 4096)
        return -ERANGE;
    *out = (size_t)(x * mult);
    return 0;
}

static int parse_vs(const char *v, struct vserver *vs)
{
    memset(vs, 0, sizeof(*vs));
    if (strncmp(v, "fwmark:", 7) == 0) {
        unsigned long long m;
        if (uint_parse(v + 7, 1, 0xffffffffULL, &m) < 0)
            return -EINVAL;
        vs->fwmark = true;
        vs->mark = (uint32_t)m;
        return 0;
    }
    return hostport_parse(v, &vs->addr, &vs->port);
}

/* DNS-1123 label: what namespaces and Service names are. */
static bool dns_label_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (; *s; s++) {
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-'))
            return false;
    }
    return true;
}

static bool label_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

/* A label key: [prefix/]name, name up to 63 characters. */
static bool label_key_ok(const char *s, size_t n)
{
    const char *slash = memchr(s, '/', n);
    size_t i = 0;

    if (slash) {
        size_t plen = (size_t)(slash - s);
        if (plen == 0 || plen > 253)
            return false;
        for (; i < plen; i++) {
            if (!(isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '.'))
                return false;
        }
        i++;
    }
    if (n - i == 0 || n - i > 63 || !isalnum((unsigned char)s[i]) ||
        !isalnum((unsigned char)s[n - 1]))
        return false;
    for (; i < n; i++) {
        if (!label_char(s[i]))
            return false;
    }
    return true;
}

static bool label_value_ok(const char *s, size_t n)
{
    if (n == 0)
        return true;
    if (n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!label_char(s[i]))
            return false;
    }
    return true;
}

static const char *skip_spaces(const char *p)
{
    while (*p == ' ')
        p++;
    return p;
}

/* Length of a run of label characters (and '/') at p. */
static size_t word_len(const char *p)
{
    size_t n = 0;
    while (label_char(p[n]) || p[n] == '/')
        n++;
    return n;
}

int selector_validate(const char *sel, char *err, size_t errlen)
{
    char show[41];
    const char *p = skip_spaces(sel);

    if (!*p) {
        snprintf(err, errlen, "empty label selector");
        return -EINVAL;
    }
    if (strnlen(sel, OPT_SELECTOR_MAX + 1) > OPT_SELECTOR_MAX) {
        snprintf(err, errlen, "label selector longer than %d bytes", OPT_SELECTOR_MAX);
        return -EINVAL;
    }
    for (;;) {
        bool neg = false;
        size_t n;

        if (*p == '!') {
            neg = true;
            p = skip_spaces(p + 1);
        }
        n = word_len(p);
        if (!label_key_ok(p, n))
            goto bad;
        p = skip_spaces(p + n);
        if (neg) {
            /* "!key" only */
        } else if (p[0] == '=' || (p[0] == '!' && p[1] == '=')) {
            p += p[0] == '!' ? 2 : (p[1] == '=' ? 2 : 1);
            p = skip_spaces(p);
            n = word_len(p);
            if (!label_value_ok(p, n) || memchr(p, '/', n))
                goto bad;
            p = skip_spaces(p + n);
        } else if (!strncmp(p, "in ", 3) || !strncmp(p, "in(", 3) || !strncmp(p, "notin ", 6) ||
                   !strncmp(p, "notin(", 6)) {
            p = skip_spaces(p + (p[0] == 'i' ? 2 : 5));
            /* step over a character only once it is known: never past the NUL */
            if (*p != '(')
                goto bad;
            p++;
            for (;;) {
                p = skip_spaces(p);
                n = word_len(p);
                if (!label_value_ok(p, n) || memchr(p, '/', n))
                    goto bad;
                p = skip_spaces(p + n);
                if (*p == ',') {
                    p++;
                    continue;
                }
                if (*p != ')')
                    goto bad;
                p++;
                break;
            }
            p = skip_spaces(p);
        }
        if (*p == '\0')
            return 0;
        if (*p != ',')
            goto bad;
        p = skip_spaces(p + 1);
    }
bad:
    snprintf(err, errlen, "invalid label selector near \"%s\"", log_excerpt(p, show, sizeof(show)));
    return -EINVAL;
}

static int parse_hc(const char *v, struct ctl_config *cfg)
{
    if (!strcmp(v, "tcp")) {
        cfg->hc = HC_TCP;
        cfg->serving_check = SERVING_CHECK_KERNEL;
        return 0;
    }
    if (!strcmp(v, "none")) {
        cfg->hc = HC_NONE;
        return 0;
    }
    if (!strncmp(v, "http:", 5) && render_path_valid(v + 5)) {
        cfg->hc = HC_HTTP;
        return str_assign(&cfg->hc_path, v + 5);
    }
    return -EINVAL;
}

static int normalize_word(char **dst, const char *v, const char *const *allowed)
{
    for (; *allowed; allowed++) {
        if (!strcasecmp(v, *allowed))
            return str_assign(dst, *allowed);
    }
    return -EINVAL;
}

static const struct {
    const char *name;
    enum lb_mode mode;
} lb_modes[] = {
    {"nat", LB_MODE_NAT},
    {"flow", LB_MODE_FLOW},
};

static int parse_mode(const char *v, enum lb_mode *out)
{
    for (size_t i = 0; i < sizeof(lb_modes) / sizeof(lb_modes[0]); i++) {
        if (!strcasecmp(v, lb_modes[i].name)) {
            *out = lb_modes[i].mode;
            return 0;
        }
    }
    return -EINVAL;
}

/* Apply one option value; source names where it came from, for messages. */
static int apply(struct ctl_config *cfg, const struct opt_def *d, const char *v, const char *source,
                 char *err, size_t errlen)
{
    static const char *const kinds[] = {"NAT", "DR", "TUN", NULL};
    static const char *const protos[] = {"TCP", "UDP", "SCTP", NULL};
    char show[81];
    int rc = 0;

    switch (d->id) {
    case O_APISERVER:
        rc = str_assign(&cfg->apiserver, v);
        break;
    case O_TOKEN_FILE:
        rc = str_assign(&cfg->token_file, v);
        break;
    case O_CA_FILE:
        rc = str_assign(&cfg->ca_file, v);
        break;
    case O_INSECURE:
        rc = parse_bool(v, &cfg->insecure_skip_tls_verify);
        break;
    case O_SA_DIR:
        break; /* read before everything else, see options_parse */
    case O_NAMESPACE:
        rc = dns_label_ok(v) ? str_assign(&cfg->namespace, v) : -EINVAL;
        break;
    case O_SELECTOR: {
        char why[160];
        if (selector_validate(v, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "%s: %s", source, why);
            return -EINVAL;
        }
        rc = str_assign(&cfg->selector, v);
        break;
    }
    case O_SERVICE:
        rc = dns_label_ok(v) ? str_assign(&cfg->service, v) : -EINVAL;
        break;
    case O_PORT_NAME:
        rc = dns_label_ok(v) ? str_assign(&cfg->port_name, v) : -EINVAL;
        break;
    case O_VS:
        if (cfg->n_vs == OPT_MAX_VS) {
            snprintf(err, errlen, "%s: more than %d virtual servers", source, OPT_MAX_VS);
            return -EINVAL;
        }
        rc = parse_vs(v, &cfg->vs[cfg->n_vs]);
        if (rc == 0)
            cfg->n_vs++;
        break;
    case O_MODE:
        rc = parse_mode(v, &cfg->lb_mode);
        break;
    case O_TARGET_PORT:
        rc = port_parse(v, &cfg->target_port);
        break;
    case O_LB_ALGO:
        rc = render_sched_valid(v) ? str_assign(&cfg->sched, v) : -EINVAL;
        break;
    case O_LB_KIND:
        rc = normalize_word(&cfg->method, v, kinds);
        break;
    case O_PROTOCOL:
        rc = normalize_word(&cfg->protocol, v, protos);
        break;
    case O_HC:
        rc = parse_hc(v, cfg);
        break;
    case O_HC_INTERVAL:
        rc = parse_seconds(v, 1, 86400000, &cfg->hc_interval_ms);
        break;
    case O_HC_TIMEOUT:
        rc = parse_seconds(v, 1, 3600000, &cfg->hc_timeout_ms);
        break;
    case O_HC_RETRY:
        rc = parse_uint(v, 0, 100, &cfg->hc_retry);
        break;
    case O_HC_RETRY_DELAY:
        rc = parse_seconds(v, 0, 3600000, &cfg->hc_retry_delay_ms);
        break;
    case O_PERSISTENCE:
        rc = parse_uint(v, 0, 31536000, &cfg->persistence_timeout);
        break;
    case O_OUTPUT:
        rc = *v ? str_assign(&cfg->output, v) : -EINVAL;
        break;
    case O_PIDFILE:
        rc = *v ? str_assign(&cfg->keepalived_pidfile, v) : -EINVAL;
        break;
    case O_CMD:
        rc = *v ? str_assign(&cfg->keepalived_cmd, v) : -EINVAL;
        break;
    case O_METRICS: {
        struct netaddr a;
        uint16_t port;
        rc = hostport_parse(v, &a, &port) == 0 ? str_assign(&cfg->metrics_address, v) : -EINVAL;
        break;
    }
    case O_SERVING_CHECK:
        if (!strcmp(v, "kernel"))
            cfg->serving_check = SERVING_CHECK_KERNEL;
        else if (!strcmp(v, "none"))
            cfg->serving_check = SERVING_CHECK_NONE;
        else
            rc = -EINVAL;
        break;
    case O_IPVS_TABLE:
        rc = *v ? str_assign(&cfg->ipvs_table, v) : -EINVAL;
        break;
    case O_STOP_FILE:
        rc = *v ? str_assign(&cfg->stop_file, v) : -EINVAL;
        break;
    case O_ONCE:
        rc = parse_bool(v, &cfg->once);
        break;
    case O_DEBOUNCE:
        rc = parse_uint(v, 0, 60000, &cfg->debounce_ms);
        break;
    case O_MAX_DELAY:
        rc = parse_uint(v, 0, 600000, &cfg->max_delay_ms);
        break;
    case O_MIN_RELOAD:
        rc = parse_uint(v, 0, 600000, &cfg->min_reload_interval_ms);
        break;
    case O_BACKOFF_MAX:
        rc = parse_uint(v, 10, 3600000, &cfg->backoff_max_ms);
        break;
    case O_WATCH_TIMEOUT:
        rc = parse_uint(v, 1, 86400, &cfg->watch_timeout_s);
        break;
    case O_WATCH_IDLE:
        rc = parse_uint(v, 1, 86400, &cfg->watch_idle_timeout_s);
        break;
    case O_LIST_TIMEOUT:
        rc = parse_uint(v, 1, 3600, &cfg->list_timeout_s);
        break;
    case O_PAGE_SIZE:
        rc = parse_uint(v, 1, 100000, &cfg->list_page_size);
        break;
    case O_MAX_LIST:
        rc = parse_size(v, &cfg->max_list_bytes);
        break;
    case O_MAX_EVENT:
        rc = parse_size(v, &cfg->max_event_bytes);
        break;
    case O_LOG_LEVEL:
        rc = log_level_parse(v, &cfg->log_level);
        break;
    case O_HELP:
    case O_VERSION:
        break;
    }
    if (rc == -ENOMEM)
        snprintf(err, errlen, "out of memory");
    else if (rc < 0)
        snprintf(err, errlen, "%s: invalid value \"%s\"%s%s", source,
                 log_excerpt(v, show, sizeof(show)), d->arg ? ", expected " : "",
                 d->arg ? d->arg : ", expected true or false");
    return rc;
}

static void defaults(struct ctl_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->hc = HC_TCP;
    cfg->hc_interval_ms = 2000;
    cfg->hc_timeout_ms = 2000;
    cfg->hc_retry = 1;
    cfg->hc_retry_delay_ms = 1000;
    cfg->debounce_ms = 50;
    cfg->max_delay_ms = 500;
    cfg->min_reload_interval_ms = 500;
    cfg->backoff_max_ms = 30000;
    cfg->watch_timeout_s = 300;
    cfg->watch_idle_timeout_s = 120;
    cfg->list_timeout_s = 60;
    cfg->list_page_size = 500;
    cfg->max_list_bytes = 64u << 20;
    cfg->max_event_bytes = 4u << 20;
    cfg->log_level = LOG_INFO;
}

/* Fill what was not given from the service account and the cluster environment. */
static int in_cluster(struct ctl_config *cfg, const char *sa_dir, char *err, size_t errlen)
{
    char path[4096];
    int rc = 0;

    if (!cfg->apiserver) {
        const char *host = getenv("KUBERNETES_SERVICE_HOST");
        const char *port = getenv("KUBERNETES_SERVICE_PORT");
        char url[512];
        if (!host || !*host || !port || !*port) {
            snprintf(err, errlen,
                     "no --apiserver given and not in a cluster "
                     "(KUBERNETES_SERVICE_HOST/_PORT are not set)");
            return -EINVAL;
        }
        snprintf(url, sizeof(url), strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host,
                 port);
        rc = str_assign(&cfg->apiserver, url);
        if (rc == 0 && !cfg->token_file) {
            snprintf(path, sizeof(path), "%s/token", sa_dir);
            rc = str_assign(&cfg->token_file, path);
        }
        if (rc == 0 && !cfg->ca_file) {
            snprintf(path, sizeof(path), "%s/ca.crt", sa_dir);
            rc = str_assign(&cfg->ca_file, path);
        }
    }
    if (rc == 0 && !cfg->namespace) {
        char *ns = NULL;
        snprintf(path, sizeof(path), "%s/namespace", sa_dir);
        if (read_small_file(path, 256, &ns, NULL) == 0) {
            ns[strcspn(ns, " \t\r\n")] = '\0';
            if (!dns_label_ok(ns)) {
                char show[161];
                snprintf(err, errlen, "%s: not a namespace name",
                         log_excerpt(path, show, sizeof(show)));
                free(ns);
                return -EINVAL;
            }
            cfg->namespace = ns;
        } else {
            rc = str_assign(&cfg->namespace, "default");
        }
    }
    if (rc < 0)
        snprintf(err, errlen, "out of memory");
    return rc;
}

static int check(struct ctl_config *cfg, char *err, size_t errlen)
{
    char show[81]; /* user text in a message: one line, bounded */
    size_t n;

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                                        \
        return -EINVAL;                                                                            \
    } while (0)

    if (!!cfg->selector == !!cfg->service)
        FAIL("choose the backends with exactly one of --selector or --service");
    cfg->mode = cfg->selector ? SELECT_PODS : SELECT_SERVICE;
    if (cfg->port_name && cfg->mode != SELECT_SERVICE)
        FAIL("--port-name applies only with --service");
    if (cfg->n_vs == 0)
        FAIL("no --virtual-server given");
    if (strncmp(cfg->apiserver, "http://", 7) && strncmp(cfg->apiserver, "https://", 8))
        FAIL("--apiserver: \"%s\" is not an http:// or https:// URL",
             log_excerpt(cfg->apiserver, show, sizeof(show)));
    n = strlen(cfg->apiserver);
    while (n > 0 && cfg->apiserver[n - 1] == '/')
        cfg->apiserver[--n] = '\0';
    if (strpbrk(cfg->apiserver, " \t\r\n?#"))
        FAIL("--apiserver: \"%s\" must be a plain base URL",
             log_excerpt(cfg->apiserver, show, sizeof(show)));
    if (cfg->keepalived_pidfile && cfg->keepalived_cmd)
        FAIL("give only one of --keepalived-pidfile and --keepalived-cmd");
    if (cfg->hc != HC_NONE && strcmp(cfg->protocol, "TCP") != 0)
        FAIL("--health-check %s needs --protocol TCP; use --health-check none",
             cfg->hc == HC_TCP ? "tcp" : "http");
    /*
     * Flow mode is one set of choices: each pod's Maglev table must be the
     * others', and the web pod must see the client's own packets.
     */
    if (cfg->lb_mode == LB_MODE_FLOW && strcmp(cfg->sched, "mh") != 0)
        FAIL("--mode flow needs --lb-algo mh (every pod must map a flow alike), not --lb-algo %s",
             cfg->sched);
    if (cfg->lb_mode == LB_MODE_FLOW && strcmp(cfg->method, "TUN") != 0)
        FAIL("--mode flow needs --lb-kind TUN (the web pod answers the client directly), not "
             "--lb-kind %s",
             cfg->method);
    if (cfg->lb_mode == LB_MODE_FLOW && cfg->persistence_timeout)
        FAIL("--mode flow and --persistence-timeout conflict: a pod's persistence templates "
             "would send a flow it takes over elsewhere than Maglev does");
    cfg->n_vips = 0;
    for (size_t i = 0; i < cfg->n_vs; i++) {
        const struct vserver *vs = &cfg->vs[i];
        if (!vs->fwmark)
            cfg->vips[cfg->n_vips++] = vs->addr; /* no backend may have it */
        for (size_t j = 0; j < i; j++) {
            if (vs->fwmark == cfg->vs[j].fwmark && vs->mark == cfg->vs[j].mark &&
                vs->port == cfg->vs[j].port && netaddr_cmp(&vs->addr, &cfg->vs[j].addr) == 0)
                FAIL("--virtual-server given twice");
        }
        /*
         * keepalived clears a port on a fwmark service's TUN real servers
         * (check_data.c), so there is neither a port to check nor one to set.
         */
        if (vs->fwmark && cfg->lb_mode == LB_MODE_FLOW && cfg->target_port)
            FAIL("--mode flow: --virtual-server fwmark:%u takes real servers without a port "
                 "(TUN keeps the packet's); drop --target-port",
                 (unsigned)vs->mark);
        if (vs->fwmark && cfg->lb_mode == LB_MODE_FLOW && cfg->hc != HC_NONE)
            FAIL("--mode flow: --virtual-server fwmark:%u needs --health-check none (its real "
                 "servers have no port to check)",
                 (unsigned)vs->mark);
        if (vs->fwmark && cfg->mode == SELECT_PODS && cfg->hc != HC_NONE && !cfg->target_port)
            FAIL("--virtual-server fwmark:%u with a health check needs --target-port",
                 (unsigned)vs->mark);
        if (!vs->fwmark && strcmp(cfg->method, "NAT") != 0 && cfg->target_port &&
            cfg->target_port != vs->port)
            FAIL("%s%s cannot change the port: --target-port must equal the virtual port "
                 "(%u, not %u)",
                 cfg->lb_mode == LB_MODE_FLOW ? "--mode flow (TUN)" : "--lb-kind ",
                 cfg->lb_mode == LB_MODE_FLOW ? "" : cfg->method, (unsigned)vs->port,
                 (unsigned)cfg->target_port);
    }
    if (cfg->max_delay_ms < cfg->debounce_ms)
        FAIL("--max-delay-ms must not be less than --debounce-ms");
    return 0;
#undef FAIL
}

enum opt_result options_parse(int argc, char **argv, struct ctl_config *cfg, char *err,
                              size_t errlen)
{
    struct option longopts[N_OPTS + 1];
    const char *sa_dir = SA_DIR_DEFAULT;
    char env[64], source[96], show[81];
    size_t env_vs;
    int c;

    defaults(cfg);
    memset(longopts, 0, sizeof(longopts));
    for (size_t i = 0; i < N_OPTS; i++) {
        longopts[i].name = opt_defs[i].name;
        longopts[i].has_arg = opt_defs[i].arg ? required_argument : no_argument;
        longopts[i].val = (int)opt_defs[i].id;
    }

    /* The environment first; flags then override. */
    for (size_t i = 0; i < N_OPTS; i++) {
        const char *v;
        env_name(opt_defs[i].name, env, sizeof(env));
        v = getenv(env);
        if (!v || opt_defs[i].id == O_HELP || opt_defs[i].id == O_VERSION)
            continue;
        snprintf(source, sizeof(source), "%s", env);
        if (opt_defs[i].id == O_SA_DIR) {
            sa_dir = v;
        } else if (opt_defs[i].id == O_VS) {
            char *copy = strdup(v), *save = NULL;
            if (!copy)
                goto nomem;
            for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
                if (apply(cfg, &opt_defs[i], tok, source, err, errlen) < 0) {
                    free(copy);
                    goto bad;
                }
            }
            free(copy);
        } else if (apply(cfg, &opt_defs[i], v, source, err, errlen) < 0) {
            goto bad;
        }
    }
    env_vs = cfg->n_vs;

    /*
     * 0, not 1: glibc then forgets where it was inside an earlier argv (a
     * "-hX" cluster stops with a pointer into it), which matters to every
     * caller that parses more than once: the tests and the fuzzer.
     */
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hV", longopts, NULL)) != -1) {
        const struct opt_def *d = NULL;
        if (c == 'h')
            c = O_HELP;
        if (c == 'V')
            c = O_VERSION;
        if (c == '?' || c == ':') {
            const char *arg = argv[optind - 1];
            snprintf(err, errlen, c == ':' ? "%s needs a value" : "unknown option %s; see --help",
                     log_excerpt(arg, show, sizeof(show)));
            goto bad;
        }
        for (size_t i = 0; i < N_OPTS; i++) {
            if ((int)opt_defs[i].id == c)
                d = &opt_defs[i];
        }
        if (c == O_HELP) {
            usage();
            options_free(cfg);
            return OPT_EXIT_OK;
        }
        if (c == O_VERSION) {
            printf("ipvs-controller %s\n", LB_VERSION);
            options_free(cfg);
            return OPT_EXIT_OK;
        }
        if (c == O_SA_DIR) {
            sa_dir = optarg;
            continue;
        }
        if (c == O_VS && env_vs) { /* flags replace the environment's list */
            cfg->n_vs = 0;
            env_vs = 0;
        }
        snprintf(source, sizeof(source), "--%s", d->name);
        if (apply(cfg, d, d->arg ? optarg : "true", source, err, errlen) < 0)
            goto bad;
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument \"%s\"; see --help",
                 log_excerpt(argv[optind], show, sizeof(show)));
        goto bad;
    }

    /* flow mode's defaults are what it needs; check() refuses other choices */
    if ((!cfg->sched && str_assign(&cfg->sched, cfg->lb_mode == LB_MODE_FLOW ? "mh" : "rr") < 0) ||
        (!cfg->method &&
         str_assign(&cfg->method, cfg->lb_mode == LB_MODE_FLOW ? "TUN" : "NAT") < 0) ||
        (!cfg->protocol && str_assign(&cfg->protocol, "TCP") < 0) ||
        (!cfg->output && str_assign(&cfg->output, "/etc/keepalived/ipvs.conf") < 0) ||
        (!cfg->ipvs_table && str_assign(&cfg->ipvs_table, IPVS_TABLE_PATH) < 0))
        goto nomem;
    if (in_cluster(cfg, sa_dir, err, errlen) < 0 || check(cfg, err, errlen) < 0)
        goto bad;
    return OPT_OK;
nomem:
    snprintf(err, errlen, "out of memory");
bad:
    options_free(cfg);
    return OPT_ERROR;
}

void options_free(struct ctl_config *cfg)
{
    char **strs[] = {&cfg->apiserver,          &cfg->token_file,     &cfg->ca_file,
                     &cfg->namespace,          &cfg->selector,       &cfg->service,
                     &cfg->port_name,          &cfg->sched,          &cfg->method,
                     &cfg->protocol,           &cfg->hc_path,        &cfg->output,
                     &cfg->keepalived_pidfile, &cfg->keepalived_cmd, &cfg->metrics_address,
                     &cfg->ipvs_table,         &cfg->stop_file};

    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
}

void options_render_config(const struct ctl_config *cfg, struct render_config *rc)
{
    rc->flow = cfg->lb_mode == LB_MODE_FLOW;
    rc->vs = cfg->vs;
    rc->n_vs = cfg->n_vs;
    rc->sched = cfg->sched;
    rc->method = cfg->method;
    rc->protocol = cfg->protocol;
    rc->target_port = cfg->target_port;
    rc->hc = cfg->hc;
    rc->hc_path = cfg->hc_path;
    rc->hc_interval_ms = cfg->hc_interval_ms;
    rc->hc_timeout_ms = cfg->hc_timeout_ms;
    rc->hc_retry = cfg->hc_retry;
    rc->hc_retry_delay_ms = cfg->hc_retry_delay_ms;
    rc->persistence_timeout = cfg->persistence_timeout;
}
