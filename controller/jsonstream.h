/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jsonstream.h - split a watch response into whole JSON objects.
 *
 * The API server writes one JSON object per event, usually followed by a
 * newline, but the transport may cut the stream anywhere: inside a string,
 * between the two bytes of an escape, in the middle of a UTF-8 sequence.
 * The framer follows the JSON nesting (and strings, where braces do not
 * count) across any chunk boundaries and hands each complete top-level
 * object to a callback.  Each object is capped at max bytes.
 */
#ifndef IPVSCTL_JSONSTREAM_H
#define IPVSCTL_JSONSTREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct jsonstream {
    struct buf cur; /* bytes of the object being assembled */
    unsigned depth;
    bool in_string;
    bool escape;
};

/* Called once per complete object; a negative return stops the feed and is returned. */
typedef int (*jsonstream_cb)(void *ctx, const char *obj, size_t len);

void jsonstream_init(struct jsonstream *js, size_t max_object);
/*
 * Feed bytes.  Returns 0, the callback's negative code, -EMSGSIZE when an
 * object exceeds the cap, or -EBADMSG when the stream is not a sequence of
 * JSON objects (garbage between objects, a closing bracket at the top).
 * After an error the framer must be reset before reuse.
 */
int jsonstream_feed(struct jsonstream *js, const char *data, size_t len, jsonstream_cb cb,
                    void *ctx);
/* True when a partial object is buffered (the stream ended mid-event). */
bool jsonstream_pending(const struct jsonstream *js);
void jsonstream_reset(struct jsonstream *js);
void jsonstream_free(struct jsonstream *js);

#endif
