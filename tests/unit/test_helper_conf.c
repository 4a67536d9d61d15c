// SPDX-License-Identifier: Apache-2.0
/*
 * test_helper_conf.c - golden exabgp.conf files, one directory per case
 * under tests/exabgp-conf/NNN-name/:
 *
 *   env            the environment, one VAR=value per line (POD_IP and
 *                  NODE_IP given: discovery is the namespace tests' job)
 *   expected.conf  the file run must write
 *   routes         optional: what --dry-run prints for the routes
 *
 * Paths in env are relative to the case directory.  The case goes through
 * the helper's own option parser, password reader and renderer.
 * Set UPDATE_GOLDEN=1 to rewrite the expected files.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "atomicfile.h"
#include "conf.h"
#include "options.h"

static const char *conf_dir;
static int update_golden; /* read before each case clears the environment */

static void compare(const char *dir, const char *name, const struct buf *got)
{
    char path[1024];
    char *want = NULL;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (update_golden) {
        assert_int_equal(atomic_write_file(path, got->data, got->len, 0644), 0);
        return;
    }
    if (read_small_file(path, 1 << 20, &want, NULL) < 0)
        fail_msg("%s: no %s (run with UPDATE_GOLDEN=1 to create it)", dir, name);
    if (strcmp(got->data, want) != 0)
        fail_msg("%s: rendered %s differs; got:\n%s", dir, name, got->data);
    free(want);
}

static void run_case(void **state)
{
    const char *dir = *state;
    char path[1024], *env = NULL, err[512], *save = NULL;
    struct helper_config cfg;
    struct plan plan = {.cfg = &cfg};
    struct buf out;
    char *argv[] = {"exabgp-helper", NULL};

    assert_int_equal(clearenv(), 0);
    snprintf(path, sizeof(path), "%s/env", dir);
    if (read_small_file(path, 1 << 16, &env, NULL) < 0)
        fail_msg("cannot read %s", path);
    for (char *line = strtok_r(env, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        if (line[0] == '#' || !eq)
            continue;
        *eq = '\0';
        setenv(line, eq + 1, 1);
    }
    assert_int_equal(chdir(dir), 0);
    if (helper_options_parse(1, argv, &cfg, err, sizeof(err)) != OPT_OK)
        fail_msg("%s: options rejected: %s", dir, err);
    if (cfg.md5_password_file &&
        helper_read_md5(cfg.md5_password_file, &plan.md5, err, sizeof(err)) < 0)
        fail_msg("%s: %s", dir, err);
    plan.pod_ip = cfg.pod_ip;
    plan.node_ip = cfg.node_ip;
    plan.router_id = cfg.router_id_set ? cfg.router_id : cfg.pod_ip;
    snprintf(plan.node_ifname, sizeof(plan.node_ifname), "docker0");
    /* where the image installs it; validate.sh puts a real program there */
    snprintf(plan.self, sizeof(plan.self), "/usr/local/bin/exabgp-helper");

    buf_init(&out, 1 << 20);
    assert_int_equal(conf_render(&plan, true, &out), 0);
    compare(dir, "expected.conf", &out);
    buf_reset(&out);
    assert_int_equal(conf_render(&plan, false, &out), 0);
    assert_null(strstr(out.data, "route ")); /* the drained file announces nothing */
    assert_non_null(strstr(out.data, "neighbor "));
    /* ... and keeps the gate, which withdraws before cleanup reloads */
    if (cfg.health_url)
        assert_non_null(strstr(out.data, "\nprocess health-gate {"));
    if (plan.md5)
        assert_non_null(strstr(out.data, "md5-password"));
    buf_reset(&out);
    assert_int_equal(conf_render_routes(&plan, &out), 0);
    compare(dir, "routes", &out);

    buf_free(&out);
    free(plan.md5);
    helper_options_free(&cfg);
    free(env);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
    struct dirent **ents;
    struct CMUnitTest *tests;
    char **dirs;
    int n, k = 0, rc;

    conf_dir = argc > 1 ? argv[1] : "tests/exabgp-conf";
    update_golden = getenv("UPDATE_GOLDEN") != NULL;
    n = scandir(conf_dir, &ents, NULL, by_name);
    if (n < 0) {
        perror(conf_dir);
        return 1;
    }
    tests = calloc((size_t)n, sizeof(*tests));
    dirs = calloc((size_t)n, sizeof(*dirs));
    for (int i = 0; i < n; i++) {
        if (ents[i]->d_name[0] >= '0' && ents[i]->d_name[0] <= '9') {
            char abs[1024];
            snprintf(abs, sizeof(abs), "%s/%s", conf_dir, ents[i]->d_name);
            dirs[k] = realpath(abs, NULL);
            tests[k] = (struct CMUnitTest){
                .name = ents[i]->d_name, .test_func = run_case, .initial_state = dirs[k]};
            k++;
        }
    }
    rc = k ? _cmocka_run_group_tests("exabgp-conf", tests, (size_t)k, NULL, NULL) : 1;
    if (k == 0)
        fprintf(stderr, "no cases under %s\n", conf_dir);
    for (int i = 0; i < n; i++)
        free(ents[i]);
    for (int i = 0; i < k; i++)
        free(dirs[i]);
    free(ents);
    free(dirs);
    free(tests);
    return rc;
}
