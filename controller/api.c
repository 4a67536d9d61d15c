// SPDX-License-Identifier: Apache-2.0
/*
 * api.c - curl handles for the Kubernetes API.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "api.h"
#include "atomicfile.h"
#include "version.h"

#define TOKEN_MAX 16384

static int auth_header(const struct api *api, struct curl_slist **headers, char *err, size_t errlen)
{
    char *token = NULL, *line;
    size_t len;
    int rc;

    if (!api->token_file)
        return 0;
    rc = read_small_file(api->token_file, TOKEN_MAX, &token, &len);
    if (rc < 0) {
        snprintf(err, errlen, "cannot read token file %s: %s", api->token_file, strerror(-rc));
        return -1;
    }
    while (len > 0 && (token[len - 1] == '\n' || token[len - 1] == '\r' || token[len - 1] == ' '))
        token[--len] = '\0';
    if (len == 0 || strpbrk(token, "\r\n")) {
        snprintf(err, errlen, "token file %s is empty or has several lines", api->token_file);
        free(token);
        return -1;
    }
    line = malloc(len + 32);
    if (!line) {
        free(token);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    sprintf(line, "Authorization: Bearer %s", token);
    *headers = curl_slist_append(*headers, line);
    memset(token, 0, len);
    memset(line, 0, len + 22);
    free(token);
    free(line);
    return *headers ? 0 : -1;
}

/*
 * curl 7.88 creates its sockets without SOCK_CLOEXEC, so the API watch
 * connection would be inherited by the keepalived we spawn; create them
 * close-on-exec from the start, with no window before a later fcntl.
 */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    (void)arg;
    (void)purpose;
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

int api_prepare(const struct api *api, struct api_request *req, const char *path_query,
                long timeout_s, long idle_s, char *err, size_t errlen)
{
    char url[8192];

    memset(req, 0, sizeof(*req));
    if ((size_t)snprintf(url, sizeof(url), "%s%s", api->base, path_query) >= sizeof(url)) {
        snprintf(err, errlen, "request URL too long");
        return -1;
    }
    req->headers = curl_slist_append(NULL, "Accept: application/json");
    if (!req->headers || auth_header(api, &req->headers, err, errlen) < 0)
        goto fail;
    req->easy = curl_easy_init();
    if (!req->easy) {
        snprintf(err, errlen, "curl_easy_init failed");
        goto fail;
    }
    curl_easy_setopt(req->easy, CURLOPT_URL, url);
    curl_easy_setopt(req->easy, CURLOPT_HTTPHEADER, req->headers);
    curl_easy_setopt(req->easy, CURLOPT_USERAGENT, "ipvs-controller/" LB_VERSION);
    curl_easy_setopt(req->easy, CURLOPT_ERRORBUFFER, req->errbuf);
    curl_easy_setopt(req->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(req->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(req->easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(req->easy, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(req->easy, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(req->easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(req->easy, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(req->easy, CURLOPT_TCP_KEEPINTVL, 10L);
    curl_easy_setopt(req->easy, CURLOPT_ACCEPT_ENCODING, "");
    if (timeout_s)
        curl_easy_setopt(req->easy, CURLOPT_TIMEOUT, timeout_s);
    if (idle_s) {
        curl_easy_setopt(req->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(req->easy, CURLOPT_LOW_SPEED_TIME, idle_s);
    }
    if (api->ca_file)
        curl_easy_setopt(req->easy, CURLOPT_CAINFO, api->ca_file);
    if (api->insecure) {
        curl_easy_setopt(req->easy, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(req->easy, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    return 0;
fail:
    api_request_free(req);
    return -1;
}

void api_request_free(struct api_request *req)
{
    if (req->easy)
        curl_easy_cleanup(req->easy);
    curl_slist_free_all(req->headers);
    req->easy = NULL;
    req->headers = NULL;
}

char *api_escape(const char *s)
{
    return curl_easy_escape(NULL, s, 0);
}
