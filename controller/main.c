// SPDX-License-Identifier: Apache-2.0
/*
 * main.c - ipvs-controller: parse the options, run the controller.
 */
#include <curl/curl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "controller.h"
#include "log.h"
#include "options.h"

int main(int argc, char **argv)
{
    struct ctl_config cfg;
    char err[512];
    int rc;

    log_init("ipvs-controller", LOG_INFO);
    switch (options_parse(argc, argv, &cfg, err, sizeof(err))) {
    case OPT_EXIT_OK:
        return 0;
    case OPT_ERROR:
        fprintf(stderr, "ipvs-controller: %s\n", err);
        return 2;
    case OPT_OK:
        break;
    }
    if (cfg.once && cfg.keepalived_cmd) {
        fprintf(stderr, "ipvs-controller: --once cannot supervise keepalived; use "
                        "--keepalived-pidfile\n");
        options_free(&cfg);
        return 2;
    }
    log_init("ipvs-controller", cfg.log_level);
    /*
     * Keep big buffers (list pages, the rendered file) in their own
     * mappings, returned to the kernel when freed, rather than letting
     * glibc's adaptive threshold grow the heap to the largest one seen.
     */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    srandom((unsigned)time(NULL) ^ (unsigned)getpid());
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "ipvs-controller: cannot initialise libcurl\n");
        options_free(&cfg);
        return 1;
    }
    rc = controller_run(&cfg);
    curl_global_cleanup();
    options_free(&cfg);
    return rc;
}
