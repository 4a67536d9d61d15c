// SPDX-License-Identifier: Apache-2.0
/*
 * jsonstream.c - framing of concatenated JSON objects (see jsonstream.h).
 *
 * Only nesting and strings are tracked here; whether the object is valid
 * JSON is the decoder's business.  Nesting deeper than JSONSTREAM_MAX_DEPTH
 * is refused so a hostile stream cannot drive the decoder's recursion.
 */
#include <errno.h>

#include "jsonstream.h"

#define JSONSTREAM_MAX_DEPTH 128

void jsonstream_init(struct jsonstream *js, size_t max_object)
{
    buf_init(&js->cur, max_object);
    js->depth = 0;
    js->in_string = false;
    js->escape = false;
}

void jsonstream_reset(struct jsonstream *js)
{
    buf_reset(&js->cur);
    js->depth = 0;
    js->in_string = false;
    js->escape = false;
}

void jsonstream_free(struct jsonstream *js)
{
    buf_free(&js->cur);
}

bool jsonstream_pending(const struct jsonstream *js)
{
    return js->depth > 0;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

int jsonstream_feed(struct jsonstream *js, const char *data, size_t len, jsonstream_cb cb,
                    void *ctx)
{
    size_t start = 0; /* first byte of data not yet copied into cur */
    int rc;

    for (size_t i = 0; i < len; i++) {
        char c = data[i];

        if (js->depth == 0) {
            if (is_space(c)) {
                start = i + 1;
                continue;
            }
            if (c != '{')
                return -EBADMSG;
            start = i;
            js->depth = 1;
            continue;
        }
        if (js->in_string) {
            if (js->escape)
                js->escape = false;
            else if (c == '\\')
                js->escape = true;
            else if (c == '"')
                js->in_string = false;
            continue;
        }
        switch (c) {
        case '"':
            js->in_string = true;
            break;
        case '{':
        case '[':
            if (++js->depth > JSONSTREAM_MAX_DEPTH)
                return -EBADMSG;
            break;
        case '}':
        case ']':
            if (--js->depth > 0)
                break;
            rc = buf_append(&js->cur, data + start, i + 1 - start);
            if (rc < 0)
                return rc;
            rc = cb(ctx, js->cur.data, js->cur.len);
            buf_reset(&js->cur);
            start = i + 1;
            if (rc < 0)
                return rc;
            break;
        default:
            break;
        }
    }
    if (js->depth > 0 && start < len)
        return buf_append(&js->cur, data + start, len - start);
    return 0;
}
