/*
 * unzip.c — zip archives (unzip.h), over zlib's raw inflate. The central directory is the
 * truth (local headers may leave sizes to a data descriptor); every offset and length read
 * from the archive is checked against its size before use, and the sizes an entry declares
 * bound what inflating it may produce, so a hostile archive costs at most what it declares
 * (itself held to BT_UNZIP_MAX_BYTES in total). Format: PKWARE's APPNOTE.TXT.
 */
#include "base/unzip.h"
#include "base/alloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define SIG_EOCD    0x06054b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_LOCAL   0x04034b50u
#define EOCD_LEN    22
#define CENTRAL_LEN 46
#define LOCAL_LEN   30

#define HOST_UNIX  3
#define UNIX_IFMT  0170000u
#define UNIX_IFLNK 0120000u
#define UNIX_IFDIR 0040000u

static uint32_t rd16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int bad(bt_err *err)
{
    return bt_err_set(err, BT_EINVAL, "%s", BT_UNZIP_MESSAGE);
}

/* Lambda's own sentence for a package beyond its unpacked quota. */
static int too_big(bt_err *err)
{
    return bt_err_set(err, BT_ELIMIT, "Unzipped size must be smaller than %llu bytes",
                      (unsigned long long)BT_UNZIP_MAX_BYTES);
}

/* A name that stays inside the folder: relative, no "." or ".." parts, no empty part but a
 * directory's final '/', no NUL, no backslash (a Windows separator that would hide ".."). */
static bool safe_name(const char *name, size_t len)
{
    if (len == 0 || name[0] == '/')
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && name[i] != '/') {
            /* control characters too: a name is shown in messages and listings */
            unsigned char ch = (unsigned char)name[i];
            if (ch < 0x20 || ch == 0x7f || ch == '\\')
                return false;
            continue;
        }
        size_t part = i - start;
        if (part == 0 && i != len)
            return false;
        if ((part == 1 && name[start] == '.') ||
            (part == 2 && name[start] == '.' && name[start + 1] == '.'))
            return false;
        start = i + 1;
    }
    return true;
}

/* dst holds dst_len + 1 bytes: the spare one shows an entry longer than it declares. Both
 * lengths come from 32-bit fields, so one call of zlib (counting in uInt) takes them. */
static int inflate_entry(const uint8_t *src, uint32_t src_len, uint8_t *dst, uint32_t dst_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)
        return -1;
    zs.next_in = (Bytef *)(uintptr_t)src;
    zs.avail_in = src_len;
    zs.next_out = dst;
    zs.avail_out = dst_len + 1;
    int rc = inflate(&zs, Z_FINISH);
    bool ok = rc == Z_STREAM_END && zs.total_out == dst_len;
    inflateEnd(&zs);
    return ok ? 0 : -1;
}

int bt_unzip_walk(const void *zip, size_t len, bt_unzip_fn fn, void *ctx, bt_err *err)
{
    const uint8_t *z = zip;
    if (len < EOCD_LEN)
        return bad(err);
    /* The end record: the last signature that leaves room for its comment. */
    size_t eocd = SIZE_MAX;
    size_t lowest = len > EOCD_LEN + 65535 ? len - EOCD_LEN - 65535 : 0;
    for (size_t i = len - EOCD_LEN + 1; i-- > lowest;) {
        if (rd32(z + i) == SIG_EOCD && i + EOCD_LEN + rd16(z + i + 20) == len) {
            eocd = i;
            break;
        }
    }
    if (eocd == SIZE_MAX)
        return bad(err);
    const uint8_t *e = z + eocd;
    uint32_t n_disk = rd16(e + 4), cd_disk = rd16(e + 6), n_here = rd16(e + 8);
    uint32_t n_entries = rd16(e + 10), cd_size = rd32(e + 12), cd_off = rd32(e + 16);
    if (n_disk != 0 || cd_disk != 0 || n_here != n_entries)
        return bad(err); /* spanned archives */
    if (n_entries == 0xffff || cd_size == 0xffffffffu || cd_off == 0xffffffffu)
        return bad(err); /* ZIP64 */
    if ((size_t)cd_off > eocd || (size_t)cd_size > eocd - cd_off)
        return bad(err);
    if (n_entries > BT_UNZIP_MAX_ENTRIES)
        return bt_err_set(err, BT_ELIMIT, "%s", BT_UNZIP_MESSAGE);

    /* Two passes: the first checks every central record and the declared total, so that an
     * archive is refused whole before anything is inflated or written. */
    uint64_t total = 0;
    size_t cd_end = (size_t)cd_off + cd_size;
    char *name = NULL;
    uint8_t *buf = NULL;
    int rc = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t pos = cd_off;
        for (uint32_t k = 0; k < n_entries; k++) {
            if (cd_end - pos < CENTRAL_LEN || rd32(z + pos) != SIG_CENTRAL) {
                rc = bad(err);
                goto out;
            }
            const uint8_t *c = z + pos;
            uint32_t made_by = rd16(c + 4), flags = rd16(c + 8), method = rd16(c + 10);
            uint32_t crc = rd32(c + 16), csize = rd32(c + 20), usize = rd32(c + 24);
            uint32_t name_len = rd16(c + 28), extra_len = rd16(c + 30), comment_len = rd16(c + 32);
            uint32_t ext_attr = rd32(c + 38), local_off = rd32(c + 42);
            size_t rec = (size_t)CENTRAL_LEN + name_len + extra_len + comment_len;
            if (cd_end - pos < rec || (flags & 1u) != 0 || (method != 0 && method != 8) ||
                csize == 0xffffffffu || usize == 0xffffffffu || local_off == 0xffffffffu ||
                !safe_name((const char *)c + CENTRAL_LEN, name_len)) {
                rc = bad(err);
                goto out;
            }
            free(name);
            name = bt_xstrndup((const char *)c + CENTRAL_LEN, name_len);
            uint32_t mode = (made_by >> 8) == HOST_UNIX ? ext_attr >> 16 : 0;
            bool is_dir = name[name_len - 1] == '/' || (mode & UNIX_IFMT) == UNIX_IFDIR;
            if ((mode & UNIX_IFMT) == UNIX_IFLNK || (is_dir && usize != 0)) {
                rc = bad(err);
                goto out;
            }
            if (pass == 0) {
                total += usize;
                if (total > BT_UNZIP_MAX_BYTES) {
                    rc = too_big(err);
                    goto out;
                }
                pos += rec;
                continue;
            }
            /* The local header: only its name and extra lengths matter (sizes come from here). */
            if ((size_t)local_off > cd_off || cd_off - local_off < LOCAL_LEN ||
                rd32(z + local_off) != SIG_LOCAL) {
                rc = bad(err);
                goto out;
            }
            size_t data_off =
                (size_t)local_off + LOCAL_LEN + rd16(z + local_off + 26) + rd16(z + local_off + 28);
            if (data_off > cd_off || (size_t)csize > cd_off - data_off ||
                (method == 0 && csize != usize)) {
                rc = bad(err);
                goto out;
            }
            const uint8_t *data = z + data_off;
            free(buf);
            buf = NULL;
            if (method == 8 && !is_dir) {
                buf = bt_xmalloc((size_t)usize + 1);
                if (inflate_entry(data, csize, buf, usize) != 0) {
                    rc = bad(err);
                    goto out;
                }
                data = buf;
            }
            if (crc32(0L, data, usize) != crc) {
                rc = bad(err);
                goto out;
            }
            if (is_dir && name[name_len - 1] != '/') {
                rc = bad(err); /* a directory mode on a file name: refuse the ambiguity */
                goto out;
            }
            bt_unzip_entry ent = {
                .name = name,
                .data = is_dir ? NULL : data,
                .len = is_dir ? 0 : usize,
                .is_dir = is_dir,
                .is_executable = (mode & 0111u) != 0,
            };
            rc = fn(ctx, &ent, err);
            if (rc != 0)
                goto out;
            pos += rec;
        }
    }
out:
    free(name);
    free(buf);
    return rc;
}

/* mkdir -p of path's first `len` bytes (within the buffer, which it edits and restores). */
static int make_dirs(char *path, size_t len)
{
    for (size_t i = 1; i <= len; i++) {
        if (i != len && path[i] != '/')
            continue;
        char saved = path[i];
        path[i] = '\0';
        int rc = mkdir(path, 0755);
        int e = errno;
        path[i] = saved;
        if (rc != 0 && e != EEXIST) {
            errno = e;
            return -1;
        }
    }
    return 0;
}

typedef struct to_dir {
    const char *dir;
} to_dir;

static int write_entry(void *ctx, const bt_unzip_entry *e, bt_err *err)
{
    to_dir *td = ctx;
    char *path = bt_xasprintf("%s/%s", td->dir, e->name);
    size_t dir_len = strlen(td->dir);
    char *slash = strrchr(path, '/');
    int rc = 0;
    /* ENOTDIR: an earlier entry made a file where this one wants a folder. */
    if (e->is_dir) {
        if (make_dirs(path, strlen(path) - 1) != 0)
            rc = errno == ENOTDIR
                     ? bad(err)
                     : bt_err_set(err, BT_EIO, "cannot create %s: %s", path, strerror(errno));
        goto out;
    }
    if ((size_t)(slash - path) > dir_len && make_dirs(path, (size_t)(slash - path)) != 0) {
        rc = errno == ENOTDIR ? bad(err)
                              : bt_err_set(err, BT_EIO, "cannot create the folder of %s: %s", path,
                                           strerror(errno));
        goto out;
    }
    /* O_EXCL|O_NOFOLLOW: a duplicate name or anything already there is never overwritten. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  e->is_executable ? 0755 : 0644);
    if (fd < 0) {
        rc = errno == EEXIST || errno == ENOTDIR || errno == EISDIR
                 ? bad(err)
                 : bt_err_set(err, BT_EIO, "cannot create %s: %s", path, strerror(errno));
        goto out;
    }
    size_t done = 0;
    while (done < e->len) {
        ssize_t w = write(fd, e->data + done, e->len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = bt_err_set(err, BT_EIO, "cannot write %s: %s", path, strerror(errno));
            break;
        }
        done += (size_t)w;
    }
    /* The umask must not take the executable bit a bootstrap needs. */
    if (rc == 0 && fchmod(fd, e->is_executable ? 0755 : 0644) != 0)
        rc = bt_err_set(err, BT_EIO, "cannot set the mode of %s: %s", path, strerror(errno));
    if (close(fd) != 0 && rc == 0)
        rc = bt_err_set(err, BT_EIO, "cannot write %s: %s", path, strerror(errno));
out:
    free(path);
    return rc;
}

int bt_unzip_to_dir(const void *zip, size_t len, const char *dir, bt_err *err)
{
    char *d = bt_xstrdup(dir);
    size_t dl = strlen(d);
    while (dl > 1 && d[dl - 1] == '/')
        d[--dl] = '\0';
    int rc = 0;
    if (make_dirs(d, dl) != 0) {
        rc = bt_err_set(err, BT_EIO, "cannot create %s: %s", d, strerror(errno));
    } else {
        to_dir td = {.dir = d};
        rc = bt_unzip_walk(zip, len, write_entry, &td, err);
    }
    free(d);
    return rc;
}

int bt_remove_tree(const char *dir)
{
    struct stat st;
    if (lstat(dir, &st) != 0)
        return errno == ENOENT ? 0 : BT_EIO;
    if (!S_ISDIR(st.st_mode))
        return unlink(dir) == 0 ? 0 : BT_EIO;
    DIR *d = opendir(dir);
    if (d == NULL)
        return BT_EIO;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *p = bt_xasprintf("%s/%s", dir, de->d_name);
        if (bt_remove_tree(p) != 0)
            rc = BT_EIO;
        free(p);
    }
    closedir(d);
    if (rmdir(dir) != 0)
        rc = BT_EIO;
    return rc;
}
