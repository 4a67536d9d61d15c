// SPDX-License-Identifier: Apache-2.0
/*
 * log.c - logfmt lines on stderr.
 *
 * A line is assembled in one buffer and written with one write(2), so lines
 * from a parent and its children never interleave mid-line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX 2048

static const char *log_prog = "lb";
static enum log_level log_min = LOG_INFO;

static const char *const level_names[] = {
    [LOG_DEBUG] = "debug",
    [LOG_INFO] = "info",
    [LOG_WARN] = "warn",
    [LOG_ERROR] = "error",
};

void log_init(const char *prog, enum log_level min)
{
    log_prog = prog;
    log_min = min;
}

int log_level_parse(const char *s, enum log_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

bool log_enabled(enum log_level level)
{
    return level >= log_min;
}

const char *log_fmt_int(char *buf, long long n)
{
    snprintf(buf, 24, "%lld", n);
    return buf;
}

static bool needs_quotes(const char *s)
{
    if (*s == '\0')
        return true;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
            return true;
    }
    return false;
}

void log_quote(char *out, size_t outlen, const char *s)
{
    size_t n = strlen(out);
    bool q = needs_quotes(s);

#define PUT(ch)                                                                                    \
    do {                                                                                           \
        if (n + 1 < outlen)                                                                        \
            out[n++] = (ch);                                                                       \
    } while (0)

    if (q)
        PUT('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            PUT('\\');
            PUT((char)c);
        } else if (c == '\n') {
            PUT('\\');
            PUT('n');
        } else if (c < ' ' || c == 0x7f) {
            char hex[5];
            snprintf(hex, sizeof(hex), "\\x%02x", c);
            for (int i = 0; i < 4; i++)
                PUT(hex[i]);
        } else {
            PUT((char)c);
        }
    }
    if (q)
        PUT('"');
#undef PUT
    out[n < outlen ? n : outlen - 1] = '\0';
}

static void append(char *line, const char *s)
{
    size_t n = strlen(line);
    snprintf(line + n, LOG_LINE_MAX - n, "%s", s);
}

void log_write(enum log_level level, const char *msg, ...)
{
    char line[LOG_LINE_MAX];
    struct timeval tv;
    struct tm tm;
    va_list ap;

    if (!log_enabled(level))
        return;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    snprintf(line, sizeof(line),
             "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s prog=", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv.tv_usec / 1000,
             level_names[level]);
    log_quote(line, sizeof(line), log_prog);
    append(line, " msg=");
    log_quote(line, sizeof(line), msg);

    va_start(ap, msg);
    for (;;) {
        const char *key = va_arg(ap, const char *);
        const char *val;
        if (!key)
            break;
        val = va_arg(ap, const char *);
        append(line, " ");
        append(line, key);
        append(line, "=");
        log_quote(line, sizeof(line), val ? val : "");
    }
    va_end(ap);

    size_t n = strlen(line);
    if (n >= sizeof(line) - 1)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    ssize_t unused = write(STDERR_FILENO, line, n);
    (void)unused;
}

const char *log_excerpt(const char *v, char *out, size_t outlen)
{
    size_t i = 0;

    for (; v[i] && i + 1 < outlen; i++)
        out[i] = (unsigned char)v[i] < ' ' || v[i] == 0x7f ? '?' : v[i];
    out[i] = '\0';
    return out;
}
