// SPDX-License-Identifier: Apache-2.0
/*
 * caps.c - empty every capability set of the program exec'd next.
 *
 * At execve the kernel computes the new permitted set as
 *   (inheritable & file inheritable) | (file permitted & bounding) | ambient,
 * where a uid-0 process counts every file as carrying all capabilities.  So
 * emptying only the bounding set left exabgp whatever the container runtime
 * put in the inheritable set (NET_ADMIN, SYS_ADMIN, SETPCAP were seen).  With
 * ambient, bounding and inheritable all empty, the new permitted and
 * effective sets are empty as well.  Raw syscalls: libcap would add a
 * dependency for four calls.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"

static int capget_v3(struct __user_cap_data_struct data[2])
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    return (int)syscall(SYS_capget, &hdr, data);
}

static int capset_v3(struct __user_cap_data_struct data[2])
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    return (int)syscall(SYS_capset, &hdr, data);
}

/* The first capability held in the bounding or ambient set, or -1. */
static int first_left(const char **which)
{
    for (int cap = 0;; cap++) {
        int b = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (b < 0)
            return -1; /* EINVAL: past the last capability this kernel knows */
        if (b > 0) {
            *which = "bounding";
            return cap;
        }
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) > 0) {
            *which = "ambient";
            return cap;
        }
    }
}

/* -errno with err saying what failed. */
static int failed(const char *what, char *err, size_t errlen)
{
    int e = errno ? errno : EPERM;
    snprintf(err, errlen, "%s: %s", what, strerror(e));
    return -e;
}

int caps_drop_for_exec(char *err, size_t errlen)
{
    struct __user_cap_data_struct data[2];
    const char *which = "";
    int left;

    /* EINVAL: a kernel without ambient capabilities has none to clear */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return failed("cannot clear the ambient capabilities", err, errlen);
    for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
            int e = errno;
            snprintf(err, errlen, "cannot empty the capability bounding set: %s%s", strerror(e),
                     e == EPERM ? " (the container needs capability SETPCAP)" : "");
            return -e;
        }
    }
    if (capget_v3(data) < 0)
        return failed("cannot read our capabilities", err, errlen);
    data[0].inheritable = data[1].inheritable = 0;
    if (capset_v3(data) < 0)
        return failed("cannot clear the inheritable capabilities", err, errlen);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return failed("cannot set no_new_privs", err, errlen);
    /* trust the result, not the calls: exec only with the three sets empty */
    if (capget_v3(data) < 0 || data[0].inheritable || data[1].inheritable) {
        snprintf(err, errlen, "the inheritable capability set is not empty after clearing it");
        return -EPERM;
    }
    left = first_left(&which);
    if (left >= 0) {
        snprintf(err, errlen, "capability %d is still in the %s set after emptying it", left,
                 which);
        return -EPERM;
    }
    return 0;
}
