/* SPDX-License-Identifier: Apache-2.0 */
/*
 * buf.h - growable byte buffer with a hard cap.
 *
 * Everything filled from the network goes through a buf whose max was set
 * when it was made; an append past the cap fails with -EMSGSIZE and leaves
 * the contents as they were.  The data is always NUL-terminated so text
 * parsers can read it directly.
 */
#ifndef LB_BUF_H
#define LB_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap;
    size_t max; /* appends beyond this many bytes fail */
};

void buf_init(struct buf *b, size_t max);
/* Returns 0, -EMSGSIZE past the cap, or -ENOMEM. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Forget the contents but keep the allocation. */
void buf_reset(struct buf *b);
/* Free the storage; the buf may be used again after buf_init. */
void buf_free(struct buf *b);

/* Replace *dst (freed) with a copy of v.  0 or -ENOMEM (then *dst is kept). */
int str_assign(char **dst, const char *v);

#endif
