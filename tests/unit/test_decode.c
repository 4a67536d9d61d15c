// SPDX-License-Identifier: Apache-2.0
/*
 * test_decode.c - Pods, EndpointSlices, lists and events, good and hostile.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "k8s_object.h"

static int endpoint_cmp_exact(const struct endpoint *a, const struct endpoint *b)
{
    return netaddr_cmp(&a->addr, &b->addr) || a->port != b->port || a->not_ready != b->not_ready;
}

static int warnings;
static char last_reason[160];

static void count_warn(void *arg, const char *name, const char *reason, const char *value)
{
    warnings++;
    snprintf(last_reason, sizeof(last_reason), "%s", reason);
}

static struct decode_ctx pod_ctx = {.kind = "pod", .warn = count_warn};
static struct decode_ctx slice_ctx = {.kind = "endpointslice", .warn = count_warn};
static struct decode_ctx pod_flow_ctx = {.kind = "pod", .warn = count_warn, .flow = true};
static struct decode_ctx slice_flow_ctx = {
    .kind = "endpointslice", .warn = count_warn, .flow = true};

typedef int (*decode_fn)(const json_t *, const struct decode_ctx *, struct k8s_obj *, char *,
                         size_t);

/* The item of a one-item list, as the watcher's list reader hands it over. */
struct one_item {
    decode_fn fn;
    const struct decode_ctx *dc;
    struct k8s_obj *obj;
    int rc, calls;
};

static int decode_item(void *arg, const json_t *item, bool truncated)
{
    struct one_item *it = arg;
    char err[160];

    assert_false(truncated);
    it->calls++;
    it->rc = it->fn(item, it->dc, it->obj, err, sizeof(err));
    return 0;
}

/*
 * Decode text with fn, twice: from the whole jansson tree (what the
 * controller did before pruning) and from what the resource's shape keeps
 * of it as a list item, byte by byte.  Both must give the same result, the
 * same endpoints and the same warnings.  Returns the rc and fills obj.
 */
static int decode(decode_fn fn, const struct decode_ctx *dc, const char *text, struct k8s_obj *obj)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    char err[160];
    int rc, whole_warnings;
    struct k8s_obj pruned;
    struct one_item it = {.fn = fn, .dc = dc, .obj = &pruned};
    struct k8s_list_reader lr;
    struct k8s_list l;
    char list[4096];
    int n = snprintf(list, sizeof(list),
                     "{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[%s]}", text);

    assert_non_null(j);
    assert_true(n > 0 && (size_t)n < sizeof(list));
    warnings = 0;
    rc = fn(j, dc, obj, err, sizeof(err));
    json_decref(j);
    whole_warnings = warnings;

    warnings = 0;
    assert_int_equal(k8s_list_begin(&lr, fn == k8s_decode_pod ? &k8s_pod_shape : &k8s_slice_shape,
                                    1 << 20, decode_item, &it),
                     0);
    for (int i = 0; i < n; i++)
        assert_int_equal(k8s_list_feed(&lr, list + i, 1, err, sizeof(err)), 0);
    assert_int_equal(k8s_list_end(&lr, &l, err, sizeof(err)), 0);
    k8s_list_free(&lr);
    assert_int_equal(it.calls, 1);
    assert_int_equal(it.rc, rc);
    assert_int_equal(warnings, whole_warnings);
    assert_int_equal(pruned.n_eps, obj->n_eps);
    if (obj->name)
        assert_string_equal(pruned.name, obj->name);
    assert_int_equal(pruned.by_age, obj->by_age); /* the shape keeps what flow mode reads */
    assert_true(pruned.created == obj->created);
    for (size_t i = 0; i < obj->n_eps; i++)
        assert_int_equal(endpoint_cmp_exact(&pruned.eps[i], &obj->eps[i]), 0);
    k8s_obj_clear(&pruned);
    return rc;
}

static const char *ep_str(const struct endpoint *ep, char *buf)
{
    char a[NETADDR_STRLEN];
    sprintf(buf, "%s:%u", netaddr_format(&ep->addr, a), (unsigned)ep->port);
    return buf;
}

#define POD(md, status) "{\"metadata\":" md ",\"status\":" status "}"
#define READY           "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]"

static void pod_ready(void **state)
{
    struct k8s_obj o;
    char b[64];

    assert_int_equal(decode(k8s_decode_pod, &pod_ctx,
                            POD("{\"name\":\"web-1\"}", "{\"podIP\":\"10.244.1.5\"," READY "}"),
                            &o),
                     0);
    assert_string_equal(o.name, "web-1");
    assert_int_equal(o.n_eps, 1);
    assert_string_equal(ep_str(&o.eps[0], b), "10.244.1.5:0");
    assert_int_equal(warnings, 0);
    k8s_obj_clear(&o);
}

static void pod_dual_stack(void **state)
{
    struct k8s_obj o;
    char b[64];

    assert_int_equal(
        decode(k8s_decode_pod, &pod_ctx,
               POD("{\"name\":\"d\"}", "{\"podIP\":\"10.0.0.1\",\"podIPs\":[{\"ip\":"
                                       "\"10.0.0.1\"},{\"ip\":\"fd00::0001\"}]," READY "}"),
               &o),
        0);
    assert_int_equal(o.n_eps, 2);
    assert_string_equal(ep_str(&o.eps[0], b), "10.0.0.1:0");
    assert_string_equal(ep_str(&o.eps[1], b), "fd00::1:0"); /* printed back canonical */
    k8s_obj_clear(&o);
}

static void pod_not_endpoints(void **state)
{
    static const char *cases[] = {
        /* not ready */
        POD("{\"name\":\"a\"}", "{\"podIP\":\"10.0.0.1\",\"conditions\":[{\"type\":\"Ready\","
                                "\"status\":\"False\"}]}"),
        /* no conditions */
        POD("{\"name\":\"a\"}", "{\"podIP\":\"10.0.0.1\"}"),
        /* terminating */
        POD("{\"name\":\"a\",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"}",
            "{\"podIP\":\"10.0.0.1\"," READY "}"),
        /* ready, no IP yet */
        POD("{\"name\":\"a\"}", "{" READY "}"),
        /* no status */
        "{\"metadata\":{\"name\":\"a\"}}",
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct k8s_obj o;
        assert_int_equal(decode(k8s_decode_pod, &pod_ctx, cases[i], &o), 0);
        assert_string_equal(o.name, "a");
        assert_int_equal(o.n_eps, 0);
        assert_int_equal(warnings, 0);
        k8s_obj_clear(&o);
    }
}

/* Values that must never reach the file, each warned about. */
static void pod_hostile_fields(void **state)
{
    static const char *cases[] = {
        POD("{\"name\":\"a\"}",
            "{\"podIP\":\"10.0.0.1\\n}\\nvirtual_server 6.6.6.6 1 {\"," READY "}"),
        POD("{\"name\":\"a\"}", "{\"podIP\":\"10.0.0.1 8080\"," READY "}"),
        POD("{\"name\":\"a\"}", "{\"podIP\":\"10.0.0.256\"," READY "}"),
        POD("{\"name\":\"a\"}", "{\"podIP\":\"010.000.000.001\"," READY "}"),
        POD("{\"name\":\"a\"}", "{\"podIP\":\"fe80::1%eth0\"," READY "}"),
        POD("{\"name\":\"a\"}", "{\"podIP\":\"\"," READY "}"),
        POD("{\"name\":\"a\"}", "{\"podIP\":167772161," READY "}"),
        POD("{\"name\":\"a\"}", "{\"podIP\":[\"10.0.0.1\"]," READY "}"),
        POD("{\"name\":\"a\"}", "{\"podIPs\":[{\"ip\":\"#include /etc/passwd\"}]," READY "}"),
        POD("{\"name\":\"a\"}", "{\"podIPs\":[{\"ip\":null}]," READY "}"),
        POD("{\"name\":\"a\"}", "{\"podIPs\":[\"10.0.0.1\"]," READY "}"),
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct k8s_obj o;
        assert_int_equal(decode(k8s_decode_pod, &pod_ctx, cases[i], &o), 0);
        assert_int_equal(o.n_eps, 0);
        assert_int_equal(warnings, 1);
        k8s_obj_clear(&o);
    }
}

static void unusable_objects(void **state)
{
    static const char *cases[] = {
        "{\"status\":{}}",
        "{\"metadata\":{}}",
        "{\"metadata\":{\"name\":\"\"}}",
        "{\"metadata\":{\"name\":42}}",
        "{\"metadata\":\"web\"}",
        "[1]",
        "\"pod\"",
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct k8s_obj o;
        json_t *j = json_loads(cases[i], JSON_DECODE_ANY, NULL);
        char err[160] = "";
        assert_non_null(j);
        assert_int_equal(k8s_decode_pod(j, &pod_ctx, &o, err, sizeof(err)), -EINVAL);
        assert_true(strlen(err) > 0);
        assert_null(o.name);
        assert_int_equal(k8s_decode_slice(j, &slice_ctx, &o, err, sizeof(err)), -EINVAL);
        json_decref(j);
    }
}

/*
 * Flow mode: a not-ready pod with an address stays, marked; one that is
 * terminating, finished or without an address does not; the age is read.
 */
static void pod_flow(void **state)
{
    static const struct {
        const char *pod;
        size_t n_eps;
        bool not_ready;
        int64_t created;
        int warnings;
    } cases[] = {
        {POD("{\"name\":\"a\",\"creationTimestamp\":\"2026-11-20T09:00:00Z\"}",
             "{\"podIP\":\"10.0.0.1\"," READY "}"),
         1, false, 1795165200, 0},
        {POD("{\"name\":\"a\",\"creationTimestamp\":\"2026-11-20T09:00:00Z\"}",
             "{\"podIP\":\"10.0.0.1\",\"conditions\":[{\"type\":\"Ready\",\"status\":"
             "\"False\"}]}"),
         1, true, 1795165200, 0},
        {POD("{\"name\":\"a\",\"creationTimestamp\":\"2026-11-20T09:00:00Z\"}",
             "{\"podIP\":\"10.0.0.1\"}"),
         1, true, 1795165200, 0},
        {POD("{\"name\":\"a\",\"creationTimestamp\":\"2026-11-20T09:00:00Z\","
             "\"deletionTimestamp\":\"2026-11-21T00:00:00Z\"}",
             "{\"podIP\":\"10.0.0.1\"}"),
         0, false, 0, 0},
        {POD("{\"name\":\"a\",\"creationTimestamp\":\"2026-11-20T09:00:00Z\"}",
             "{\"phase\":\"Failed\",\"podIP\":\"10.0.0.1\"}"),
         0, false, 0, 0},
        {POD("{\"name\":\"a\",\"creationTimestamp\":\"2026-11-20T09:00:00Z\"}",
             "{\"phase\":\"Succeeded\",\"podIP\":\"10.0.0.1\"}"),
         0, false, 0, 0},
        {POD("{\"name\":\"a\",\"creationTimestamp\":\"2026-11-20T09:00:00Z\"}",
             "{\"phase\":\"Pending\"}"),
         0, false, 1795165200, 0},
        {POD("{\"name\":\"a\"}", "{\"podIP\":\"10.0.0.1\"," READY "}"), 1, false, INT64_MAX, 1},
        {POD("{\"name\":\"a\",\"creationTimestamp\":20261120}",
             "{\"podIP\":\"10.0.0.1\"," READY "}"),
         1, false, INT64_MAX, 1},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct k8s_obj o;
        assert_int_equal(decode(k8s_decode_pod, &pod_flow_ctx, cases[i].pod, &o), 0);
        if (o.n_eps != cases[i].n_eps)
            fail_msg("case %zu: %zu endpoints, want %zu", i, o.n_eps, cases[i].n_eps);
        if (o.n_eps)
            assert_int_equal(o.eps[0].not_ready, cases[i].not_ready);
        if (cases[i].created && o.created != cases[i].created)
            fail_msg("case %zu: created %lld, want %lld", i, (long long)o.created,
                     (long long)cases[i].created);
        assert_int_equal(warnings, cases[i].warnings);
        k8s_obj_clear(&o);
    }
    /* NAT mode reads no age and warns about none */
    {
        struct k8s_obj o;
        assert_int_equal(decode(k8s_decode_pod, &pod_ctx,
                                POD("{\"name\":\"a\"}", "{\"podIP\":\"10.0.0.1\"," READY "}"), &o),
                         0);
        assert_false(o.by_age);
        assert_int_equal(warnings, 0);
        k8s_obj_clear(&o);
    }
}

/* RFC 3339 as the API writes it, and what is not. */
static void time_parse(void **state)
{
    static const struct {
        const char *s;
        bool ok;
        int64_t want;
    } cases[] = {
        {"1970-01-01T00:00:00Z", true, 0},
        {"2026-11-20T09:00:00Z", true, 1795165200},
        {"2026-11-20T11:00:00+02:00", true, 1795165200},
        {"2026-11-20T08:30:00-00:30", true, 1795165200},
        {"2026-11-20T09:00:00.999999Z", true, 1795165200},
        {"2026-11-20t09:00:00z", true, 1795165200},
        {"2000-02-29T00:00:00Z", true, 951782400},
        {"2024-03-01T00:00:00Z", true, 1709251200},
        {"1969-12-31T23:59:59Z", true, -1},
        {"2026-11-20 09:00:00Z", false, 0},
        {"2026-11-20T09:00:00", false, 0},
        {"2026-11-20T09:00Z", false, 0},
        {"2026-13-01T00:00:00Z", false, 0},
        {"2026-02-29T00:00:00Z", false, 0},
        {"1900-02-29T00:00:00Z", false, 0},
        {"2026-11-20T24:00:00Z", false, 0},
        {"2026-11-20T09:00:00.Z", false, 0},
        {"2026-11-20T09:00:00Z ", false, 0},
        {"2026-11-20T09:00:00+2:00", false, 0},
        {"+026-11-20T09:00:00Z", false, 0},
        {"", false, 0},
        {"2026", false, 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t t = 12345;
        int rc = k8s_time_parse(cases[i].s, &t);
        if (!cases[i].ok && rc == 0)
            fail_msg("\"%s\" was accepted as %lld", cases[i].s, (long long)t);
        if (cases[i].ok && (rc != 0 || t != cases[i].want))
            fail_msg("\"%s\": rc %d, %lld, want %lld", cases[i].s, rc, (long long)t,
                     (long long)cases[i].want);
    }
    assert_int_equal(k8s_time_parse(NULL, &(int64_t){0}), -EINVAL);
}

#define SLICE(type, ports, eps)                                                                    \
    "{\"metadata\":{\"name\":\"web-abc\"},\"addressType\":\"" type "\",\"ports\":" ports           \
    ",\"endpoints\":" eps "}"

static void slice_conditions(void **state)
{
    struct k8s_obj o;
    char b[64];

    assert_int_equal(
        decode(k8s_decode_slice, &slice_ctx,
               SLICE("IPv4", "[{\"name\":\"http\",\"port\":8080,\"protocol\":\"TCP\"}]",
                     "[{\"addresses\":[\"10.0.0.3\"],\"conditions\":{\"ready\":true}},"
                     "{\"addresses\":[\"10.0.0.1\"],\"conditions\":{}},"
                     "{\"addresses\":[\"10.0.0.2\"],\"conditions\":{\"ready\":false}},"
                     "{\"addresses\":[\"10.0.0.4\"],\"conditions\":{\"ready\":true,"
                     "\"terminating\":true}},"
                     "{\"addresses\":[\"10.0.0.5\"]}]"),
               &o),
        0);
    assert_int_equal(o.n_eps, 3);
    assert_string_equal(ep_str(&o.eps[0], b), "10.0.0.3:8080");
    assert_string_equal(ep_str(&o.eps[1], b), "10.0.0.1:8080");
    assert_string_equal(ep_str(&o.eps[2], b), "10.0.0.5:8080");
    assert_int_equal(warnings, 0);
    k8s_obj_clear(&o);
}

/* Flow mode keeps a not-ready endpoint, marked; a terminating one still goes. */
static void slice_flow(void **state)
{
    struct k8s_obj o;
    char b[64];

    assert_int_equal(
        decode(k8s_decode_slice, &slice_flow_ctx,
               SLICE("IPv4", "[{\"name\":\"http\",\"port\":8080,\"protocol\":\"TCP\"}]",
                     "[{\"addresses\":[\"10.0.0.3\"],\"conditions\":{\"ready\":true}},"
                     "{\"addresses\":[\"10.0.0.2\"],\"conditions\":{\"ready\":false}},"
                     "{\"addresses\":[\"10.0.0.4\"],\"conditions\":{\"ready\":false,"
                     "\"serving\":true,\"terminating\":true}},"
                     "{\"addresses\":[\"10.0.0.5\"]}]"),
               &o),
        0);
    assert_int_equal(o.n_eps, 3);
    assert_string_equal(ep_str(&o.eps[0], b), "10.0.0.3:8080");
    assert_false(o.eps[0].not_ready);
    assert_string_equal(ep_str(&o.eps[1], b), "10.0.0.2:8080");
    assert_true(o.eps[1].not_ready);
    assert_string_equal(ep_str(&o.eps[2], b), "10.0.0.5:8080");
    assert_false(o.eps[2].not_ready);
    assert_false(o.by_age); /* slices carry no age per endpoint */
    assert_int_equal(warnings, 0);
    k8s_obj_clear(&o);
}

static void slice_ports(void **state)
{
    struct decode_ctx named = slice_ctx, fixed = slice_ctx;
    struct k8s_obj o;
    char b[64];
    const char *two = SLICE("IPv4",
                            "[{\"name\":\"http\",\"port\":80},{\"name\":\"metrics\","
                            "\"port\":9100}]",
                            "[{\"addresses\":[\"10.0.0.1\"]}]");

    /* ambiguous: skipped, warned */
    assert_int_equal(decode(k8s_decode_slice, &slice_ctx, two, &o), 0);
    assert_int_equal(o.n_eps, 0);
    assert_int_equal(warnings, 1);
    k8s_obj_clear(&o);

    named.port_name = "metrics";
    assert_int_equal(decode(k8s_decode_slice, &named, two, &o), 0);
    assert_int_equal(o.n_eps, 1);
    assert_string_equal(ep_str(&o.eps[0], b), "10.0.0.1:9100");
    k8s_obj_clear(&o);

    named.port_name = "nope";
    assert_int_equal(decode(k8s_decode_slice, &named, two, &o), 0);
    assert_int_equal(o.n_eps, 0);
    assert_string_equal(last_reason, "no port with the name given by --port-name");
    k8s_obj_clear(&o);

    fixed.port_fixed = 1;
    assert_int_equal(decode(k8s_decode_slice, &fixed, two, &o), 0);
    assert_int_equal(o.n_eps, 1);
    assert_string_equal(ep_str(&o.eps[0], b), "10.0.0.1:0");
    k8s_obj_clear(&o);

    static const char *bad_ports[] = {"[{\"port\":0}]",      "[{\"port\":65536}]",
                                      "[{\"port\":\"80\"}]", "[{\"port\":-1}]",
                                      "{\"port\":80}",       "[{\"port\":80.5}]"};
    for (size_t i = 0; i < sizeof(bad_ports) / sizeof(bad_ports[0]); i++) {
        char text[512];
        snprintf(text, sizeof(text),
                 "{\"metadata\":{\"name\":\"s\"},\"addressType\":\"IPv4\",\"ports\":%s,"
                 "\"endpoints\":[{\"addresses\":[\"10.0.0.1\"]}]}",
                 bad_ports[i]);
        assert_int_equal(decode(k8s_decode_slice, &slice_ctx, text, &o), 0);
        assert_int_equal(o.n_eps, 0);
        assert_int_equal(warnings, 1);
        k8s_obj_clear(&o);
    }
}

static void slice_address_types(void **state)
{
    struct k8s_obj o;

    assert_int_equal(decode(k8s_decode_slice, &slice_ctx,
                            SLICE("FQDN", "[{\"port\":80}]", "[{\"addresses\":[\"web.example\"]}]"),
                            &o),
                     0);
    assert_int_equal(o.n_eps, 0);
    assert_int_equal(warnings, 1);
    k8s_obj_clear(&o);

    /* an IPv6 address in an IPv4 slice, and a hostile one */
    assert_int_equal(decode(k8s_decode_slice, &slice_ctx,
                            SLICE("IPv4", "[{\"port\":80}]",
                                  "[{\"addresses\":[\"fd00::1\",\"1.2.3.4 }\",\"10.0.0.9\"]}]"),
                            &o),
                     0);
    assert_int_equal(o.n_eps, 1);
    assert_int_equal(warnings, 2);
    k8s_obj_clear(&o);
}

static void events(void **state)
{
    struct k8s_event ev;
    char err[160];
    const char *ok = "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\","
                     "\"resourceVersion\":\"123\"}}}";
    const char *gone = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,"
                       "\"message\":\"too old resource version\"}}";

    assert_int_equal(k8s_event_parse(ok, strlen(ok), &k8s_pod_shape, &ev, err, sizeof(err)), 0);
    assert_int_equal(ev.type, K8S_MODIFIED);
    assert_string_equal(ev.rv, "123");
    k8s_event_clear(&ev);

    assert_int_equal(k8s_event_parse(gone, strlen(gone), &k8s_pod_shape, &ev, err, sizeof(err)), 0);
    assert_int_equal(ev.type, K8S_ERROR);
    assert_int_equal(ev.code, 410);
    assert_string_equal(ev.message, "too old resource version");
    k8s_event_clear(&ev);

    static const char *bad[] = {
        "{\"type\":\"ADDED\"}",
        "{\"type\":\"EXPLODED\",\"object\":{\"metadata\":{\"resourceVersion\":\"1\"}}}",
        "{\"type\":1,\"object\":{}}",
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}",
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"resourceVersion\":\"1 2\"}}}",
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"resourceVersion\":7}}}",
        "{\"type\":\"ADDED\",\"type\":\"DELETED\",\"object\":{}}",
        "{\"type\":\"ADDED\",\"object\":[]}",
        "{not json}",
        "[]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(
            k8s_event_parse(bad[i], strlen(bad[i]), &k8s_slice_shape, &ev, err, sizeof(err)),
            -EBADMSG);
        assert_true(strlen(err) > 0);
        assert_null(ev.root);
    }
    /* an oversized resourceVersion */
    char big[256];
    snprintf(big, sizeof(big),
             "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"resourceVersion\":\"%0100d\"}}}", 1);
    assert_int_equal(k8s_event_parse(big, strlen(big), &k8s_pod_shape, &ev, err, sizeof(err)),
                     -EBADMSG);
}

static int count_item(void *arg, const json_t *item, bool truncated)
{
    (*(int *)arg)++;
    return 0;
}

/* Read a whole list response in chunks of size chunk; returns feed/end's rc. */
static int read_list(const char *text, size_t chunk, struct k8s_list *l, int *items)
{
    struct k8s_list_reader lr;
    char err[160] = "";
    size_t len = strlen(text);
    int rc;

    *items = 0;
    assert_int_equal(k8s_list_begin(&lr, &k8s_pod_shape, 1 << 20, count_item, items), 0);
    for (size_t off = 0; off < len; off += chunk) {
        rc =
            k8s_list_feed(&lr, text + off, len - off < chunk ? len - off : chunk, err, sizeof(err));
        if (rc < 0)
            goto out;
    }
    rc = k8s_list_end(&lr, l, err, sizeof(err));
out:
    if (rc == -EBADMSG)
        assert_true(strlen(err) > 0);
    k8s_list_free(&lr);
    return rc;
}

static void lists(void **state)
{
    struct k8s_list l;
    int items;
    const char *page = "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"77\","
                       "\"continue\":\"abc=\"},\"items\":[{},{}]}";
    const char *empty = "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"78\"},"
                        "\"items\":null}";
    /* the envelope may come after the items */
    const char *late = "{\"items\":[{\"metadata\":{\"name\":\"a\"}}],\"metadata\":"
                       "{\"resourceVersion\":\"79\"}}";

    for (size_t chunk = 1; chunk <= strlen(page); chunk++) {
        assert_int_equal(read_list(page, chunk, &l, &items), 0);
        assert_string_equal(l.rv, "77");
        assert_string_equal(l.cont, "abc=");
        assert_int_equal(items, 2);
    }
    assert_int_equal(read_list(empty, 5, &l, &items), 0);
    assert_string_equal(l.cont, "");
    assert_int_equal(items, 0);
    assert_int_equal(read_list(late, 3, &l, &items), 0);
    assert_string_equal(l.rv, "79");
    assert_int_equal(items, 1);

    char longcont[K8S_CONTINUE_MAX + 200];
    snprintf(longcont, sizeof(longcont),
             "{\"metadata\":{\"resourceVersion\":\"1\",\"continue\":\"%0*d\"},\"items\":[]}",
             K8S_CONTINUE_MAX + 1, 7);
    const char *bad[] = {
        "{\"items\":[]}",
        "{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":{}}",
        "{\"metadata\":{\"resourceVersion\":\"1\",\"continue\":\"a b\"},\"items\":[]}",
        "{\"metadata\":{},\"items\":[]}",
        "{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[]",
        "{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[],\"items\":[]}",
        "{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[]}{}",
        "[]",
        "<html>502 Bad Gateway</html>",
        "",
        longcont,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        for (size_t chunk = 1; chunk < 8; chunk += 3)
            assert_int_equal(read_list(bad[i], chunk, &l, &items), -EBADMSG);
    }
}

/* The size cap of a list counts bytes read, whatever they are. */
static void list_byte_cap(void **state)
{
    struct k8s_list_reader lr;
    char err[160];
    int items = 0;
    const char *page = "{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[{},{},{}]}";

    assert_int_equal(k8s_list_begin(&lr, &k8s_pod_shape, 20, count_item, &items), 0);
    assert_int_equal(k8s_list_feed(&lr, page, 20, err, sizeof(err)), 0);
    assert_int_equal(k8s_list_feed(&lr, page + 20, 1, err, sizeof(err)), -EMSGSIZE);
    k8s_list_free(&lr);
}

/* An event of "ADDED" pod "h" whose status.conditions (read) or spec (not read) holds fill. */
static char *hostile_event(const char *where, const char *unit, size_t n)
{
    size_t ul = strlen(unit), cap = n * (ul + 1) + 512, len;
    char *text = malloc(cap);

    assert_non_null(text);
    len = (size_t)snprintf(text, cap,
                           "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"h\","
                           "\"resourceVersion\":\"9\"},%s",
                           strcmp(where, "spec") == 0 ? "\"spec\":{\"x\":["
                                                      : "\"status\":{\"podIP\":\"10.0.0.1\","
                                                        "\"conditions\":[");
    for (size_t i = 0; i < n; i++) {
        memcpy(text + len, unit, ul);
        len += ul;
        text[len++] = ',';
    }
    len--; /* the last comma */
    len += (size_t)snprintf(text + len, cap - len, "]%s}}",
                            strcmp(where, "spec") == 0
                                ? "},\"status\":{\"podIP\":\"10.0.0.1\",\"conditions\":[{"
                                  "\"type\":\"Ready\",\"status\":\"True\"}]}"
                                : "}");
    return text;
}

/*
 * Hostile shapes: where nothing is read they cost nothing and the pod
 * decodes; where the decoder reads, the caps mark the event truncated
 * (the watcher then skips the object by name) instead of growing a tree.
 */
static void hostile_shapes(void **state)
{
    static const struct {
        const char *where, *unit;
        size_t n;
        bool truncated;
    } cases[] = {
        {"spec", "{}", 200000, false},
        {"spec", "[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]", 20000, false},
        {"spec", "0", 200000, false},
        {"status", "{}", K8S_MAX_VALUES, true},
        {"status", "0", K8S_MAX_VALUES, true},
        {"status", "{}", 1000, false},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = hostile_event(cases[i].where, cases[i].unit, cases[i].n);
        struct k8s_event ev;
        char err[160];

        assert_int_equal(k8s_event_parse(text, strlen(text), &k8s_pod_shape, &ev, err, sizeof(err)),
                         0);
        assert_int_equal(ev.truncated, cases[i].truncated);
        assert_string_equal(k8s_obj_name(ev.object), "h");
        assert_string_equal(ev.rv, "9");
        if (!ev.truncated) {
            struct k8s_obj o;
            assert_int_equal(k8s_decode_pod(ev.object, &pod_ctx, &o, err, sizeof(err)), 0);
            assert_int_equal(o.n_eps, strcmp(cases[i].where, "spec") == 0 ? 1 : 0);
            k8s_obj_clear(&o);
        }
        k8s_event_clear(&ev);
        free(text);
    }
}

static void status_body(void **state)
{
    int code = 0;
    char msg[64];
    const char *st = "{\"kind\":\"Status\",\"code\":403,\"message\":\"forbidden: pods\"}";

    assert_int_equal(k8s_status_parse(st, strlen(st), &code, msg, sizeof(msg)), 0);
    assert_int_equal(code, 403);
    assert_string_equal(msg, "forbidden: pods");
    assert_int_equal(k8s_status_parse("oops", 4, &code, msg, sizeof(msg)), -EBADMSG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pod_ready),
        cmocka_unit_test(pod_dual_stack),
        cmocka_unit_test(pod_not_endpoints),
        cmocka_unit_test(pod_hostile_fields),
        cmocka_unit_test(unusable_objects),
        cmocka_unit_test(slice_conditions),
        cmocka_unit_test(pod_flow),
        cmocka_unit_test(time_parse),
        cmocka_unit_test(slice_flow),
        cmocka_unit_test(slice_ports),
        cmocka_unit_test(slice_address_types),
        cmocka_unit_test(events),
        cmocka_unit_test(lists),
        cmocka_unit_test(list_byte_cap),
        cmocka_unit_test(hostile_shapes),
        cmocka_unit_test(status_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
