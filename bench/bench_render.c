// SPDX-License-Identifier: Apache-2.0
/*
 * bench_render.c - how long collecting and rendering N endpoints takes, and
 * the peak RSS of a process holding them.  Prints figures; passes nothing.
 *
 *     bench_render N [ROUNDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "render.h"
#include "store.h"

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    static const struct vserver vs = {.addr = {.family = AF_INET, .u.bytes = {10, 1, 1, 1}},
                                      .port = 80};
    struct render_config rc = {.vs = &vs,
                               .n_vs = 1,
                               .sched = "rr",
                               .method = "NAT",
                               .protocol = "TCP",
                               .hc = HC_TCP,
                               .hc_interval_ms = 2000,
                               .hc_timeout_ms = 2000,
                               .hc_retry = 1,
                               .hc_retry_delay_ms = 1000};
    int n = argc > 1 ? atoi(argv[1]) : 1000, rounds = argc > 2 ? atoi(argv[2]) : 51;
    struct store *st = store_new();
    double *t = calloc((size_t)rounds, sizeof(*t));
    size_t bytes = 0;
    struct rusage ru;

    for (int i = 0; i < n; i++) {
        struct k8s_obj o = {0};
        char name[32];
        snprintf(name, sizeof(name), "web-%d", i);
        o.name = strdup(name);
        o.eps = calloc(1, sizeof(*o.eps));
        o.n_eps = 1;
        o.eps[0].addr.family = AF_INET;
        o.eps[0].addr.u.bytes[0] = 172;
        o.eps[0].addr.u.bytes[1] = (uint8_t)(16 + i / 65536);
        o.eps[0].addr.u.bytes[2] = (uint8_t)(i / 256);
        o.eps[0].addr.u.bytes[3] = (uint8_t)(i % 256);
        store_put(st, &o);
    }
    for (int r = 0; r < rounds; r++) {
        struct endpoint *eps;
        size_t k;
        struct buf out;
        double t0 = seconds();
        buf_init(&out, SIZE_MAX);
        store_collect(st, &eps, &k);
        render_ipvs_conf(&rc, eps, k, &out);
        t[r] = seconds() - t0;
        bytes = out.len;
        free(eps);
        buf_free(&out);
    }
    qsort(t, (size_t)rounds, sizeof(*t), cmp_double);
    getrusage(RUSAGE_SELF, &ru);
    printf("endpoints=%d file_bytes=%zu render_ms_median=%.3f render_ms_max=%.3f peak_rss_kb=%ld\n",
           n, bytes, t[rounds / 2] * 1e3, t[rounds - 1] * 1e3, ru.ru_maxrss);
    store_free(st);
    free(t);
    return 0;
}
