/* SPDX-License-Identifier: Apache-2.0 */
/*
 * k8s_object.h - decode what the API server sends into endpoints.
 *
 * Three layers, each refusing what it cannot vouch for:
 *   - k8s_list_* (streamed) and k8s_event_parse take raw bytes of a list
 *     response or of one watch event and check the envelope (types,
 *     resourceVersion).  Both keep only what the decoders read (the
 *     resource's k8s_shape, through jsonprune), so memory follows what we
 *     use, not what the server sends; a list hands over its items one by
 *     one as they arrive;
 *   - k8s_decode_pod / k8s_decode_slice turn one object into the endpoints
 *     it contributes, validating every address and port;
 *   - whatever is skipped is reported through decode_ctx.warn, naming the
 *     object, so the caller can log it.  Nothing here logs or exits.
 * An address no real server can have (loopback, multicast, unspecified,
 * broadcast, link-local, IPv4-mapped, or a virtual server's own) is
 * skipped like an invalid one: keepalived would forward to the node
 * itself or nowhere.
 */
#ifndef IPVSCTL_K8S_OBJECT_H
#define IPVSCTL_K8S_OBJECT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jsonprune.h"
#include "netaddr.h"

#define K8S_RV_MAX       64   /* longest resourceVersion we accept */
#define K8S_CONTINUE_MAX 4096 /* longest list continue token we accept */

/*
 * What one object (a list item, a watch event) may keep: plenty for a
 * slice of 1,000 endpoints (about six values each), a few MB of jansson
 * at most.  An object over a cap is refused as a whole, by name.
 */
#define K8S_MAX_VALUES       32768
#define K8S_MAX_STRING_BYTES (1u << 20)

/* Which paths of a resource's events and lists the decoders read. */
struct k8s_shape {
    const struct jsonprune_schema *event;
    const struct jsonprune_schema *list;
};

extern const struct k8s_shape k8s_pod_shape;
extern const struct k8s_shape k8s_slice_shape;

struct endpoint {
    struct netaddr addr;
    uint16_t port;  /* 0: not given by the object; the renderer chooses */
    bool not_ready; /* only with decode_ctx.flow: written at weight 0 (zeroed: ready) */
    /* set by store_collect, for flow mode's order (store.h): */
    int64_t created;   /* the owner's creation time; 0 for slices */
    const char *owner; /* the Pod's name; NULL for slices; borrowed from the store */
};

/* One Pod or EndpointSlice, reduced to what the renderer needs. */
struct k8s_obj {
    char *name; /* metadata.name; owned */
    struct endpoint *eps;
    size_t n_eps;
    /*
     * Pods with decode_ctx.flow: metadata.creationTimestamp in seconds
     * (INT64_MAX when missing or invalid: ordered last); by_age says so.
     */
    int64_t created;
    bool by_age;
};

typedef void (*decode_warn_fn)(void *arg, const char *name, const char *reason, const char *value);

struct decode_ctx {
    const char *kind;      /* "pod" or "endpointslice", for messages */
    const char *port_name; /* slices: use the port with this name; NULL: the only one */
    int port_fixed;        /* slices: --target-port given, ports do not matter */
    /*
     * Flow mode: keep endpoints that are not ready but have an address
     * (not_ready), skip pods in a terminal phase, read pods' age.
     */
    bool flow;
    decode_warn_fn warn; /* may be NULL */
    void *warn_arg;
    /* addresses a backend may not have: the virtual servers'; borrowed */
    const struct netaddr *vips;
    size_t n_vips;
};

/*
 * Decode one object into out (whose fields the caller frees with
 * k8s_obj_clear).  Returns 0 (possibly with no endpoints: not ready,
 * terminating) or -EINVAL when the object is unusable as a whole; err then
 * says why.
 */
int k8s_decode_pod(const json_t *pod, const struct decode_ctx *dc, struct k8s_obj *out, char *err,
                   size_t errlen);
int k8s_decode_slice(const json_t *slice, const struct decode_ctx *dc, struct k8s_obj *out,
                     char *err, size_t errlen);
void k8s_obj_clear(struct k8s_obj *obj);

/*
 * An RFC 3339 time as the API writes metadata.creationTimestamp
 * ("2026-11-22T10:00:00Z"; a fraction and a numeric offset are accepted)
 * into seconds since 1970.  0, or -EINVAL.
 */
int k8s_time_parse(const char *s, int64_t *out);

/* The name of an object for messages: metadata.name if it is a string, else "?". */
const char *k8s_obj_name(const json_t *obj);

enum k8s_event_type { K8S_ADDED, K8S_MODIFIED, K8S_DELETED, K8S_BOOKMARK, K8S_ERROR };

struct k8s_event {
    enum k8s_event_type type;
    json_t *root;            /* owned; the event, pruned to the shape */
    bool truncated;          /* the object was over a cap: refuse it */
    const json_t *object;    /* borrowed from root */
    char rv[K8S_RV_MAX + 1]; /* object's resourceVersion; "" for ERROR */
    int code;                /* ERROR: the Status code (410: expired) */
    const char *message;     /* ERROR: the Status message, borrowed from root */
};

/*
 * Parse one watch event, keeping what shape names.  0, or -EBADMSG (or
 * -ENOMEM) with err set.  Clear with k8s_event_clear.
 */
int k8s_event_parse(const char *data, size_t len, const struct k8s_shape *shape,
                    struct k8s_event *ev, char *err, size_t errlen);
void k8s_event_clear(struct k8s_event *ev);

struct k8s_list {
    char rv[K8S_RV_MAX + 1];         /* metadata.resourceVersion */
    char cont[K8S_CONTINUE_MAX + 1]; /* metadata.continue, "" when last page */
};

/*
 * Called with each item of a list as soon as it has arrived (borrowed,
 * freed after the call); truncated: it was over a cap.  A negative return
 * stops the list.
 */
typedef int (*k8s_item_fn)(void *arg, const json_t *item, bool truncated);

/* A list response read as it streams in: only the item being read is held. */
struct k8s_list_reader {
    struct jsonprune jp;
    size_t bytes;     /* read so far */
    size_t max_bytes; /* cap on the bytes of the response, not on memory */
};

/* Start reading one list response.  0 or -ENOMEM. */
int k8s_list_begin(struct k8s_list_reader *r, const struct k8s_shape *shape, size_t max_bytes,
                   k8s_item_fn item, void *arg);
/*
 * Feed bytes of the response.  0; -EMSGSIZE past max_bytes; -EBADMSG (err
 * set) when it is not JSON; -ENOMEM; or the callback's negative code.
 */
int k8s_list_feed(struct k8s_list_reader *r, const char *data, size_t len, char *err,
                  size_t errlen);
/* The response is complete: check the envelope into list.  0, or -EBADMSG with err set. */
int k8s_list_end(struct k8s_list_reader *r, struct k8s_list *list, char *err, size_t errlen);
/* Free the reader (also after an error); a zeroed reader is fine. */
void k8s_list_free(struct k8s_list_reader *r);

/*
 * Parse a Status error body (from a non-2xx response): fills code and
 * copies the message into msg.  0 if it was a Status, -EBADMSG otherwise.
 */
int k8s_status_parse(const char *data, size_t len, int *code, char *msg, size_t msglen);

#endif
