// SPDX-License-Identifier: Apache-2.0
/*
 * test_jsonprune.c - the pruning parser against jansson, under every chunking.
 *
 * The oracle: parse the whole input with json_loads and cut the tree down
 * to the schema by hand; the pruner, fed the same bytes split anywhere,
 * must keep exactly that.  Bad inputs must be refused however split, and
 * the caps must mark exactly the unit that went over them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonprune.h"

#define LEAF (&jsonprune_leaf)

/* {"a": leaf, "b": {"c": leaf}, "l": [{"x": leaf}]} */
static const struct jsonprune_schema elem_s = {
    .fields = (const struct jsonprune_field[]){{"x", LEAF}, {NULL, NULL}},
};
static const struct jsonprune_schema test_s = {
    .fields =
        (const struct jsonprune_field[]){
            {"a", LEAF},
            {"b",
             &(const struct jsonprune_schema){
                 .fields = (const struct jsonprune_field[]){{"c", LEAF}, {NULL, NULL}}}},
            {"l", &(const struct jsonprune_schema){.elem = &elem_s}},
            {NULL, NULL}},
};
/* The same, with "l" handed element by element to the callback. */
static const struct jsonprune_schema each_s = {
    .fields =
        (const struct jsonprune_field[]){
            {"a", LEAF},
            {"l", &(const struct jsonprune_schema){.elem = &elem_s, .each = true}},
            {NULL, NULL}},
};

static const struct jsonprune_limits roomy = {.max_values = 1000, .max_string_bytes = 1000};

/* The oracle: v cut down to schema s, as the pruner should keep it. */
static json_t *cut(const json_t *v, const struct jsonprune_schema *s)
{
    json_t *out;
    size_t i;
    const json_t *e;

    if (json_is_object(v)) {
        out = json_object();
        for (const struct jsonprune_field *f = s->fields; f && f->key; f++) {
            if (json_object_get(v, f->key))
                json_object_set_new(out, f->key, cut(json_object_get(v, f->key), f->schema));
        }
        return out;
    }
    if (json_is_array(v)) {
        out = json_array();
        if (s->elem) {
            json_array_foreach(v, i, e)
            {
                json_array_append_new(out, cut(e, s->elem));
            }
        }
        return out;
    }
    return json_deep_copy(v);
}

struct each_log {
    json_t *elems; /* what the callback got, in order */
    int truncated; /* how many of them were truncated */
};

static int each_cb(void *arg, const json_t *elem, bool truncated)
{
    struct each_log *log = arg;

    json_array_append_new(log->elems, json_deep_copy(elem));
    log->truncated += truncated;
    return 0;
}

/* Prune text fed in pieces [0,i) [i,j) [j,len); returns rc of feed or finish. */
static int prune3(const char *text, size_t len, size_t i, size_t j,
                  const struct jsonprune_schema *s, const struct jsonprune_limits *lim,
                  json_t **root, bool *truncated, struct each_log *log)
{
    struct jsonprune jp;
    int rc;

    *root = NULL;
    assert_int_equal(jsonprune_init(&jp, s, lim, each_cb, log), 0);
    rc = jsonprune_feed(&jp, text, i);
    if (rc == 0)
        rc = jsonprune_feed(&jp, text + i, j - i);
    if (rc == 0)
        rc = jsonprune_feed(&jp, text + j, len - j);
    if (rc == 0)
        rc = jsonprune_finish(&jp, root, truncated);
    if (rc < 0)
        assert_true(strlen(jp.err) > 0 || rc == -ENOMEM);
    jsonprune_free(&jp);
    return rc;
}

static const char *const good[] = {
    "{\"a\":1,\"z\":{\"deep\":[1,2,{\"a\":3}]},\"b\":{\"c\":\"hi\",\"d\":2}}",
    "{\"a\":{\"x\":[1,2]},\"b\":[1,2],\"l\":{\"x\":1}}",
    "{\"l\":[{\"x\":\"1\",\"y\":2},3,\"s\",null,[9],{\"x\":{\"q\":1}}]}",
    "{\"a\":\"q\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00 \xc3\xa9\"}",
    "{\"a\":[true,false,null],\"b\":{\"c\":-0}}",
    "{\"a\":1.5E-3,\"b\":{\"c\":12345678901234}}",
    "{\"a\":-1e5,\"l\":[{\"x\":0},{\"x\":-12.25e+2}]}",
    "{\"\\u0061\":\"escaped name\",\"b\":{\"\\u0063\":true}}",
    "  {\n\t\"a\" : [ ] ,\r\n \"b\" : { } , \"l\" : [ ] }  \n",
    "{\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
    "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\":1,\"a\":2}",
    "{\"skip\":\"\\ud83d\\ude00\\\"}{[\",\"a\":\"]}\"}",
    "{}",
    "{\"a\":\"\"}",
};

/* Every good input, split into three pieces anywhere, keeps what the oracle keeps. */
static void keeps_what_the_schema_names(void **state)
{
    for (size_t k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
        size_t len = strlen(good[k]);
        json_error_t jerr;
        json_t *full = json_loads(good[k], 0, &jerr), *want;

        if (!full)
            fail_msg("case %zu is not JSON: %s", k, jerr.text);
        want = cut(full, &test_s);
        for (size_t i = 0; i <= len; i++) {
            for (size_t j = i; j <= len; j += 5) {
                json_t *root;
                bool truncated;
                if (prune3(good[k], len, i, j, &test_s, &roomy, &root, &truncated, NULL) != 0)
                    fail_msg("case %zu split %zu/%zu refused", k, i, j);
                if (!json_equal(root, want)) {
                    char *got = json_dumps(root, JSON_ENCODE_ANY);
                    fail_msg("case %zu split %zu/%zu kept %s", k, i, j, got);
                }
                assert_false(truncated);
                json_decref(root);
            }
        }
        json_decref(want);
        json_decref(full);
    }
}

/* Elements of an "each" array arrive one by one; the tree keeps an empty array. */
static void each_hands_over_elements(void **state)
{
    const char *text = "{\"l\":[{\"x\":1,\"y\":[{}]},{\"x\":\"two\"},7],\"a\":true}";
    size_t len = strlen(text);

    for (size_t i = 0; i <= len; i++) {
        struct each_log log = {.elems = json_array()};
        json_t *root, *want = json_loads("[{\"x\":1},{\"x\":\"two\"},7]", 0, NULL);
        bool truncated;
        assert_int_equal(prune3(text, len, i, i, &each_s, &roomy, &root, &truncated, &log), 0);
        assert_true(json_equal(log.elems, want));
        assert_int_equal(log.truncated, 0);
        assert_int_equal(json_array_size(json_object_get(root, "l")), 0);
        assert_true(json_is_true(json_object_get(root, "a")));
        json_decref(root);
        json_decref(want);
        json_decref(log.elems);
    }
}

static const char *const bad[] = {
    "",
    "{",
    "{\"a\"}",
    "{\"a\":}",
    "{\"a\":1,}",
    "{\"a\":[1,]}",
    "{\"a\":1}}",
    "{\"a\":01}",
    "{\"a\":1.}",
    "{\"a\":-}",
    "{\"a\":1e}",
    "{\"a\":tru}",
    "{\"a\":trux}",
    "{\"a\":nul}",
    "{\"a\":\"\x01\"}",
    "{\"z\":\"\x01\"}",
    "{\"a\":\"\\q\"}",
    "{\"z\":\"\\q\"}",
    "{\"a\":\"\\u12g4\"}",
    "{\"a\":\"\\ud800\"}",
    "{\"z\":\"\\ud800x\"}",
    "{\"a\":\"\\udc00\"}",
    "{\"a\":\"\\u0000\"}",
    "{\"a\":\"\xff\"}",
    "{\"a\":1}{\"b\":2}",
    "{\"a\":1,\"a\":2}",
    "{\"b\":{\"c\":1,\"c\":1}}",
    "{\"z\":[}",
    "{\"z\":{]}",
    "{\"z\" 1}",
    "{1:2}",
    "{\"a\":1 \"b\":2}",
    "]",
    "{\"a\":\"unterminated",
};

/* Bad inputs are refused whatever the split. */
static void refuses_what_is_not_json(void **state)
{
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        size_t len = strlen(bad[k]);
        for (size_t i = 0; i <= len; i++) {
            json_t *root;
            bool truncated;
            if (prune3(bad[k], len, i, i, &test_s, &roomy, &root, &truncated, NULL) != -EBADMSG)
                fail_msg("bad case %zu (%s) split %zu accepted", k, bad[k], i);
        }
    }
}

/* Nesting: 128 levels are fine, kept or skipped; 129 are refused. */
static void depth_limit(void **state)
{
    char text[600];
    json_t *root;
    bool truncated;

    for (int depth = JSONPRUNE_MAX_DEPTH; depth <= JSONPRUNE_MAX_DEPTH + 1; depth++) {
        size_t n = 0;
        n += (size_t)snprintf(text, sizeof(text), "{\"z\":");
        for (int d = 1; d < depth; d++)
            text[n++] = '[';
        for (int d = 1; d < depth; d++)
            text[n++] = ']';
        text[n++] = '}';
        int rc = prune3(text, n, n / 2, n / 2, &test_s, &roomy, &root, &truncated, NULL);
        assert_int_equal(rc, depth > JSONPRUNE_MAX_DEPTH ? -EBADMSG : 0);
        if (rc == 0)
            json_decref(root);
    }
}

struct cap_case {
    const char *text;
    const struct jsonprune_schema *schema;
    struct jsonprune_limits lim;
    bool truncated;     /* the document (outside "each" elements) */
    int each_truncated; /* how many elements were */
};

static const struct cap_case caps[] = {
    /* root, l, 3 elements: 5 values */
    {"{\"l\":[{},{},{}]}", &test_s, {5, 100}, false, 0},
    {"{\"l\":[{},{},{},{}]}", &test_s, {5, 100}, true, 0},
    /* skipped values cost nothing, however many */
    {"{\"z\":[{},{},{},{},{},{},{},{},[[[]]],1,2,3,\"s\"]}", &test_s, {1, 0}, false, 0},
    {"{\"a\":\"0123456789\"}", &test_s, {10, 10}, false, 0},
    {"{\"a\":\"01234567890\"}", &test_s, {10, 10}, true, 0},
    {"{\"a\":\"01234\",\"b\":{\"c\":\"567890\"}}", &test_s, {10, 10}, true, 0},
    {"{\"a\":123456789012345678901234567890}", &test_s, {10, 10}, true, 0},
    /* each element is a unit of its own: 2 values each, the envelope 3 */
    {"{\"l\":[{\"x\":1},{\"x\":2}],\"a\":1}", &each_s, {3, 4}, false, 0},
    {"{\"l\":[{\"x\":\"0123\"},{\"x\":[1]},{\"x\":\"01234\"},{\"x\":12345678901234567890}],"
     "\"a\":1}",
     &each_s,
     {3, 4},
     false,
     2},
    {"{\"l\":[{\"x\":1}],\"a\":\"01234\"}", &each_s, {3, 4}, true, 0},
};

/* Past a cap, the unit is marked truncated and parsing goes on. */
static void caps_mark_the_unit(void **state)
{
    for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
        const struct cap_case *c = &caps[k];
        size_t len = strlen(c->text);
        for (size_t i = 0; i <= len; i++) {
            struct each_log log = {.elems = json_array()};
            json_t *root;
            bool truncated;
            if (prune3(c->text, len, i, i, c->schema, &c->lim, &root, &truncated, &log) != 0)
                fail_msg("cap case %zu split %zu refused", k, i);
            if (truncated != c->truncated || log.truncated != c->each_truncated)
                fail_msg("cap case %zu split %zu: truncated %d, elements %d", k, i, truncated,
                         log.truncated);
            json_decref(root);
            json_decref(log.elems);
        }
    }
}

static int stop_cb(void *arg, const json_t *elem, bool truncated)
{
    (*(int *)arg)++;
    return -42;
}

static void callback_stops(void **state)
{
    struct jsonprune jp;
    int calls = 0;
    const char *text = "{\"l\":[{},{},{}]}";

    assert_int_equal(jsonprune_init(&jp, &each_s, &roomy, stop_cb, &calls), 0);
    assert_int_equal(jsonprune_feed(&jp, text, strlen(text)), -42);
    assert_int_equal(calls, 1);
    jsonprune_free(&jp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keeps_what_the_schema_names), cmocka_unit_test(each_hands_over_elements),
        cmocka_unit_test(refuses_what_is_not_json),    cmocka_unit_test(depth_limit),
        cmocka_unit_test(caps_mark_the_unit),          cmocka_unit_test(callback_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
