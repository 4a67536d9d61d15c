/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render.h - keepalived's ipvs.conf from the virtual servers and endpoints.
 *
 * The output is a pure function of its inputs: endpoints are sorted, no
 * time stamps, so unchanged inputs give unchanged bytes and the caller can
 * skip both the write and the reload.  Only numbers and canonical
 * addresses come from the API; every word of syntax comes from here.
 */
#ifndef IPVSCTL_RENDER_H
#define IPVSCTL_RENDER_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "k8s_object.h"
#include "netaddr.h"

struct vserver {
    bool fwmark;
    uint32_t mark;       /* fwmark only */
    struct netaddr addr; /* address only */
    uint16_t port;       /* address only */
};

enum health_check { HC_NONE, HC_TCP, HC_HTTP };

struct render_config {
    /*
     * Flow mode (options.h): mh-port and mh-fallback after lvs_sched (mh),
     * inhibit_on_failure, not-ready endpoints at weight 0.  The caller
     * collects the endpoints with STORE_BY_AGE (store.h).
     */
    bool flow;
    const struct vserver *vs;
    size_t n_vs;
    const char *sched;    /* lvs_sched, already validated */
    const char *method;   /* NAT, DR or TUN */
    const char *protocol; /* TCP, UDP or SCTP */
    uint16_t target_port; /* 0: endpoint's port, else the virtual port */
    enum health_check hc;
    const char *hc_path;          /* HC_HTTP, already validated */
    unsigned hc_interval_ms;      /* delay_loop */
    unsigned hc_timeout_ms;       /* connect_timeout */
    unsigned hc_retry;            /* retry */
    unsigned hc_retry_delay_ms;   /* delay_before_retry, written when hc_retry > 0 */
    unsigned persistence_timeout; /* 0: none */
};

/*
 * Append the configuration for eps (ordered, unique: store_collect_ordered)
 * to out, in their order.  A virtual server with no ready endpoint of its
 * family is written as a comment, since keepalived refuses an empty one
 * (and a quorum of 0).  Returns 0 or a buf error.
 */
int render_ipvs_conf(const struct render_config *rc, const struct endpoint *eps, size_t n,
                     struct buf *out);

/* The number of real_server entries the last call wrote for these inputs. */
size_t render_count_real_servers(const struct render_config *rc, const struct endpoint *eps,
                                 size_t n);

/*
 * The real_server entries of virtual server v (an index into rc->vs); 0:
 * written as a comment, which it is without a ready one.
 */
size_t render_count_vs_real_servers(const struct render_config *rc, size_t v,
                                    const struct endpoint *eps, size_t n);

/*
 * Those of them with a weight above 0 (ready): what can serve.  In NAT
 * mode every entry; in flow mode not-ready ones are written at weight 0.
 */
size_t render_count_vs_ready(const struct render_config *rc, size_t v, const struct endpoint *eps,
                             size_t n);

/* True if name is a scheduler keepalived 2.2 accepts. */
bool render_sched_valid(const char *name);

/* True if path is safe as an HTTP_GET url path (starts with '/', no syntax). */
bool render_path_valid(const char *path);

#endif
