// SPDX-License-Identifier: Apache-2.0
/*
 * failroute.c - LD_PRELOAD shim for the helper's rollback test: the
 * FAILROUTE_AT'th call of rtnl_route_add fails as the kernel would refuse
 * it; every other call goes to the real libnl.
 */
#include <dlfcn.h>
#include <stdlib.h>

struct nl_sock;
struct rtnl_route;

int rtnl_route_add(struct nl_sock *sk, struct rtnl_route *r, int flags);

int rtnl_route_add(struct nl_sock *sk, struct rtnl_route *r, int flags)
{
    static int calls;
    int (*real)(struct nl_sock *, struct rtnl_route *, int);
    const char *at = getenv("FAILROUTE_AT");

    if (at && ++calls == atoi(at))
        return -28; /* -NLE_PERM, "Operation not permitted" */
    *(void **)&real = dlsym(RTLD_NEXT, "rtnl_route_add");
    return real(sk, r, flags);
}
