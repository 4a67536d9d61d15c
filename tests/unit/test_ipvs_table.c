// SPDX-License-Identifier: Apache-2.0
/*
 * test_ipvs_table.c - /proc/net/ip_vs as the kernel prints it (the
 * samples follow ip_vs_info_seq_show byte for byte, trailing spaces
 * included), parsed into virtual servers with their real server counts;
 * and the lines that must be refused, each named.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipvs_table.h"

#define HEADER                                                                                     \
    "IP Virtual Server version 1.2.1 (size=4096)\n"                                                \
    "Prot LocalAddress:Port Scheduler Flags\n"                                                     \
    "  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n"

struct tcase {
    const char *name;
    const char *text;
    int rc;
    const char *want; /* the services, as summary() writes them; or the error's start */
};

static const struct tcase cases[] = {
    {"empty table", HEADER, 0, ""},
    {"empty file (no IPVS use yet)", "", 0, ""},
    {"ipv4, two real servers",
     HEADER "TCP  0A01010A:0050 rr  \n"
            "  -> AC100102:0050      Masq    1      0          0         \n"
            "  -> AC100202:0050      Masq    1      3          12        \n",
     0, "TCP 10.1.1.10:80 2/2;"},
    {"weight 0 counts as a real server, not as a live one",
     HEADER "TCP  0A01010A:0050 wrr  \n"
            "  -> AC100102:1F90      Masq    0      0          0         \n"
            "  -> AC100202:1F90      Masq    0      0          0         \n",
     0, "TCP 10.1.1.10:80 0/2;"},
    {"a virtual server without real servers", HEADER "UDP  0A010101:0035 rr  \n", 0,
     "UDP 10.1.1.1:53 0/0;"},
    {"ipv6 service and real servers (the kernel prints %pI6: every group, 4 digits)",
     HEADER "TCP  [2001:0db8:0000:0000:0000:0000:0000:0001]:01BB rr \n"
            "  -> [fd00:0000:0000:0000:0000:0000:0010:0002]:01BB      Masq    1      0          0 "
            "        \n"
            "  -> [fd00:0000:0000:0000:0000:0000:0010:0003]:01BB      Masq    0      0          0 "
            "        \n",
     0, "TCP [2001:db8::1]:443 1/2;"},
    {"fwmark service, real servers without a port",
     HEADER "FWM  00000001 rr \n"
            "  -> AC100102:0000      Route   1      0          0         \n",
     0, "FWM 1 1/1;"},
    {"flags and persistence after the scheduler are ignored",
     HEADER "UDP  0A010101:0035 rr ops persistent 300 FFFFFFFF\n"
            "  -> AC100102:0035      Masq    5      0          0         \n"
            "FWM  0000BEEF sh ops persistent 60 FFFFFFFF\n"
            "SCTP  0A010101:0B59 none  \n",
     0, "UDP 10.1.1.1:53 1/1;FWM 48879 0/0;SCTP 10.1.1.1:2905 0/0;"},
    {"several services, each with its own real servers",
     HEADER "TCP  0A010101:0050 rr  \n"
            "  -> AC100102:0050      Masq    1      0          0         \n"
            "TCP  0A010101:01BB rr  \n"
            "  -> AC100102:01BB      Tunnel  0      0          0         \n"
            "  -> AC100103:01BB      Tunnel  2      0          0         \n"
            "  -> AC100104:01BB      Tunnel  0      0          0         \n",
     0, "TCP 10.1.1.1:80 1/1;TCP 10.1.1.1:443 1/3;"},
    {"CRLF and a missing final newline",
     HEADER "TCP  0A010101:0050 rr  \r\n  -> AC100102:0050      Masq    1      0          0", 0,
     "TCP 10.1.1.1:80 1/1;"},
    {"real server before any service", HEADER "  -> AC100102:0050      Masq    1      0      0\n",
     -EINVAL, "line 4: a real server before any virtual server"},
    {"short ipv4 address", HEADER "TCP  A01010A:0050 rr\n", -EINVAL,
     "line 4: virtual server address"},
    {"ipv4 address not hex", HEADER "TCP  0A01010G:0050 rr\n", -EINVAL,
     "line 4: virtual server address"},
    {"dotted address", HEADER "TCP  10.1.1.1:80 rr\n", -EINVAL, "line 4: virtual server address"},
    {"bad ipv6", HEADER "TCP  [2001:zz::1]:0050 rr\n", -EINVAL, "line 4: virtual server address"},
    {"ipv6 without the port", HEADER "TCP  [2001:db8::1] rr\n", -EINVAL,
     "line 4: virtual server address"},
    {"fwmark not 8 digits", HEADER "FWM  1 rr\n", -EINVAL, "line 4: firewall mark"},
    {"no scheduler", HEADER "TCP  0A010101:0050\n", -EINVAL, "line 4: not a virtual server line"},
    {"weight not a number",
     HEADER "TCP  0A010101:0050 rr\n  -> AC100102:0050      Masq    x      0          0\n", -EINVAL,
     "line 5: not a real server line"},
    {"real server without a weight", HEADER "TCP  0A010101:0050 rr\n  -> AC100102:0050 Masq\n",
     -EINVAL, "line 5: not a real server line"},
    {"garbage", "hello world\n", -EINVAL, "line 1: not a virtual server line"},
};

static void summary(const struct ipvs_table *t, char *out, size_t outlen)
{
    size_t n = 0;

    out[0] = '\0';
    for (size_t i = 0; i < t->n && n < outlen; i++) {
        const struct ipvs_service *s = &t->svc[i];
        char a[NETADDR_STRLEN];
        if (s->fwmark)
            n += (size_t)snprintf(out + n, outlen - n, "FWM %u %u/%u;", (unsigned)s->mark, s->live,
                                  s->dests);
        else
            n += (size_t)snprintf(
                out + n, outlen - n,
                s->addr.family == AF_INET6 ? "%s [%s]:%u %u/%u;" : "%s %s:%u %u/%u;", s->proto,
                netaddr_format(&s->addr, a), (unsigned)s->port, s->live, s->dests);
    }
}

static void golden(void **state)
{
    struct ipvs_table t;
    char err[256], got[1024];

    (void)state;
    ipvs_table_init(&t);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct tcase *c = &cases[i];
        int rc;

        err[0] = '\0';
        rc = ipvs_table_parse(&t, c->text, strlen(c->text), err, sizeof(err));
        if (rc != c->rc) {
            print_error("case \"%s\": rc %d, want %d (%s)\n", c->name, rc, c->rc, err);
            fail();
        }
        if (rc == 0) {
            summary(&t, got, sizeof(got));
            if (strcmp(got, c->want) != 0) {
                print_error("case \"%s\":\n got  %s\n want %s\n", c->name, got, c->want);
                fail();
            }
        } else if (strncmp(err, c->want, strlen(c->want)) != 0) {
            print_error("case \"%s\": error \"%s\", want \"%s...\"\n", c->name, err, c->want);
            fail();
        }
    }
    ipvs_table_free(&t);
}

static void lookups(void **state)
{
    static const char text[] = HEADER "TCP  0A010101:0050 rr  \n"
                                      "  -> AC100102:0050      Masq    0      0          0\n"
                                      "TCP  0A010101:0050 rr  \n" /* listed twice: the best wins */
                                      "  -> AC100103:0050      Masq    1      0          0\n"
                                      "UDP  0A010101:0050 rr  \n"
                                      "FWM  00000007 rr \n"
                                      "  -> AC100103:0000      Route   1      0          0\n";
    struct ipvs_table t;
    struct netaddr a, b;
    char err[256];
    const struct ipvs_service *s;

    (void)state;
    ipvs_table_init(&t);
    assert_int_equal(netaddr_parse("10.1.1.1", &a), 0);
    assert_int_equal(netaddr_parse("10.1.1.2", &b), 0);
    assert_int_equal(ipvs_table_parse(&t, text, sizeof(text) - 1, err, sizeof(err)), 0);
    s = ipvs_table_find(&t, "TCP", &a, 80);
    assert_non_null(s);
    assert_int_equal(s->live, 1);
    s = ipvs_table_find(&t, "UDP", &a, 80);
    assert_non_null(s);
    assert_int_equal(s->dests, 0);
    assert_null(ipvs_table_find(&t, "SCTP", &a, 80));
    assert_null(ipvs_table_find(&t, "TCP", &b, 80));
    assert_null(ipvs_table_find(&t, "TCP", &a, 81));
    s = ipvs_table_find_fwmark(&t, 7);
    assert_non_null(s);
    assert_int_equal(s->live, 1);
    assert_null(ipvs_table_find_fwmark(&t, 1));
    ipvs_table_free(&t);
    ipvs_table_free(&t); /* free twice is harmless */
}

static void files(void **state)
{
    char dir[] = "/tmp/ipvs-table-XXXXXX", path[128], err[512];
    struct ipvs_table t;
    FILE *f;

    (void)state;
    ipvs_table_init(&t);
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/ip_vs", dir);
    assert_int_equal(ipvs_table_read(&t, path, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "No such file"));

    f = fopen(path, "w");
    assert_non_null(f);
    fputs(HEADER, f);
    for (int i = 0; i < 300; i++) { /* more than one stdio buffer */
        fprintf(f, "TCP  0A0101%02X:0050 rr  \n", i % 256);
        fprintf(f, "  -> AC1001%02X:0050      Masq    %d      0          0         \n", i % 256,
                i % 2);
    }
    fclose(f);
    assert_int_equal(ipvs_table_read(&t, path, err, sizeof(err)), 0);
    assert_int_equal(t.n, 300);
    assert_int_equal(t.svc[299].live, 1);
    assert_int_equal(t.svc[298].live, 0);

    f = fopen(path, "w");
    assert_non_null(f);
    fputs(HEADER "TCP  0A010101:0050 rr ", f);
    for (int i = 0; i < IPVS_TABLE_LINE_MAX; i++)
        fputc('x', f);
    fputs("\n", f);
    fclose(f);
    assert_int_equal(ipvs_table_read(&t, path, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "line 4 longer than"));

    f = fopen(path, "w");
    assert_non_null(f);
    fputs(HEADER "TCP  0A010101:0050 rr\n  -> junk\n", f);
    fclose(f);
    assert_int_equal(ipvs_table_read(&t, path, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, path)); /* the file is named */
    assert_non_null(strstr(err, "line 5"));

    unlink(path);
    rmdir(dir);
    ipvs_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(golden),
        cmocka_unit_test(lookups),
        cmocka_unit_test(files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
