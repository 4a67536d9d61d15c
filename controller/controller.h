/* SPDX-License-Identifier: Apache-2.0 */
/*
 * controller.h - the running controller: watcher, renderer, reloader and
 * metrics server turned by one event loop.
 */
#ifndef IPVSCTL_CONTROLLER_H
#define IPVSCTL_CONTROLLER_H

#include "options.h"
#include "render.h"
#include "watcher.h"

/*
 * The daemon's wiring of the options into what the watcher watches and
 * decodes (resource, selector, decode_ctx but its warn callback) and what
 * the renderer writes.  selector is storage for a --service selector; wc
 * and rc borrow from cfg and selector.  The golden tests call this too.
 */
void controller_wiring(const struct ctl_config *cfg, struct watcher_config *wc,
                       struct render_config *rc, char *selector, size_t sellen);

/*
 * Run until SIGTERM/SIGINT (or, with --once, until the first sync).
 * Returns the process exit status: 0, 1 on a runtime failure.
 */
int controller_run(const struct ctl_config *cfg);

#endif
