/* SPDX-License-Identifier: Apache-2.0 */
/*
 * caps.h - leave the program we exec no capability at all.
 */
#ifndef HELPER_CAPS_H
#define HELPER_CAPS_H

#include <stddef.h>

/*
 * Empty the ambient, bounding and inheritable sets and set no_new_privs, then
 * check that they are empty, so that the next execve gives the new program
 * empty permitted and effective sets too (whether we are uid 0 or not, and
 * whatever file capabilities it carries).  Our own permitted and effective
 * sets are left as they are: the routes can still be taken back if the exec
 * fails.  0, or -EPERM (-errno) with err naming what failed; a failure may
 * leave the sets partly emptied, never fuller.
 */
int caps_drop_for_exec(char *err, size_t errlen);

#endif
