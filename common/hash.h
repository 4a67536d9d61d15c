/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hash.h - FNV-1a, 64 bit: table slots and "did these bytes change" checks.
 * Not for anything an adversary can choose collisions against.
 */
#ifndef LB_HASH_H
#define LB_HASH_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A64_INIT 1469598103934665603ULL

/* Continue hash h over n bytes at p; start with FNV1A64_INIT. */
static inline uint64_t fnv1a64(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) {
        h ^= c[i];
        h *= 1099511628211ULL;
    }
    return h;
}

#endif
