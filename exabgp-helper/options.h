/* SPDX-License-Identifier: Apache-2.0 */
/*
 * options.h - exabgp-helper's configuration: environment, flags, checks.
 *
 * The helper is configured the Downward API way, from environment variables
 * (POD_IP, SERVICE_PREFIXES, ...), each of which is also a flag.  This is
 * what the user asked for, parsed and validated in one step that names the
 * variable at fault; what was discovered at run time lives in struct plan
 * (plan.h).
 */
#ifndef HELPER_OPTIONS_H
#define HELPER_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "health.h"
#include "log.h"
#include "netaddr.h"

#define HELPER_MAX_PREFIXES 64
#define HELPER_MAX_PEERS    8
#define HELPER_MD5_MAX      80 /* TCP_MD5SIG_MAXKEYLEN */

/* Hold times above this get a warning: a silent failure lasts that long. */
#define HELPER_HOLD_WARN 30

/* CMD_GATE is the hidden health-gate subcommand: the process exabgp runs. */
enum helper_cmd { CMD_RUN, CMD_CLEANUP, CMD_GATE };

#define HEALTH_URL_DEFAULT "http://127.0.0.1:9101/readyz"

/* The gate's timing (see --help): within 1.5 s either way, with room to spare. */
#define GATE_INTERVAL_MS 200 /* one probe every ... */
#define GATE_TIMEOUT_MS  300 /* ... each given this long ... */
#define GATE_RISE        2   /* ... this many 200s in a row announce ... */
#define GATE_FALL        2   /* ... and this many failures in a row withdraw */

struct prefix {
    struct netaddr addr;
    unsigned len;
};

struct helper_config {
    enum helper_cmd cmd;
    bool dry_run;

    bool pod_ip_set; /* else discovered */
    struct netaddr pod_ip;
    bool node_ip_set; /* else discovered */
    struct netaddr node_ip;
    bool router_id_set; /* else POD_IP */
    struct netaddr router_id;

    struct prefix prefixes[HELPER_MAX_PREFIXES];
    size_t n_prefixes;
    struct netaddr peers[HELPER_MAX_PEERS];
    size_t n_peers;

    uint32_t local_as; /* default: PEER_AS (iBGP, as in the paper) */
    uint32_t peer_as;
    unsigned hold_time;
    char *md5_password_file; /* NULL: no TCP-MD5 */

    char *node_netns;
    char *exabgp_conf;
    char *exabgp;
    unsigned drain_seconds;   /* cleanup: wait between the withdraw and the route removal */
    bool health_url_set;      /* else the default */
    char *health_url;         /* NULL: announce unconditionally (HEALTH_URL set empty) */
    struct health_url health; /* health_url, parsed */
    char *withdrawn_file;     /* NULL: none; cleanup reports the withdrawal here */
    enum log_level log_level;
};

enum opt_result {
    OPT_OK = 0,
    OPT_EXIT_OK = 1, /* --help or --version was printed */
    OPT_ERROR = -1,  /* err holds a one-line message */
};

/*
 * Fill cfg from argv ([run|cleanup] [flags]) and the environment (flags win),
 * then validate.  Strings in cfg are owned by cfg; release with
 * helper_options_free, also after OPT_ERROR.
 */
enum opt_result helper_options_parse(int argc, char **argv, struct helper_config *cfg, char *err,
                                     size_t errlen);
void helper_options_free(struct helper_config *cfg);

/* Parse an AS number (asplain, 1..4294967295, not 23456); 0 or -EINVAL. */
int helper_parse_as(const char *v, uint32_t *out);

/* Read and check the TCP-MD5 password file; *out is malloc'd.  0 or -errno with err set. */
int helper_read_md5(const char *path, char **out, char *err, size_t errlen);

#endif
