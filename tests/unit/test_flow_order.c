// SPDX-License-Identifier: Apache-2.0
/*
 * test_flow_order.c - flow mode's promise: every load balancer pod holds
 * the same IPVS real server list, whatever history it saw.
 *
 * A history is a sequence of API states (which web pods exist, their age,
 * address and readiness).  Each state goes through the daemon's path
 * (options, wiring, pod decoder, store, ordered collect, render) into an
 * ipvs.conf, and the real_server lines of that file are applied to a model
 * of one load balancer pod's kernel list, as keepalived 2.2.7 and
 * ip_vs_ctl.c do it:
 *   - a reload deletes the real servers that are gone (the others keep
 *     their relative order), edits those that stay in place (last_weight,
 *     which the Maglev table is built from, follows only a non-zero new
 *     weight), then adds the new ones in file order, each at the head of
 *     the list with last_weight = weight;
 *   - a pod started fresh adds the whole file to an empty list.
 * ip_vs_mh.c builds its table from that list alone (fixed hash keys, the
 * list's order, each dest's address, port and last_weight), so equal
 * lists mean every flow maps to the same web pod on every pod.
 *
 * One load balancer pod starts at each step of a history and follows it
 * to the end.  All of them must hold the same order at every step, and
 * the same list (weights and last_weights too) at every step where every
 * web pod is ready.  Two controls show the model can tell them apart: the
 * NAT mode's order (by address) and a web pod that gets its address after
 * a younger one (the limit the README states) both disagree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controller.h"
#include "options.h"
#include "render.h"
#include "store.h"

#define MAX_RS    16
#define MAX_STEPS 16

/* The web pods the histories draw from: names, ages (seconds) and addresses. */
static const struct {
    const char *name;
    int age_s;
    const char *ip;
} web[] = {
    {"web-q7x", 0, "10.244.3.7"},  {"web-b2k", 10, "10.244.1.20"}, {"web-m9z", 20, "10.244.2.3"},
    {"web-a1c", 30, "10.244.1.4"}, {"web-zz0", 30, "10.244.0.9"},  {"web-c5d", 40, "10.244.5.1"},
};
#define N_WEB (sizeof(web) / sizeof(web[0]))

/* One real_server line of the file, or one dest of the kernel's list. */
struct dest {
    char key[64]; /* "ADDR PORT" */
    int weight;
    int last_weight; /* kernel only */
};

struct list {
    struct dest d[MAX_RS]; /* the kernel's: d[0] is the list head */
    size_t n;
};

/*
 * A state: web pod indexes separated by spaces, '-' after one that is not
 * ready ("0 1- 3").  The file the controller writes for it, in mode args.
 */
static void render_state(const char *const *args, const char *state, struct list *file)
{
    char *argv[16] = {"ipvs-controller", "--apiserver", "http://127.0.0.1:1"};
    int argc = 3;
    struct ctl_config cfg;
    struct watcher_config wc;
    struct render_config rc;
    struct store *st = store_new();
    struct endpoint *eps;
    struct buf out;
    char err[256], selector[320];
    size_t n;

    for (; *args; args++)
        argv[argc++] = (char *)*args;
    if (options_parse(argc, argv, &cfg, err, sizeof(err)) != OPT_OK)
        fail_msg("args: %s", err);
    controller_wiring(&cfg, &wc, &rc, selector, sizeof(selector));
    wc.decode.kind = "pod";

    for (const char *p = state; *p;) {
        char *end, ts[64];
        unsigned long i = strtoul(p, &end, 10);
        bool ready = *end != '-';
        struct k8s_obj o;
        json_t *pod;

        assert_true(end != p && i < N_WEB);
        snprintf(ts, sizeof(ts), "2026-11-20T09:%02d:%02dZ", web[i].age_s / 60, web[i].age_s % 60);
        pod = json_pack("{s:{s:s,s:s},s:{s:s,s:[{s:s,s:s}],s:s}}", "metadata", "name", web[i].name,
                        "creationTimestamp", ts, "status", "phase", "Running", "conditions", "type",
                        "Ready", "status", ready ? "True" : "False", "podIP", web[i].ip);
        assert_non_null(pod);
        assert_int_equal(k8s_decode_pod(pod, &wc.decode, &o, err, sizeof(err)), 0);
        assert_int_equal(store_put(st, &o), 0);
        json_decref(pod);
        p = end + strspn(end, "- ");
    }

    assert_int_equal(store_collect_ordered(st, rc.flow ? STORE_BY_AGE : STORE_BY_ADDRESS, &eps, &n),
                     0);
    buf_init(&out, SIZE_MAX);
    assert_int_equal(render_ipvs_conf(&rc, eps, n, &out), 0);

    /* what keepalived reads: each real_server and the weight line that follows */
    file->n = 0;
    for (char *save = NULL, *line = strtok_r(out.data, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char addr[48];
        unsigned port;
        int w;
        if (sscanf(line, "    real_server %47s %u {", addr, &port) == 2) {
            assert_true(file->n < MAX_RS);
            snprintf(file->d[file->n].key, sizeof(file->d[0].key), "%s %u", addr, port);
            file->d[file->n++].weight = -1;
        } else if (sscanf(line, "        weight %d", &w) == 1) {
            assert_true(file->n > 0);
            file->d[file->n - 1].weight = w;
        }
    }
    for (size_t i = 0; i < file->n; i++)
        assert_true(file->d[i].weight >= 0);

    free(eps);
    buf_free(&out);
    store_free(st);
    options_free(&cfg);
}

static const struct dest *find(const struct list *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->d[i].key, key) == 0)
            return &l->d[i];
    }
    return NULL;
}

/* keepalived's reload of file into the kernel's list k (a fresh start: k empty). */
static void reload(struct list *k, const struct list *file)
{
    size_t j = 0;

    for (size_t i = 0; i < k->n; i++) { /* DEL_DEST: the rest keep their order */
        if (find(file, k->d[i].key))
            k->d[j++] = k->d[i];
    }
    k->n = j;
    for (size_t i = 0; i < k->n; i++) { /* EDIT_DEST: in place */
        int w = find(file, k->d[i].key)->weight;
        k->d[i].weight = w;
        if (w != 0)
            k->d[i].last_weight = w;
    }
    for (size_t i = 0; i < file->n; i++) { /* ADD_DEST in file order, each at the head */
        if (find(k, file->d[i].key))
            continue;
        memmove(&k->d[1], &k->d[0], k->n * sizeof(k->d[0]));
        k->d[0] = file->d[i];
        k->d[0].last_weight = file->d[i].weight;
        k->n++;
    }
}

static void show(const struct list *k, char *buf, size_t len, bool weights)
{
    size_t n = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < k->n && n < len; i++) {
        if (weights)
            n += (size_t)snprintf(buf + n, len - n, "[%s w%d l%d] ", k->d[i].key, k->d[i].weight,
                                  k->d[i].last_weight);
        else
            n += (size_t)snprintf(buf + n, len - n, "[%s] ", k->d[i].key);
    }
}

/*
 * Run a history with one load balancer pod started at each step; returns
 * true if every pod agreed (order at every step; the whole list where all
 * web pods are ready), else false with the first disagreement in why.
 */
static bool history_agrees(const char *const *args, const char *const *states, char *why,
                           size_t whylen)
{
    struct list k[MAX_STEPS], file;
    size_t steps = 0;

    while (states[steps])
        steps++;
    assert_true(steps <= MAX_STEPS);
    for (size_t s = 0; s < steps; s++) {
        bool all_ready = strchr(states[s], '-') == NULL;
        render_state(args, states[s], &file);
        k[s].n = 0; /* a pod starting now */
        for (size_t p = 0; p <= s; p++)
            reload(&k[p], &file);
        for (size_t p = 0; p < s; p++) {
            bool same = k[p].n == k[s].n;
            for (size_t i = 0; same && i < k[s].n; i++) {
                same = strcmp(k[p].d[i].key, k[s].d[i].key) == 0 &&
                       (!all_ready || (k[p].d[i].weight == k[s].d[i].weight &&
                                       k[p].d[i].last_weight == k[s].d[i].last_weight));
            }
            if (!same) {
                char a[1024], b[1024];
                show(&k[p], a, sizeof(a), all_ready);
                show(&k[s], b, sizeof(b), all_ready);
                snprintf(why, whylen,
                         "at state \"%s\" the pod started at step %zu holds %s, the pod started "
                         "now %s",
                         states[s], p, a, b);
                return false;
            }
        }
    }
    return true;
}

static const char *const flow_args[] = {"--mode",           "flow",        "--selector", "app=web",
                                        "--virtual-server", "10.1.1.1:80", NULL};
static const char *const nat_args[] = {"--selector", "app=web", "--virtual-server", "10.1.1.1:80",
                                       NULL};

static const char *const one_by_one[] = {"0",         "0 1",         "0 1 2", "0 1 2 3",
                                         "0 1 2 3 4", "0 1 2 3 4 5", NULL};

/* several at once, two of the same second (ordered by name) */
static const char *const burst[] = {"0", "0 1", "0 1 2 3 4", "0 1 2 3 4 5", NULL};
/* new web pods show up not ready, then become ready */
static const char *const not_ready_first[] = {"0",           "0 1-",      "0 1", "0 1 2-",
                                              "0 1 2- 3- 4", "0 1 2 3 4", NULL};
/* readiness flaps: the place stays, weight 0 meanwhile */
static const char *const flaps[] = {"0 1 2", "0 1- 2", "0 1- 2-", "0 1 2-", "0 1 2", NULL};
/* every web pod not ready (the virtual server is left out), then back */
static const char *const all_down[] = {"0 1", "0- 1-", "0 1", NULL};
/* scale down, then up again (new pods: younger) */
static const char *const down_up[] = {"0 1 2 3", "0 2 3", "0 2", "0 2 4 5", NULL};
/* the oldest goes, a new one comes */
static const char *const replace[] = {"0 1 2", "1 2", "1 2 3", "1 2 3 5", NULL};

static void flow_histories_agree(void **state)
{
    static const char *const *const histories[] = {one_by_one, burst,   not_ready_first, flaps,
                                                   all_down,   down_up, replace};
    char why[4096];

    for (size_t h = 0; h < sizeof(histories) / sizeof(histories[0]); h++) {
        if (!history_agrees(flow_args, histories[h], why, sizeof(why)))
            fail_msg("history %zu: %s", h, why);
    }
}

/* The model tells lists apart: NAT's order (by address) differs between histories. */
static void nat_order_disagrees(void **state)
{
    char why[4096];

    assert_false(history_agrees(nat_args, one_by_one, why, sizeof(why)));
}

/*
 * The stated limit: web pod 2 is older than 3 but gets its address (shows
 * up in the API's endpoints) after it, in a later reload.  A pod that saw
 * that has 2 at the head; a fresh one has 3 there.  The same for two web
 * pods of the same second, where the name decides: 3 (web-a1c) comes
 * before 4 (web-zz0) but shows up after it.
 */
static void late_address_disagrees(void **state)
{
    static const char *const late[] = {"0 1", "0 1 3", "0 1 2 3", NULL};
    static const char *const same_second[] = {"0", "0 4", "0 3 4", NULL};
    char why[4096];

    assert_false(history_agrees(flow_args, late, why, sizeof(why)));
    assert_false(history_agrees(flow_args, same_second, why, sizeof(why)));
}

/* Weight-0 entries are in the file but are not what serves (serving.h). */
static void ready_count(void **state)
{
    const char *argv[] = {
        "ipvs-controller", "--apiserver", "http://127.0.0.1:1", "--mode",     "flow",
        "--selector",      "app=web",     "--virtual-server",   "10.1.1.1:80"};
    struct ctl_config cfg;
    struct watcher_config wc;
    struct render_config rc;
    struct endpoint eps[3] = {0};
    char err[256], selector[320];

    assert_int_equal(options_parse(9, (char **)argv, &cfg, err, sizeof(err)), OPT_OK);
    controller_wiring(&cfg, &wc, &rc, selector, sizeof(selector));
    for (int i = 0; i < 3; i++) {
        eps[i].addr.family = AF_INET;
        eps[i].addr.u.bytes[0] = 10;
        eps[i].addr.u.bytes[3] = (uint8_t)(i + 1);
    }
    eps[0].not_ready = true;
    eps[2].not_ready = true;
    assert_int_equal(render_count_vs_real_servers(&rc, 0, eps, 3), 3);
    assert_int_equal(render_count_vs_ready(&rc, 0, eps, 3), 1);
    eps[1].not_ready = true;
    assert_int_equal(render_count_vs_ready(&rc, 0, eps, 3), 0);
    /* without a ready one the virtual server is a comment: no entries */
    assert_int_equal(render_count_vs_real_servers(&rc, 0, eps, 3), 0);
    options_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flow_histories_agree),
        cmocka_unit_test(nat_order_disagrees),
        cmocka_unit_test(late_address_disagrees),
        cmocka_unit_test(ready_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
