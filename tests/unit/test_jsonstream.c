// SPDX-License-Identifier: Apache-2.0
/*
 * test_jsonstream.c - the watch stream framer under every chunking.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "jsonstream.h"

struct collected {
    char objs[16][512];
    int n;
};

static int collect(void *ctx, const char *obj, size_t len)
{
    struct collected *c = ctx;
    assert_true(c->n < 16 && len < 512);
    memcpy(c->objs[c->n], obj, len);
    c->objs[c->n][len] = '\0';
    c->n++;
    return 0;
}

/* Three events with braces in strings, escaped quotes and backslashes, UTF-8. */
static const char stream[] =
    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a}{\"}}}\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"s\":\"q\\\"}\\\\\",\"arr\":[1,{\"x\":[]}]}}\r\n"
    "  {\"type\":\"DELETED\",\"object\":{\"u\":\"\xc3\xa9\\u00e9\"}}";

static void check_three(const struct collected *c)
{
    assert_int_equal(c->n, 3);
    assert_string_equal(c->objs[0],
                        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a}{\"}}}");
    assert_string_equal(
        c->objs[1],
        "{\"type\":\"MODIFIED\",\"object\":{\"s\":\"q\\\"}\\\\\",\"arr\":[1,{\"x\":[]}]}}");
    assert_string_equal(c->objs[2],
                        "{\"type\":\"DELETED\",\"object\":{\"u\":\"\xc3\xa9\\u00e9\"}}");
}

static void whole(void **state)
{
    struct jsonstream js;
    struct collected c = {0};

    jsonstream_init(&js, 4096);
    assert_int_equal(jsonstream_feed(&js, stream, strlen(stream), collect, &c), 0);
    check_three(&c);
    assert_false(jsonstream_pending(&js));
    jsonstream_free(&js);
}

/* Every split into two chunks, and every split into three. */
static void every_boundary(void **state)
{
    size_t len = strlen(stream);

    for (size_t i = 0; i <= len; i++) {
        for (size_t j = i; j <= len; j += 7) {
            struct jsonstream js;
            struct collected c = {0};
            jsonstream_init(&js, 4096);
            assert_int_equal(jsonstream_feed(&js, stream, i, collect, &c), 0);
            assert_int_equal(jsonstream_feed(&js, stream + i, j - i, collect, &c), 0);
            assert_int_equal(jsonstream_feed(&js, stream + j, len - j, collect, &c), 0);
            check_three(&c);
            jsonstream_free(&js);
        }
    }
}

static void byte_by_byte(void **state)
{
    struct jsonstream js;
    struct collected c = {0};

    jsonstream_init(&js, 4096);
    for (size_t i = 0; stream[i]; i++)
        assert_int_equal(jsonstream_feed(&js, stream + i, 1, collect, &c), 0);
    check_three(&c);
    jsonstream_free(&js);
}

static void partial_is_pending(void **state)
{
    struct jsonstream js;
    struct collected c = {0};

    jsonstream_init(&js, 4096);
    assert_int_equal(jsonstream_feed(&js, "{\"a\":\"}", 7, collect, &c), 0);
    assert_int_equal(c.n, 0);
    assert_true(jsonstream_pending(&js));
    jsonstream_free(&js);
}

static void oversize(void **state)
{
    struct jsonstream js;
    struct collected c = {0};
    char big[300];

    memset(big, 'x', sizeof(big));
    big[0] = '{';
    big[1] = '"';
    jsonstream_init(&js, 100);
    /* a small object passes, then one that grows past the cap over several chunks */
    assert_int_equal(jsonstream_feed(&js, "{\"a\":1}", 7, collect, &c), 0);
    assert_int_equal(c.n, 1);
    int rc = 0;
    for (size_t off = 0; off < sizeof(big) && rc == 0; off += 50)
        rc = jsonstream_feed(&js, big + off, 50, collect, &c);
    assert_int_equal(rc, -EMSGSIZE);
    jsonstream_free(&js);
}

static void garbage(void **state)
{
    static const char *bad[] = {"not json", "]", "{\"a\":1}}", "\x00{}", "[1,2]", "\"str\""};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct jsonstream js;
        struct collected c = {0};
        size_t len = i == 3 ? 3 : strlen(bad[i]);
        jsonstream_init(&js, 4096);
        assert_int_equal(jsonstream_feed(&js, bad[i], len, collect, &c), -EBADMSG);
        jsonstream_free(&js);
    }
}

static void too_deep(void **state)
{
    struct jsonstream js;
    struct collected c = {0};
    char deep[400];

    deep[0] = '{';
    deep[1] = '"';
    deep[2] = 'a';
    deep[3] = '"';
    deep[4] = ':';
    memset(deep + 5, '[', sizeof(deep) - 5);
    jsonstream_init(&js, 4096);
    assert_int_equal(jsonstream_feed(&js, deep, sizeof(deep), collect, &c), -EBADMSG);
    jsonstream_free(&js);
}

static int stop_cb(void *ctx, const char *obj, size_t len)
{
    (*(int *)ctx)++;
    return -42;
}

static void callback_stops(void **state)
{
    struct jsonstream js;
    int calls = 0;

    jsonstream_init(&js, 4096);
    assert_int_equal(jsonstream_feed(&js, "{}{}{}", 6, stop_cb, &calls), -42);
    assert_int_equal(calls, 1);
    jsonstream_free(&js);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole),        cmocka_unit_test(every_boundary),
        cmocka_unit_test(byte_by_byte), cmocka_unit_test(partial_is_pending),
        cmocka_unit_test(oversize),     cmocka_unit_test(garbage),
        cmocka_unit_test(too_deep),     cmocka_unit_test(callback_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
