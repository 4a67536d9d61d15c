// SPDX-License-Identifier: Apache-2.0
/*
 * test_helper_options.c - exabgp-helper's environment variables, flags,
 * defaults, and every kind of bad value, named in its one-line error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "options.h"

static char err[512];

static const char *const vars[] = {
    "POD_IP",        "NODE_IP",   "SERVICE_PREFIXES",  "PEERS",      "LOCAL_AS",    "PEER_AS",
    "ROUTER_ID",     "HOLD_TIME", "MD5_PASSWORD_FILE", "NODE_NETNS", "EXABGP_CONF", "EXABGP",
    "DRAIN_SECONDS", "LOG_LEVEL", "HEALTH_URL",
};

static int clear_env(void **state)
{
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
    return 0;
}

static enum opt_result parse(struct helper_config *cfg, const char *first, ...)
{
    char *argv[64] = {"exabgp-helper"};
    int argc = 1;
    va_list ap;
    enum opt_result r;

    va_start(ap, first);
    for (const char *a = first; a && argc < 63; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    err[0] = '\0';
    r = helper_options_parse(argc, argv, cfg, err, sizeof(err));
    if (r != OPT_OK)
        helper_options_free(cfg);
    return r;
}

static void defaults(void **state)
{
    struct helper_config cfg;
    char a[NETADDR_STRLEN];

    setenv("SERVICE_PREFIXES", "10.1.1.0/24", 1);
    setenv("PEERS", "10.0.0.109", 1);
    assert_int_equal(parse(&cfg, NULL), OPT_OK);
    assert_int_equal(cfg.cmd, CMD_RUN);
    assert_false(cfg.dry_run);
    assert_false(cfg.pod_ip_set);
    assert_false(cfg.node_ip_set);
    assert_false(cfg.router_id_set);
    assert_int_equal(cfg.n_prefixes, 1);
    assert_string_equal(netaddr_format(&cfg.prefixes[0].addr, a), "10.1.1.0");
    assert_int_equal(cfg.prefixes[0].len, 24);
    assert_int_equal(cfg.n_peers, 1);
    assert_int_equal(cfg.peer_as, 65021);
    assert_int_equal(cfg.local_as, 65021); /* iBGP unless told */
    assert_int_equal(cfg.hold_time, 9);
    assert_null(cfg.md5_password_file);
    assert_string_equal(cfg.node_netns, "/var/run/netns/node");
    assert_string_equal(cfg.exabgp_conf, "/etc/exabgp/exabgp.conf");
    assert_string_equal(cfg.exabgp, "exabgp");
    assert_int_equal(cfg.drain_seconds, 2);
    assert_string_equal(cfg.health_url, "http://127.0.0.1:9101/readyz"); /* gated unless told */
    assert_int_equal(cfg.health.port, 9101);
    assert_string_equal(cfg.health.path, "/readyz");
    helper_options_free(&cfg);
}

static void health_url(void **state)
{
    struct helper_config cfg;
    char a[NETADDR_STRLEN];

    setenv("SERVICE_PREFIXES", "10.1.1.0/24", 1);
    setenv("PEERS", "10.0.0.109", 1);
    /* empty is a value here: the gate off, the paper's static announcement */
    setenv("HEALTH_URL", "", 1);
    assert_int_equal(parse(&cfg, NULL), OPT_OK);
    assert_null(cfg.health_url);
    helper_options_free(&cfg);
    assert_int_equal(parse(&cfg, "--health-url", "http://127.0.0.1:1/x", "--health-url", "", NULL),
                     OPT_OK);
    assert_null(cfg.health_url);
    helper_options_free(&cfg);

    setenv("HEALTH_URL", "http://localhost:8080/healthz?full=1", 1);
    assert_int_equal(parse(&cfg, NULL), OPT_OK);
    assert_string_equal(netaddr_format(&cfg.health.addr, a), "127.0.0.1");
    assert_string_equal(cfg.health.host, "localhost");
    assert_int_equal(cfg.health.port, 8080);
    assert_string_equal(cfg.health.path, "/healthz?full=1");
    helper_options_free(&cfg);

    assert_int_equal(parse(&cfg, "--health-url", "http://[::1]:9101/readyz", NULL), OPT_OK);
    assert_string_equal(netaddr_format(&cfg.health.addr, a), "::1");
    assert_string_equal(cfg.health.host, "[::1]");
    helper_options_free(&cfg);

    /* the gate subcommand needs what run puts on its command line */
    assert_int_equal(parse(&cfg, "health-gate", NULL), OPT_ERROR);
    assert_non_null(strstr(err, "health-gate needs HEALTH_URL and NODE_IP"));
    assert_int_equal(parse(&cfg, "health-gate", "--node-ip", "10.0.0.105", NULL), OPT_OK);
    assert_int_equal(cfg.cmd, CMD_GATE);
    helper_options_free(&cfg);
}

static void environment_and_flags(void **state)
{
    struct helper_config cfg;
    char a[NETADDR_STRLEN];

    setenv("POD_IP", "172.16.20.2", 1);
    setenv("NODE_IP", "10.0.0.106", 1);
    setenv("SERVICE_PREFIXES", " 10.1.1.0/24, 10.1.2.0/25 ,192.0.2.7/32", 1);
    setenv("PEERS", "10.0.0.109,10.0.0.110", 1);
    setenv("PEER_AS", "4200000000", 1);
    setenv("HOLD_TIME", "3", 1);
    setenv("ROUTER_ID", "1.2.3.4", 1);
    setenv("NODE_NETNS", "/proc/1/ns/net", 1);
    setenv("LOG_LEVEL", "debug", 1);
    /* a flag wins over its variable; the subcommand may come anywhere */
    assert_int_equal(parse(&cfg, "cleanup", "--hold-time", "1800", "--local-as=64512", "--dry-run",
                           "--exabgp", "/usr/sbin/exabgp", NULL),
                     OPT_OK);
    assert_int_equal(cfg.cmd, CMD_CLEANUP);
    assert_true(cfg.dry_run);
    assert_true(cfg.pod_ip_set);
    assert_string_equal(netaddr_format(&cfg.pod_ip, a), "172.16.20.2");
    assert_string_equal(netaddr_format(&cfg.node_ip, a), "10.0.0.106");
    assert_string_equal(netaddr_format(&cfg.router_id, a), "1.2.3.4");
    assert_int_equal(cfg.n_prefixes, 3);
    assert_int_equal(cfg.prefixes[1].len, 25);
    assert_int_equal(cfg.prefixes[2].len, 32);
    assert_int_equal(cfg.n_peers, 2);
    assert_string_equal(netaddr_format(&cfg.peers[1], a), "10.0.0.110");
    assert_int_equal(cfg.peer_as, 4200000000u);
    assert_int_equal(cfg.local_as, 64512);
    assert_int_equal(cfg.hold_time, 1800); /* accepted; main warns */
    assert_string_equal(cfg.node_netns, "/proc/1/ns/net");
    assert_string_equal(cfg.exabgp, "/usr/sbin/exabgp");
    assert_int_equal(cfg.log_level, LOG_DEBUG);
    helper_options_free(&cfg);
}

static void empty_variables_are_unset(void **state)
{
    struct helper_config cfg;

    /* a Downward API field the runtime could not fill arrives empty */
    setenv("POD_IP", "", 1);
    setenv("NODE_IP", "", 1);
    setenv("SERVICE_PREFIXES", "10.1.1.0/24", 1);
    setenv("PEERS", "10.0.0.109", 1);
    assert_int_equal(parse(&cfg, NULL), OPT_OK);
    assert_false(cfg.pod_ip_set);
    assert_false(cfg.node_ip_set);
    helper_options_free(&cfg);
}

static void cleanup_needs_no_peers(void **state)
{
    struct helper_config cfg;

    setenv("SERVICE_PREFIXES", "10.1.1.0/24", 1);
    assert_int_equal(parse(&cfg, "cleanup", NULL), OPT_OK);
    helper_options_free(&cfg);
    assert_int_equal(parse(&cfg, "run", NULL), OPT_ERROR);
    assert_string_equal(err, "PEERS is required (the route reflector addresses)");
}

struct bad {
    const char *var; /* NULL: args only */
    const char *value;
    const char *arg1, *arg2;
    const char *want; /* the whole error line */
};

static const struct bad bads[] = {
    {"SERVICE_PREFIXES", "10.1.1.5/24", NULL, NULL,
     "SERVICE_PREFIXES: \"10.1.1.5/24\" has host bits set (did you mean 10.1.1.0/24?)"},
    {"SERVICE_PREFIXES", "10.1.1.0", NULL, NULL,
     "SERVICE_PREFIXES: \"10.1.1.0\" is not a CIDR prefix like 10.1.1.0/24"},
    {"SERVICE_PREFIXES", "10.1.1.0/33", NULL, NULL,
     "SERVICE_PREFIXES: \"10.1.1.0/33\" is not a CIDR prefix like 10.1.1.0/24"},
    {"SERVICE_PREFIXES", "10.1.1.0/24,,10.1.2.0/24", NULL, NULL,
     "SERVICE_PREFIXES: invalid value \"10.1.1.0/24,,10.1.2.0/24\" (an empty or overlong "
     "element in the list)"},
    {"PEERS", "", NULL, NULL, "PEERS is required (the route reflector addresses)"},
    {"PEERS", " ", NULL, NULL,
     "PEERS: invalid value \" \" (an empty or overlong element in the list)"},
    {"SERVICE_PREFIXES", "10.1.1.0/24,10.1.1.0/24", NULL, NULL,
     "SERVICE_PREFIXES: \"10.1.1.0/24\" is listed twice"},
    {"SERVICE_PREFIXES", "0.0.0.0/0", NULL, NULL,
     "SERVICE_PREFIXES: \"0.0.0.0/0\" would announce a default route; refusing"},
    {"SERVICE_PREFIXES", "2001:db8::/64", NULL, NULL,
     "SERVICE_PREFIXES: \"2001:db8::/64\": only IPv4 service prefixes are supported"},
    {"SERVICE_PREFIXES", "web.example.com/24", NULL, NULL,
     "SERVICE_PREFIXES: \"web.example.com/24\" is not a CIDR prefix like 10.1.1.0/24"},
    /* too short, or overlapping space no service may take (one case per table entry) */
    {"SERVICE_PREFIXES", "0.0.0.0/1", NULL, NULL,
     "SERVICE_PREFIXES: \"0.0.0.0/1\" is shorter than /8, the shortest IPv4 prefix accepted"},
    {"SERVICE_PREFIXES", "10.0.0.0/7", NULL, NULL,
     "SERVICE_PREFIXES: \"10.0.0.0/7\" is shorter than /8, the shortest IPv4 prefix accepted"},
    {"SERVICE_PREFIXES", "10.1.1.0/24,0.0.0.0/8", NULL, NULL,
     "SERVICE_PREFIXES: \"0.0.0.0/8\" overlaps 0.0.0.0/8 (\"this network\"); refusing"},
    {"SERVICE_PREFIXES", "127.0.0.0/8", NULL, NULL,
     "SERVICE_PREFIXES: \"127.0.0.0/8\" overlaps 127.0.0.0/8 (loopback); refusing"},
    {"SERVICE_PREFIXES", "127.1.2.3/32", NULL, NULL,
     "SERVICE_PREFIXES: \"127.1.2.3/32\" overlaps 127.0.0.0/8 (loopback); refusing"},
    {"SERVICE_PREFIXES", "169.254.169.254/32", NULL, NULL,
     "SERVICE_PREFIXES: \"169.254.169.254/32\" overlaps 169.254.0.0/16 (link-local); refusing"},
    {"SERVICE_PREFIXES", "169.0.0.0/8", NULL, NULL,
     "SERVICE_PREFIXES: \"169.0.0.0/8\" overlaps 169.254.0.0/16 (link-local); refusing"},
    {"SERVICE_PREFIXES", "224.0.0.0/4", NULL, NULL,
     "SERVICE_PREFIXES: \"224.0.0.0/4\" is shorter than /8, the shortest IPv4 prefix accepted"},
    {"SERVICE_PREFIXES", "239.1.0.0/16", NULL, NULL,
     "SERVICE_PREFIXES: \"239.1.0.0/16\" overlaps 224.0.0.0/4 (multicast); refusing"},
    {"SERVICE_PREFIXES", "255.255.255.255/32", NULL, NULL,
     "SERVICE_PREFIXES: \"255.255.255.255/32\" overlaps 255.255.255.255/32 (limited broadcast); "
     "refusing"},
    {"SERVICE_PREFIXES", "255.0.0.0/8", NULL, NULL,
     "SERVICE_PREFIXES: \"255.0.0.0/8\" overlaps 255.255.255.255/32 (limited broadcast); "
     "refusing"},
    {"SERVICE_PREFIXES", "240.0.0.0/8", NULL, NULL,
     "SERVICE_PREFIXES: \"240.0.0.0/8\" overlaps 240.0.0.0/4 (reserved); refusing"},
    {"SERVICE_PREFIXES", "::/128", NULL, NULL,
     "SERVICE_PREFIXES: \"::/128\" overlaps ::/128 (unspecified); refusing"},
    {"SERVICE_PREFIXES", "::1/128", NULL, NULL,
     "SERVICE_PREFIXES: \"::1/128\" overlaps ::1/128 (loopback); refusing"},
    {"SERVICE_PREFIXES", "::ffff:10.1.1.0/120", NULL, NULL,
     "SERVICE_PREFIXES: \"::ffff:10.1.1.0/120\" overlaps ::ffff:0:0/96 (IPv4-mapped); refusing"},
    {"SERVICE_PREFIXES", "::a01:100/120", NULL, NULL,
     "SERVICE_PREFIXES: \"::a01:100/120\" overlaps ::/96 (IPv4-compatible (deprecated)); "
     "refusing"},
    {"SERVICE_PREFIXES", "fe80::/64", NULL, NULL,
     "SERVICE_PREFIXES: \"fe80::/64\" overlaps fe80::/10 (link-local); refusing"},
    {"SERVICE_PREFIXES", "fec0::/16", NULL, NULL,
     "SERVICE_PREFIXES: \"fec0::/16\" overlaps fec0::/10 (site-local (deprecated)); refusing"},
    {"SERVICE_PREFIXES", "ff02::/16", NULL, NULL,
     "SERVICE_PREFIXES: \"ff02::/16\" overlaps ff00::/8 (multicast); refusing"},
    {"SERVICE_PREFIXES", "2000::/15", NULL, NULL,
     "SERVICE_PREFIXES: \"2000::/15\" is shorter than /16, the shortest IPv6 prefix accepted"},
    {NULL, NULL, "--service-prefixes", "10.1.1.1/24",
     "--service-prefixes: \"10.1.1.1/24\" has host bits set (did you mean 10.1.1.0/24?)"},
    {"PEERS", "10.0.0.256", NULL, NULL, "PEERS: \"10.0.0.256\" is not a unicast IPv4 address"},
    {"PEERS", "rr.example.com", NULL, NULL,
     "PEERS: \"rr.example.com\" is not a unicast IPv4 address"},
    {"PEERS", "10.0.0.109,10.0.0.109", NULL, NULL, "PEERS: \"10.0.0.109\" is listed twice"},
    {"PEERS", "224.0.0.5", NULL, NULL, "PEERS: \"224.0.0.5\" is not a unicast IPv4 address"},
    {"POD_IP", "172.16.20", NULL, NULL,
     "POD_IP: invalid value \"172.16.20\" (want a unicast IPv4 address)"},
    {"POD_IP", "0.0.0.0", NULL, NULL,
     "POD_IP: invalid value \"0.0.0.0\" (want a unicast IPv4 address)"},
    {"NODE_IP", "fe80::1", NULL, NULL,
     "NODE_IP: invalid value \"fe80::1\" (want a unicast IPv4 address)"},
    {"NODE_IP", "127.0.0.1", NULL, NULL,
     "NODE_IP: invalid value \"127.0.0.1\" (want a unicast IPv4 address)"},
    {"ROUTER_ID", "0.0.0.0", NULL, NULL,
     "ROUTER_ID: invalid value \"0.0.0.0\" (want a non-zero dotted quad)"},
    {"LOCAL_AS", "0", NULL, NULL,
     "LOCAL_AS: invalid value \"0\" (want an AS number 1..4294967295, not 23456)"},
    {"LOCAL_AS", "23456", NULL, NULL,
     "LOCAL_AS: invalid value \"23456\" (want an AS number 1..4294967295, not 23456)"},
    {"PEER_AS", "4294967296", NULL, NULL,
     "PEER_AS: invalid value \"4294967296\" (want an AS number 1..4294967295, not 23456)"},
    {"PEER_AS", "AS65021", NULL, NULL,
     "PEER_AS: invalid value \"AS65021\" (want an AS number 1..4294967295, not 23456)"},
    {"PEER_AS", "-1", NULL, NULL,
     "PEER_AS: invalid value \"-1\" (want an AS number 1..4294967295, not 23456)"},
    {"HOLD_TIME", "2", NULL, NULL, "HOLD_TIME: invalid value \"2\" (want 3..65535 seconds)"},
    {"HOLD_TIME", "0", NULL, NULL, "HOLD_TIME: invalid value \"0\" (want 3..65535 seconds)"},
    {"HOLD_TIME", "9s", NULL, NULL, "HOLD_TIME: invalid value \"9s\" (want 3..65535 seconds)"},
    {"HOLD_TIME", "65536", NULL, NULL,
     "HOLD_TIME: invalid value \"65536\" (want 3..65535 seconds)"},
    {"EXABGP_CONF", "/etc/exabgp/", NULL, NULL,
     "EXABGP_CONF: invalid value \"/etc/exabgp/\" (want a file path)"},
    {"LOG_LEVEL", "loud", NULL, NULL,
     "LOG_LEVEL: invalid value \"loud\" (want debug, info, warn or error)"},
    {"POD_IP", "10.0.0.1\n", NULL, NULL,
     "POD_IP: invalid value \"10.0.0.1?\" (want a unicast IPv4 address)"},
#define WANT_URL "; want http://ADDR:PORT/PATH, ADDR an IP address or localhost, or empty)"
    {"HEALTH_URL", "https://127.0.0.1:9101/readyz", NULL, NULL,
     "HEALTH_URL: invalid value \"https://127.0.0.1:9101/readyz\" (https is not supported "
     "in-pod" WANT_URL},
    {"HEALTH_URL", "ftp://127.0.0.1:21/x", NULL, NULL,
     "HEALTH_URL: invalid value \"ftp://127.0.0.1:21/x\" (not an http:// URL" WANT_URL},
    {"HEALTH_URL", "127.0.0.1:9101/readyz", NULL, NULL,
     "HEALTH_URL: invalid value \"127.0.0.1:9101/readyz\" (not an http:// URL" WANT_URL},
    {"HEALTH_URL", "http://controller:9101/readyz", NULL, NULL,
     "HEALTH_URL: invalid value \"http://controller:9101/readyz\" (the host is not an IP "
     "address or localhost" WANT_URL},
    {"HEALTH_URL", "http://::1:9101/readyz", NULL, NULL,
     "HEALTH_URL: invalid value \"http://::1:9101/readyz\" (no host" WANT_URL},
    {"HEALTH_URL", "http://[::1/readyz", NULL, NULL,
     "HEALTH_URL: invalid value \"http://[::1/readyz\" (unclosed [" WANT_URL},
    {"HEALTH_URL", "http://[10.0.0.1]:80/", NULL, NULL,
     "HEALTH_URL: invalid value \"http://[10.0.0.1]:80/\" (the host is not an IP address or "
     "localhost" WANT_URL},
    {"HEALTH_URL", "http://127.0.0.1/readyz", NULL, NULL,
     "HEALTH_URL: invalid value \"http://127.0.0.1/readyz\" (no port" WANT_URL},
    {"HEALTH_URL", "http://127.0.0.1:/readyz", NULL, NULL,
     "HEALTH_URL: invalid value \"http://127.0.0.1:/readyz\" (bad port" WANT_URL},
    {"HEALTH_URL", "http://127.0.0.1:0/readyz", NULL, NULL,
     "HEALTH_URL: invalid value \"http://127.0.0.1:0/readyz\" (bad port" WANT_URL},
    {"HEALTH_URL", "http://127.0.0.1:65536/readyz", NULL, NULL,
     "HEALTH_URL: invalid value \"http://127.0.0.1:65536/readyz\" (bad port" WANT_URL},
    {"HEALTH_URL", "http://127.0.0.1:9101", NULL, NULL,
     "HEALTH_URL: invalid value \"http://127.0.0.1:9101\" (no path" WANT_URL},
    {"HEALTH_URL", "http://user@127.0.0.1:9101/readyz", NULL, NULL,
     "HEALTH_URL: invalid value \"http://user@127.0.0.1:9101/readyz\" (the host is not an IP "
     "address or localhost" WANT_URL},
    {"HEALTH_URL", "http://127.0.0.1:9101/a;b", NULL, NULL,
     "HEALTH_URL: invalid value \"http://127.0.0.1:9101/a;b\" (the path has characters outside "
     "[A-Za-z0-9-._~/%!$&()*+,=:@?] or is longer than 200" WANT_URL},
    {"HEALTH_URL", "http://127.0.0.1:9101/x\ny", NULL, NULL,
     "HEALTH_URL: invalid value \"http://127.0.0.1:9101/x?y\" (the path has characters outside "
     "[A-Za-z0-9-._~/%!$&()*+,=:@?] or is longer than 200" WANT_URL},
    {"HEALTH_URL", "http://127.0.0.1:9101/#frag", NULL, NULL,
     "HEALTH_URL: invalid value \"http://127.0.0.1:9101/#frag\" (the path has characters outside "
     "[A-Za-z0-9-._~/%!$&()*+,=:@?] or is longer than 200" WANT_URL},
    {NULL, NULL, "--health-url=http://127.0.0.1:9101/{x}", NULL,
     "--health-url: invalid value \"http://127.0.0.1:9101/{x}\" (the path has characters "
     "outside [A-Za-z0-9-._~/%!$&()*+,=:@?] or is longer than 200" WANT_URL},
    {NULL, NULL, "--no-such-flag", NULL, "unknown option --no-such-flag (see --help)"},
    {NULL, NULL, "--hold-time", NULL, "missing value for option --hold-time (see --help)"},
    {NULL, NULL, "start", NULL, "unknown subcommand \"start\" (want run or cleanup)"},
    {NULL, NULL, "run", "cleanup", "unexpected argument \"cleanup\""},
};

static void bad_values(void **state)
{
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        const struct bad *b = &bads[i];
        struct helper_config cfg;
        enum opt_result r;

        clear_env(NULL);
        setenv("SERVICE_PREFIXES", "10.1.1.0/24", 1);
        setenv("PEERS", "10.0.0.109", 1);
        if (b->var)
            setenv(b->var, b->value, 1);
        r = parse(&cfg, b->arg1, b->arg2, NULL);
        if (r != OPT_ERROR)
            fail_msg("case %zu (%s): accepted", i, b->want);
        if (strcmp(err, b->want) != 0)
            fail_msg("case %zu: want\n  %s\ngot\n  %s", i, b->want, err);
        assert_null(strchr(err, '\n'));
    }
}

/* Prefixes next to the refused ranges, and at the minimum length, stay accepted. */
static void prefixes_near_refused_ranges(void **state)
{
    static const char *const ok[] = {
        "1.0.0.0/8",     "126.255.255.0/24", "128.0.0.0/16",   "169.253.0.0/16", "169.255.0.0/16",
        "223.0.0.0/8",   "10.0.0.0/8",       "100.64.0.0/10",  "192.0.2.0/24",   "198.18.0.0/15",
        "172.16.0.0/12", "192.168.0.0/16",   "203.0.113.7/32",
    };

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct helper_config cfg;

        clear_env(NULL);
        setenv("SERVICE_PREFIXES", ok[i], 1);
        setenv("PEERS", "10.0.0.109", 1);
        if (parse(&cfg, "--dry-run", NULL) != OPT_OK)
            fail_msg("%s refused: %s", ok[i], err);
        helper_options_free(&cfg);
    }
}

static void required(void **state)
{
    struct helper_config cfg;

    setenv("PEERS", "10.0.0.109", 1);
    assert_int_equal(parse(&cfg, NULL), OPT_ERROR);
    assert_string_equal(err, "SERVICE_PREFIXES is required (the service ranges to announce)");
}

static void limits(void **state)
{
    struct helper_config cfg;
    char list[2048] = "";

    for (int i = 0; i <= HELPER_MAX_PREFIXES; i++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s10.2.%d.0/24", i ? "," : "",
                 i);
    setenv("SERVICE_PREFIXES", list, 1);
    setenv("PEERS", "10.0.0.109", 1);
    assert_int_equal(parse(&cfg, NULL), OPT_ERROR);
    assert_string_equal(err, "SERVICE_PREFIXES: more than 64 prefixes");
}

static void md5_file(void **state)
{
    char path[] = "/tmp/helper-md5.XXXXXX", *pw = NULL;
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");

    fputs("s3cret \"with\" quotes;\n", f);
    fclose(f);
    assert_int_equal(helper_read_md5(path, &pw, err, sizeof(err)), 0);
    assert_string_equal(pw, "s3cret \"with\" quotes;"); /* one newline trimmed */
    free(pw);

    f = fopen(path, "w");
    fputs("\n", f);
    fclose(f);
    assert_int_not_equal(helper_read_md5(path, &pw, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "the password must be 1..80 bytes"));

    f = fopen(path, "w");
    for (int i = 0; i < 81; i++)
        fputc('x', f);
    fclose(f);
    assert_int_not_equal(helper_read_md5(path, &pw, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "the password must be 1..80 bytes"));
    unlink(path);

    assert_int_not_equal(helper_read_md5(path, &pw, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "No such file or directory"));
    assert_non_null(strstr(err, "MD5_PASSWORD_FILE"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(defaults, clear_env),
        cmocka_unit_test_setup(environment_and_flags, clear_env),
        cmocka_unit_test_setup(empty_variables_are_unset, clear_env),
        cmocka_unit_test_setup(cleanup_needs_no_peers, clear_env),
        cmocka_unit_test_setup(health_url, clear_env),
        cmocka_unit_test_setup(bad_values, clear_env),
        cmocka_unit_test_setup(prefixes_near_refused_ranges, clear_env),
        cmocka_unit_test_setup(required, clear_env),
        cmocka_unit_test_setup(limits, clear_env),
        cmocka_unit_test_setup(md5_file, clear_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
