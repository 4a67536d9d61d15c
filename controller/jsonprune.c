// SPDX-License-Identifier: Apache-2.0
/*
 * jsonprune.c - incremental JSON parser that keeps only a schema's paths
 * (see jsonprune.h).
 *
 * A byte-at-a-time state machine: a lexer for the token being read
 * (string, number, literal) and a parser state for what may come next,
 * with one frame per open container.  Nothing is recursive, so nesting
 * costs a frame, not stack; and nothing is buffered but the token being
 * kept, so skipped values cost nothing however large or deep they are.
 *
 * Skipped strings are checked for control characters and escapes (and
 * their surrogate pairs); only kept strings are checked for UTF-8, by
 * jansson when they become values.  Duplicate member names are refused
 * where they are kept, as json_loadb's JSON_REJECT_DUPLICATES did.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonprune.h"

#define NUM_MAX 64 /* a kept number longer than this is a truncation */

struct jp_frame {
    bool is_obj;
    bool keep;  /* this container is kept: its members/elements may be */
    bool each;  /* array whose elements go to the callback */
    bool owned; /* node is not in the tree yet (an "each" element) */
    const struct jsonprune_schema *schema;
    const struct jsonprune_field *field; /* object: the current member's, or NULL */
    json_t *node;                        /* the kept container */
    size_t saved_values, saved_str;      /* each: the enclosing unit's counters */
    bool saved_truncated;
};

enum { S_VALUE, S_VALUE_OR_END, S_KEY_OR_END, S_KEY, S_COLON, S_COMMA_OR_END, S_DONE };

enum { L_NONE, L_STR, L_ESC, L_U, L_SURR1, L_SURR2, L_NUM, L_LIT };

/* Number sub-states (lex_n while lex == L_NUM). */
enum { N_MINUS, N_ZERO, N_INT, N_DOT, N_FRAC, N_E, N_ESIGN, N_EXP };

const struct jsonprune_schema jsonprune_leaf = {0};

static const char *const literals[] = {"true", "false", "null"};

static int bad(struct jsonprune *jp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(struct jsonprune *jp, const char *fmt, ...)
{
    char what[96];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(jp->err, sizeof(jp->err), "invalid JSON at byte %zu: %s", jp->offset, what);
    return -EBADMSG;
}

int jsonprune_init(struct jsonprune *jp, const struct jsonprune_schema *schema,
                   const struct jsonprune_limits *lim, jsonprune_each_fn each, void *arg)
{
    memset(jp, 0, sizeof(*jp));
    jp->stack = calloc(JSONPRUNE_MAX_DEPTH, sizeof(*jp->stack));
    if (!jp->stack)
        return -ENOMEM;
    jp->schema = schema;
    jp->lim = *lim;
    jp->each = each;
    jp->arg = arg;
    jp->state = S_VALUE;
    jp->lex = L_NONE;
    buf_init(&jp->tok, lim->max_string_bytes > NUM_MAX ? lim->max_string_bytes : NUM_MAX);
    return 0;
}

void jsonprune_free(struct jsonprune *jp)
{
    if (jp->stack) {
        for (unsigned i = 0; i < jp->depth; i++) {
            if (jp->stack[i].owned)
                json_decref(jp->stack[i].node);
        }
    }
    free(jp->stack);
    json_decref(jp->root);
    buf_free(&jp->tok);
    jp->stack = NULL;
    jp->root = NULL;
    jp->depth = 0;
}

static struct jp_frame *top(struct jsonprune *jp)
{
    return jp->depth ? &jp->stack[jp->depth - 1] : NULL;
}

static const struct jsonprune_field *find_field(const struct jsonprune_schema *s, const char *key,
                                                size_t len)
{
    if (!s->fields)
        return NULL;
    for (const struct jsonprune_field *f = s->fields; f->key; f++) {
        if (strlen(f->key) == len && memcmp(f->key, key, len) == 0)
            return f;
    }
    return NULL;
}

/*
 * A value starts here: decide whether it is kept (and by which schema),
 * opening a new unit when it is an element of an "each" array, and charge
 * it to the unit's budget.
 */
static bool value_begin(struct jsonprune *jp, const struct jsonprune_schema **schema)
{
    struct jp_frame *f = top(jp);

    if (!f) {
        *schema = jp->schema;
    } else if (!f->keep) {
        return false;
    } else if (f->is_obj) {
        if (!f->field)
            return false;
        *schema = f->field->schema;
    } else {
        if (!f->schema->elem)
            return false;
        *schema = f->schema->elem;
        if (f->each) {
            f->saved_values = jp->values;
            f->saved_str = jp->str_bytes;
            f->saved_truncated = jp->truncated;
            jp->values = jp->str_bytes = 0;
            jp->truncated = false;
        }
    }
    if (jp->values >= jp->lim.max_values) {
        jp->truncated = true;
        return false;
    }
    jp->values++;
    return true;
}

/* Put a complete kept value in its place; steals v. */
static int attach(struct jsonprune *jp, json_t *v)
{
    struct jp_frame *f = top(jp);
    int rc = 0;

    if (!f) {
        jp->root = v;
        return 0;
    }
    if (f->is_obj) {
        if (json_object_get(f->node, f->field->key)) {
            json_decref(v);
            return bad(jp, "duplicate member \"%s\"", f->field->key);
        }
        if (json_object_set_new(f->node, f->field->key, v) < 0)
            return -ENOMEM;
        return 0;
    }
    if (f->each) {
        rc = jp->each ? jp->each(jp->arg, v, jp->truncated) : 0;
        json_decref(v);
        jp->values = f->saved_values;
        jp->str_bytes = f->saved_str;
        jp->truncated = f->saved_truncated;
        return rc;
    }
    return json_array_append_new(f->node, v) < 0 ? -ENOMEM : 0;
}

static void value_end(struct jsonprune *jp)
{
    jp->state = jp->depth ? S_COMMA_OR_END : S_DONE;
}

static int open_container(struct jsonprune *jp, bool is_obj)
{
    const struct jsonprune_schema *s = NULL;
    bool keep = value_begin(jp, &s);
    struct jp_frame *parent = top(jp), *f;
    bool owned = parent && parent->each;
    json_t *node = NULL;
    int rc;

    if (jp->depth == JSONPRUNE_MAX_DEPTH)
        return bad(jp, "nested deeper than %d", JSONPRUNE_MAX_DEPTH);
    if (keep) {
        node = is_obj ? json_object() : json_array();
        if (!node)
            return -ENOMEM;
        if (!owned) {
            json_incref(node); /* the frame's reference while it is open */
            rc = attach(jp, node);
            if (rc < 0) {
                json_decref(node);
                return rc;
            }
            json_decref(node);
        }
    }
    f = &jp->stack[jp->depth++];
    memset(f, 0, sizeof(*f));
    f->is_obj = is_obj;
    f->keep = keep;
    f->owned = keep && owned;
    f->schema = s;
    f->node = node;
    f->each = keep && !is_obj && s->each && s->elem;
    jp->state = is_obj ? S_KEY_OR_END : S_VALUE_OR_END;
    return 0;
}

static int close_container(struct jsonprune *jp)
{
    struct jp_frame f = jp->stack[--jp->depth];
    int rc = 0;

    if (f.owned)
        rc = attach(jp, f.node);
    value_end(jp);
    return rc;
}

/* Collect one byte of a kept token, within its cap. */
static void tok_put(struct jsonprune *jp, const char *p, size_t n)
{
    size_t cap = jp->tok_key ? JSONPRUNE_KEY_MAX
                 : jp->lex == L_NUM
                     ? NUM_MAX
                     : jp->lim.max_string_bytes - (jp->str_bytes < jp->lim.max_string_bytes
                                                       ? jp->str_bytes
                                                       : jp->lim.max_string_bytes);

    if (!jp->tok_keep)
        return;
    if (jp->tok.len + n > cap || buf_append(&jp->tok, p, n) < 0) {
        jp->tok_keep = false;
        if (!jp->tok_key)
            jp->truncated = true;
    }
}

static void put_utf8(struct jsonprune *jp, uint32_t u)
{
    char b[4];
    size_t n;

    if (u < 0x80) {
        b[0] = (char)u;
        n = 1;
    } else if (u < 0x800) {
        b[0] = (char)(0xc0 | (u >> 6));
        b[1] = (char)(0x80 | (u & 0x3f));
        n = 2;
    } else if (u < 0x10000) {
        b[0] = (char)(0xe0 | (u >> 12));
        b[1] = (char)(0x80 | ((u >> 6) & 0x3f));
        b[2] = (char)(0x80 | (u & 0x3f));
        n = 3;
    } else {
        b[0] = (char)(0xf0 | (u >> 18));
        b[1] = (char)(0x80 | ((u >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((u >> 6) & 0x3f));
        b[3] = (char)(0x80 | (u & 0x3f));
        n = 4;
    }
    tok_put(jp, b, n);
}

static void tok_begin(struct jsonprune *jp, int lex, bool keep, bool key)
{
    jp->lex = lex;
    jp->lex_n = 0;
    jp->tok_keep = keep;
    jp->tok_key = key;
    jp->tok_float = false;
    jp->high_surrogate = 0;
    buf_reset(&jp->tok);
}

/*
 * A scalar was read but not kept.  An element of an "each" array is still
 * handed over (as null, truncated: it was over a cap) so that no element
 * goes missing silently.
 */
static int dropped(struct jsonprune *jp)
{
    struct jp_frame *f = top(jp);

    if (!f || !f->each)
        return 0;
    jp->truncated = true;
    return attach(jp, json_null());
}

/* A string ended: a member name selects the member's schema; a value is kept. */
static int string_end(struct jsonprune *jp)
{
    struct jp_frame *f = top(jp);
    json_t *v;

    jp->lex = L_NONE;
    if (jp->tok_key) {
        f->field = jp->tok_keep
                       ? find_field(f->schema, jp->tok.data ? jp->tok.data : "", jp->tok.len)
                       : NULL;
        jp->state = S_COLON;
        return 0;
    }
    if (jp->tok_keep) {
        if (memchr(jp->tok.data ? jp->tok.data : "", '\0', jp->tok.len))
            return bad(jp, "\\u0000 in a string");
        v = json_stringn(jp->tok.data ? jp->tok.data : "", jp->tok.len);
        if (!v)
            return bad(jp, "string is not valid UTF-8");
        jp->str_bytes += jp->tok.len;
        int rc = attach(jp, v);
        if (rc < 0)
            return rc;
    } else {
        int rc = dropped(jp);
        if (rc < 0)
            return rc;
    }
    value_end(jp);
    return 0;
}

static int number_end(struct jsonprune *jp)
{
    json_t *v = NULL;
    char *end;

    jp->lex = L_NONE;
    if (jp->tok_keep) {
        errno = 0;
        if (jp->tok_float) {
            double d = strtod(jp->tok.data, &end);
            if (errno != ERANGE)
                v = json_real(d);
        } else {
            long long i = strtoll(jp->tok.data, &end, 10);
            if (errno != ERANGE)
                v = json_integer(i);
        }
        if (!v)
            jp->truncated = true; /* out of range: the unit cannot be trusted */
    }
    int rc = v ? attach(jp, v) : dropped(jp);
    if (rc < 0)
        return rc;
    value_end(jp);
    return 0;
}

static int literal_end(struct jsonprune *jp)
{
    static json_t *(*const make[])(void) = {json_true, json_false, json_null};

    int rc;

    jp->lex = L_NONE;
    rc = jp->tok_keep ? attach(jp, make[jp->hex]()) : dropped(jp);
    if (rc < 0)
        return rc;
    value_end(jp);
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The four hex digits of a \u escape are in jp->hex. */
static int escape_end(struct jsonprune *jp)
{
    unsigned u = jp->hex;

    jp->lex = L_STR;
    if (jp->high_surrogate) {
        if (u < 0xdc00 || u > 0xdfff)
            return bad(jp, "invalid Unicode escape");
        put_utf8(jp, 0x10000 + ((jp->high_surrogate - 0xd800) << 10) + (u - 0xdc00));
        jp->high_surrogate = 0;
        return 0;
    }
    if (u >= 0xd800 && u <= 0xdbff) {
        jp->high_surrogate = u;
        jp->lex = L_SURR1;
        return 0;
    }
    if (u >= 0xdc00 && u <= 0xdfff)
        return bad(jp, "invalid Unicode escape");
    put_utf8(jp, u);
    return 0;
}

/* One byte inside a string. */
static int lex_string(struct jsonprune *jp, char c)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *p;
    int h;

    switch (jp->lex) {
    case L_STR:
        if (c == '"')
            return string_end(jp);
        if (c == '\\') {
            jp->lex = L_ESC;
            return 0;
        }
        if ((unsigned char)c < 0x20)
            return bad(jp, "control character in a string");
        tok_put(jp, &c, 1);
        return 0;
    case L_ESC:
        if (c == 'u') {
            jp->lex = L_U;
            jp->lex_n = 0;
            jp->hex = 0;
            return 0;
        }
        p = c ? strchr(from, c) : NULL;
        if (!p)
            return bad(jp, "invalid escape");
        tok_put(jp, &to[p - from], 1);
        jp->lex = L_STR;
        return 0;
    case L_U:
        h = hexval(c);
        if (h < 0)
            return bad(jp, "invalid \\u escape");
        jp->hex = jp->hex << 4 | (unsigned)h;
        if (++jp->lex_n == 4)
            return escape_end(jp);
        return 0;
    case L_SURR1:
        if (c != '\\')
            return bad(jp, "invalid Unicode escape");
        jp->lex = L_SURR2;
        return 0;
    default: /* L_SURR2 */
        if (c != 'u')
            return bad(jp, "invalid Unicode escape");
        jp->lex = L_U;
        jp->lex_n = 0;
        jp->hex = 0;
        return 0;
    }
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Next number sub-state after c, or -1 when c does not continue the number. */
static int number_next(int st, char c)
{
    switch (st) {
    case N_MINUS:
        return c == '0' ? N_ZERO : is_digit(c) ? N_INT : -1;
    case N_ZERO:
    case N_INT:
        if (c == '.')
            return N_DOT;
        if (c == 'e' || c == 'E')
            return N_E;
        return st == N_INT && is_digit(c) ? N_INT : -1;
    case N_DOT:
    case N_FRAC:
        if (is_digit(c))
            return N_FRAC;
        return st == N_FRAC && (c == 'e' || c == 'E') ? N_E : -1;
    case N_E:
        return c == '+' || c == '-' ? N_ESIGN : is_digit(c) ? N_EXP : -1;
    default: /* N_ESIGN, N_EXP */
        return is_digit(c) ? N_EXP : -1;
    }
}

static bool number_complete(int st)
{
    return st == N_ZERO || st == N_INT || st == N_FRAC || st == N_EXP;
}

/*
 * One byte inside a number.  Returns 1 when the number ended before c
 * (c must then be read again as the next token), 0, or an error.
 */
static int lex_number(struct jsonprune *jp, char c)
{
    int next = number_next((int)jp->lex_n, c);

    if (next < 0) {
        if (!number_complete((int)jp->lex_n))
            return bad(jp, "invalid number");
        int rc = number_end(jp);
        return rc < 0 ? rc : 1;
    }
    if (next == N_DOT || next == N_E)
        jp->tok_float = true;
    jp->lex_n = (unsigned)next;
    tok_put(jp, &c, 1);
    return 0;
}

static int lex_literal(struct jsonprune *jp, char c)
{
    const char *lit = literals[jp->hex];

    if (c != lit[jp->lex_n])
        return bad(jp, "invalid literal");
    if (lit[++jp->lex_n] == '\0')
        return literal_end(jp);
    return 0;
}

static int value_start(struct jsonprune *jp, char c)
{
    const struct jsonprune_schema *s;
    bool keep;

    if (c == '{' || c == '[')
        return open_container(jp, c == '{');
    if (c == '"' || c == '-' || is_digit(c) || c == 't' || c == 'f' || c == 'n') {
        keep = value_begin(jp, &s);
        if (c == '"') {
            tok_begin(jp, L_STR, keep, false);
        } else if (c == '-' || is_digit(c)) {
            tok_begin(jp, L_NUM, keep, false);
            jp->lex_n = c == '-' ? N_MINUS : c == '0' ? N_ZERO : N_INT;
            tok_put(jp, &c, 1);
        } else {
            tok_begin(jp, L_LIT, keep, false);
            jp->hex = c == 't' ? 0 : c == 'f' ? 1 : 2;
            jp->lex_n = 1;
        }
        return 0;
    }
    if (c > ' ' && c < 0x7f)
        return bad(jp, "unexpected '%c'", c);
    return bad(jp, "unexpected byte 0x%02x", (unsigned char)c);
}

/* One byte between tokens. */
static int parse(struct jsonprune *jp, char c)
{
    struct jp_frame *f = top(jp);

    if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
        return 0;
    switch (jp->state) {
    case S_VALUE_OR_END:
        if (c == ']')
            return close_container(jp);
        /* fall through */
    case S_VALUE:
        return value_start(jp, c);
    case S_KEY_OR_END:
        if (c == '}')
            return close_container(jp);
        /* fall through */
    case S_KEY:
        if (c != '"')
            return bad(jp, "expected a member name");
        f->field = NULL;
        tok_begin(jp, L_STR, f->keep && f->schema->fields, true);
        return 0;
    case S_COLON:
        if (c != ':')
            return bad(jp, "expected ':'");
        jp->state = S_VALUE;
        return 0;
    case S_COMMA_OR_END:
        if (c == ',') {
            jp->state = f->is_obj ? S_KEY : S_VALUE;
            return 0;
        }
        if (c == (f->is_obj ? '}' : ']'))
            return close_container(jp);
        return bad(jp, "expected ',' or '%c'", f->is_obj ? '}' : ']');
    default: /* S_DONE */
        return bad(jp, "data after the document");
    }
}

int jsonprune_feed(struct jsonprune *jp, const char *data, size_t len)
{
    int rc;

    for (size_t i = 0; i < len; i++, jp->offset++) {
        char c = data[i];

        switch (jp->lex) {
        case L_NONE:
            rc = parse(jp, c);
            break;
        case L_NUM:
            rc = lex_number(jp, c);
            if (rc == 1)
                rc = parse(jp, c);
            break;
        case L_LIT:
            rc = lex_literal(jp, c);
            break;
        default:
            rc = lex_string(jp, c);
            break;
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

int jsonprune_finish(struct jsonprune *jp, json_t **root, bool *truncated)
{
    int rc;

    if (jp->lex == L_NUM && jp->depth == 0 && number_complete((int)jp->lex_n)) {
        rc = number_end(jp);
        if (rc < 0)
            return rc;
    }
    if (jp->state != S_DONE || jp->lex != L_NONE)
        return bad(jp, jp->offset ? "the document ends early" : "no document");
    *root = jp->root;
    *truncated = jp->truncated;
    jp->root = NULL;
    return 0;
}

int jsonprune_buffer(const char *data, size_t len, const struct jsonprune_schema *schema,
                     const struct jsonprune_limits *lim, json_t **root, bool *truncated, char *err,
                     size_t errlen)
{
    struct jsonprune jp;
    int rc = jsonprune_init(&jp, schema, lim, NULL, NULL);

    if (rc == 0)
        rc = jsonprune_feed(&jp, data, len);
    if (rc == 0)
        rc = jsonprune_finish(&jp, root, truncated);
    if (rc < 0)
        snprintf(err, errlen, "%s", rc == -ENOMEM ? "out of memory" : jp.err);
    jsonprune_free(&jp);
    return rc;
}
