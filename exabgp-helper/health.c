// SPDX-License-Identifier: Apache-2.0
/*
 * health.c - parse HEALTH_URL and probe it: a plain HTTP/1.0 GET over a
 * non-blocking socket, every step bounded by one deadline through poll().
 *
 * HTTP/1.0 with "Connection: close" makes the server end the answer by
 * closing, so no chunking or lengths need parsing: the status line is all
 * that decides, and the first line of the body only explains a refusal in
 * the log (the controller's /readyz says why in one line).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "health.h"
#include "log.h"

/* Path characters that are valid in a URL and mean nothing to exabgp's
 * tokeniser: the URL is written into exabgp.conf as one word. */
static const char path_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                 "-._~/%!$&()*+,=:@?";

int health_url_parse(const char *v, struct health_url *out, char *why, size_t whylen)
{
    const char *p, *hend, *port, *path;
    char host[NETADDR_STRLEN + 2], num[8];
    size_t n;

    memset(out, 0, sizeof(*out));
    if (strncmp(v, "http://", 7) != 0) {
        snprintf(why, whylen, "%s",
                 strncmp(v, "https://", 8) ? "not an http:// URL"
                                           : "https is not supported in-pod");
        return -EINVAL;
    }
    p = v + 7;
    path = strchr(p, '/');
    if (!path) {
        snprintf(why, whylen, "no path");
        return -EINVAL;
    }
    /* the host ends at the last ':' before the path, after any ']' */
    hend = p;
    if (*p == '[') {
        const char *rb = memchr(p, ']', (size_t)(path - p));
        if (!rb) {
            snprintf(why, whylen, "unclosed [");
            return -EINVAL;
        }
        hend = rb + 1;
    } else {
        while (hend < path && *hend != ':')
            hend++;
    }
    if (hend >= path || *hend != ':') {
        snprintf(why, whylen, "no port");
        return -EINVAL;
    }
    n = (size_t)(hend - p);
    if (n == 0 || n >= sizeof(host)) {
        snprintf(why, whylen, "no host");
        return -EINVAL;
    }
    memcpy(host, p, n);
    host[n] = '\0';
    port = hend + 1;
    n = (size_t)(path - port);
    if (n == 0 || n >= sizeof(num)) {
        snprintf(why, whylen, "bad port");
        return -EINVAL;
    }
    memcpy(num, port, n);
    num[n] = '\0';
    if (port_parse(num, &out->port) < 0) {
        snprintf(why, whylen, "bad port");
        return -EINVAL;
    }
    if (!strcmp(host, "localhost")) {
        /* the name every pod has; not resolved, the loopback address is meant */
        netaddr_parse("127.0.0.1", &out->addr);
    } else if (host[0] == '[') {
        char bare[NETADDR_STRLEN + 2];
        snprintf(bare, sizeof(bare), "%.*s", (int)(strlen(host) - 2), host + 1);
        if (netaddr_parse(bare, &out->addr) < 0 || out->addr.family != AF_INET6) {
            snprintf(why, whylen, "the host is not an IP address or localhost");
            return -EINVAL;
        }
    } else if (netaddr_parse(host, &out->addr) < 0 || out->addr.family != AF_INET) {
        snprintf(why, whylen, "the host is not an IP address or localhost");
        return -EINVAL;
    }
    snprintf(out->host, sizeof(out->host), "%s", host);
    if (strlen(path) > HEALTH_PATH_MAX || strspn(path, path_chars) != strlen(path)) {
        snprintf(why, whylen,
                 "the path has characters outside [A-Za-z0-9-._~/%%!$&()*+,=:@?] "
                 "or is longer than %d",
                 HEALTH_PATH_MAX);
        return -EINVAL;
    }
    snprintf(out->path, sizeof(out->path), "%s", path);
    return 0;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until deadline; 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - now_ms();
        struct pollfd pfd = {.fd = fd, .events = events};
        int n;

        if (left <= 0)
            return -ETIMEDOUT;
        n = poll(&pfd, 1, (int)left);
        if (n > 0)
            return 0;
        if (n == 0)
            return -ETIMEDOUT;
        if (errno != EINTR)
            return -errno;
    }
}

static void set_reason(struct health_result *res, int rc, int timeout_ms)
{
    if (rc == -ETIMEDOUT)
        snprintf(res->reason, sizeof(res->reason), "timed out after %d ms", timeout_ms);
    else if (rc == -ECONNREFUSED)
        snprintf(res->reason, sizeof(res->reason), "connection refused");
    else if (rc == -EPROTO)
        snprintf(res->reason, sizeof(res->reason), "not an HTTP answer");
    else if (rc == -ENODATA)
        snprintf(res->reason, sizeof(res->reason), "closed without an answer");
    else
        snprintf(res->reason, sizeof(res->reason), "%s", strerror(-rc));
}

/* "HTTP/1.x NNN ..." at the start of buf; 0 and *status, or -EPROTO. */
static int parse_status(const char *buf, int *status)
{
    if (strncmp(buf, "HTTP/1.", 7) != 0 || !buf[7] || buf[8] != ' ')
        return -EPROTO;
    if (buf[9] < '1' || buf[9] > '5' || buf[10] < '0' || buf[10] > '9' || buf[11] < '0' ||
        buf[11] > '9' || (buf[12] != ' ' && buf[12] != '\r' && buf[12] != '\n'))
        return -EPROTO;
    *status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    return 0;
}

int health_probe(const struct health_url *u, int timeout_ms, struct health_result *res)
{
    long long deadline = now_ms() + timeout_ms;
    struct sockaddr_storage ss;
    socklen_t sl;
    char req[HEALTH_PATH_MAX + 160], buf[1025];
    size_t got = 0;
    int fd, rc = 0, len, soerr = 0;
    socklen_t el = sizeof(soerr);

    res->status = 0;
    res->reason[0] = '\0';
    memset(&ss, 0, sizeof(ss));
    if (u->addr.family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(u->port);
        s4->sin_addr = u->addr.u.v4;
        sl = sizeof(*s4);
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(u->port);
        s6->sin6_addr = u->addr.u.v6;
        sl = sizeof(*s6);
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
        if (errno != EINPROGRESS) {
            rc = -errno;
            goto out;
        }
        rc = wait_fd(fd, POLLOUT, deadline);
        if (rc == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el) < 0)
            rc = -errno;
        if (rc == 0 && soerr)
            rc = -soerr;
        if (rc < 0)
            goto out;
    }
    len = snprintf(req, sizeof(req),
                   "GET %s HTTP/1.0\r\nHost: %s:%u\r\nUser-Agent: exabgp-helper\r\n"
                   "Connection: close\r\n\r\n",
                   u->path, u->host, (unsigned)u->port);
    /* a fresh socket's send buffer takes these few hundred bytes at once */
    if (send(fd, req, (size_t)len, MSG_NOSIGNAL) != len) {
        rc = errno ? -errno : -EIO;
        goto out;
    }
    /* the answer until the server closes, the buffer is full, or time is up */
    while (got < sizeof(buf) - 1) {
        ssize_t r;
        rc = wait_fd(fd, POLLIN, deadline);
        if (rc < 0)
            break;
        r = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
        if (r == 0)
            break;
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            rc = -errno;
            break;
        }
        got += (size_t)r;
    }
    buf[got] = '\0';
    /* a status line is an answer, even if the rest of it was slow */
    if (memchr(buf, '\n', got) && parse_status(buf, &res->status) == 0) {
        const char *body = strstr(buf, "\r\n\r\n");
        char line[100] = "", show[100];

        rc = 0;
        if (body) {
            body += 4;
            snprintf(line, sizeof(line), "%.*s", (int)strcspn(body, "\r\n"), body);
        }
        if (res->status != 200 && line[0])
            snprintf(res->reason, sizeof(res->reason), "HTTP %d: %s", res->status,
                     log_excerpt(line, show, sizeof(show)));
        else
            snprintf(res->reason, sizeof(res->reason), "HTTP %d", res->status);
    } else if (rc == 0) {
        rc = got ? -EPROTO : -ENODATA;
    }
out:
    if (rc < 0)
        set_reason(res, rc, timeout_ms);
    if (fd >= 0)
        close(fd);
    return rc;
}
