// SPDX-License-Identifier: Apache-2.0
/*
 * k8s_object.c - decoding of Pods, EndpointSlices, lists and watch events.
 *
 * The API server is trusted to be an API server, not to be well-behaved:
 * every field is type-checked before use, addresses go through
 * netaddr_parse, ports through a range check, and tokens we later send
 * back (resourceVersion, continue) must be short and printable.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_object.h"

#define K8S_NAME_MAX 253

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static void warn(const struct decode_ctx *dc, const char *name, const char *reason,
                 const char *value)
{
    if (dc->warn)
        dc->warn(dc->warn_arg, name, reason, value);
}

/* A resourceVersion or continue token: non-empty, printable ASCII, no spaces. */
static bool token_ok(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n == 0 || n > max)
        return false;
    for (; *s; s++) {
        if (*s <= ' ' || *s >= 0x7f)
            return false;
    }
    return true;
}

const char *k8s_obj_name(const json_t *obj)
{
    const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
    return name ? name : "?";
}

void k8s_obj_clear(struct k8s_obj *obj)
{
    free(obj->name);
    free(obj->eps);
    obj->name = NULL;
    obj->eps = NULL;
    obj->n_eps = 0;
    obj->created = 0;
    obj->by_age = false;
}

/* Digits only, exactly n of them, into *v. */
static bool take_digits(const char **p, size_t n, int *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        *v = *v * 10 + (c - '0');
    }
    *p += n;
    return true;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Leap years in [1, y]. */
static int64_t leaps_through(int y)
{
    return y / 4 - y / 100 + y / 400;
}

int k8s_time_parse(const char *s, int64_t *out)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    int64_t days;

    if (!s || !take_digits(&s, 4, &y) || *s++ != '-' || !take_digits(&s, 2, &mo) || *s++ != '-' ||
        !take_digits(&s, 2, &d) || (*s != 'T' && *s != 't'))
        return -EINVAL;
    s++;
    if (!take_digits(&s, 2, &h) || *s++ != ':' || !take_digits(&s, 2, &mi) || *s++ != ':' ||
        !take_digits(&s, 2, &sec))
        return -EINVAL;
    if (*s == '.') { /* a fraction: the order needs seconds only */
        s++;
        if (*s < '0' || *s > '9')
            return -EINVAL;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        sign = *s++ == '+' ? 1 : -1;
        if (!take_digits(&s, 2, &oh) || *s++ != ':' || !take_digits(&s, 2, &om) || oh > 23 ||
            om > 59)
            return -EINVAL;
    } else {
        return -EINVAL;
    }
    if (*s || y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)) ||
        h > 23 || mi > 59 || sec > 60)
        return -EINVAL;
    days = 365 * (int64_t)(y - 1970) + leaps_through(y - 1) - leaps_through(1969);
    for (int m = 1; m < mo; m++)
        days += mdays[m - 1] + (m == 2 && leap(y));
    days += d - 1;
    *out = ((days * 24 + h) * 60 + mi) * 60 + sec - sign * (oh * 3600 + om * 60);
    return 0;
}

/* Common start: an object with metadata.name; returns metadata or NULL. */
static const json_t *obj_begin(const json_t *o, const struct decode_ctx *dc, struct k8s_obj *out,
                               char *err, size_t errlen)
{
    const json_t *md = json_object_get(o, "metadata");
    const char *name = json_string_value(json_object_get(md, "name"));

    memset(out, 0, sizeof(*out));
    if (!json_is_object(o)) {
        fail(err, errlen, "%s is not a JSON object", dc->kind);
        return NULL;
    }
    if (!json_is_object(md)) {
        fail(err, errlen, "%s has no metadata object", dc->kind);
        return NULL;
    }
    if (!name || !*name || strlen(name) > K8S_NAME_MAX) {
        fail(err, errlen, "%s has no valid metadata.name", dc->kind);
        return NULL;
    }
    out->name = strdup(name);
    if (!out->name) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    return md;
}

static int add_endpoint(struct k8s_obj *out, size_t *cap, const struct netaddr *a, uint16_t port,
                        bool ready)
{
    for (size_t i = 0; i < out->n_eps; i++) {
        if (netaddr_cmp(&out->eps[i].addr, a) == 0 && out->eps[i].port == port)
            return 0;
    }
    if (out->n_eps == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        struct endpoint *p = realloc(out->eps, ncap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        out->eps = p;
        *cap = ncap;
    }
    memset(&out->eps[out->n_eps], 0, sizeof(out->eps[0]));
    out->eps[out->n_eps].addr = *a;
    out->eps[out->n_eps].port = port;
    out->eps[out->n_eps].not_ready = !ready;
    out->n_eps++;
    return 0;
}

/* Ranges no backend address may fall in, and what to call them. */
static const struct {
    int family;
    uint8_t net[16];
    unsigned len;
    const char *what;
} unusable[] = {
    {AF_INET, {0}, 8, "an unspecified (0.0.0.0/8) address"},
    {AF_INET, {127}, 8, "a loopback address"},
    {AF_INET, {169, 254}, 16, "a link-local address"},
    {AF_INET, {224}, 4, "a multicast address"},
    {AF_INET, {255, 255, 255, 255}, 32, "the broadcast address"},
    {AF_INET6, {0}, 128, "the unspecified address"},
    {AF_INET6, {[15] = 1}, 128, "a loopback address"},
    {AF_INET6, {0xfe, 0x80}, 10, "a link-local address"},
    {AF_INET6, {0xff}, 8, "a multicast address"},
    {AF_INET6, {[10] = 0xff, [11] = 0xff}, 96, "an IPv4-mapped address"},
};

static bool in_net(const struct netaddr *a, const uint8_t *net, unsigned len)
{
    for (unsigned bit = 0; bit < len; bit++) {
        uint8_t m = (uint8_t)(0x80 >> (bit % 8));
        if ((a->u.bytes[bit / 8] & m) != (net[bit / 8] & m))
            return false;
    }
    return true;
}

/* Why a can be no real server, or NULL if it can. */
static const char *unusable_why(const struct decode_ctx *dc, const struct netaddr *a)
{
    for (size_t i = 0; i < sizeof(unusable) / sizeof(unusable[0]); i++) {
        if (unusable[i].family == a->family && in_net(a, unusable[i].net, unusable[i].len))
            return unusable[i].what;
    }
    for (size_t i = 0; i < dc->n_vips; i++) {
        if (netaddr_cmp(&dc->vips[i], a) == 0)
            return "a virtual server address";
    }
    return NULL;
}

/*
 * Parse one address field; warns and returns -EINVAL if it is not an IP,
 * or not one a real server can have.
 */
static int take_ip(const struct decode_ctx *dc, const char *name, const char *field,
                   const json_t *v, struct netaddr *a)
{
    char reason[96];
    const char *why;

    if (!json_is_string(v)) {
        snprintf(reason, sizeof(reason), "%s is not a string", field);
        warn(dc, name, reason, NULL);
        return -EINVAL;
    }
    if (netaddr_parse(json_string_value(v), a) < 0) {
        snprintf(reason, sizeof(reason), "%s is not an IP address", field);
        warn(dc, name, reason, json_string_value(v));
        return -EINVAL;
    }
    why = unusable_why(dc, a);
    if (why) {
        snprintf(reason, sizeof(reason), "%s is %s; skipped", field, why);
        warn(dc, name, reason, json_string_value(v));
        return -EINVAL;
    }
    return 0;
}

static bool pod_is_ready(const json_t *status)
{
    const json_t *conds = json_object_get(status, "conditions");
    size_t i;
    const json_t *c;

    json_array_foreach(conds, i, c)
    {
        const char *type = json_string_value(json_object_get(c, "type"));
        const char *st = json_string_value(json_object_get(c, "status"));
        if (type && strcmp(type, "Ready") == 0)
            return st && strcmp(st, "True") == 0;
    }
    return false;
}

/* Succeeded or Failed: the pod will never run again (an evicted pod stays listed). */
static bool pod_is_terminal(const json_t *status)
{
    const char *phase = json_string_value(json_object_get(status, "phase"));
    return phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
}

/*
 * Flow mode orders real servers by the pod's age, which every load
 * balancer pod reads alike from the API.  A pod without a usable one (no
 * API server sends that) goes last, in name order, rather than nowhere.
 */
static void pod_age(const json_t *md, const struct decode_ctx *dc, struct k8s_obj *out)
{
    const json_t *ts = json_object_get(md, "creationTimestamp");

    out->by_age = true;
    if (k8s_time_parse(json_string_value(ts), &out->created) == 0)
        return;
    out->created = INT64_MAX;
    warn(dc, out->name, "metadata.creationTimestamp is missing or invalid; ordered last",
         json_string_value(ts));
}

int k8s_decode_pod(const json_t *pod, const struct decode_ctx *dc, struct k8s_obj *out, char *err,
                   size_t errlen)
{
    const json_t *md = obj_begin(pod, dc, out, err, errlen);
    const json_t *status, *ips, *v;
    struct netaddr a;
    size_t cap = 0, i;
    bool ready;

    if (!md)
        return -EINVAL;
    status = json_object_get(pod, "status");
    if (status && !json_is_object(status)) {
        warn(dc, out->name, "status is not an object", NULL);
        return 0;
    }
    if (json_object_get(md, "deletionTimestamp") &&
        !json_is_null(json_object_get(md, "deletionTimestamp")))
        return 0; /* terminating: drain it */
    ready = pod_is_ready(status);
    /* flow mode keeps a not-ready pod at weight 0: its place in the list stays */
    if (!ready && (!dc->flow || pod_is_terminal(status)))
        return 0;
    if (dc->flow)
        pod_age(md, dc, out);

    ips = json_object_get(status, "podIPs");
    if (json_is_array(ips) && json_array_size(ips) > 0) {
        json_array_foreach(ips, i, v)
        {
            if (take_ip(dc, out->name, "status.podIPs[].ip", json_object_get(v, "ip"), &a) < 0)
                continue;
            if (add_endpoint(out, &cap, &a, 0, ready) < 0)
                return fail(err, errlen, "out of memory");
        }
        return 0;
    }
    if (ips && !json_is_array(ips) && !json_is_null(ips))
        warn(dc, out->name, "status.podIPs is not an array", NULL);
    v = json_object_get(status, "podIP");
    if (!v || json_is_null(v))
        return 0; /* no address yet */
    if (take_ip(dc, out->name, "status.podIP", v, &a) < 0)
        return 0;
    if (add_endpoint(out, &cap, &a, 0, ready) < 0)
        return fail(err, errlen, "out of memory");
    return 0;
}

/*
 * Which port of the slice to use: 0 when the renderer decides (--target-port,
 * or a port-less slice), a number, or -1 when the slice cannot be used.
 */
static int slice_port(const json_t *slice, const struct decode_ctx *dc, const char *name)
{
    const json_t *ports = json_object_get(slice, "ports");
    const json_t *p, *chosen = NULL;
    size_t i;
    char num[24];

    if (dc->port_fixed)
        return 0;
    if (!ports || json_is_null(ports) || (json_is_array(ports) && json_array_size(ports) == 0))
        return 0;
    if (!json_is_array(ports)) {
        warn(dc, name, "ports is not an array", NULL);
        return -1;
    }
    json_array_foreach(ports, i, p)
    {
        const char *pname = json_string_value(json_object_get(p, "name"));
        if (dc->port_name) {
            if (pname && strcmp(pname, dc->port_name) == 0)
                chosen = p;
        } else if (json_array_size(ports) == 1) {
            chosen = p;
        }
    }
    if (!chosen) {
        if (dc->port_name)
            warn(dc, name, "no port with the name given by --port-name", dc->port_name);
        else
            warn(dc, name, "slice has several ports; choose one with --port-name or --target-port",
                 NULL);
        return -1;
    }
    const json_t *pv = json_object_get(chosen, "port");
    if (!pv || json_is_null(pv))
        return 0; /* "all ports": the virtual port applies */
    if (!json_is_integer(pv) || json_integer_value(pv) < 1 || json_integer_value(pv) > 65535) {
        if (json_is_integer(pv))
            snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(pv));
        warn(dc, name, "ports[].port is not a port number", json_is_integer(pv) ? num : NULL);
        return -1;
    }
    return (int)json_integer_value(pv);
}

static bool cond_is_false(const json_t *conds, const char *key)
{
    return json_is_false(json_object_get(conds, key));
}

static bool cond_is_true(const json_t *conds, const char *key)
{
    return json_is_true(json_object_get(conds, key));
}

int k8s_decode_slice(const json_t *slice, const struct decode_ctx *dc, struct k8s_obj *out,
                     char *err, size_t errlen)
{
    const json_t *md = obj_begin(slice, dc, out, err, errlen);
    const json_t *eps, *ep, *addrs, *v;
    const char *atype;
    struct netaddr a;
    size_t cap = 0, i, j;
    int port;

    if (!md)
        return -EINVAL;
    atype = json_string_value(json_object_get(slice, "addressType"));
    if (!atype || (strcmp(atype, "IPv4") != 0 && strcmp(atype, "IPv6") != 0)) {
        warn(dc, out->name, "addressType is not IPv4 or IPv6", atype);
        return 0;
    }
    port = slice_port(slice, dc, out->name);
    if (port < 0)
        return 0;
    eps = json_object_get(slice, "endpoints");
    if (eps && !json_is_array(eps) && !json_is_null(eps)) {
        warn(dc, out->name, "endpoints is not an array", NULL);
        return 0;
    }
    json_array_foreach(eps, i, ep)
    {
        const json_t *conds = json_object_get(ep, "conditions");
        bool ready = !cond_is_false(conds, "ready"); /* absent: ready, as the API says */
        if ((!ready && !dc->flow) || cond_is_true(conds, "terminating"))
            continue;
        addrs = json_object_get(ep, "addresses");
        if (!json_is_array(addrs)) {
            warn(dc, out->name, "endpoints[].addresses is not an array", NULL);
            continue;
        }
        json_array_foreach(addrs, j, v)
        {
            if (take_ip(dc, out->name, "endpoints[].addresses[]", v, &a) < 0)
                continue;
            if ((a.family == AF_INET) != (strcmp(atype, "IPv4") == 0)) {
                warn(dc, out->name, "address does not match addressType", json_string_value(v));
                continue;
            }
            if (add_endpoint(out, &cap, &a, (uint16_t)port, ready) < 0)
                return fail(err, errlen, "out of memory");
        }
    }
    return 0;
}

/*
 * The shapes: exactly the paths the decoders below and the envelope checks
 * read.  A field read by a decoder but missing here would silently read as
 * absent, so the two must change together (test_decode runs every decoder
 * case through these shapes).
 */
#define LEAF (&jsonprune_leaf)

static const struct jsonprune_schema meta_s = {
    .fields = (const struct jsonprune_field[]){{"name", LEAF},
                                               {"resourceVersion", LEAF},
                                               {"deletionTimestamp", LEAF},
                                               {"creationTimestamp", LEAF},
                                               {NULL, NULL}},
};

static const struct jsonprune_schema pod_ip_s = {
    .fields = (const struct jsonprune_field[]){{"ip", LEAF}, {NULL, NULL}},
};

static const struct jsonprune_schema pod_cond_s = {
    .fields = (const struct jsonprune_field[]){{"type", LEAF}, {"status", LEAF}, {NULL, NULL}},
};

static const struct jsonprune_schema pod_status_s = {
    .fields =
        (const struct jsonprune_field[]){
            {"phase", LEAF},
            {"podIP", LEAF},
            {"podIPs", &(const struct jsonprune_schema){.elem = &pod_ip_s}},
            {"conditions", &(const struct jsonprune_schema){.elem = &pod_cond_s}},
            {NULL, NULL}},
};

/* An ERROR event's object is a Status: code and message are read from it. */
static const struct jsonprune_schema pod_s = {
    .fields = (const struct jsonprune_field[]){{"metadata", &meta_s},
                                               {"status", &pod_status_s},
                                               {"code", LEAF},
                                               {"message", LEAF},
                                               {NULL, NULL}},
};

static const struct jsonprune_schema slice_port_s = {
    .fields = (const struct jsonprune_field[]){{"name", LEAF}, {"port", LEAF}, {NULL, NULL}},
};

static const struct jsonprune_schema slice_ep_s = {
    .fields =
        (const struct jsonprune_field[]){
            {"conditions",
             &(const struct jsonprune_schema){
                 .fields =
                     (const struct jsonprune_field[]){
                         {"ready", LEAF}, {"terminating", LEAF}, {NULL, NULL}}}},
            {"addresses", &(const struct jsonprune_schema){.elem = LEAF}},
            {NULL, NULL}},
};

static const struct jsonprune_schema slice_s = {
    .fields =
        (const struct jsonprune_field[]){
            {"metadata", &meta_s},
            {"addressType", LEAF},
            {"ports", &(const struct jsonprune_schema){.elem = &slice_port_s}},
            {"endpoints", &(const struct jsonprune_schema){.elem = &slice_ep_s}},
            {"code", LEAF},
            {"message", LEAF},
            {NULL, NULL}},
};

static const struct jsonprune_schema list_meta_s = {
    .fields = (const struct jsonprune_field[]){{"resourceVersion", LEAF},
                                               {"continue", LEAF},
                                               {NULL, NULL}},
};

const struct k8s_shape k8s_pod_shape = {
    .event =
        &(const struct jsonprune_schema){
            .fields =
                (const struct jsonprune_field[]){{"type", LEAF}, {"object", &pod_s}, {NULL, NULL}}},
    .list =
        &(const struct jsonprune_schema){
            .fields =
                (const struct jsonprune_field[]){
                    {"metadata", &list_meta_s},
                    {"items", &(const struct jsonprune_schema){.elem = &pod_s, .each = true}},
                    {NULL, NULL}}},
};

const struct k8s_shape k8s_slice_shape = {
    .event = &(
        const struct jsonprune_schema){.fields =
                                           (const struct jsonprune_field[]){
                                               {"type", LEAF}, {"object", &slice_s}, {NULL, NULL}}},
    .list =
        &(const struct jsonprune_schema){
            .fields =
                (const struct jsonprune_field[]){
                    {"metadata", &list_meta_s},
                    {"items", &(const struct jsonprune_schema){.elem = &slice_s, .each = true}},
                    {NULL, NULL}}},
};

static const struct jsonprune_schema status_s = {
    .fields = (const struct jsonprune_field[]){{"code", LEAF}, {"message", LEAF}, {NULL, NULL}},
};

static const struct jsonprune_limits object_limits = {
    .max_values = K8S_MAX_VALUES,
    .max_string_bytes = K8S_MAX_STRING_BYTES,
};

/* Prune a whole document; it must be an object. */
static json_t *load(const char *data, size_t len, const struct jsonprune_schema *schema,
                    bool *truncated, char *err, size_t errlen)
{
    json_t *root = NULL;

    if (jsonprune_buffer(data, len, schema, &object_limits, &root, truncated, err, errlen) < 0)
        return NULL;
    if (!json_is_object(root)) {
        snprintf(err, errlen, "not a JSON object");
        json_decref(root);
        root = NULL;
    }
    return root;
}

static int copy_rv(const json_t *md, char *dst, char *err, size_t errlen)
{
    const char *rv = json_string_value(json_object_get(md, "resourceVersion"));

    if (!rv || !token_ok(rv, K8S_RV_MAX)) {
        snprintf(err, errlen, "missing or invalid metadata.resourceVersion");
        return -EBADMSG;
    }
    strcpy(dst, rv);
    return 0;
}

static const struct {
    const char *name;
    enum k8s_event_type type;
} event_types[] = {
    {"ADDED", K8S_ADDED},       {"MODIFIED", K8S_MODIFIED}, {"DELETED", K8S_DELETED},
    {"BOOKMARK", K8S_BOOKMARK}, {"ERROR", K8S_ERROR},
};

int k8s_status_parse(const char *data, size_t len, int *code, char *msg, size_t msglen)
{
    char err[8];
    bool truncated;
    json_t *root = load(data, len, &status_s, &truncated, err, sizeof(err));
    const json_t *c;

    if (!root)
        return -EBADMSG;
    c = json_object_get(root, "code");
    if (!json_is_integer(c)) {
        json_decref(root);
        return -EBADMSG;
    }
    *code = (int)json_integer_value(c);
    const char *m = json_string_value(json_object_get(root, "message"));
    snprintf(msg, msglen, "%s", m ? m : "");
    json_decref(root);
    return 0;
}

int k8s_event_parse(const char *data, size_t len, const struct k8s_shape *shape,
                    struct k8s_event *ev, char *err, size_t errlen)
{
    const char *type;
    const json_t *obj;
    size_t i;

    memset(ev, 0, sizeof(*ev));
    ev->root = load(data, len, shape->event, &ev->truncated, err, errlen);
    if (!ev->root)
        return -EBADMSG;
    type = json_string_value(json_object_get(ev->root, "type"));
    obj = json_object_get(ev->root, "object");
    if (!type || !json_is_object(obj)) {
        snprintf(err, errlen, "event without type or object");
        goto bad;
    }
    for (i = 0; i < sizeof(event_types) / sizeof(event_types[0]); i++) {
        if (strcmp(type, event_types[i].name) == 0)
            break;
    }
    if (i == sizeof(event_types) / sizeof(event_types[0])) {
        snprintf(err, errlen, "unknown event type");
        goto bad;
    }
    ev->type = event_types[i].type;
    ev->object = obj;
    if (ev->type == K8S_ERROR) {
        const json_t *c = json_object_get(obj, "code");
        ev->code = json_is_integer(c) ? (int)json_integer_value(c) : 0;
        ev->message = json_string_value(json_object_get(obj, "message"));
        if (!ev->message)
            ev->message = "";
        return 0;
    }
    if (copy_rv(json_object_get(obj, "metadata"), ev->rv, err, errlen) < 0)
        goto bad;
    return 0;
bad:
    k8s_event_clear(ev);
    return -EBADMSG;
}

void k8s_event_clear(struct k8s_event *ev)
{
    json_decref(ev->root);
    memset(ev, 0, sizeof(*ev));
}

int k8s_list_begin(struct k8s_list_reader *r, const struct k8s_shape *shape, size_t max_bytes,
                   k8s_item_fn item, void *arg)
{
    r->bytes = 0;
    r->max_bytes = max_bytes;
    return jsonprune_init(&r->jp, shape->list, &object_limits, item, arg);
}

int k8s_list_feed(struct k8s_list_reader *r, const char *data, size_t len, char *err, size_t errlen)
{
    int rc;

    if (len > r->max_bytes - r->bytes)
        return -EMSGSIZE;
    r->bytes += len;
    rc = jsonprune_feed(&r->jp, data, len);
    if (rc == -EBADMSG)
        snprintf(err, errlen, "%s", r->jp.err);
    return rc;
}

int k8s_list_end(struct k8s_list_reader *r, struct k8s_list *list, char *err, size_t errlen)
{
    json_t *root = NULL;
    const json_t *md, *items;
    const char *cont;
    bool truncated;
    int rc = -EBADMSG;

    memset(list, 0, sizeof(*list));
    if (jsonprune_finish(&r->jp, &root, &truncated) < 0) {
        snprintf(err, errlen, "%s", r->jp.err);
        return -EBADMSG;
    }
    if (!json_is_object(root)) {
        snprintf(err, errlen, "not a JSON object");
        goto out;
    }
    md = json_object_get(root, "metadata");
    items = json_object_get(root, "items");
    if (!json_is_object(md)) {
        snprintf(err, errlen, "list without metadata");
        goto out;
    }
    if (items && !json_is_null(items) && !json_is_array(items)) { /* "items": null is empty */
        snprintf(err, errlen, "list items is not an array");
        goto out;
    }
    if (truncated) {
        snprintf(err, errlen, "list metadata over the size caps");
        goto out;
    }
    if (copy_rv(md, list->rv, err, errlen) < 0)
        goto out;
    cont = json_string_value(json_object_get(md, "continue"));
    if (cont && *cont) {
        if (strlen(cont) > K8S_CONTINUE_MAX) {
            snprintf(err, errlen, "metadata.continue is longer than %d bytes", K8S_CONTINUE_MAX);
            goto out;
        }
        if (!token_ok(cont, K8S_CONTINUE_MAX)) {
            snprintf(err, errlen, "invalid metadata.continue");
            goto out;
        }
        strcpy(list->cont, cont);
    }
    rc = 0;
out:
    json_decref(root);
    if (rc < 0)
        memset(list, 0, sizeof(*list));
    return rc;
}

void k8s_list_free(struct k8s_list_reader *r)
{
    jsonprune_free(&r->jp);
}
