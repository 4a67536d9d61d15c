// SPDX-License-Identifier: Apache-2.0
/*
 * test_render.c - golden render cases, one directory each under tests/render/:
 *
 *   args            controller flags, one per line (--apiserver is supplied)
 *   objects.json    a PodList or EndpointSliceList, as the API would send it
 *   expected.conf   the ipvs.conf the controller must write
 *   warnings        optional: the skipped fields, one "name: reason" per line
 *
 * The case goes through the same option parser, wiring (controller_wiring:
 * resource, decoder settings, render settings), decoders, store (in the
 * daemon's order: by age in flow mode) and renderer as the daemon.  Set UPDATE_GOLDEN=1 to rewrite
 * expected files.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "atomicfile.h"
#include "controller.h"
#include "options.h"
#include "render.h"
#include "store.h"

static const char *render_dir;

static char *slurp(const char *dir, const char *name, int required)
{
    char path[1024];
    char *data = NULL;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (read_small_file(path, 64 << 20, &data, NULL) < 0) {
        if (required)
            fail_msg("cannot read %s", path);
        return NULL;
    }
    return data;
}

static void collect_warning(void *arg, const char *name, const char *reason, const char *value)
{
    struct buf *w = arg;
    buf_printf(w, "%s: %s\n", name, reason);
}

struct item_ctx {
    const struct k8s_resource *res; /* the daemon's, from controller_wiring */
    const struct decode_ctx *dc;
    struct store *st;
    struct buf *warns;
};

/* One list item, as the watcher's list_item does: decode into the store. */
static int render_item(void *arg, const json_t *item, bool truncated)
{
    struct item_ctx *c = arg;
    struct k8s_obj o;
    char err[256];
    int r = c->res->decode(item, c->dc, &o, err, sizeof(err));

    assert_false(truncated);
    if (r < 0) {
        buf_printf(c->warns, "%s: %s\n", k8s_obj_name(item), err);
        k8s_obj_clear(&o);
        return 0;
    }
    assert_int_equal(store_put(c->st, &o), 0);
    return 0;
}

static void run_case(void **state)
{
    const char *dir = *state;
    char *args = slurp(dir, "args", 1), *objects = slurp(dir, "objects.json", 1);
    char *expected = slurp(dir, "expected.conf", 0), *want_warn = slurp(dir, "warnings", 0);
    char *argv[64] = {"ipvs-controller", "--apiserver", "http://127.0.0.1:1"};
    int argc = 3;
    struct ctl_config cfg;
    struct watcher_config wc;
    struct render_config rc;
    struct decode_ctx dc;
    char selector[320];
    struct k8s_list list;
    struct k8s_list_reader lr;
    struct item_ctx ic;
    struct store *st = store_new();
    struct endpoint *eps;
    struct buf out, warns;
    char err[256];
    size_t n;

    for (char *save = NULL, *line = strtok_r(args, "\n", &save); line && argc < 63;
         line = strtok_r(NULL, "\n", &save))
        argv[argc++] = line;
    if (options_parse(argc, argv, &cfg, err, sizeof(err)) != OPT_OK)
        fail_msg("%s: args: %s", dir, err);
    controller_wiring(&cfg, &wc, &rc, selector, sizeof(selector));

    buf_init(&warns, 1 << 20);
    /* the daemon's decoder settings; only where warnings go is the test's */
    dc = wc.decode;
    dc.kind = wc.res->kind;
    dc.warn = collect_warning;
    dc.warn_arg = &warns;
    ic = (struct item_ctx){.res = wc.res, .dc = &dc, .st = st, .warns = &warns};
    assert_int_equal(k8s_list_begin(&lr, wc.res->shape, 64 << 20, render_item, &ic), 0);
    if (k8s_list_feed(&lr, objects, strlen(objects), err, sizeof(err)) < 0 ||
        k8s_list_end(&lr, &list, err, sizeof(err)) < 0)
        fail_msg("%s: objects.json: %s", dir, err);
    k8s_list_free(&lr);
    assert_int_equal(store_collect_ordered(st, rc.flow ? STORE_BY_AGE : STORE_BY_ADDRESS, &eps, &n),
                     0);
    buf_init(&out, SIZE_MAX);
    assert_int_equal(render_ipvs_conf(&rc, eps, n, &out), 0);

    if (getenv("UPDATE_GOLDEN")) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/expected.conf", dir);
        assert_int_equal(atomic_write_file(path, out.data, out.len, 0644), 0);
        if (warns.len) {
            snprintf(path, sizeof(path), "%s/warnings", dir);
            assert_int_equal(atomic_write_file(path, warns.data, warns.len, 0644), 0);
        }
    } else {
        if (!expected)
            fail_msg("%s: no expected.conf (run with UPDATE_GOLDEN=1 to create it)", dir);
        if (strcmp(out.data, expected) != 0)
            fail_msg("%s: rendered file differs from expected.conf; got:\n%s", dir, out.data);
        if (strcmp(warns.len ? warns.data : "", want_warn ? want_warn : "") != 0)
            fail_msg("%s: warnings differ; got:\n%s", dir, warns.len ? warns.data : "(none)");
    }

    free(eps);
    buf_free(&out);
    buf_free(&warns);
    store_free(st);
    options_free(&cfg);
    free(args);
    free(objects);
    free(expected);
    free(want_warn);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
    struct dirent **ents;
    struct CMUnitTest *tests;
    int n, k = 0, rc;

    if (argc != 2) {
        fprintf(stderr, "usage: test_render DIR\n");
        return 2;
    }
    render_dir = argv[1];
    n = scandir(render_dir, &ents, NULL, by_name);
    if (n < 0) {
        perror(render_dir);
        return 2;
    }
    tests = calloc((size_t)n, sizeof(*tests));
    for (int i = 0; i < n; i++) {
        char *dir;
        if (ents[i]->d_name[0] == '.' || asprintf(&dir, "%s/%s", render_dir, ents[i]->d_name) < 0)
            continue;
        tests[k].name = strdup(ents[i]->d_name);
        tests[k].test_func = run_case;
        tests[k].initial_state = dir;
        k++;
    }
    if (k == 0) {
        fprintf(stderr, "no cases in %s\n", render_dir);
        return 1;
    }
    rc = _cmocka_run_group_tests("render", tests, (size_t)k, NULL, NULL);
    for (int i = 0; i < k; i++) {
        free((void *)tests[i].name);
        free(tests[i].initial_state);
    }
    for (int i = 0; i < n; i++)
        free(ents[i]);
    free(ents);
    free(tests);
    return rc;
}
