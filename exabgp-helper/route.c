// SPDX-License-Identifier: Apache-2.0
/*
 * route.c - discovery and the two routes, over libnl-route-3.
 *
 * A netlink socket belongs to the network namespace it was created in, so
 * the node's namespace is entered only long enough to open one socket; all
 * later work on either namespace goes through its socket.  Every change
 * waits for the kernel's acknowledgement (rtnl_route_add/_delete).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "route.h"

void route_close(struct nl_sock *sk)
{
    if (sk)
        nl_socket_free(sk);
}

int route_open_self(struct nl_sock **out, char *err, size_t errlen)
{
    struct nl_sock *sk = nl_socket_alloc();
    int rc;

    if (!sk) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    rc = nl_connect(sk, NETLINK_ROUTE);
    if (rc < 0) {
        snprintf(err, errlen, "cannot open a netlink socket: %s", nl_geterror(rc));
        nl_socket_free(sk);
        return -EIO;
    }
    *out = sk;
    return 0;
}

int route_open_netns(const char *path, struct nl_sock **out, char *err, size_t errlen)
{
    struct stat self_st, target_st;
    int self = -1, target = -1, rc;

    self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot open /proc/self/ns/net: %s", strerror(errno));
        goto out;
    }
    target = open(path, O_RDONLY | O_CLOEXEC);
    if (target < 0) {
        rc = errno == ENOENT || errno == ENOTDIR ? -EINVAL : -errno;
        snprintf(err, errlen, "NODE_NETNS %s: %s%s", path, strerror(errno),
                 rc == -EINVAL ? " (mount the node's /proc/1/ns/net there)" : "");
        goto out;
    }
    if (fstat(self, &self_st) < 0 || fstat(target, &target_st) < 0) {
        rc = -errno;
        snprintf(err, errlen, "NODE_NETNS %s: %s", path, strerror(errno));
        goto out;
    }
    if (ioctl(target, NS_GET_NSTYPE) != CLONE_NEWNET) {
        rc = -EINVAL;
        snprintf(err, errlen, "NODE_NETNS %s is not a network namespace", path);
        goto out;
    }
    if (self_st.st_dev == target_st.st_dev && self_st.st_ino == target_st.st_ino) {
        rc = -EINVAL;
        snprintf(err, errlen,
                 "NODE_NETNS %s is this pod's own network namespace (a hostNetwork pod?)", path);
        goto out;
    }
    if (setns(target, CLONE_NEWNET) < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot enter NODE_NETNS %s: %s%s", path, strerror(errno),
                 errno == EPERM ? " (needs CAP_SYS_ADMIN)" : "");
        goto out;
    }
    rc = route_open_self(out, err, errlen);
    if (setns(self, CLONE_NEWNET) < 0) {
        /* we would go on working in the wrong namespace: give up */
        int e = errno;
        if (rc == 0)
            route_close(*out);
        rc = -e;
        snprintf(err, errlen, "cannot return to the pod's network namespace: %s", strerror(e));
    }
out:
    if (target >= 0)
        close(target);
    if (self >= 0)
        close(self);
    return rc;
}

static struct nl_addr *addr4(const struct netaddr *a, unsigned plen)
{
    struct nl_addr *n = nl_addr_build(AF_INET, &a->u.v4, 4);
    if (n)
        nl_addr_set_prefixlen(n, (int)plen);
    return n;
}

static void from_nl(struct nl_addr *n, struct netaddr *out)
{
    /* a default route's destination has no bytes at all: it is 0.0.0.0 */
    unsigned len = nl_addr_get_len(n);

    memset(out, 0, sizeof(*out));
    out->family = AF_INET;
    memcpy(&out->u.v4, nl_addr_get_binary_addr(n), len < 4 ? len : 4);
}

/* The first IPv4 global address on ifindex. */
static int iface_addr(struct nl_sock *sk, int ifindex, struct netaddr *out)
{
    struct nl_cache *cache;
    struct nl_object *obj;
    int rc = -ENOENT;

    if (rtnl_addr_alloc_cache(sk, &cache) < 0)
        return -EIO;
    for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
        struct rtnl_addr *a = (struct rtnl_addr *)obj;
        if (rtnl_addr_get_ifindex(a) != ifindex || rtnl_addr_get_family(a) != AF_INET ||
            rtnl_addr_get_scope(a) != RT_SCOPE_UNIVERSE ||
            (rtnl_addr_get_flags(a) & IFA_F_SECONDARY))
            continue;
        from_nl(rtnl_addr_get_local(a), out);
        rc = 0;
        break;
    }
    nl_cache_free(cache);
    return rc;
}

/* The interface of the main table's IPv4 default route, or -ENOENT. */
static int default_ifindex(struct nl_sock *sk)
{
    struct nl_cache *cache;
    struct nl_object *obj;
    int rc = -ENOENT;

    if (rtnl_route_alloc_cache(sk, AF_INET, 0, &cache) < 0)
        return -EIO;
    for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
        struct rtnl_route *r = (struct rtnl_route *)obj;
        struct nl_addr *dst = rtnl_route_get_dst(r);
        if (rtnl_route_get_table(r) != RT_TABLE_MAIN || rtnl_route_get_type(r) != RTN_UNICAST ||
            (dst && nl_addr_get_prefixlen(dst) != 0) || rtnl_route_get_nnexthops(r) < 1)
            continue;
        rc = rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(r, 0));
        break;
    }
    nl_cache_free(cache);
    return rc;
}

int route_discover_pod(struct nl_sock *pod, struct plan *plan, char *err, size_t errlen)
{
    int ifindex = default_ifindex(pod);

    plan->lo_ifindex = (int)if_nametoindex("lo");
    if (plan->lo_ifindex == 0) {
        snprintf(err, errlen, "the pod namespace has no loopback device");
        return -EINVAL;
    }
    if (ifindex == -EIO) {
        snprintf(err, errlen, "cannot read the pod's routes over netlink");
        return -EIO;
    }
    if (ifindex > 0) {
        plan->pod_ifindex = ifindex;
        if (!if_indextoname((unsigned)ifindex, plan->pod_ifname))
            snprintf(plan->pod_ifname, sizeof(plan->pod_ifname), "if%d", ifindex);
    }
    if (plan->cfg->pod_ip_set) {
        plan->pod_ip = plan->cfg->pod_ip;
        return 0;
    }
    if (ifindex <= 0) {
        snprintf(err, errlen,
                 "cannot discover POD_IP: the pod has no IPv4 default route; set POD_IP");
        return -EINVAL;
    }
    if (iface_addr(pod, ifindex, &plan->pod_ip) < 0) {
        snprintf(err, errlen, "cannot discover POD_IP: %s has no global IPv4 address; set POD_IP",
                 plan->pod_ifname);
        return -EINVAL;
    }
    return 0;
}

/* Ask the node's kernel for its route to dst. */
static int lookup(struct nl_sock *sk, const struct netaddr *dst, struct rtnl_route **out)
{
    struct nl_addr *n = addr4(dst, 32);
    int rc;

    if (!n)
        return -ENOMEM;
    rc = rtnl_route_lookup(sk, n, out);
    nl_addr_put(n);
    return rc;
}

int route_discover_node(struct nl_sock *node, struct plan *plan, char *err, size_t errlen)
{
    const struct helper_config *cfg = plan->cfg;
    struct rtnl_route *r = NULL;
    struct rtnl_nexthop *nh;
    struct rtnl_link *link = NULL;
    char a[NETADDR_STRLEN], b[NETADDR_STRLEN];
    int rc;

    if (cfg->node_ip_set) {
        plan->node_ip = cfg->node_ip;
    } else {
        rc = lookup(node, &cfg->peers[0], &r);
        if (rc < 0 || !rtnl_route_get_pref_src(r)) {
            snprintf(err, errlen,
                     "cannot discover NODE_IP: the node namespace has no route to peer %s%s%s; "
                     "set NODE_IP",
                     netaddr_format(&cfg->peers[0], a), rc < 0 ? ": " : "",
                     rc < 0 ? nl_geterror(rc) : "");
            if (r)
                rtnl_route_put(r);
            return -EINVAL;
        }
        from_nl(rtnl_route_get_pref_src(r), &plan->node_ip);
        rtnl_route_put(r);
        r = NULL;
    }

    rc = lookup(node, &plan->pod_ip, &r);
    if (rc < 0 || rtnl_route_get_nnexthops(r) < 1) {
        snprintf(err, errlen, "the node namespace has no route to POD_IP %s%s%s",
                 netaddr_format(&plan->pod_ip, a), rc < 0 ? ": " : "",
                 rc < 0 ? nl_geterror(rc) : "");
        rc = -EINVAL;
        goto out;
    }
    if (rtnl_route_get_type(r) != RTN_UNICAST) {
        snprintf(err, errlen, "POD_IP %s is an address of the node itself, not a pod's",
                 netaddr_format(&plan->pod_ip, a));
        rc = -EINVAL;
        goto out;
    }
    nh = rtnl_route_nexthop_n(r, 0);
    if (rtnl_route_nh_get_gateway(nh)) {
        struct netaddr gw;
        from_nl(rtnl_route_nh_get_gateway(nh), &gw);
        snprintf(err, errlen,
                 "the node reaches POD_IP %s through gateway %s, not directly: is NODE_NETNS this "
                 "pod's node?",
                 netaddr_format(&plan->pod_ip, a), netaddr_format(&gw, b));
        rc = -EINVAL;
        goto out;
    }
    plan->node_ifindex = rtnl_route_nh_get_ifindex(nh);
    if (rtnl_link_get_kernel(node, plan->node_ifindex, NULL, &link) == 0) {
        snprintf(plan->node_ifname, sizeof(plan->node_ifname), "%s", rtnl_link_get_name(link));
        rtnl_link_put(link);
    } else {
        snprintf(plan->node_ifname, sizeof(plan->node_ifname), "if%d", plan->node_ifindex);
    }
    rc = 0;
out:
    rtnl_route_put(r);
    return rc;
}

enum which { NODE_ROUTE, POD_ROUTE };

/* The route for prefix i in the node (via POD_IP) or the pod (local). */
static struct rtnl_route *make_route(const struct plan *plan, size_t i, enum which w, bool with_dev)
{
    const struct prefix *p = &plan->cfg->prefixes[i];
    struct rtnl_route *r = rtnl_route_alloc();
    struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
    struct nl_addr *dst = addr4(&p->addr, p->len);
    struct nl_addr *gw = w == NODE_ROUTE ? addr4(&plan->pod_ip, 32) : NULL;

    if (!r || !nh || !dst || (w == NODE_ROUTE && !gw)) {
        rtnl_route_put(r);
        if (nh)
            rtnl_route_nh_free(nh);
        if (dst)
            nl_addr_put(dst);
        if (gw)
            nl_addr_put(gw);
        return NULL;
    }
    rtnl_route_set_family(r, AF_INET);
    rtnl_route_set_protocol(r, RTPROT_EXABGP_HELPER);
    rtnl_route_set_dst(r, dst);
    nl_addr_put(dst);
    if (w == NODE_ROUTE) {
        rtnl_route_set_table(r, RT_TABLE_MAIN);
        rtnl_route_set_type(r, RTN_UNICAST);
        rtnl_route_set_scope(r, RT_SCOPE_UNIVERSE);
        rtnl_route_nh_set_gateway(nh, gw);
        nl_addr_put(gw);
        if (with_dev)
            rtnl_route_nh_set_ifindex(nh, plan->node_ifindex);
    } else {
        rtnl_route_set_table(r, RT_TABLE_LOCAL);
        rtnl_route_set_type(r, RTN_LOCAL);
        rtnl_route_set_scope(r, RT_SCOPE_HOST);
        rtnl_route_nh_set_ifindex(nh, plan->lo_ifindex);
    }
    rtnl_route_add_nexthop(r, nh);
    return r;
}

static void describe(const struct plan *plan, size_t i, enum which w, char *out, size_t outlen)
{
    const struct prefix *p = &plan->cfg->prefixes[i];
    char a[NETADDR_STRLEN], b[NETADDR_STRLEN];

    if (w == NODE_ROUTE)
        snprintf(out, outlen, "node route %s/%u via %s%s%s", netaddr_format(&p->addr, a), p->len,
                 netaddr_format(&plan->pod_ip, b), plan->node_ifname[0] ? " dev " : "",
                 plan->node_ifname);
    else
        snprintf(out, outlen, "pod route local %s/%u dev lo table local",
                 netaddr_format(&p->addr, a), p->len);
}

int route_install(struct nl_sock *node, struct nl_sock *pod, const struct plan *plan, char *err,
                  size_t errlen)
{
    size_t n = plan->cfg->n_prefixes;
    char what[160], ignored[160];
    int rc = 0, removed;

    for (size_t k = 0; k < 2 * n && rc == 0; k++) {
        enum which w = k < n ? NODE_ROUTE : POD_ROUTE;
        struct rtnl_route *r = make_route(plan, k % n, w, true);

        if (!r) {
            describe(plan, k % n, w, what, sizeof(what));
            snprintf(err, errlen, "%s: out of memory", what);
            rc = -ENOMEM;
            break;
        }
        rc = rtnl_route_add(w == NODE_ROUTE ? node : pod, r, NLM_F_CREATE | NLM_F_REPLACE);
        rtnl_route_put(r);
        if (rc < 0) {
            describe(plan, k % n, w, what, sizeof(what));
            snprintf(err, errlen, "cannot install %s: %s", what, nl_geterror(rc));
            rc = rc == -NLE_PERM || rc == -NLE_NOACCESS ? -EPERM : -EIO;
        }
    }
    /*
     * All or nothing: take out every route of ours for these prefixes, the
     * ones just added and any a previous run left, so a pod that did not
     * start leaves no trace.
     */
    if (rc < 0)
        route_remove(node, pod, plan, &removed, ignored, sizeof(ignored));
    return rc;
}

int route_remove(struct nl_sock *node, struct nl_sock *pod, const struct plan *plan, int *removed,
                 char *err, size_t errlen)
{
    size_t n = plan->cfg->n_prefixes;
    char what[160];
    int first = 0;

    *removed = 0;
    /* the node's first: traffic stops arriving before the pod stops taking it */
    for (size_t k = 0; k < 2 * n; k++) {
        enum which w = k < n ? NODE_ROUTE : POD_ROUTE;
        struct rtnl_route *r = make_route(plan, k % n, w, false);
        int rc;

        if (!r) {
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
        rc = rtnl_route_delete(w == NODE_ROUTE ? node : pod, r, 0);
        rtnl_route_put(r);
        if (rc == 0) {
            (*removed)++;
        } else if (rc != -NLE_OBJ_NOTFOUND && first == 0) {
            describe(plan, k % n, w, what, sizeof(what));
            snprintf(err, errlen, "cannot remove %s: %s", what, nl_geterror(rc));
            first = rc == -NLE_PERM || rc == -NLE_NOACCESS ? -EPERM : -EIO;
        }
    }
    return first;
}

/* The name of ifindex in the namespace of sk, or "ifN". */
static void ifname(struct nl_sock *sk, int ifindex, char out[IF_NAMESIZE])
{
    struct rtnl_link *link = NULL;

    if (ifindex > 0 && rtnl_link_get_kernel(sk, ifindex, NULL, &link) == 0) {
        snprintf(out, IF_NAMESIZE, "%s", rtnl_link_get_name(link));
        rtnl_link_put(link);
    } else {
        snprintf(out, IF_NAMESIZE, "if%d", ifindex);
    }
}

static const char *const ns_name[] = {[NODE_ROUTE] = "node", [POD_ROUTE] = "pod"};
static const int ns_table[] = {[NODE_ROUTE] = RT_TABLE_MAIN, [POD_ROUTE] = RT_TABLE_LOCAL};

/*
 * Ours: our protocol and, in the node, one nexthop through POD_IP (another
 * pod's route for the same prefix is not ours to replace).
 */
static bool is_ours(const struct plan *plan, enum which w, struct rtnl_route *r)
{
    struct nl_addr *gw;
    struct netaddr a;

    if (rtnl_route_get_protocol(r) != RTPROT_EXABGP_HELPER)
        return false;
    if (w == POD_ROUTE)
        return true;
    if (rtnl_route_get_nnexthops(r) != 1)
        return false;
    gw = rtnl_route_nh_get_gateway(rtnl_route_nexthop_n(r, 0));
    if (!gw || nl_addr_get_family(gw) != AF_INET)
        return false;
    from_nl(gw, &a);
    return !netaddr_cmp(&a, &plan->pod_ip);
}

/* "10.9.0.0/16 via 10.0.0.1 dev eth0 proto static", as `ip route` would say it. */
static void describe_found(struct nl_sock *sk, enum which w, struct rtnl_route *r,
                           const struct prefix *p, char *out, size_t outlen)
{
    char a[NETADDR_STRLEN], type[32] = "", via[64] = "", dev[IF_NAMESIZE + 8] = "", proto[48];
    int nnh = rtnl_route_get_nnexthops(r);

    if (rtnl_route_get_type(r) != RTN_UNICAST) {
        nl_rtntype2str(rtnl_route_get_type(r), type, sizeof(type) - 1);
        strcat(type, " ");
    }
    if (nnh >= 1) {
        struct rtnl_nexthop *nh = rtnl_route_nexthop_n(r, 0);
        struct nl_addr *gw = rtnl_route_nh_get_gateway(nh);
        char name[IF_NAMESIZE];
        if (gw && nl_addr_get_family(gw) == AF_INET) {
            struct netaddr g;
            from_nl(gw, &g);
            snprintf(via, sizeof(via), " via %s", netaddr_format(&g, a));
        }
        if (rtnl_route_nh_get_ifindex(nh) > 0) {
            ifname(sk, rtnl_route_nh_get_ifindex(nh), name);
            snprintf(dev, sizeof(dev), " dev %s", name);
        }
    }
    if (rtnl_route_get_protocol(r) == RTPROT_EXABGP_HELPER)
        snprintf(proto, sizeof(proto), "%d (exabgp-helper, another pod's)", RTPROT_EXABGP_HELPER);
    else
        rtnl_route_proto2str(rtnl_route_get_protocol(r), proto, sizeof(proto));
    snprintf(out, outlen, "%s%s/%u%s%s%s%s proto %s", type, netaddr_format(&p->addr, a), p->len,
             via, dev, nnh > 1 ? " (multipath)" : "", w == POD_ROUTE ? " table local" : "", proto);
}

/* -EINVAL when the namespace of sk has a route not ours where one of ours would go. */
static int check_foreign_in(struct nl_sock *sk, enum which w, const struct plan *plan, char *err,
                            size_t errlen)
{
    const struct helper_config *cfg = plan->cfg;
    struct nl_cache *cache;
    struct nl_object *obj;
    int rc = 0;

    if (rtnl_route_alloc_cache(sk, AF_INET, 0, &cache) < 0) {
        snprintf(err, errlen, "cannot read the %s's routes over netlink", ns_name[w]);
        return -EIO;
    }
    for (obj = nl_cache_get_first(cache); obj && rc == 0; obj = nl_cache_get_next(obj)) {
        struct rtnl_route *r = (struct rtnl_route *)obj;
        struct nl_addr *dst = rtnl_route_get_dst(r);
        struct netaddr d;

        if ((int)rtnl_route_get_table(r) != ns_table[w] || !dst ||
            nl_addr_get_family(dst) != AF_INET || is_ours(plan, w, r))
            continue;
        from_nl(dst, &d);
        for (size_t i = 0; i < cfg->n_prefixes; i++) {
            const struct prefix *p = &cfg->prefixes[i];
            char found[256];

            if ((unsigned)nl_addr_get_prefixlen(dst) != p->len || netaddr_cmp(&d, &p->addr))
                continue;
            describe_found(sk, w, r, p, found, sizeof(found));
            snprintf(err, errlen,
                     "%s already has a route %s that is not ours; refusing to replace it",
                     ns_name[w], found);
            rc = -EINVAL;
            break;
        }
    }
    nl_cache_free(cache);
    return rc;
}

int route_check_foreign(struct nl_sock *node, struct nl_sock *pod, const struct plan *plan,
                        char *err, size_t errlen)
{
    int rc = check_foreign_in(node, NODE_ROUTE, plan, err, errlen);
    return rc < 0 ? rc : check_foreign_in(pod, POD_ROUTE, plan, err, errlen);
}

/* -EINVAL when a prefix overlaps the subnet of an IPv4 address in the namespace of sk. */
static int check_connected_in(struct nl_sock *sk, enum which w, const struct plan *plan, char *err,
                              size_t errlen)
{
    const struct helper_config *cfg = plan->cfg;
    struct nl_cache *cache;
    struct nl_object *obj;
    int rc = 0;

    if (rtnl_addr_alloc_cache(sk, &cache) < 0) {
        snprintf(err, errlen, "cannot read the %s's addresses over netlink", ns_name[w]);
        return -EIO;
    }
    for (obj = nl_cache_get_first(cache); obj && rc == 0; obj = nl_cache_get_next(obj)) {
        struct rtnl_addr *ad = (struct rtnl_addr *)obj;
        struct nl_addr *local = rtnl_addr_get_local(ad);
        unsigned plen = (unsigned)rtnl_addr_get_prefixlen(ad);
        struct netaddr addr, net;

        if (rtnl_addr_get_family(ad) != AF_INET || !local || plen > 32)
            continue;
        from_nl(local, &addr);
        net = addr;
        net.u.v4.s_addr = htonl(ntohl(addr.u.v4.s_addr) & (plen ? 0xffffffffu << (32 - plen) : 0));
        for (size_t i = 0; i < cfg->n_prefixes; i++) {
            const struct prefix *p = &cfg->prefixes[i];
            char a[NETADDR_STRLEN], n[NETADDR_STRLEN], h[NETADDR_STRLEN], dev[IF_NAMESIZE];

            if (!prefix_overlaps(&p->addr, p->len, &net, plen))
                continue;
            ifname(sk, rtnl_addr_get_ifindex(ad), dev);
            snprintf(err, errlen,
                     "service prefix %s/%u overlaps %s/%u, the subnet of %s on %s in the %s "
                     "namespace; refusing",
                     netaddr_format(&p->addr, a), p->len, netaddr_format(&net, n), plen,
                     netaddr_format(&addr, h), dev, ns_name[w]);
            rc = -EINVAL;
            break;
        }
    }
    nl_cache_free(cache);
    return rc;
}

int route_check_connected(struct nl_sock *node, struct nl_sock *pod, const struct plan *plan,
                          char *err, size_t errlen)
{
    int rc = check_connected_in(node, NODE_ROUTE, plan, err, errlen);
    return rc < 0 ? rc : check_connected_in(pod, POD_ROUTE, plan, err, errlen);
}
