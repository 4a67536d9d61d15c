// SPDX-License-Identifier: Apache-2.0
/*
 * test_serving.c - the serving state from its inputs: each reason, in its
 * order, with the line /readyz shows; the kernel's table as text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "serving.h"

#define HEADER                                                                                     \
    "IP Virtual Server version 1.2.1 (size=4096)\n"                                                \
    "Prot LocalAddress:Port Scheduler Flags\n"                                                     \
    "  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n"
/* 10.1.1.1:80 TCP and [2001:db8::1]:80 TCP and fwmark 7, each with a live real server */
#define VS4 "TCP  0A010101:0050 rr  \n  -> AC100102:0050      Masq    1      0          0\n"
#define VS6                                                                                        \
    "TCP  [2001:0db8:0000:0000:0000:0000:0000:0001]:0050 rr \n"                                    \
    "  -> [fd00:0000:0000:0000:0000:0000:0000:0002]:0050      Masq    1      0          0\n"
#define FWM "FWM  00000007 rr \n  -> AC100102:0000      Route   1      0          0\n"

struct tcase {
    const char *name;
    bool synced;
    enum keepalived_state ka;
    enum serving_check check;
    size_t endpoints[3]; /* per virtual server */
    const char *table;   /* NULL: unreadable */
    enum serving_reason want;
    const char *why;
    bool stopping; /* the preStop hook's file was seen */
};

static const struct tcase cases[] = {
    {"all there",
     true,
     KEEPALIVED_RUNNING,
     SERVING_CHECK_KERNEL,
     {1, 1, 1},
     HEADER VS4 VS6 FWM,
     SERVING_OK,
     "serving",
     false},
    {"keepalived not ours to watch",
     true,
     KEEPALIVED_UNWATCHED,
     SERVING_CHECK_KERNEL,
     {1, 1, 1},
     HEADER VS4 VS6 FWM,
     SERVING_OK,
     "serving",
     false},
    {"not synced comes first",
     false,
     KEEPALIVED_DOWN,
     SERVING_CHECK_KERNEL,
     {0, 0, 0},
     NULL,
     SERVING_NOT_SYNCED,
     "the first sync with the API server is not done",
     false},
    {"keepalived down",
     true,
     KEEPALIVED_DOWN,
     SERVING_CHECK_KERNEL,
     {1, 1, 1},
     HEADER VS4 VS6 FWM,
     SERVING_KEEPALIVED_DOWN,
     "keepalived is not running: seen dead",
     false},
    {"keepalived starting",
     true,
     KEEPALIVED_STARTING,
     SERVING_CHECK_NONE,
     {1, 1, 1},
     NULL,
     SERVING_KEEPALIVED_STARTING,
     "keepalived is starting: seen dead",
     false},
    {"none: no table needed",
     true,
     KEEPALIVED_RUNNING,
     SERVING_CHECK_NONE,
     {0, 0, 0},
     NULL,
     SERVING_OK,
     "serving",
     false},
    {"table unreadable",
     true,
     KEEPALIVED_RUNNING,
     SERVING_CHECK_KERNEL,
     {1, 1, 1},
     NULL,
     SERVING_TABLE_UNREADABLE,
     "the kernel's IPVS table is unreadable: no such file",
     false},
    {"no endpoints, named",
     true,
     KEEPALIVED_RUNNING,
     SERVING_CHECK_KERNEL,
     {1, 0, 1},
     HEADER VS4 VS6 FWM,
     SERVING_NO_ENDPOINTS,
     "virtual server [2001:db8::1]:80 TCP has no ready endpoints",
     false},
    {"missing from the table",
     true,
     KEEPALIVED_RUNNING,
     SERVING_CHECK_KERNEL,
     {1, 1, 1},
     HEADER VS4 FWM,
     SERVING_VS_MISSING,
     "virtual server [2001:db8::1]:80 TCP is not in the kernel's IPVS table",
     false},
    {"empty table",
     true,
     KEEPALIVED_RUNNING,
     SERVING_CHECK_KERNEL,
     {1, 1, 1},
     HEADER,
     SERVING_VS_MISSING,
     "virtual server 10.1.1.1:80 TCP is not in the kernel's IPVS table",
     false},
    {"weight 0",
     true,
     KEEPALIVED_RUNNING,
     SERVING_CHECK_KERNEL,
     {1, 1, 1},
     HEADER "TCP  0A010101:0050 rr  \n"
            "  -> AC100102:0050      Masq    0      0          0\n"
            "  -> AC100103:0050      Masq    0      0          0\n" VS6 FWM,
     SERVING_NO_LIVE_REAL_SERVER,
     "virtual server 10.1.1.1:80 TCP has no real server with weight > 0 (2 in the table)",
     false},
    /* flow mode: mh, TUN ("Tunnel"); a failing web pod stays at weight 0 (inhibit_on_failure) */
    {"flow: one inhibited, one live",
     true,
     KEEPALIVED_RUNNING,
     SERVING_CHECK_KERNEL,
     {1, 1, 1},
     HEADER "TCP  0A010101:0050 mh \n"
            "  -> AC100103:0050      Tunnel  0      4          0\n"
            "  -> AC100102:0050      Tunnel  1      0          0\n" VS6 FWM,
     SERVING_OK,
     "serving",
     false},
    {"flow: every one inhibited",
     true,
     KEEPALIVED_RUNNING,
     SERVING_CHECK_KERNEL,
     {1, 1, 1},
     HEADER "TCP  0A010101:0050 mh \n"
            "  -> AC100103:0050      Tunnel  0      4          0\n"
            "  -> AC100102:0050      Tunnel  0      0          0\n" VS6 FWM,
     SERVING_NO_LIVE_REAL_SERVER,
     "virtual server 10.1.1.1:80 TCP has no real server with weight > 0 (2 in the table)",
     false},
    {"no real servers",
     true,
     KEEPALIVED_RUNNING,
     SERVING_CHECK_KERNEL,
     {1, 1, 1},
     HEADER VS4 VS6 "FWM  00000007 rr \n",
     SERVING_NO_LIVE_REAL_SERVER,
     "virtual server fwmark 7 has no real server with weight > 0 (0 in the table)",
     false},
    {"the UDP service does not stand in for TCP",
     true,
     KEEPALIVED_RUNNING,
     SERVING_CHECK_KERNEL,
     {1, 1, 1},
     HEADER "UDP  0A010101:0050 rr  \n  -> AC100102:0050      Masq    1      0   0\n" VS6 FWM,
     SERVING_VS_MISSING,
     "virtual server 10.1.1.1:80 TCP is not in the kernel's IPVS table",
     false},
    {"stopping wins over serving",
     true,
     KEEPALIVED_RUNNING,
     SERVING_CHECK_KERNEL,
     {1, 1, 1},
     HEADER VS4 VS6 FWM,
     SERVING_STOPPING,
     "the pod is stopping: withdrawing before keepalived stops",
     true},
    {"stopping comes before not synced",
     false,
     KEEPALIVED_DOWN,
     SERVING_CHECK_NONE,
     {0, 0, 0},
     NULL,
     SERVING_STOPPING,
     "the pod is stopping: withdrawing before keepalived stops",
     true},
};

static void reasons(void **state)
{
    struct vserver vs[3];
    struct ipvs_table t;
    char why[512], err[256];

    (void)state;
    memset(vs, 0, sizeof(vs));
    assert_int_equal(hostport_parse("10.1.1.1:80", &vs[0].addr, &vs[0].port), 0);
    assert_int_equal(hostport_parse("[2001:db8::1]:80", &vs[1].addr, &vs[1].port), 0);
    vs[2].fwmark = true;
    vs[2].mark = 7;
    ipvs_table_init(&t);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct tcase *c = &cases[i];
        struct serving_input in = {
            .stopping = c->stopping,
            .synced = c->synced,
            .keepalived = c->ka,
            .keepalived_why = "seen dead",
            .check = c->check,
            .vs = vs,
            .n_vs = 3,
            .protocol = "TCP",
            .endpoints = c->endpoints,
            .table_error = "no such file",
        };
        enum serving_reason r;

        if (c->table) {
            assert_int_equal(ipvs_table_parse(&t, c->table, strlen(c->table), err, sizeof(err)), 0);
            in.table = &t;
        }
        r = serving_evaluate(&in, why, sizeof(why));
        if (r != c->want || strcmp(why, c->why) != 0) {
            print_error("case \"%s\": %s \"%s\", want %s \"%s\"\n", c->name,
                        serving_reason_label(r), why, serving_reason_label(c->want), c->why);
            fail();
        }
    }
    ipvs_table_free(&t);
}

static void labels(void **state)
{
    (void)state;
    /* every reason has its own label: the metric's series are distinct */
    for (int i = 0; i < SERVING__COUNT; i++) {
        assert_non_null(serving_reason_label((enum serving_reason)i));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(serving_reason_label((enum serving_reason)i),
                                    serving_reason_label((enum serving_reason)j));
    }
    assert_string_equal(serving_reason_label(SERVING_NO_LIVE_REAL_SERVER), "no_live_real_server");
}

/* The reloader's view of keepalived, both modes, without running keepalived. */
static void keepalived_states(void **state)
{
    char dir[] = "/tmp/serving-test-XXXXXX", pidfile[128], why[256];
    struct reloader r;
    FILE *f;
    pid_t zombie;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(pidfile, sizeof(pidfile), "%s/keepalived.pid", dir);

    reloader_init(&r, NULL, NULL);
    assert_int_equal(reloader_state(&r, 0, why, sizeof(why)), KEEPALIVED_UNWATCHED);

    reloader_init(&r, pidfile, NULL);
    assert_int_equal(reloader_state(&r, 0, why, sizeof(why)), KEEPALIVED_DOWN);
    assert_non_null(strstr(why, "cannot read keepalived pidfile"));
    f = fopen(pidfile, "w");
    assert_non_null(f);
    fprintf(f, "%d\n", (int)getpid()); /* a live process */
    fclose(f);
    assert_int_equal(reloader_state(&r, 0, why, sizeof(why)), KEEPALIVED_RUNNING);

    /* a child that has exited but is not reaped still takes signals */
    zombie = fork();
    assert_true(zombie >= 0);
    if (zombie == 0)
        _exit(0);
    for (int i = 0; i < 200; i++) { /* until it is a zombie */
        char path[64], st[512];
        FILE *s;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)zombie);
        s = fopen(path, "r");
        if (s && fgets(st, sizeof(st), s) && strstr(st, ") Z")) {
            fclose(s);
            break;
        }
        if (s)
            fclose(s);
        usleep(10000);
    }
    f = fopen(pidfile, "w");
    assert_non_null(f);
    fprintf(f, "%d\n", (int)zombie);
    fclose(f);
    assert_int_equal(reloader_state(&r, 0, why, sizeof(why)), KEEPALIVED_DOWN);
    assert_non_null(strstr(why, "is not running"));
    waitpid(zombie, NULL, 0);
    assert_int_equal(reloader_state(&r, 0, why, sizeof(why)), KEEPALIVED_DOWN); /* now gone */

    reloader_init(&r, NULL, "keepalived -n");
    assert_int_equal(reloader_state(&r, 0, why, sizeof(why)), KEEPALIVED_DOWN); /* not started */
    r.wanted = true;
    r.child = getpid();
    r.started_ms = 10000;
    assert_int_equal(reloader_state(&r, 10500, why, sizeof(why)), KEEPALIVED_STARTING);
    assert_non_null(strstr(why, "started 500 ms ago"));
    assert_int_equal(reloader_state_due(&r, 10500), 500);
    assert_int_equal(reloader_state(&r, 11000, why, sizeof(why)), KEEPALIVED_RUNNING);
    assert_int_equal(reloader_state_due(&r, 11000), -1);
    r.child = 0;
    r.restart_at_ms = 12000;
    assert_int_equal(reloader_state(&r, 11500, why, sizeof(why)), KEEPALIVED_DOWN);
    assert_string_equal(why, "it exited; restarting in 500 ms");
    r.failed = true;
    assert_int_equal(reloader_state(&r, 11500, why, sizeof(why)), KEEPALIVED_DOWN);
    assert_string_equal(why, "it kept exiting and is no longer restarted");

    unlink(pidfile);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reasons),
        cmocka_unit_test(labels),
        cmocka_unit_test(keepalived_states),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
