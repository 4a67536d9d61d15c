// SPDX-License-Identifier: Apache-2.0
/*
 * test_helper_health.c - the health gate's two pure parts: one probe of a
 * local server that answers each case's canned bytes (or nothing), and
 * the rise/fall state machine, both as tables.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "gate.h"
#include "health.h"

struct probe_case {
    const char *answer; /* NULL: accept and never answer; "" : close at once */
    bool listen;        /* false: nobody listens (refused) */
    int rc;             /* 0 or the negative errno */
    int status;
    const char *reason;
};

static const struct probe_case probes[] = {
    {"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n", true, 0, 200, "HTTP 200"},
    {"HTTP/1.1 503 Service Unavailable\r\n\r\nkeepalived is not running\n", true, 0, 503,
     "HTTP 503: keepalived is not running"},
    /* a hostile body cannot break the log line */
    {"HTTP/1.0 500 x\r\n\r\nbad\x1b[31m\tthing\r\nsecond line", true, 0, 500,
     "HTTP 500: bad?[31m?thing"},
    {"HTTP/1.0 404\r\n\r\n", true, 0, 404, "HTTP 404"},
    {"SSH-2.0-OpenSSH\r\n", true, -EPROTO, 0, "not an HTTP answer"},
    {"HTTP/1.0 2000 OK\r\n\r\n", true, -EPROTO, 0, "not an HTTP answer"},
    {"HTTP/1.0 200", true, -EPROTO, 0, "not an HTTP answer"}, /* no end of line */
    {"", true, -ENODATA, 0, "closed without an answer"},
    {NULL, true, -ETIMEDOUT, 0, "timed out after 200 ms"},
    {"unused", false, -ECONNREFUSED, 0, "connection refused"},
};

/* A server for one connection on 127.0.0.1; returns its port, *child its pid. */
static uint16_t serve_once(const struct probe_case *c, pid_t *child)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    *child = 0;
    if (!c->listen) {
        close(fd); /* the port was free a moment ago: nobody listens on it now */
        return ntohs(sa.sin_port);
    }
    assert_int_equal(listen(fd, 1), 0);
    *child = fork();
    assert_true(*child >= 0);
    if (*child == 0) {
        char req[1024];
        int cfd = accept(fd, NULL, NULL);
        ssize_t n = cfd >= 0 ? recv(cfd, req, sizeof(req), 0) : -1;
        if (n > 0 && strncmp(req, "GET /readyz HTTP/1.0\r\n", 22) != 0)
            _exit(3);
        if (!c->answer)
            pause();
        if (send(cfd, c->answer, strlen(c->answer), MSG_NOSIGNAL) < 0)
            _exit(1);
        _exit(0);
    }
    close(fd);
    return ntohs(sa.sin_port);
}

static void probe_cases(void **state)
{
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        const struct probe_case *c = &probes[i];
        struct health_url u;
        struct health_result res;
        char url[64], why[128];
        pid_t child;
        int rc, st;

        snprintf(url, sizeof(url), "http://127.0.0.1:%u/readyz", serve_once(c, &child));
        assert_int_equal(health_url_parse(url, &u, why, sizeof(why)), 0);
        rc = health_probe(&u, 200, &res);
        if (child) {
            kill(child, SIGKILL);
            waitpid(child, &st, 0);
        }
        if (rc != c->rc || res.status != c->status || strcmp(res.reason, c->reason) != 0)
            fail_msg("case %zu: rc %d status %d \"%s\", want rc %d status %d \"%s\"", i, rc,
                     res.status, res.reason, c->rc, c->status, c->reason);
    }
}

/* results in, announcements and withdrawals out, one letter each */
static const struct {
    const char *in;   /* o: a 200, x: a failure */
    const char *want; /* per result: . nothing, A announce, W withdraw */
} steps[] = {
    {"oo", ".A"},         /* rise: two 200s */
    {"xx", ".W"},         /* fall: two failures, also from the start */
    {"oxoxox", "......"}, /* flapping decides nothing */
    {"ooxoo", ".A...."},  /* one failure does not withdraw */
    {"ooxx", ".A.W"},     {"ooxxoo", ".A.W.A"},
    {"oooooo", ".A...."}, /* announced once, not again */
    {"xxxxoo", ".W...A"},
};

static void state_machine(void **state)
{
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        struct gate_state g = {GATE_UNKNOWN, 0, 0};
        char got[16] = "";

        for (size_t j = 0; steps[i].in[j]; j++) {
            enum gate_action a = gate_step(&g, steps[i].in[j] == 'o');
            got[j] = a == GATE_ANNOUNCE ? 'A' : a == GATE_WITHDRAW ? 'W' : '.';
        }
        got[strlen(steps[i].in)] = '\0';
        if (strncmp(got, steps[i].want, strlen(steps[i].in)) != 0)
            fail_msg("%s: got %s, want %s", steps[i].in, got, steps[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(probe_cases),
        cmocka_unit_test(state_machine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
