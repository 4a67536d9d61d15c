// SPDX-License-Identifier: Apache-2.0
/*
 * atomicfile.c - atomic file replacement and small-file reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"

static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int fsync_dir_of(const char *path)
{
    char copy[PATH_MAX];
    int fd, rc = 0;

    if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
        return -ENAMETOOLONG;
    fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fsync(fd) < 0)
        rc = -errno;
    close(fd);
    return rc;
}

int atomic_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    char tmp[PATH_MAX];
    int fd, rc;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return -errno;

    rc = write_all(fd, data, len);
    if (rc == 0 && fchmod(fd, mode) < 0)
        rc = -errno;
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0) {
        unlink(tmp);
        return rc;
    }
    return fsync_dir_of(path);
}

int read_small_file(const char *path, size_t max, char **out, size_t *outlen)
{
    char *data = NULL;
    size_t len = 0, cap = 0;
    int fd, rc = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    for (;;) {
        if (cap - len < 4096) {
            size_t ncap = cap ? cap * 2 : 8192;
            char *p = realloc(data, ncap + 1);
            if (!p) {
                rc = -ENOMEM;
                goto out;
            }
            data = p;
            cap = ncap;
        }
        ssize_t n = read(fd, data + len, cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > max) {
            rc = -EFBIG;
            goto out;
        }
    }
    if (!data && !(data = malloc(1))) {
        rc = -ENOMEM;
        goto out;
    }
    data[len] = '\0';
    *out = data;
    if (outlen)
        *outlen = len;
    data = NULL;
out:
    free(data);
    close(fd);
    return rc;
}

int file_has_content(const char *path, const void *data, size_t len)
{
    char *cur;
    size_t curlen;
    int rc = read_small_file(path, len + 1, &cur, &curlen);

    if (rc == -ENOENT || rc == -EFBIG)
        return 0;
    if (rc < 0)
        return rc;
    rc = curlen == len && memcmp(cur, data, len) == 0;
    free(cur);
    return rc;
}
