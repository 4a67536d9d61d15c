/* SPDX-License-Identifier: Apache-2.0 */
/*
 * options.h - ipvs-controller's configuration: flags, environment, checks.
 *
 * What the user asked for lives here, parsed and validated in one step
 * that names the flag at fault; the running state lives elsewhere.
 */
#ifndef IPVSCTL_OPTIONS_H
#define IPVSCTL_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"
#include "render.h"
#include "serving.h"

#define OPT_MAX_VS 64

/*
 * Longest --selector.  Percent-escaped (at most 3 bytes a byte) it must fit,
 * with the rest of a watch or list path, in the watcher's 4096-byte path
 * buffer; a longer one would fail every request instead of the start-up.
 */
#define OPT_SELECTOR_MAX 1024

enum select_mode { SELECT_PODS, SELECT_SERVICE };

/*
 * How IPVS forwards.  NAT: the paper's mode, any scheduler and method.
 * FLOW: flows survive load balancer changes (issue 12): Maglev (mh) with
 * the client port hashed, TUN, inhibit_on_failure, real servers oldest
 * first and not-ready ones kept at weight 0, so every pod's table agrees.
 */
enum lb_mode { LB_MODE_NAT, LB_MODE_FLOW };

struct ctl_config {
    /* API access */
    char *apiserver; /* base URL without trailing slash */
    char *token_file;
    char *ca_file;
    bool insecure_skip_tls_verify;
    char *namespace;

    /* what to watch */
    enum select_mode mode;
    char *selector; /* pods: label selector */
    char *service;  /* service: Service name */
    char *port_name;

    /* what to render */
    enum lb_mode lb_mode;
    struct vserver vs[OPT_MAX_VS];
    size_t n_vs;
    struct netaddr vips[OPT_MAX_VS]; /* derived: the non-fwmark virtual servers' addresses */
    size_t n_vips;
    uint16_t target_port;
    char *sched;
    char *method;
    char *protocol;
    enum health_check hc;
    char *hc_path;
    unsigned hc_interval_ms;
    unsigned hc_timeout_ms;
    unsigned hc_retry;
    unsigned hc_retry_delay_ms;
    unsigned persistence_timeout;
    char *output;

    /* reloading */
    char *keepalived_pidfile;
    char *keepalived_cmd;

    /* serving state (/readyz) */
    enum serving_check serving_check;
    char *ipvs_table; /* the kernel's table to check, /proc/net/ip_vs */
    char *stop_file;  /* NULL: none; its presence means the pod is stopping */

    /* behaviour */
    char *metrics_address;
    bool once;
    unsigned debounce_ms;
    unsigned max_delay_ms;
    unsigned min_reload_interval_ms;
    unsigned backoff_max_ms;
    unsigned watch_timeout_s;
    unsigned watch_idle_timeout_s;
    unsigned list_timeout_s;
    unsigned list_page_size;
    size_t max_list_bytes;
    size_t max_event_bytes;
    enum log_level log_level;
};

enum opt_result {
    OPT_OK = 0,
    OPT_EXIT_OK = 1, /* --help or --version was printed */
    OPT_ERROR = -1,  /* err holds a one-line message */
};

/*
 * Fill cfg from argv, falling back to the IPVS_CONTROLLER_* environment
 * variables and the in-cluster defaults, then validate.  Strings in cfg are
 * owned by cfg; release with options_free.
 */
enum opt_result options_parse(int argc, char **argv, struct ctl_config *cfg, char *err,
                              size_t errlen);
void options_free(struct ctl_config *cfg);

/* Fill a render_config that borrows from cfg. */
void options_render_config(const struct ctl_config *cfg, struct render_config *rc);

/* Validate a Kubernetes label selector; 0 or -EINVAL with err set. */
int selector_validate(const char *sel, char *err, size_t errlen);

#endif
