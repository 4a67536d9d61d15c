/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.h - the objects the watch has told us about, by name.
 *
 * A relist fills a new store and swaps it in only when the whole list
 * arrived, so an interrupted list never empties the configuration.  Watch
 * events then add, replace and remove single objects.
 */
#ifndef IPVSCTL_STORE_H
#define IPVSCTL_STORE_H

#include <stddef.h>

#include "k8s_object.h"

struct store;

struct store *store_new(void);
void store_free(struct store *s);

/* Insert or replace the object under obj->name; takes obj's contents (obj is zeroed). */
int store_put(struct store *s, struct k8s_obj *obj);
/* The object stored under name, or NULL; valid until the next change to the store. */
const struct k8s_obj *store_get(const struct store *s, const char *name);
/* Remove by name; 1 if it was there, 0 if not. */
int store_delete(struct store *s, const char *name);
size_t store_count(const struct store *s);

/*
 * All endpoints of all objects, sorted and without duplicates, in a new
 * array the caller frees.  Returns 0 or -ENOMEM.
 */
int store_collect(const struct store *s, struct endpoint **out, size_t *n);

/* Order used for rendering: address, then port. */
int endpoint_cmp(const void *a, const void *b);

#endif
