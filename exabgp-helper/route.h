/* SPDX-License-Identifier: Apache-2.0 */
/*
 * route.h - the routes that make a load balancer pod reachable, through
 * libnl-route-3, in two network namespaces:
 *
 *   node:  PREFIX via POD_IP dev DEV          (table main)
 *   pod:   local PREFIX dev lo                (table local)
 *
 * Both carry rtm_protocol RTPROT_EXABGP_HELPER and are created-or-replaced,
 * so running twice is harmless and cleanup deletes only what is ours.
 *
 * Errors: functions return 0 or a negative errno and put one line in err.
 * -EINVAL means the configuration does not fit this machine (exit 2);
 * anything else is a runtime failure (exit 1).
 */
#ifndef HELPER_ROUTE_H
#define HELPER_ROUTE_H

#include <stddef.h>

#include "plan.h"

struct nl_sock;

/* A netlink route socket in the calling process's network namespace. */
int route_open_self(struct nl_sock **out, char *err, size_t errlen);

/*
 * A netlink route socket inside the network namespace at path (a bind mount
 * of /proc/PID/ns/net); the process returns to its own namespace before
 * this returns.  Refuses a path that is not a network namespace or is our
 * own.  Free with route_close.
 */
int route_open_netns(const char *path, struct nl_sock **out, char *err, size_t errlen);
void route_close(struct nl_sock *sk);

/*
 * Fill what the pod namespace tells: POD_IP when not given (the address of
 * the default-route interface), that interface and the loopback.
 */
int route_discover_pod(struct nl_sock *pod, struct plan *plan, char *err, size_t errlen);

/*
 * Fill what the node namespace tells: NODE_IP when not given (the source
 * address of the route to the first peer) and the device through which the
 * node reaches POD_IP, which must be directly connected.
 */
int route_discover_node(struct nl_sock *node, struct plan *plan, char *err, size_t errlen);

/*
 * Refuse (-EINVAL, err naming the route) when either namespace already holds
 * a route for one of plan's prefixes, in the table ours would go in (main
 * in the node, local in the pod), that is not ours: our protocol and, in the
 * node, POD_IP as the only gateway.  run would replace it; cleanup would
 * then leave the namespace without it.  -EIO when the routes cannot be read.
 */
int route_check_foreign(struct nl_sock *node, struct nl_sock *pod, const struct plan *plan,
                        char *err, size_t errlen);

/*
 * Refuse (-EINVAL, err naming the prefix, the subnet and the device) a prefix
 * that overlaps the subnet of any IPv4 address in the node or the pod: its
 * route would take that subnet's traffic (docker0's: the node's pods).
 */
int route_check_connected(struct nl_sock *node, struct nl_sock *pod, const struct plan *plan,
                          char *err, size_t errlen);

/*
 * Install every route of plan, or none: on failure every route of ours for
 * these prefixes is removed, including any a previous run left.
 */
int route_install(struct nl_sock *node, struct nl_sock *pod, const struct plan *plan, char *err,
                  size_t errlen);

/*
 * Remove the routes of plan that exist (ours by protocol, prefix and, in the
 * node, gateway POD_IP).  *removed counts them.  0 or the first error.
 */
int route_remove(struct nl_sock *node, struct nl_sock *pod, const struct plan *plan, int *removed,
                 char *err, size_t errlen);

#endif
