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
 * The order real servers are written in.
 * BY_ADDRESS: address, then port (NAT mode; any order would do there).
 * BY_AGE (flow mode): keepalived adds new real servers in file order and
 * the kernel puts each at the head of its list, so writing them oldest
 * first gives a pod that saw them arrive one by one the same list as a
 * pod started fresh.  Oldest is the owner's creation time, then its name,
 * then address and port; EndpointSlices carry no age per endpoint, so
 * their endpoints come out by address.
 */
enum store_order { STORE_BY_ADDRESS, STORE_BY_AGE };

/*
 * All endpoints of all objects, in that order and without duplicates (of
 * an address and port, the ready one wins, then the oldest), in a new
 * array the caller frees; the endpoints' owner names are borrowed from the
 * store, valid until it changes.  Returns 0 or -ENOMEM.
 */
int store_collect_ordered(const struct store *s, enum store_order order, struct endpoint **out,
                          size_t *n);

/* store_collect_ordered by address. */
int store_collect(const struct store *s, struct endpoint **out, size_t *n);

/* Order used for rendering: address, then port. */
int endpoint_cmp(const void *a, const void *b);

/* Flow mode's order: creation time, owner name, address, port. */
int endpoint_age_cmp(const void *a, const void *b);

#endif
