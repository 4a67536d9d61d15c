/* SPDX-License-Identifier: Apache-2.0 */
/*
 * controller.h - the running controller: watcher, renderer, reloader and
 * metrics server turned by one event loop.
 */
#ifndef IPVSCTL_CONTROLLER_H
#define IPVSCTL_CONTROLLER_H

#include "options.h"

/*
 * Run until SIGTERM/SIGINT (or, with --once, until the first sync).
 * Returns the process exit status: 0, 1 on a runtime failure.
 */
int controller_run(const struct ctl_config *cfg);

#endif
