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
 * With HEALTH_URL set there are no static routes, drained or not: a
 * process block runs plan->self as the health gate and every neighbor
 * lists it in its api block.  0, -EMSGSIZE, or -EINVAL when a word of the
 * run line fails conf_check_word.
 */
int conf_render(const struct plan *plan, bool announce, struct buf *out);

/* 0 when s is one word exabgp's tokeniser keeps whole (a run line's path), else -EINVAL. */
int conf_check_word(const char *s);

/* The routes run installs, one per line in `ip route` syntax, for --dry-run. */
int conf_render_routes(const struct plan *plan, struct buf *out);

#endif
