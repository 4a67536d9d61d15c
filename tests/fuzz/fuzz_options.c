// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_options.c - libFuzzer target for what an operator types: the
 * controller's options and label selectors, the exabgp-helper's options
 * (its service prefixes, peers, AS numbers) and the shared address, port
 * and prefix parsers.
 *
 * The input is a list of NUL-separated words.  Each word is copied into an
 * allocation of its own size, so a parser that reads past a word's end is
 * caught by ASan; the words go, as one argv, through both option parsers,
 * and one by one through selector_validate, prefix_parse, hostport_parse
 * and netaddr_parse.  Whatever the input, nothing may crash, leak or read
 * out of bounds; the controller's error is one non-empty line; what the
 * parsers accept prints back the same.
 */
#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../controller/options.h"
#include "netaddr.h"

/* Both programs name their parse results alike; rename the helper's. */
#define opt_result  helper_opt_result
#define OPT_OK      HELPER_OPT_OK
#define OPT_EXIT_OK HELPER_OPT_EXIT_OK
#define OPT_ERROR   HELPER_OPT_ERROR
#include "../../exabgp-helper/conf.h"
#include "../../exabgp-helper/options.h"
#undef opt_result
#undef OPT_OK
#undef OPT_EXIT_OK
#undef OPT_ERROR

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_WORDS 64

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Nothing from the machine running the fuzzer may steer the parsers. */
    clearenv();
    /* --help and --version print; keep libFuzzer's own output readable. */
    if (!freopen("/dev/null", "w", stdout))
        abort();
    return 0;
}

/* Forget where getopt was inside an earlier, since freed, argv. */
static void getopt_reset(void)
{
    char *none[] = {"fuzz", NULL};

    optind = 0;
    opterr = 0;
    (void)getopt(1, none, "");
}

static void check_one_line(const char *err)
{
    if (!err[0] || strchr(err, '\n') || strchr(err, '\r'))
        __builtin_trap();
}

static void words_alone(char *w)
{
    char err[512], buf[NETADDR_STRLEN], again[NETADDR_STRLEN + 8];
    struct netaddr a, b;
    unsigned len, len2;
    uint16_t port, port2;

    if (selector_validate(w, err, sizeof(err)) == 0) {
        if (strlen(w) > OPT_SELECTOR_MAX)
            __builtin_trap();
    } else {
        check_one_line(err);
    }
    if (prefix_parse(w, &a, &len) == 0) {
        snprintf(again, sizeof(again), "%s/%u", netaddr_format(&a, buf), len);
        if (prefix_parse(again, &b, &len2) != 0 || netaddr_cmp(&a, &b) || len != len2)
            __builtin_trap();
    }
    if (hostport_parse(w, &a, &port) == 0) {
        snprintf(again, sizeof(again), a.family == AF_INET6 ? "[%s]:%u" : "%s:%u",
                 netaddr_format(&a, buf), port);
        if (hostport_parse(again, &b, &port2) != 0 || netaddr_cmp(&a, &b) || port != port2)
            __builtin_trap();
    }
    if (netaddr_parse(w, &a) == 0) {
        if (netaddr_parse(netaddr_format(&a, buf), &b) != 0 || netaddr_cmp(&a, &b))
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *argv[MAX_WORDS + 2] = {"prog"};
    int argc = 1;
    size_t off = 0;
    char err[512];

    while (off < size && argc <= MAX_WORDS) {
        const uint8_t *end = memchr(data + off, '\0', size - off);
        size_t n = end ? (size_t)(end - (data + off)) : size - off;
        char *w = malloc(n + 1);
        if (!w)
            abort();
        memcpy(w, data + off, n);
        w[n] = '\0';
        argv[argc++] = w;
        off += n + 1;
    }
    argv[argc] = NULL;

    for (int i = 1; i < argc; i++)
        words_alone(argv[i]);

    {
        struct ctl_config cfg;
        enum opt_result r;

        err[0] = '\0';
        getopt_reset();
        r = options_parse(argc, argv, &cfg, err, sizeof(err));
        if (r == OPT_ERROR)
            check_one_line(err);
        if (r == OPT_OK) {
            /* what check() promises the rest of the daemon */
            if (!cfg.apiserver || !cfg.namespace || !cfg.output || !cfg.sched || cfg.n_vs == 0 ||
                !!cfg.selector == !!cfg.service)
                __builtin_trap();
            if (cfg.selector && selector_validate(cfg.selector, err, sizeof(err)) != 0)
                __builtin_trap();
            options_free(&cfg);
        }
    }
    {
        struct helper_config hcfg;

        getopt_reset();
        enum helper_opt_result r = helper_options_parse(argc, argv, &hcfg, err, sizeof(err));
        if (r == HELPER_OPT_ERROR)
            check_one_line(err);
        if (r == HELPER_OPT_OK) {
            if (hcfg.n_prefixes == 0)
                __builtin_trap();
            for (size_t i = 0; i < hcfg.n_prefixes; i++) {
                if (hcfg.prefixes[i].len == 0 || hcfg.prefixes[i].addr.family != AF_INET)
                    __builtin_trap();
            }
            /* HEALTH_URL goes into exabgp.conf's run line as one word */
            if (hcfg.health_url && conf_check_word(hcfg.health_url) != 0)
                __builtin_trap();
        }
        helper_options_free(&hcfg);
    }

    for (int i = 1; i < argc; i++)
        free(argv[i]);
    return 0;
}
