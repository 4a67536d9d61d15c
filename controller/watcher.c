// SPDX-License-Identifier: Apache-2.0
/*
 * watcher.c - the list/watch state machine (see watcher.h).
 *
 *   W_WAIT --due--> W_LIST --page--> W_LIST ... --last page--> swap store
 *                                                              |
 *   W_WAIT <--error/backoff-- W_WATCH <------------------------'
 *            <--410: relist--
 *            <--clean end: reopen at once--
 *
 * Everything read is checked before it touches the store; an error in the
 * middle of a list leaves the previous store in place.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "watcher.h"

#define BACKOFF_INITIAL_MS    250
#define ERROR_BODY_MAX        65536
#define WATCH_FAILURES_RELIST 5
#define PATH_MAX_BYTES        65536 /* request path: escaped continue token and selector fit */

const struct k8s_resource k8s_pods = {
    .kind = "pod",
    .group = "/api/v1",
    .collection = "pods",
    .shape = &k8s_pod_shape,
    .decode = k8s_decode_pod,
};

const struct k8s_resource k8s_endpointslices = {
    .kind = "endpointslice",
    .group = "/apis/discovery.k8s.io/v1",
    .collection = "endpointslices",
    .shape = &k8s_slice_shape,
    .decode = k8s_decode_slice,
};

static void decode_warn(void *arg, const char *name, const char *reason, const char *value)
{
    const char *kind = arg;

    metrics.errors[ERR_OBJECT]++;
    log_warn("skipping invalid field", kind, name, "reason", reason, "value", value, NULL);
}

int watcher_init(struct watcher *w, const struct watcher_config *cfg, CURLM *multi)
{
    memset(w, 0, sizeof(*w));
    w->cfg = *cfg;
    w->cfg.decode.kind = cfg->res->kind;
    w->cfg.decode.warn = decode_warn;
    w->cfg.decode.warn_arg = (void *)cfg->res->kind;
    w->multi = multi;
    w->state = W_WAIT;
    w->relist = true;
    w->fail_reason = -1;
    w->backoff_ms = BACKOFF_INITIAL_MS;
    buf_init(&w->body, ERROR_BODY_MAX * 2);
    jsonstream_init(&w->js, cfg->max_event_bytes);
    return 0;
}

static void stop_request(struct watcher *w)
{
    if (w->req.easy)
        curl_multi_remove_handle(w->multi, w->req.easy);
    api_request_free(&w->req);
    k8s_list_free(&w->lister);
}

void watcher_free(struct watcher *w)
{
    stop_request(w);
    store_free(w->store);
    store_free(w->pending);
    buf_free(&w->body);
    jsonstream_free(&w->js);
    w->store = w->pending = NULL;
}

bool watcher_synced(const struct watcher *w)
{
    return w->store != NULL;
}

bool watcher_owns(const struct watcher *w, CURL *easy)
{
    return w->req.easy && w->req.easy == easy;
}

static void schedule(struct watcher *w, uint64_t now_ms, unsigned delay_ms)
{
    stop_request(w);
    w->state = W_WAIT;
    w->start_at_ms = now_ms + delay_ms;
}

/* Wait a jittered backoff, then double it for next time. */
static void backoff(struct watcher *w, uint64_t now_ms)
{
    unsigned d = w->backoff_ms;
    unsigned wait = d / 2 + (unsigned)(random() % (d / 2 + 1));

    schedule(w, now_ms, wait);
    w->backoff_ms = d >= w->cfg.backoff_max_ms / 2 ? w->cfg.backoff_max_ms : d * 2;
    log_info("retrying later", "resource", w->cfg.res->kind, "after_ms", LOG_INT(wait), NULL);
}

static const char *what(const struct watcher *w)
{
    return w->state == W_LIST ? "list" : "watch";
}

/* Log a failed transfer and count it. */
static void report_failure(struct watcher *w, CURLcode result, long code)
{
    char msg[256] = "";
    int scode;

    if (w->fail_reason >= 0) {
        metrics.errors[w->fail_reason]++;
        return; /* already logged where it was detected */
    }
    if (result != CURLE_OK) {
        metrics.errors[ERR_API_CONNECT]++;
        log_error("API request failed", "request", what(w), "resource", w->cfg.res->kind, "error",
                  w->req.errbuf[0] ? w->req.errbuf : curl_easy_strerror(result), NULL);
        return;
    }
    metrics.errors[ERR_API_STATUS]++;
    if (w->body.len && k8s_status_parse(w->body.data, w->body.len, &scode, msg, sizeof(msg)) < 0)
        snprintf(msg, sizeof(msg), "(no Status in the body)");
    log_error("API request refused", "request", what(w), "resource", w->cfg.res->kind, "status",
              LOG_INT(code), "message", msg, NULL);
}

/* Keep the start of an error body for the message. */
static size_t error_write(struct watcher *w, const char *data, size_t len)
{
    if (w->body.len < ERROR_BODY_MAX)
        buf_append(&w->body, data, len < ERROR_BODY_MAX ? len : ERROR_BODY_MAX);
    return len;
}

static bool apply_object(struct watcher *w, struct store *st, const json_t *obj, bool verbose,
                         bool truncated);

/* An item of the list page being read arrived: into the pending store. */
static int list_item(void *arg, const json_t *item, bool truncated)
{
    struct watcher *w = arg;

    apply_object(w, w->pending, item, false, truncated);
    return 0;
}

/* The list body streams through the reader: only the current item is held. */
static size_t list_write(char *data, size_t size, size_t n, void *arg)
{
    struct watcher *w = arg;
    long code = 0;
    char err[160];
    int rc;

    curl_easy_getinfo(w->req.easy, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200)
        return error_write(w, data, size * n);
    rc = k8s_list_feed(&w->lister, data, size * n, err, sizeof(err));
    if (rc == -EMSGSIZE) {
        log_error("list response over the size cap", "resource", w->cfg.res->kind, "max_bytes",
                  LOG_INT(w->lister.max_bytes), NULL);
        w->fail_reason = ERR_OVERSIZE;
    } else if (rc == -ENOMEM) {
        log_error("out of memory reading a list", "resource", w->cfg.res->kind, NULL);
        w->fail_reason = ERR_DECODE;
    } else if (rc < 0) {
        log_error("invalid list response", "resource", w->cfg.res->kind, "reason", err, NULL);
        w->fail_reason = ERR_DECODE;
    }
    return rc < 0 ? 0 : size * n;
}

/*
 * Everything the renderer reads of an object: its endpoints and, in flow
 * mode, their readiness (the weight) and its age (the order).
 */
static bool same_endpoints(const struct k8s_obj *a, const struct k8s_obj *b)
{
    if (!a || a->n_eps != b->n_eps || a->by_age != b->by_age || a->created != b->created)
        return false;
    for (size_t i = 0; i < a->n_eps; i++) {
        if (endpoint_cmp(&a->eps[i], &b->eps[i]) != 0 || a->eps[i].not_ready != b->eps[i].not_ready)
            return false;
    }
    return true;
}

/*
 * Decode obj into the store.  Returns true when the endpoints it
 * contributes changed (only then is a render worth it).  With verbose, a
 * change is logged naming the object: that is the event a user follows.
 */
static bool apply_object(struct watcher *w, struct store *st, const json_t *obj, bool verbose,
                         bool truncated)
{
    struct k8s_obj o;
    char err[160];
    bool changed;

    if (truncated) { /* what was kept of it cannot be trusted: as if invalid */
        metrics.errors[ERR_OBJECT]++;
        log_warn("skipping object over the size caps", w->cfg.res->kind, k8s_obj_name(obj),
                 "max_values", LOG_INT(K8S_MAX_VALUES), "max_string_bytes",
                 LOG_INT(K8S_MAX_STRING_BYTES), NULL);
        return false;
    }
    if (w->cfg.res->decode(obj, &w->cfg.decode, &o, err, sizeof(err)) < 0) {
        metrics.errors[ERR_OBJECT]++;
        log_warn("skipping invalid object", w->cfg.res->kind, k8s_obj_name(obj), "reason", err,
                 NULL);
        k8s_obj_clear(&o);
        return false;
    }
    changed = !same_endpoints(store_get(st, o.name), &o);
    if (changed && verbose)
        log_info("endpoints changed", w->cfg.res->kind, o.name, "endpoints", LOG_INT(o.n_eps),
                 NULL);
    if (store_put(st, &o) < 0) {
        log_error("out of memory storing object", w->cfg.res->kind, o.name, NULL);
        k8s_obj_clear(&o);
    }
    return changed;
}

static int on_event(void *arg, const char *data, size_t len)
{
    struct watcher *w = arg;
    struct k8s_event ev;
    char err[160];
    bool changed = false;

    if (k8s_event_parse(data, len, w->cfg.res->shape, &ev, err, sizeof(err)) < 0) {
        log_error("invalid watch event", "resource", w->cfg.res->kind, "reason", err, NULL);
        w->fail_reason = ERR_DECODE;
        return -1;
    }
    metrics.events++;
    w->watch_got_data = true;
    switch (ev.type) {
    case K8S_ADDED:
    case K8S_MODIFIED:
        changed = apply_object(w, w->store, ev.object, true, ev.truncated);
        break;
    case K8S_DELETED:
        changed = store_delete(w->store, k8s_obj_name(ev.object)) > 0;
        if (changed)
            log_info("deleted", w->cfg.res->kind, k8s_obj_name(ev.object), NULL);
        break;
    case K8S_BOOKMARK:
        break;
    case K8S_ERROR:
        /*
         * 410: our resourceVersion was compacted away.  "Too large
         * resource version" (504): the server is behind us, e.g. it was
         * restored from an older state.  Both need a fresh list.
         */
        if (ev.code == 410 ||
            (ev.code == 504 && strstr(ev.message, "Too large resource version"))) {
            log_info("watch expired, listing again", "resource", w->cfg.res->kind, "message",
                     ev.message, NULL);
            w->expired = true;
        } else {
            log_error("watch reported an error", "resource", w->cfg.res->kind, "code",
                      LOG_INT(ev.code), "message", ev.message, NULL);
            w->fail_reason = ERR_API_STATUS;
        }
        k8s_event_clear(&ev);
        return -1;
    }
    if (log_enabled(LOG_DEBUG))
        log_debug("watch event", "resource", w->cfg.res->kind, "object", k8s_obj_name(ev.object),
                  "rv", ev.rv, NULL);
    memcpy(w->rv, ev.rv, sizeof(w->rv));
    k8s_event_clear(&ev);
    if (changed && w->cfg.on_change)
        w->cfg.on_change(w->cfg.arg);
    return 0;
}

static size_t watch_write(char *data, size_t size, size_t n, void *arg)
{
    struct watcher *w = arg;
    long code = 0;
    int rc;

    curl_easy_getinfo(w->req.easy, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200)
        return error_write(w, data, size * n);
    rc = jsonstream_feed(&w->js, data, size * n, on_event, w);
    if (rc == -EMSGSIZE) {
        log_error("watch event over the size cap", "resource", w->cfg.res->kind, "max_bytes",
                  LOG_INT(w->js.cur.max), NULL);
        w->fail_reason = ERR_OVERSIZE;
    } else if (rc == -EBADMSG) {
        log_error("watch stream is not a sequence of JSON objects", "resource", w->cfg.res->kind,
                  NULL);
        w->fail_reason = ERR_DECODE;
    }
    return rc < 0 ? 0 : size * n;
}

/*
 * The request path.  Built in a buffer whose cap fits the longest continue
 * token and resourceVersion we accept, every byte escaped (3x), and any
 * selector the options accept; 0, or -ENOMEM / -EMSGSIZE with err set.
 */
static int build_path(struct watcher *w, bool list, struct buf *path, char *err, size_t errlen)
{
    char *sel = api_escape(w->cfg.selector), *tok;
    int rc;

    if (!sel) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    rc = buf_printf(path, "%s/namespaces/%s/%s", w->cfg.res->group, w->cfg.namespace,
                    w->cfg.res->collection);
    if (list) {
        tok = w->cont[0] ? api_escape(w->cont) : NULL;
        if (rc == 0 && w->cont[0] && !tok)
            rc = -ENOMEM;
        if (rc == 0)
            rc = buf_printf(path, "?labelSelector=%s&limit=%u%s%s", sel, w->cfg.page_size,
                            tok ? "&continue=" : "", tok ? tok : "");
    } else {
        unsigned t = w->cfg.watch_timeout_s;
        t += (unsigned)(random() % (t + 1)); /* spread reconnects of many controllers */
        tok = api_escape(w->rv);
        if (rc == 0 && !tok)
            rc = -ENOMEM;
        if (rc == 0)
            rc = buf_printf(path,
                            "?watch=1&allowWatchBookmarks=true&resourceVersion=%s"
                            "&timeoutSeconds=%u&labelSelector=%s",
                            tok, t, sel);
    }
    curl_free(tok);
    curl_free(sel);
    if (rc == -EMSGSIZE)
        snprintf(err, errlen, "request path longer than %d bytes", PATH_MAX_BYTES);
    else if (rc < 0)
        snprintf(err, errlen, "out of memory");
    return rc;
}

/* Start a list or a watch.  On failure, logs one line naming the cause. */
static int start(struct watcher *w, bool list)
{
    struct buf path;
    char err[256];
    int rc;

    buf_init(&path, PATH_MAX_BYTES);
    rc = build_path(w, list, &path, err, sizeof(err));
    if (rc < 0) {
        log_error("cannot build API request", "request", list ? "list" : "watch", "resource",
                  w->cfg.res->kind, "reason", err, NULL);
        buf_free(&path);
        return rc;
    }
    rc = api_prepare(w->cfg.api, &w->req, path.data, list ? (long)w->cfg.list_timeout_s : 0,
                     (long)(list ? w->cfg.list_timeout_s : w->cfg.watch_idle_timeout_s), err,
                     sizeof(err));
    buf_free(&path);
    if (rc < 0) {
        log_error("cannot prepare API request", "resource", w->cfg.res->kind, "reason", err, NULL);
        return -EINVAL;
    }
    if (list &&
        k8s_list_begin(&w->lister, w->cfg.res->shape, w->cfg.max_list_bytes, list_item, w) < 0) {
        log_error("out of memory starting a list", "resource", w->cfg.res->kind, NULL);
        api_request_free(&w->req);
        return -ENOMEM;
    }
    buf_reset(&w->body);
    jsonstream_reset(&w->js);
    w->fail_reason = -1;
    w->expired = false;
    w->watch_got_data = false;
    curl_easy_setopt(w->req.easy, CURLOPT_WRITEFUNCTION, list ? list_write : watch_write);
    curl_easy_setopt(w->req.easy, CURLOPT_WRITEDATA, w);
    curl_easy_setopt(w->req.easy, CURLOPT_PRIVATE, w);
    if (curl_multi_add_handle(w->multi, w->req.easy) != CURLM_OK) {
        log_error("cannot start API request", "resource", w->cfg.res->kind, "reason",
                  "curl_multi_add_handle failed", NULL);
        stop_request(w);
        return -EIO;
    }
    w->state = list ? W_LIST : W_WATCH;
    log_debug(list ? "list started" : "watch started", "resource", w->cfg.res->kind, "rv",
              list ? w->cont : w->rv, NULL);
    return 0;
}

long watcher_tick(struct watcher *w, uint64_t now_ms)
{
    if (w->state != W_WAIT)
        return -1;
    if (now_ms < w->start_at_ms)
        return (long)(w->start_at_ms - now_ms);
    if (w->relist && !w->cont[0] && !w->pending) {
        w->pending = store_new();
        if (!w->pending) {
            backoff(w, now_ms);
            return (long)(w->start_at_ms - now_ms);
        }
    }
    if (start(w, w->relist) < 0) {
        metrics.errors[ERR_API_CONNECT]++;
        if (w->relist && w->cont[0]) { /* maybe the token: start the list over */
            w->cont[0] = '\0';
            store_free(w->pending);
            w->pending = NULL;
        }
        backoff(w, now_ms);
        return (long)(w->start_at_ms - now_ms);
    }
    return -1;
}

/* A list page arrived with status 200; its items are already in pending. */
static void list_page(struct watcher *w, uint64_t now_ms)
{
    struct k8s_list list;
    char err[160];

    if (k8s_list_end(&w->lister, &list, err, sizeof(err)) < 0) {
        metrics.errors[ERR_DECODE]++;
        log_error("invalid list response", "resource", w->cfg.res->kind, "reason", err, NULL);
        goto fail;
    }
    k8s_list_free(&w->lister);
    if (list.cont[0]) {
        memcpy(w->cont, list.cont, sizeof(w->cont));
        schedule(w, now_ms, 0);
        return;
    }
    memcpy(w->rv, list.rv, sizeof(w->rv));
    w->cont[0] = '\0'; /* else the next relist would resume the old list, without a store */
    store_free(w->store);
    w->store = w->pending;
    w->pending = NULL;
    w->relist = false;
    w->backoff_ms = BACKOFF_INITIAL_MS;
    w->cont_expired = 0;
    if (w->lists_done++)
        metrics.relists++;
    log_info("listed", "resource", w->cfg.res->kind, "objects", LOG_INT(store_count(w->store)),
             "rv", w->rv, NULL);
    schedule(w, now_ms, 0);
    if (w->cfg.on_change)
        w->cfg.on_change(w->cfg.arg);
    return;
fail:
    w->cont[0] = '\0'; /* a list restarts from its first page */
    store_free(w->pending);
    w->pending = NULL;
    backoff(w, now_ms);
}

void watcher_done(struct watcher *w, CURLcode result, uint64_t now_ms)
{
    long code = 0;

    curl_easy_getinfo(w->req.easy, CURLINFO_RESPONSE_CODE, &code);
    if (w->state == W_LIST) {
        if (result == CURLE_OK && code == 200) {
            list_page(w, now_ms);
            return;
        }
        report_failure(w, result, code);
        store_free(w->pending);
        w->pending = NULL;
        /*
         * The continue token expired: start over at once, the first time.
         * A server answering 410 again and again gets the backoff, not a
         * loop of requests.
         */
        if (code == 410 && w->cont[0] && w->cont_expired++ == 0) {
            w->cont[0] = '\0';
            schedule(w, now_ms, 0);
            return;
        }
        w->cont[0] = '\0';
        backoff(w, now_ms);
        return;
    }

    /* W_WATCH */
    metrics.watch_restarts++;
    if (w->expired || code == 410) {
        if (!w->expired)
            log_info("watch expired (410), listing again", "resource", w->cfg.res->kind, NULL);
        w->relist = true;
        schedule(w, now_ms, 0);
        return;
    }
    if (result == CURLE_OK && code == 200 && w->fail_reason < 0 && !jsonstream_pending(&w->js)) {
        log_debug("watch ended, reopening", "resource", w->cfg.res->kind, "rv", w->rv, NULL);
        if (w->watch_got_data) {
            w->backoff_ms = BACKOFF_INITIAL_MS;
            schedule(w, now_ms, 0);
        } else {
            backoff(w, now_ms); /* a server ending empty watches at once must not spin us */
        }
        return;
    }
    if (result == CURLE_OK && code == 200 && w->fail_reason < 0) {
        metrics.errors[ERR_DECODE]++;
        log_error("watch stream ended inside an event", "resource", w->cfg.res->kind, NULL);
    } else if (result == CURLE_OPERATION_TIMEDOUT && w->fail_reason < 0) {
        metrics.errors[ERR_API_CONNECT]++;
        log_warn("watch silent too long, reconnecting", "resource", w->cfg.res->kind, "idle_s",
                 LOG_INT(w->cfg.watch_idle_timeout_s), NULL);
    } else {
        report_failure(w, result, code);
    }
    if (w->watch_got_data) {
        w->backoff_ms = BACKOFF_INITIAL_MS;
        w->watch_failures = 0;
    } else if (++w->watch_failures >= WATCH_FAILURES_RELIST) {
        /* resuming keeps failing: maybe the resourceVersion is the problem */
        log_warn("watch keeps failing, listing again", "resource", w->cfg.res->kind, "failures",
                 LOG_INT(w->watch_failures), NULL);
        w->watch_failures = 0;
        w->relist = true;
    }
    backoff(w, now_ms);
}
