/*
 * file.h — whole-file reads for the verbs and tools (definitions, inputs, workloads).
 */
#ifndef BT_FILE_H
#define BT_FILE_H

#include <stddef.h>

/* Reads a whole file into a heap string (NUL-terminated; *len excludes the NUL when len is
 * non-NULL). NULL with errno set when the file cannot be opened or read. */
char *bt_read_file(const char *path, size_t *len);

/* Like bt_read_file for a regular file of at most max bytes, opened without blocking: NULL
 * with errno EINVAL when path is not a regular file (a FIFO, a device such as /dev/zero, a
 * folder) and EFBIG when it is larger than max. For files that configure a server. */
char *bt_read_regular_file(const char *path, size_t max, size_t *len);

/*
 * Writes len bytes of data to path so that a crash leaves either no file or the whole
 * file: a temporary file beside it (path.tmp, created with mode), fsync, rename, then fsync
 * of the folder. 0, or -1 with errno set (the temporary file is then removed).
 */
int bt_write_file_durable(const char *path, const void *data, size_t len, unsigned mode);

#endif
