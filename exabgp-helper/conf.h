/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conf.h - the exabgp.conf the helper writes: one neighbor block per route
 * reflector, each announcing every service prefix with the node as next
 * hop (the paper's Appendix D, with a short hold time).
 */
#ifndef HELPER_CONF_H
#define HELPER_CONF_H

#include <stdbool.h>

#include "buf.h"
#include "plan.h"

/*
 * Append the configuration for plan to out.  With announce false the
 * neighbors stay and the static blocks are empty: reloaded into a running
 * exabgp, it withdraws the prefixes without closing the sessions.
 * 0 or -EMSGSIZE.
 */
int conf_render(const struct plan *plan, bool announce, struct buf *out);

/* The routes run installs, one per line in `ip route` syntax, for --dry-run. */
int conf_render_routes(const struct plan *plan, struct buf *out);

#endif
