/* SPDX-License-Identifier: Apache-2.0 */
/*
 * atomicfile.h - replace a file so readers see the old bytes or the new,
 * never a mix, and a crash leaves one of the two on disk.
 */
#ifndef LB_ATOMICFILE_H
#define LB_ATOMICFILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Write len bytes to path through a temporary file in the same directory:
 * write, fsync, rename over path, fsync the directory.  On failure the old
 * file is untouched and the temporary is removed.  Returns 0 or -errno.
 */
int atomic_write_file(const char *path, const void *data, size_t len, mode_t mode);

/* 1 if path holds exactly these bytes, 0 if not (or missing), -errno on a read error. */
int file_has_content(const char *path, const void *data, size_t len);

/*
 * Read a whole small file into a malloc'd NUL-terminated string (caller
 * frees).  Fails with -EFBIG past max bytes.  Returns 0 or -errno.
 */
int read_small_file(const char *path, size_t max, char **out, size_t *outlen);

#endif
