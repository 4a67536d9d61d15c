// SPDX-License-Identifier: Apache-2.0
/*
 * store.c - objects by name in a chained hash table that doubles as it fills.
 *
 * Sizes are modest (tens of thousands of objects at most), so a plain
 * FNV-1a hash and separate chaining keep this short and predictable.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "store.h"

struct entry {
    struct entry *next;
    struct k8s_obj obj;
};

struct store {
    struct entry **slots;
    size_t nslots; /* a power of two */
    size_t count;
};

static uint64_t hash(const char *s)
{
    return fnv1a64(FNV1A64_INIT, s, strlen(s));
}

struct store *store_new(void)
{
    struct store *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->nslots = 64;
    s->slots = calloc(s->nslots, sizeof(*s->slots));
    if (!s->slots) {
        free(s);
        return NULL;
    }
    return s;
}

void store_free(struct store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nslots; i++) {
        struct entry *e = s->slots[i], *next;
        for (; e; e = next) {
            next = e->next;
            k8s_obj_clear(&e->obj);
            free(e);
        }
    }
    free(s->slots);
    free(s);
}

static struct entry **find(const struct store *s, const char *name)
{
    struct entry **pp = &s->slots[hash(name) & (s->nslots - 1)];

    for (; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->obj.name, name) == 0)
            break;
    }
    return pp;
}

static void grow(struct store *s)
{
    size_t n = s->nslots * 2;
    struct entry **slots = calloc(n, sizeof(*slots));

    if (!slots)
        return; /* keep the longer chains; still correct */
    for (size_t i = 0; i < s->nslots; i++) {
        struct entry *e = s->slots[i], *next;
        for (; e; e = next) {
            next = e->next;
            struct entry **head = &slots[hash(e->obj.name) & (n - 1)];
            e->next = *head;
            *head = e;
        }
    }
    free(s->slots);
    s->slots = slots;
    s->nslots = n;
}

int store_put(struct store *s, struct k8s_obj *obj)
{
    struct entry **pp = find(s, obj->name), *e;

    if (*pp) {
        k8s_obj_clear(&(*pp)->obj);
        (*pp)->obj = *obj;
        memset(obj, 0, sizeof(*obj));
        return 0;
    }
    e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->obj = *obj;
    memset(obj, 0, sizeof(*obj));
    *pp = e;
    if (++s->count > s->nslots)
        grow(s);
    return 0;
}

const struct k8s_obj *store_get(const struct store *s, const char *name)
{
    struct entry **pp = find(s, name);
    return *pp ? &(*pp)->obj : NULL;
}

int store_delete(struct store *s, const char *name)
{
    struct entry **pp = find(s, name), *e = *pp;

    if (!e)
        return 0;
    *pp = e->next;
    k8s_obj_clear(&e->obj);
    free(e);
    s->count--;
    return 1;
}

size_t store_count(const struct store *s)
{
    return s->count;
}

int endpoint_cmp(const void *a, const void *b)
{
    const struct endpoint *x = a, *y = b;
    int c = netaddr_cmp(&x->addr, &y->addr);

    if (c)
        return c;
    return (x->port > y->port) - (x->port < y->port);
}

/* NULL before any name: slices' endpoints have none. */
static int owner_cmp(const char *x, const char *y)
{
    if (!x || !y)
        return (x != NULL) - (y != NULL);
    return strcmp(x, y);
}

int endpoint_age_cmp(const void *a, const void *b)
{
    const struct endpoint *x = a, *y = b;
    int c;

    if (x->created != y->created)
        return x->created < y->created ? -1 : 1;
    c = owner_cmp(x->owner, y->owner);
    return c ? c : endpoint_cmp(x, y);
}

/* Address and port, then the one to keep of duplicates first: ready, oldest. */
static int dedup_cmp(const void *a, const void *b)
{
    const struct endpoint *x = a, *y = b;
    int c = endpoint_cmp(x, y);

    if (c)
        return c;
    if (x->not_ready != y->not_ready)
        return x->not_ready ? 1 : -1;
    return endpoint_age_cmp(x, y);
}

int store_collect_ordered(const struct store *s, enum store_order order, struct endpoint **out,
                          size_t *n)
{
    struct endpoint *all;
    size_t total = 0, k = 0;

    for (size_t i = 0; i < s->nslots; i++) {
        for (struct entry *e = s->slots[i]; e; e = e->next)
            total += e->obj.n_eps;
    }
    all = malloc((total ? total : 1) * sizeof(*all));
    if (!all)
        return -ENOMEM;
    for (size_t i = 0; i < s->nslots; i++) {
        for (struct entry *e = s->slots[i]; e; e = e->next) {
            for (size_t j = 0; j < e->obj.n_eps; j++) {
                all[k] = e->obj.eps[j];
                all[k].created = e->obj.by_age ? e->obj.created : 0;
                all[k].owner = e->obj.by_age ? e->obj.name : NULL;
                k++;
            }
        }
    }
    qsort(all, total, sizeof(*all), dedup_cmp);
    k = 0;
    for (size_t i = 0; i < total; i++) {
        if (k == 0 || endpoint_cmp(&all[k - 1], &all[i]) != 0)
            all[k++] = all[i];
    }
    if (order == STORE_BY_AGE)
        qsort(all, k, sizeof(*all), endpoint_age_cmp);
    *out = all;
    *n = k;
    return 0;
}

int store_collect(const struct store *s, struct endpoint **out, size_t *n)
{
    return store_collect_ordered(s, STORE_BY_ADDRESS, out, n);
}
