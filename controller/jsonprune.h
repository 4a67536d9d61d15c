/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jsonprune.h - parse JSON incrementally, keeping only the paths we read.
 *
 * A Pod is some 20 KB of JSON of which the decoders read a dozen fields; a
 * jansson tree of all of it costs ten to fifty times its size, and a hostile
 * server can make that far worse ("{}" repeated: hundreds of bytes of tree
 * per two bytes of input).  The pruner reads bytes as they arrive, across
 * any chunk boundaries, checks that they are JSON, and builds a jansson tree
 * holding only the values a schema names; everything else is checked and
 * dropped as it is read, without being stored.
 *
 * A schema is a const table: for an object, the members to keep and the
 * schema of each; for an array, the schema of its elements.  A value kept
 * where the schema has nothing below it (a "leaf") is kept whole if it is a
 * scalar and as an empty container if it is one, so the decoders' type
 * checks still see what was sent.  An array marked "each" does not collect
 * its elements: each one is handed to a callback when complete and freed,
 * which is how a list of 10,000 Pods is decoded one Pod at a time.
 *
 * What is kept is capped per unit (the whole document, or one "each"
 * element): at most max_values values and max_string_bytes bytes of
 * strings.  Past a cap nothing more of that unit is kept and the unit is
 * marked truncated, so the caller can refuse it by name; parsing goes on.
 */
#ifndef IPVSCTL_JSONPRUNE_H
#define IPVSCTL_JSONPRUNE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define JSONPRUNE_MAX_DEPTH 128 /* deeper nesting is refused, kept or not */
#define JSONPRUNE_KEY_MAX   128 /* longer member names never match a schema */

struct jsonprune_field;

struct jsonprune_schema {
    const struct jsonprune_field *fields; /* object members to keep, ended by {NULL}; or NULL */
    const struct jsonprune_schema *elem;  /* array elements to keep; NULL: none */
    bool each;                            /* array: hand elements to the callback */
};

struct jsonprune_field {
    const char *key;
    const struct jsonprune_schema *schema;
};

/* Keep the value, scalar, or an empty container of the same type. */
extern const struct jsonprune_schema jsonprune_leaf;

/*
 * Called with each complete element of an "each" array (borrowed: freed
 * after the call) and whether it was truncated.  A negative return stops
 * the feed and is returned by jsonprune_feed.
 */
typedef int (*jsonprune_each_fn)(void *arg, const json_t *elem, bool truncated);

struct jsonprune_limits {
    size_t max_values;       /* kept values per unit */
    size_t max_string_bytes; /* bytes of kept string values per unit */
};

struct jp_frame;

struct jsonprune {
    const struct jsonprune_schema *schema;
    struct jsonprune_limits lim;
    jsonprune_each_fn each;
    void *arg;
    struct jp_frame *stack; /* JSONPRUNE_MAX_DEPTH frames, owned */
    unsigned depth;
    int state; /* parser: what the next token may be */
    int lex;   /* lexer: inside which token */
    unsigned lex_n;
    unsigned hex; /* \u escape being read */
    unsigned high_surrogate;
    bool tok_keep;    /* the token is kept (so its bytes are collected) */
    bool tok_key;     /* the string is a member name */
    bool tok_float;   /* the number has a fraction or exponent */
    struct buf tok;   /* bytes of a kept string, name or number */
    json_t *root;     /* the kept document; NULL until its first byte */
    size_t values;    /* kept so far in the current unit */
    size_t str_bytes; /* kept string bytes in the current unit */
    bool truncated;   /* the current unit hit a cap */
    bool root_truncated;
    size_t offset; /* bytes consumed, for messages */
    char err[128];
};

/*
 * Set up for one document.  schema and the limits are borrowed/copied;
 * each may be NULL when the schema has no "each" array.  0 or -ENOMEM.
 */
int jsonprune_init(struct jsonprune *jp, const struct jsonprune_schema *schema,
                   const struct jsonprune_limits *lim, jsonprune_each_fn each, void *arg);
/*
 * Feed bytes.  Returns 0; -EBADMSG when the bytes are not JSON, or are
 * nested deeper than JSONPRUNE_MAX_DEPTH, or follow the complete document
 * (jp->err says where and why); -ENOMEM; or the callback's negative code.
 * After an error only jsonprune_free may be called.
 */
int jsonprune_feed(struct jsonprune *jp, const char *data, size_t len);
/*
 * The input is over.  Returns 0 and hands over the kept root (the caller
 * frees it; *truncated says whether the document, outside "each" elements,
 * hit a cap), or -EBADMSG when the document is incomplete.
 */
int jsonprune_finish(struct jsonprune *jp, json_t **root, bool *truncated);
/* Free everything; jsonprune_free of a zeroed struct is a no-op. */
void jsonprune_free(struct jsonprune *jp);

/* One-shot: prune a whole buffer.  As feed + finish; err gets jp->err. */
int jsonprune_buffer(const char *data, size_t len, const struct jsonprune_schema *schema,
                     const struct jsonprune_limits *lim, json_t **root, bool *truncated, char *err,
                     size_t errlen);

#endif
