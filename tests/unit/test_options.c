// SPDX-License-Identifier: Apache-2.0
/*
 * test_options.c - flags, environment variables, defaults, and every kind
 * of bad value named in its error.
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

static enum opt_result parse(struct ctl_config *cfg, const char *first, ...)
{
    char *argv[64] = {"ipvs-controller"};
    int argc = 1;
    va_list ap;

    va_start(ap, first);
    for (const char *a = first; a && argc < 63; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    err[0] = '\0';
    return options_parse(argc, argv, cfg, err, sizeof(err));
}

#define BASE "--apiserver", "http://127.0.0.1:8080/", "--virtual-server", "10.1.1.1:80"

static void defaults(void **state)
{
    struct ctl_config cfg;

    assert_int_equal(parse(&cfg, BASE, "--selector", "app=web", NULL), OPT_OK);
    assert_string_equal(cfg.apiserver, "http://127.0.0.1:8080"); /* trailing slash trimmed */
    assert_int_equal(cfg.mode, SELECT_PODS);
    assert_string_equal(cfg.sched, "rr");
    assert_string_equal(cfg.method, "NAT");
    assert_string_equal(cfg.protocol, "TCP");
    assert_int_equal(cfg.hc, HC_TCP);
    assert_string_equal(cfg.output, "/etc/keepalived/ipvs.conf");
    assert_int_equal(cfg.n_vs, 1);
    assert_int_equal(cfg.vs[0].port, 80);
    assert_false(cfg.once);
    assert_int_equal(cfg.serving_check, SERVING_CHECK_KERNEL);
    assert_string_equal(cfg.ipvs_table, "/proc/net/ip_vs");
    assert_int_equal(cfg.lb_mode, LB_MODE_NAT);
    options_free(&cfg);
    assert_int_equal(parse(&cfg, BASE, "--selector", "app=web", "--serving-check", "none",
                           "--ipvs-table", "/tmp/ip_vs", NULL),
                     OPT_OK);
    assert_int_equal(cfg.serving_check, SERVING_CHECK_NONE);
    assert_string_equal(cfg.ipvs_table, "/tmp/ip_vs");
    options_free(&cfg);
}

static void environment(void **state)
{
    struct ctl_config cfg;

    setenv("IPVS_CONTROLLER_APISERVER", "https://10.96.0.1:443", 1);
    setenv("IPVS_CONTROLLER_SERVICE", "web", 1);
    setenv("IPVS_CONTROLLER_VIRTUAL_SERVER", "10.1.1.1:80,[2001:db8::1]:443 fwmark:7", 1);
    setenv("IPVS_CONTROLLER_LB_KIND", "dr", 1);
    setenv("IPVS_CONTROLLER_ONCE", "true", 1);
    setenv("IPVS_CONTROLLER_HEALTH_CHECK", "http:/healthz?full=1", 1);
    setenv("IPVS_CONTROLLER_NAMESPACE", "lb", 1);
    setenv("IPVS_CONTROLLER_TARGET_PORT", "8080", 1);
    assert_int_equal(parse(&cfg, NULL), OPT_ERROR); /* DR cannot change the port */
    assert_non_null(strstr(err, "--lb-kind DR cannot change the port"));
    unsetenv("IPVS_CONTROLLER_TARGET_PORT");
    assert_int_equal(parse(&cfg, NULL), OPT_OK);
    assert_int_equal(cfg.mode, SELECT_SERVICE);
    assert_string_equal(cfg.service, "web");
    assert_int_equal(cfg.n_vs, 3);
    assert_true(cfg.vs[2].fwmark);
    assert_int_equal(cfg.vs[2].mark, 7);
    assert_string_equal(cfg.method, "DR");
    assert_true(cfg.once);
    assert_int_equal(cfg.hc, HC_HTTP);
    assert_string_equal(cfg.hc_path, "/healthz?full=1");
    assert_string_equal(cfg.namespace, "lb");
    options_free(&cfg);

    /* a flag wins over its variable, and flags replace the variable's list */
    assert_int_equal(parse(&cfg, "--virtual-server", "10.9.9.9:53", "--lb-kind", "NAT", NULL),
                     OPT_OK);
    assert_int_equal(cfg.n_vs, 1);
    assert_int_equal(cfg.vs[0].port, 53);
    assert_string_equal(cfg.method, "NAT");
    options_free(&cfg);

    setenv("IPVS_CONTROLLER_ONCE", "maybe", 1);
    assert_int_equal(parse(&cfg, NULL), OPT_ERROR);
    assert_non_null(strstr(err, "IPVS_CONTROLLER_ONCE"));
    unsetenv("IPVS_CONTROLLER_ONCE");
    unsetenv("IPVS_CONTROLLER_APISERVER");
    unsetenv("IPVS_CONTROLLER_SERVICE");
    unsetenv("IPVS_CONTROLLER_VIRTUAL_SERVER");
    unsetenv("IPVS_CONTROLLER_LB_KIND");
    unsetenv("IPVS_CONTROLLER_HEALTH_CHECK");
    unsetenv("IPVS_CONTROLLER_NAMESPACE");
}

static void in_cluster(void **state)
{
    struct ctl_config cfg;
    char dir[] = "/tmp/sa-test-XXXXXX", path[128];
    FILE *f;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/namespace", dir);
    f = fopen(path, "w");
    fputs("kube-lb\n", f);
    fclose(f);

    assert_int_equal(parse(&cfg, "--selector", "app=web", "--virtual-server", "10.1.1.1:80", NULL),
                     OPT_ERROR);
    assert_non_null(strstr(err, "KUBERNETES_SERVICE_HOST"));

    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
    assert_int_equal(parse(&cfg, "--selector", "app=web", "--virtual-server", "10.1.1.1:80",
                           "--serviceaccount-dir", dir, NULL),
                     OPT_OK);
    assert_string_equal(cfg.apiserver, "https://[fd00::1]:6443");
    assert_string_equal(cfg.namespace, "kube-lb");
    snprintf(path, sizeof(path), "%s/token", dir);
    assert_string_equal(cfg.token_file, path);
    snprintf(path, sizeof(path), "%s/ca.crt", dir);
    assert_string_equal(cfg.ca_file, path);
    options_free(&cfg);
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    snprintf(path, sizeof(path), "%s/namespace", dir);
    unlink(path);
    rmdir(dir);
}

struct bad {
    const char *flag;
    const char *value;
    const char *says; /* part of the message */
};

static void bad_values(void **state)
{
    static const struct bad cases[] = {
        {"--virtual-server", "10.1.1.1", "--virtual-server: invalid value"},
        {"--virtual-server", "10.1.1.1:0", "--virtual-server: invalid value"},
        {"--virtual-server", "10.1.1.1:65536", "--virtual-server: invalid value"},
        {"--virtual-server", "::1:80", "--virtual-server: invalid value"},
        {"--virtual-server", "[10.1.1.1]:80", "--virtual-server: invalid value"},
        {"--virtual-server", "fwmark:0", "--virtual-server: invalid value"},
        {"--virtual-server", "fwmark:x", "--virtual-server: invalid value"},
        {"--virtual-server", "web:80", "--virtual-server: invalid value"},
        {"--target-port", "http", "--target-port: invalid value"},
        {"--target-port", "-1", "--target-port: invalid value"},
        {"--lb-algo", "roundrobin", "--lb-algo: invalid value"},
        {"--lb-algo", "rr\n}", "--lb-algo: invalid value"},
        {"--lb-kind", "FULLNAT", "--lb-kind: invalid value"},
        {"--mode", "dsr", "--mode: invalid value \"dsr\", expected nat|flow"},
        {"--mode", "", "--mode: invalid value"},
        {"--protocol", "ICMP", "--protocol: invalid value"},
        {"--health-check", "http:healthz", "--health-check: invalid value"},
        {"--health-check", "http:/a b", "--health-check: invalid value"},
        {"--health-check", "http:/x}\n", "--health-check: invalid value"},
        {"--health-check", "http:/$X", "--health-check: invalid value"},
        {"--health-check", "http:/#", "--health-check: invalid value"},
        {"--health-check", "udp", "--health-check: invalid value"},
        {"--health-check-interval", "0", "--health-check-interval: invalid value"},
        {"--health-check-interval", "0.0001", "--health-check-interval: invalid value"},
        {"--health-check-interval", "1.", "--health-check-interval: invalid value"},
        {"--health-check-interval", ".5", "--health-check-interval: invalid value"},
        {"--health-check-interval", "1e3", "--health-check-interval: invalid value"},
        {"--health-check-interval", "0.-5", "--health-check-interval: invalid value"},
        {"--health-check-timeout", "3600.001", "--health-check-timeout: invalid value"},
        {"--health-check-retry-delay", "-1", "--health-check-retry-delay: invalid value"},
        {"--health-check-retry-delay", "1,5", "--health-check-retry-delay: invalid value"},
        {"--persistence-timeout", "1h", "--persistence-timeout: invalid value"},
        {"--namespace", "Kube_System", "--namespace: invalid value"},
        {"--namespace", "../x", "--namespace: invalid value"},
        {"--max-event-bytes", "12", "--max-event-bytes: invalid value"},
        {"--max-list-bytes", "lots", "--max-list-bytes: invalid value"},
        {"--metrics-address", "localhost:9100", "--metrics-address: invalid value"},
        {"--log-level", "loud", "--log-level: invalid value"},
        {"--serving-check", "ipvsadm",
         "--serving-check: invalid value \"ipvsadm\", expected kernel|none"},
        {"--serving-check", "", "--serving-check: invalid value"},
        {"--ipvs-table", "", "--ipvs-table: invalid value"},
        {"--debounce-ms", "5s", "--debounce-ms: invalid value"},
        {"--selector", "app=web,", "--selector: invalid label selector"},
        {"--selector", "app in web", "--selector: invalid label selector"},
        {"--selector", "app=we b", "--selector: invalid label selector"},
        {"--selector", "app=web&x=1", "--selector: invalid label selector"},
        {"--selector", "", "--selector: empty"},
        /* these ended in the middle of a set: the parser stepped past the NUL */
        {"--selector", "app in (a", "--selector: invalid label selector"},
        {"--selector", "app in ", "--selector: invalid label selector"},
        {"--selector", "app notin (a,", "--selector: invalid label selector"},
        {"--selector", "app in (", "--selector: invalid label selector"},
        {"--selector", "app notin", "--selector: invalid label selector"},
        {"--selector", "app in (a)x", "--selector: invalid label selector"},
        {"--selector", "!", "--selector: invalid label selector"},
        {"--selector", "app!", "--selector: invalid label selector"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ctl_config cfg;
        const char *sel = strcmp(cases[i].flag, "--selector") ? "app=web" : cases[i].value;
        enum opt_result r;
        r = parse(&cfg, BASE, "--selector", sel, cases[i].flag, cases[i].value, NULL);
        if (r != OPT_ERROR)
            fail_msg("%s %s was accepted", cases[i].flag, cases[i].value);
        if (!strstr(err, cases[i].says))
            fail_msg("%s %s: message \"%s\" lacks \"%s\"", cases[i].flag, cases[i].value, err,
                     cases[i].says);
        assert_null(strchr(err, '\n'));
    }
}

/* A valid selector "k0000=v,k0001=v,..." of at most n bytes and more than n - 8. */
static char *long_selector(size_t n)
{
    char *s = calloc(1, n + 1);
    size_t len = 0;

    for (unsigned i = 0; len + 8 <= n; i++)
        len += (size_t)sprintf(s + len, "%sk%04u=v", i ? "," : "", i % 10000);
    return s;
}

/* Past OPT_SELECTOR_MAX the start-up fails with one line, not every request after it. */
static void selector_cap(void **state)
{
    struct ctl_config cfg;
    char *at_cap = long_selector(OPT_SELECTOR_MAX), *over = long_selector(OPT_SELECTOR_MAX + 40);

    assert_true(strlen(at_cap) > OPT_SELECTOR_MAX - 8 && strlen(at_cap) <= OPT_SELECTOR_MAX);
    assert_true(strlen(over) > OPT_SELECTOR_MAX);
    if (selector_validate(at_cap, err, sizeof(err)) != 0)
        fail_msg("a selector of %zu bytes was rejected: %s", strlen(at_cap), err);
    assert_int_equal(parse(&cfg, BASE, "--selector", over, NULL), OPT_ERROR);
    assert_non_null(strstr(err, "--selector: label selector longer than 1024 bytes"));
    assert_null(strchr(err, '\n'));
    free(at_cap);
    free(over);
}

static void good_selectors(void **state)
{
    static const char *ok[] = {
        "app=web",
        "app==web,tier!=db",
        "app in (web, api),!legacy",
        "environment notin (dev),example.com/role=lb,track",
        "a.b-c_d=x",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (selector_validate(ok[i], err, sizeof(err)) != 0)
            fail_msg("%s rejected: %s", ok[i], err);
    }
}

static void conflicts(void **state)
{
    struct ctl_config cfg;

    assert_int_equal(parse(&cfg, BASE, NULL), OPT_ERROR);
    assert_non_null(strstr(err, "exactly one of --selector or --service"));
    assert_int_equal(parse(&cfg, BASE, "--selector", "a=b", "--service", "web", NULL), OPT_ERROR);
    assert_non_null(strstr(err, "exactly one of --selector or --service"));
    assert_int_equal(parse(&cfg, "--apiserver", "http://x", "--selector", "a=b", NULL), OPT_ERROR);
    assert_non_null(strstr(err, "no --virtual-server"));
    assert_int_equal(parse(&cfg, BASE, "--selector", "a=b", "--keepalived-pidfile", "/p",
                           "--keepalived-cmd", "keepalived -n", NULL),
                     OPT_ERROR);
    assert_non_null(strstr(err, "only one of --keepalived-pidfile"));
    assert_int_equal(parse(&cfg, "--apiserver", "ftp://x", "--virtual-server", "10.1.1.1:80",
                           "--selector", "a=b", NULL),
                     OPT_ERROR);
    assert_non_null(strstr(err, "not an http:// or https:// URL"));
    assert_int_equal(parse(&cfg, BASE, "--selector", "a=b", "--protocol", "udp", NULL), OPT_ERROR);
    assert_non_null(strstr(err, "needs --protocol TCP"));
    assert_int_equal(parse(&cfg, BASE, "--selector", "a=b", "--virtual-server", "fwmark:3", NULL),
                     OPT_ERROR);
    assert_non_null(strstr(err, "needs --target-port"));
    assert_int_equal(
        parse(&cfg, BASE, "--selector", "a=b", "--virtual-server", "10.1.1.1:80", NULL), OPT_ERROR);
    assert_non_null(strstr(err, "given twice"));
    assert_int_equal(parse(&cfg, BASE, "--selector", "a=b", "--bogus", NULL), OPT_ERROR);
    assert_non_null(strstr(err, "unknown option --bogus"));
    /* user text in a message stays on its one line (found by fuzz_options) */
    assert_int_equal(parse(&cfg, BASE, "--selector", "a=b", "--bo\ngus", NULL), OPT_ERROR);
    assert_non_null(strstr(err, "unknown option --bo?gus"));
    assert_int_equal(parse(&cfg, "--apiserver", "http://x/\nX-Evil: 1", "--virtual-server",
                           "10.1.1.1:80", "--selector", "a=b", NULL),
                     OPT_ERROR);
    assert_non_null(strstr(err, "must be a plain base URL"));
    assert_null(strchr(err, '\n'));
    assert_int_equal(parse(&cfg, BASE, "--selector", "a=b", "x\ny", NULL), OPT_ERROR);
    assert_null(strchr(err, '\n'));
    assert_int_equal(parse(&cfg, BASE, "--selector", "a=b", "extra", NULL), OPT_ERROR);
    assert_non_null(strstr(err, "unexpected argument"));
    assert_int_equal(parse(&cfg, BASE, "--selector", NULL), OPT_ERROR);
    assert_non_null(strstr(err, "--selector needs a value"));
    assert_int_equal(parse(&cfg, BASE, "--service", "web", "--port-name", "http", NULL), OPT_OK);
    options_free(&cfg);
    assert_int_equal(parse(&cfg, BASE, "--selector", "a=b", "--port-name", "http", NULL),
                     OPT_ERROR);
    assert_non_null(strstr(err, "--port-name applies only with --service"));
}

/* --mode flow sets what it needs and refuses what would break it, naming the flags. */
static void flow_mode(void **state)
{
    static const struct bad refused[] = {
        {"--lb-algo", "rr", "--mode flow needs --lb-algo mh"},
        {"--lb-algo", "sh", "not --lb-algo sh"},
        {"--lb-kind", "NAT", "--mode flow needs --lb-kind TUN"},
        {"--lb-kind", "dr", "not --lb-kind DR"},
        {"--target-port", "8080",
         "--mode flow (TUN) cannot change the port: --target-port must equal the virtual port "
         "(80, not 8080)"},
        {"--persistence-timeout", "300", "--mode flow and --persistence-timeout conflict"},
    };
    struct ctl_config cfg;

    assert_int_equal(parse(&cfg, BASE, "--selector", "a=b", "--mode", "flow", NULL), OPT_OK);
    assert_int_equal(cfg.lb_mode, LB_MODE_FLOW);
    assert_string_equal(cfg.sched, "mh");
    assert_string_equal(cfg.method, "TUN");
    options_free(&cfg);
    /* saying it again is fine; so is a --target-port equal to the virtual port */
    assert_int_equal(parse(&cfg, BASE, "--selector", "a=b", "--mode", "FLOW", "--lb-algo", "mh",
                           "--lb-kind", "tun", "--target-port", "80", NULL),
                     OPT_OK);
    assert_int_equal(cfg.lb_mode, LB_MODE_FLOW);
    options_free(&cfg);
    /*
     * A fwmark service: TUN keeps the packet's port and keepalived clears a
     * real server's, so no --target-port and no check, which needs a port.
     */
    assert_int_equal(parse(&cfg, "--apiserver", "http://x", "--selector", "a=b", "--mode", "flow",
                           "--virtual-server", "fwmark:5", "--health-check", "none", NULL),
                     OPT_OK);
    options_free(&cfg);
    assert_int_equal(parse(&cfg, "--apiserver", "http://x", "--selector", "a=b", "--mode", "flow",
                           "--virtual-server", "fwmark:5", "--health-check", "none",
                           "--target-port", "8080", NULL),
                     OPT_ERROR);
    assert_non_null(strstr(err, "--mode flow: --virtual-server fwmark:5 takes real servers without "
                                "a port (TUN keeps the packet's); drop --target-port"));
    assert_int_equal(parse(&cfg, "--apiserver", "http://x", "--service", "web", "--mode", "flow",
                           "--virtual-server", "fwmark:5", NULL),
                     OPT_ERROR);
    assert_non_null(
        strstr(err, "--mode flow: --virtual-server fwmark:5 needs --health-check none"));
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        if (parse(&cfg, BASE, "--selector", "a=b", "--mode", "flow", refused[i].flag,
                  refused[i].value, NULL) != OPT_ERROR)
            fail_msg("--mode flow %s %s was accepted", refused[i].flag, refused[i].value);
        if (!strstr(err, refused[i].says))
            fail_msg("--mode flow %s %s: message \"%s\" lacks \"%s\"", refused[i].flag,
                     refused[i].value, err, refused[i].says);
        assert_null(strchr(err, '\n'));
        /* the same flag in NAT mode is fine */
        assert_int_equal(
            parse(&cfg, BASE, "--selector", "a=b", refused[i].flag, refused[i].value, NULL),
            OPT_OK);
        options_free(&cfg);
    }

    /* the environment, and a flag over it */
    setenv("IPVS_CONTROLLER_MODE", "flow", 1);
    assert_int_equal(parse(&cfg, BASE, "--selector", "a=b", NULL), OPT_OK);
    assert_int_equal(cfg.lb_mode, LB_MODE_FLOW);
    options_free(&cfg);
    assert_int_equal(parse(&cfg, BASE, "--selector", "a=b", "--lb-algo", "wrr", NULL), OPT_ERROR);
    assert_non_null(strstr(err, "--mode flow needs --lb-algo mh"));
    assert_int_equal(parse(&cfg, BASE, "--selector", "a=b", "--mode", "nat", NULL), OPT_OK);
    assert_int_equal(cfg.lb_mode, LB_MODE_NAT);
    assert_string_equal(cfg.sched, "rr");
    assert_string_equal(cfg.method, "NAT");
    options_free(&cfg);
    setenv("IPVS_CONTROLLER_MODE", "fast", 1);
    assert_int_equal(parse(&cfg, BASE, "--selector", "a=b", NULL), OPT_ERROR);
    assert_non_null(strstr(err, "IPVS_CONTROLLER_MODE: invalid value \"fast\""));
    unsetenv("IPVS_CONTROLLER_MODE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),       cmocka_unit_test(environment),
        cmocka_unit_test(in_cluster),     cmocka_unit_test(bad_values),
        cmocka_unit_test(good_selectors), cmocka_unit_test(selector_cap),
        cmocka_unit_test(conflicts),      cmocka_unit_test(flow_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
