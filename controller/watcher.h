/* SPDX-License-Identifier: Apache-2.0 */
/*
 * watcher.h - list, then watch, one kind of object, forever.
 *
 * The watcher keeps a store of the objects it was told about.  It lists
 * (page by page) into a fresh store and swaps it in only when the last page
 * arrived, then watches from the list's resourceVersion, resuming from the
 * last resourceVersion it saw when a watch ends or breaks.  A 410 Gone (as
 * an HTTP status or an ERROR event) makes it list again.  Failures wait a
 * capped, jittered, exponential backoff.  A list is decoded item by item
 * as it streams in, so its size caps bytes read, not memory held.  It never blocks: requests run on
 * the caller's curl multi handle and the caller's loop drives them.
 */
#ifndef IPVSCTL_WATCHER_H
#define IPVSCTL_WATCHER_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api.h"
#include "buf.h"
#include "jsonstream.h"
#include "k8s_object.h"
#include "store.h"

/* What differs between watching Pods and EndpointSlices. */
struct k8s_resource {
    const char *kind;              /* for messages: "pod", "endpointslice" */
    const char *group;             /* "/api/v1" or "/apis/GROUP/VERSION" */
    const char *collection;        /* "pods", "endpointslices" */
    const struct k8s_shape *shape; /* what of its events and lists is kept */
    int (*decode)(const json_t *obj, const struct decode_ctx *dc, struct k8s_obj *out, char *err,
                  size_t errlen);
};

extern const struct k8s_resource k8s_pods;
extern const struct k8s_resource k8s_endpointslices;

struct watcher_config {
    const struct k8s_resource *res;
    const struct api *api;
    const char *namespace;
    const char *selector; /* label selector, already validated */
    struct decode_ctx decode;
    unsigned page_size;
    unsigned list_timeout_s;
    unsigned watch_timeout_s;
    unsigned watch_idle_timeout_s;
    unsigned backoff_max_ms;
    size_t max_list_bytes;
    size_t max_event_bytes;
    void (*on_change)(void *arg); /* the store changed; called from watcher_* */
    void *arg;
};

enum watcher_state { W_WAIT, W_LIST, W_WATCH };

struct watcher {
    struct watcher_config cfg;
    CURLM *multi; /* borrowed */
    enum watcher_state state;
    struct api_request req;
    struct store *store;   /* authoritative; NULL until the first full list */
    struct store *pending; /* being filled by a list */
    char rv[K8S_RV_MAX + 1];
    char cont[K8S_CONTINUE_MAX + 1];
    struct buf body;               /* an error body */
    struct k8s_list_reader lister; /* the list page being read (W_LIST) */
    struct jsonstream js;
    bool relist;             /* the next start is a list, not a watch */
    bool expired;            /* the watch reported 410 */
    bool watch_got_data;     /* the current watch delivered an event */
    int fail_reason;         /* metrics_error of a transfer aborted by us, or -1 */
    unsigned watch_failures; /* failed watches in a row that delivered nothing */
    unsigned cont_expired;   /* 410s on a continue token since the last full list */
    unsigned backoff_ms;
    uint64_t start_at_ms; /* W_WAIT: when to start the next request */
    unsigned lists_done;
};

/* Set up; takes a copy of cfg.  The first list starts at the next watcher_tick. */
int watcher_init(struct watcher *w, const struct watcher_config *cfg, CURLM *multi);
void watcher_free(struct watcher *w);

/* Start a request if one is due.  Returns ms until it wants a tick, or -1. */
long watcher_tick(struct watcher *w, uint64_t now_ms);
/* The multi handle reported our transfer done. */
void watcher_done(struct watcher *w, CURLcode result, uint64_t now_ms);
/* Whether easy is this watcher's transfer. */
bool watcher_owns(const struct watcher *w, CURL *easy);
/* True once a full list has been stored. */
bool watcher_synced(const struct watcher *w);

#endif
