/*
 * file.c — whole-file reads and durable whole-file writes (file.h).
 */
#include "base/file.h"
#include "base/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *bt_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 8192, n = 0;
    char *buf = bt_xmalloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            cap *= 2;
            buf = bt_xrealloc(buf, cap);
        }
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

char *bt_read_regular_file(const char *path, size_t max, size_t *len)
{
    /* O_NONBLOCK: opening a FIFO for reading would wait for a writer. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    int err = 0;
    if (fstat(fd, &st) != 0)
        err = errno;
    else if (!S_ISREG(st.st_mode))
        err = EINVAL;
    else if ((uint64_t)st.st_size > max)
        err = EFBIG;
    if (err) {
        close(fd);
        errno = err;
        return NULL;
    }
    char *buf = bt_xmalloc((size_t)st.st_size + 1);
    size_t cap = (size_t)st.st_size, n = 0;
    /* The file may grow while read: never past max. */
    for (;;) {
        if (n == cap) {
            if (cap >= max)
                break;
            cap = cap * 2 + 4096 > max ? max : cap * 2 + 4096;
            buf = bt_xrealloc(buf, cap + 1);
        }
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            close(fd);
            free(buf);
            errno = e;
            return NULL;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    if (n == max) {
        char extra;
        if (read(fd, &extra, 1) == 1) {
            close(fd);
            free(buf);
            errno = EFBIG;
            return NULL;
        }
    }
    close(fd);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

int bt_write_file_durable(const char *path, const void *data, size_t len, unsigned mode)
{
    char *tmp = bt_xasprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
    int rc = fd < 0 ? -1 : 0;
    for (size_t off = 0; rc == 0 && off < len;) {
        ssize_t n = write(fd, (const char *)data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = -1;
        else
            off += (size_t)n;
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = -1;
    int saved = errno;
    if (fd >= 0 && close(fd) != 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = -1;
        saved = errno;
    }
    if (rc != 0) {
        unlink(tmp);
    } else {
        /* the rename is durable once its folder is */
        const char *slash = strrchr(path, '/');
        char *dir =
            slash ? bt_xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : bt_xstrdup(".");
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    free(tmp);
    errno = saved;
    return rc;
}
