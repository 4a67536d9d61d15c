// SPDX-License-Identifier: Apache-2.0
/*
 * test_common.c - the shared pieces: capped buffers, atomic files,
 * address parsing, log quoting, the object store.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "atomicfile.h"
#include "buf.h"
#include "log.h"
#include "netaddr.h"
#include "store.h"

static void capped_buffer(void **state)
{
    struct buf b;

    buf_init(&b, 10);
    assert_int_equal(buf_puts(&b, "12345"), 0);
    assert_int_equal(buf_puts(&b, "67890"), 0);
    assert_int_equal(buf_puts(&b, "x"), -EMSGSIZE);
    assert_int_equal(buf_printf(&b, "%d", 1), -EMSGSIZE);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "1234567890"); /* unchanged by the failed appends */
    buf_free(&b);
}

static void atomic_files(void **state)
{
    char dir[] = "/tmp/atomic-test-XXXXXX", path[128], *data;
    struct stat st;
    size_t len;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/ipvs.conf", dir);
    assert_int_equal(file_has_content(path, "a", 1), 0);
    assert_int_equal(atomic_write_file(path, "hello\n", 6, 0644), 0);
    assert_int_equal(file_has_content(path, "hello\n", 6), 1);
    assert_int_equal(file_has_content(path, "hello", 5), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(read_small_file(path, 100, &data, &len), 0);
    assert_int_equal(len, 6);
    free(data);
    assert_int_equal(read_small_file(path, 3, &data, &len), -EFBIG);
    /* a directory that does not exist: an error and nothing written */
    snprintf(path, sizeof(path), "%s/missing/ipvs.conf", dir);
    assert_int_equal(atomic_write_file(path, "x", 1, 0644), -ENOENT);
    snprintf(path, sizeof(path), "rm -rf %s", dir);
    assert_int_equal(system(path), 0);
}

static void addresses(void **state)
{
    struct netaddr a;
    char buf[NETADDR_STRLEN];
    uint16_t port;
    unsigned plen;

    assert_int_equal(netaddr_parse("2001:DB8:0:0::1", &a), 0);
    assert_string_equal(netaddr_format(&a, buf), "2001:db8::1");
    assert_int_equal(netaddr_parse("1.2.3", &a), -EINVAL);
    assert_int_equal(netaddr_parse(" 1.2.3.4", &a), -EINVAL);
    assert_int_equal(netaddr_parse("1.2.3.4\n", &a), -EINVAL);
    assert_int_equal(netaddr_parse("", &a), -EINVAL);
    assert_int_equal(hostport_parse("[::1]:8080", &a, &port), 0);
    assert_int_equal(port, 8080);
    assert_int_equal(hostport_parse("1.2.3.4:+80", &a, &port), -EINVAL);
    assert_int_equal(hostport_parse("1.2.3.4:80 ", &a, &port), -EINVAL);
    assert_int_equal(prefix_parse("10.1.1.0/24", &a, &plen), 0);
    assert_int_equal(plen, 24);
    assert_int_equal(prefix_parse("10.1.1.1/24", &a, &plen), -EDOM);
    assert_int_equal(prefix_parse("10.1.1.0/33", &a, &plen), -EINVAL);
    assert_int_equal(prefix_parse("fd00::/8", &a, &plen), 0);
}

/* Prefix overlap, either way round, as a table. */
static void overlaps(void **state)
{
    static const struct {
        const char *a, *b;
        bool want;
    } cases[] = {
        {"10.1.1.0/24", "10.1.1.0/24", true},  {"10.1.1.0/24", "10.0.0.0/8", true},
        {"10.0.0.0/8", "10.1.1.128/25", true}, {"10.1.1.0/24", "10.1.2.0/24", false},
        {"0.0.0.0/0", "192.0.2.1/32", true},   {"10.1.1.0/25", "10.1.1.128/25", false},
        {"fd00::/8", "fd12::/16", true},       {"fd00::/8", "fe80::/10", false},
        {"10.0.0.0/8", "::/0", false}, /* families never overlap */
    };
    struct netaddr a, b;
    unsigned alen, blen;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(prefix_parse(cases[i].a, &a, &alen), 0);
        assert_int_equal(prefix_parse(cases[i].b, &b, &blen), 0);
        if (prefix_overlaps(&a, alen, &b, blen) != cases[i].want ||
            prefix_overlaps(&b, blen, &a, alen) != cases[i].want)
            fail_msg("%s ~ %s: want %d", cases[i].a, cases[i].b, cases[i].want);
    }
}

static void log_values(void **state)
{
    char out[128];

    out[0] = '\0';
    log_quote(out, sizeof(out), "plain");
    assert_string_equal(out, "plain");
    out[0] = '\0';
    log_quote(out, sizeof(out), "a b\n\"c\" level=error");
    assert_string_equal(out, "\"a b\\n\\\"c\\\" level=error\"");
    out[0] = '\0';
    log_quote(out, sizeof(out), "");
    assert_string_equal(out, "\"\"");
}

static void store_basics(void **state)
{
    struct store *s = store_new();
    struct endpoint *eps;
    size_t n;

    /* enough objects to make the table grow several times */
    for (int i = 0; i < 5000; i++) {
        struct k8s_obj o = {0};
        char name[32];
        snprintf(name, sizeof(name), "pod-%d", i);
        o.name = strdup(name);
        o.eps = calloc(1, sizeof(*o.eps));
        o.n_eps = 1;
        o.eps[0].addr.family = AF_INET;
        o.eps[0].addr.u.bytes[0] = 10;
        o.eps[0].addr.u.bytes[2] = (uint8_t)((4999 - i) / 256);
        o.eps[0].addr.u.bytes[3] = (uint8_t)((4999 - i) % 256);
        assert_int_equal(store_put(s, &o), 0);
        assert_null(o.name);
    }
    assert_int_equal(store_count(s), 5000);
    assert_int_equal(store_delete(s, "pod-17"), 1);
    assert_int_equal(store_delete(s, "pod-17"), 0);
    assert_int_equal(store_collect(s, &eps, &n), 0);
    assert_int_equal(n, 4999);
    for (size_t i = 1; i < n; i++)
        assert_true(endpoint_cmp(&eps[i - 1], &eps[i]) < 0);
    free(eps);
    store_free(s);
    store_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(capped_buffer), cmocka_unit_test(atomic_files),
        cmocka_unit_test(addresses),     cmocka_unit_test(log_values),
        cmocka_unit_test(store_basics),  cmocka_unit_test(overlaps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
