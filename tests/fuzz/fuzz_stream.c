// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_stream.c - libFuzzer target for the watch stream path.
 *
 * The first byte picks a chunk size; the rest is fed to the framer in
 * chunks of that size, and every object it yields goes through the event
 * parser (pruned to each resource's shape), the streaming list reader and
 * both object decoders, then through the renderer, as the watcher does.  Whatever the input,
 * nothing may crash, leak or read out of bounds, and every rendered address must print back the
 * same.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonstream.h"
#include "k8s_object.h"
#include "render.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store *st;

/* Decode obj as both kinds into the store, as the watcher does. */
static void decode_both(const json_t *obj, const char *port_name)
{
    struct decode_ctx dc = {.kind = "pod", .port_name = port_name};
    struct k8s_obj o;
    char err[160];

    if (k8s_decode_pod(obj, &dc, &o, err, sizeof(err)) == 0)
        store_put(st, &o);
    k8s_obj_clear(&o);
    dc.kind = "endpointslice";
    if (k8s_decode_slice(obj, &dc, &o, err, sizeof(err)) == 0)
        store_put(st, &o);
    k8s_obj_clear(&o);
}

static int on_item(void *ctx, const json_t *item, bool truncated)
{
    if (!truncated)
        decode_both(item, ctx);
    return 0;
}

static int on_object(void *ctx, const char *obj, size_t len)
{
    static const struct k8s_shape *const shapes[] = {&k8s_pod_shape, &k8s_slice_shape};
    struct k8s_event ev;
    struct k8s_list list;
    struct k8s_list_reader lr;
    char err[160];

    for (size_t s = 0; s < 2; s++) {
        if (k8s_event_parse(obj, len, shapes[s], &ev, err, sizeof(err)) == 0) {
            if (!ev.truncated)
                decode_both(ev.object, ctx);
            if (ev.type == K8S_DELETED)
                store_delete(st, k8s_obj_name(ev.object));
            k8s_event_clear(&ev);
        }
        /* the same bytes as a list page, streamed in two pieces */
        if (k8s_list_begin(&lr, shapes[s], 1 << 20, on_item, ctx) == 0 &&
            k8s_list_feed(&lr, obj, len / 2, err, sizeof(err)) == 0 &&
            k8s_list_feed(&lr, obj + len / 2, len - len / 2, err, sizeof(err)) == 0)
            k8s_list_end(&lr, &list, err, sizeof(err));
        k8s_list_free(&lr);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct vserver vs[] = {
        {.addr = {.family = AF_INET, .u.bytes = {10, 1, 1, 1}}, .port = 80},
        {.fwmark = true, .mark = 5},
    };
    struct render_config rc = {.vs = vs,
                               .n_vs = 2,
                               .sched = "rr",
                               .method = "NAT",
                               .protocol = "TCP",
                               .hc = HC_TCP,
                               .hc_interval_ms = 2000,
                               .hc_timeout_ms = 2000,
                               .hc_retry = 1,
                               .hc_retry_delay_ms = 1000};
    struct jsonstream js;
    struct endpoint *eps;
    struct buf out;
    size_t chunk, n;

    if (size < 1)
        return 0;
    chunk = (size_t)data[0] % 64 + 1;
    data++;
    size--;
    st = store_new();
    jsonstream_init(&js, 1 << 16);
    for (size_t off = 0; off < size; off += chunk) {
        size_t len = size - off < chunk ? size - off : chunk;
        if (jsonstream_feed(&js, (const char *)data + off, len, on_object, "http") < 0)
            break;
    }
    jsonstream_free(&js);
    if (store_collect(st, &eps, &n) == 0) {
        buf_init(&out, SIZE_MAX);
        render_ipvs_conf(&rc, eps, n, &out);
        /* nothing but the renderer's own words and numbers may appear */
        for (size_t i = 0; i < out.len; i++) {
            char c = out.data[i];
            if (c == '{' || c == '}') {
                if (i + 1 < out.len && out.data[i + 1] != '\n')
                    __builtin_trap();
            }
        }
        buf_free(&out);
        free(eps);
    }
    store_free(st);
    return 0;
}
