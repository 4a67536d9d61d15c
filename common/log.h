/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.h - one logfmt line per event on stderr.
 *
 * Every message names what it is about through key/value pairs:
 *
 *     log_warn("skipping endpoint", "pod", name, "reason", why, NULL);
 *
 * Values are quoted and escaped as logfmt needs, so nothing read from the
 * network can break a line in two or forge a key.  Numbers go through
 * LOG_INT(), which formats into a temporary buffer of the calling statement.
 */
#ifndef LB_LOG_H
#define LB_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Set the program name printed as prog= and the lowest level printed. */
void log_init(const char *prog, enum log_level min);

/* Parse "debug", "info", "warn" or "error"; returns 0 or -1. */
int log_level_parse(const char *s, enum log_level *out);

bool log_enabled(enum log_level level);

/* Write one line: msg, then NULL-terminated key, value pairs (value may be NULL). */
void log_write(enum log_level level, const char *msg, ...) __attribute__((sentinel));

#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

/* Format n into buf (at least 24 bytes) and return buf. */
const char *log_fmt_int(char *buf, long long n);
#define LOG_INT(n) log_fmt_int((char[24]){0}, (long long)(n))

/* Append s to out (size outlen) as one logfmt value, quoted when needed. */
void log_quote(char *out, size_t outlen, const char *s);

/*
 * The first outlen-1 characters of v for a one-line message, control
 * characters shown as '?': a bad value is named without breaking the line.
 */
const char *log_excerpt(const char *v, char *out, size_t outlen);

#endif
