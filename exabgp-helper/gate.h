/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gate.h - the health gate: the process exabgp runs (process health-gate
 * in exabgp.conf) that announces the service prefixes through exabgp's
 * text API while HEALTH_URL answers 200 and withdraws them otherwise.
 */
#ifndef HELPER_GATE_H
#define HELPER_GATE_H

#include <stdbool.h>

#include "options.h"

/* Beside EXABGP_CONF: cleanup creates the first, the gate answers with the second. */
#define GATE_WITHDRAW_SUFFIX  ".withdraw"
#define GATE_WITHDRAWN_SUFFIX ".withdrawn"

enum gate_status { GATE_UNKNOWN, GATE_UP, GATE_DOWN };
enum gate_action { GATE_NONE, GATE_ANNOUNCE, GATE_WITHDRAW };

struct gate_state {
    enum gate_status status; /* GATE_UNKNOWN until rise or fall decides */
    unsigned oks, fails;     /* consecutive results */
};

/*
 * One probe result in; what exabgp must be told, if anything: announce
 * after GATE_RISE successes in a row unless already up, withdraw after
 * GATE_FALL failures in a row unless already down.
 */
enum gate_action gate_step(struct gate_state *g, bool ok);

/*
 * The health-gate subcommand: probe cfg->health, write announce/withdraw
 * commands on stdout, read exabgp's acknowledgements on stdin, log each
 * change on stderr.  Returns when exabgp stops it (stdin closed,
 * "shutdown", SIGTERM): 0, or 1 when exabgp can no longer be written to.
 */
int gate_run(const struct helper_config *cfg);

#endif
