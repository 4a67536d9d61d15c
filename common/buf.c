// SPDX-License-Identifier: Apache-2.0
/*
 * buf.c - growable byte buffer with a hard cap (see buf.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

static int buf_reserve(struct buf *b, size_t n)
{
    size_t want, ncap;
    char *p;

    if (n > b->max || b->len > b->max - n)
        return -EMSGSIZE;
    want = b->len + n + 1; /* room for the terminating NUL */
    if (want <= b->cap)
        return 0;
    ncap = b->cap ? b->cap : 256;
    while (ncap < want)
        ncap *= 2;
    p = realloc(b->data, ncap);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = ncap;
    return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    int rc = buf_reserve(b, n);
    if (rc < 0)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    size_t room = b->cap > b->len ? b->cap - b->len : 0;
    int n, rc;

    /* Most calls fit in the spare room: format once, straight into place. */
    va_start(ap, fmt);
    n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    if ((size_t)n < room) {
        if ((size_t)n > b->max - b->len) {
            b->data[b->len] = '\0';
            return -EMSGSIZE;
        }
        b->len += (size_t)n;
        return 0;
    }
    rc = buf_reserve(b, (size_t)n);
    if (rc < 0) {
        if (b->data)
            b->data[b->len] = '\0';
        return rc;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
    free(b->data);
    buf_init(b, b->max);
}

int str_assign(char **dst, const char *v)
{
    char *s = strdup(v);

    if (!s)
        return -ENOMEM;
    free(*dst);
    *dst = s;
    return 0;
}
