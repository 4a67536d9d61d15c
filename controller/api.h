/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api.h - how to reach the Kubernetes API: base URL, bearer token, TLS.
 *
 * api_prepare() sets up one curl easy handle for a GET of a path below the
 * base URL.  The token file is read again for every request, because
 * projected service account tokens rotate under a running pod.
 */
#ifndef IPVSCTL_API_H
#define IPVSCTL_API_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

struct api {
    const char *base;       /* borrowed: http(s)://host:port */
    const char *token_file; /* borrowed; NULL: no Authorization header */
    const char *ca_file;    /* borrowed; NULL: the system store */
    bool insecure;
};

struct api_request {
    CURL *easy;
    struct curl_slist *headers;
    char errbuf[CURL_ERROR_SIZE];
};

/*
 * Make req->easy a GET of base + path_query.  timeout_s bounds the whole
 * transfer (0: none); idle_s aborts it when no byte arrives for that long
 * (0: never).  Returns 0, or -1 with err set (the token could not be read).
 */
int api_prepare(const struct api *api, struct api_request *req, const char *path_query,
                long timeout_s, long idle_s, char *err, size_t errlen);
/* Release the handle and headers; safe on a zeroed request. */
void api_request_free(struct api_request *req);

/* Escape s for a query value into a new string (caller frees with curl_free). */
char *api_escape(const char *s);

#endif
