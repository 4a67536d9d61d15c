/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plan.h - what run and cleanup act on, once every input is checked and
 * everything the environment left out has been discovered.
 *
 * options.h holds what the user asked for; a plan adds what was found in
 * the namespaces (addresses, devices) and read from files (the password).
 * The renderer and the route code take a plan and nothing else.
 */
#ifndef HELPER_PLAN_H
#define HELPER_PLAN_H

#include <net/if.h>

#include "netaddr.h"
#include "options.h"

/* Route protocol (rtm_protocol) that marks our routes; name it in rt_protos. */
#define RTPROT_EXABGP_HELPER 201

struct plan {
    const struct helper_config *cfg; /* borrowed */
    struct netaddr pod_ip;
    struct netaddr node_ip;
    struct netaddr router_id;
    char *md5;        /* owned; NULL: no TCP-MD5 */
    int node_ifindex; /* the node's device towards the pod (docker0, cni0, a veth) */
    char node_ifname[IF_NAMESIZE];
    int pod_ifindex; /* the pod's default-route interface */
    char pod_ifname[IF_NAMESIZE];
    int lo_ifindex;    /* the pod's loopback, where the local routes live */
    char exabgp[4096]; /* run: EXABGP resolved through PATH */
    char self[4096];   /* run, with HEALTH_URL: this program, which exabgp runs as the gate */
};

#endif
