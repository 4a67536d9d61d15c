// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_ipvs_table.c - libFuzzer target for the /proc/net/ip_vs parser.
 *
 * The kernel writes that text, but a test (or a confused mount) may hand
 * the controller any file in its place.  Whatever the input: no crash, no
 * leak, no read out of bounds (the text is copied into an allocation of
 * its own size); an error is one non-empty line; what is accepted is
 * consistent (no more live real servers than real servers, a protocol
 * name for every address service) and parsing it again gives the same.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipvs_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const struct ipvs_service *a, const struct ipvs_service *b)
{
    return a->fwmark == b->fwmark && a->mark == b->mark && strcmp(a->proto, b->proto) == 0 &&
           (a->fwmark || netaddr_cmp(&a->addr, &b->addr) == 0) && a->port == b->port &&
           a->dests == b->dests && a->live == b->live;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ipvs_table t, u;
    char err[512], *text = malloc(size ? size : 1);
    int rc;

    if (!text)
        abort();
    memcpy(text, data, size);
    ipvs_table_init(&t);
    ipvs_table_init(&u);
    err[0] = '\0';
    rc = ipvs_table_parse(&t, text, size, err, sizeof(err));
    if (rc < 0) {
        if (!err[0] || strchr(err, '\n') || strchr(err, '\r'))
            __builtin_trap();
    } else {
        for (size_t i = 0; i < t.n; i++) {
            if (t.svc[i].live > t.svc[i].dests || (!t.svc[i].fwmark && !t.svc[i].proto[0]))
                __builtin_trap();
        }
        if (ipvs_table_parse(&u, text, size, err, sizeof(err)) != 0 || u.n != t.n)
            __builtin_trap();
        for (size_t i = 0; i < t.n; i++) {
            if (!same(&t.svc[i], &u.svc[i]))
                __builtin_trap();
        }
    }
    ipvs_table_free(&t);
    ipvs_table_free(&u);
    free(text);
    return 0;
}
