/*
 * unzip_test.c — unit tests for unzip.c over archives built here with zlib's deflate:
 * stored and deflated entries read back, the executable bit kept on disk, and refusals —
 * names that climb out (zip slip), absolute names, symbolic links, duplicates, bad CRCs,
 * corrupt deflate data, every truncation of an archive, too many entries, too many bytes.
 */
#include "base/alloc.h"
#include "base/buf.h"
#include "base/unzip.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

/* ---- a small zip writer ---- */

typedef struct zb {
    bt_buf data; /* local headers and contents */
    bt_buf cd;   /* central directory */
    unsigned n;
} zb;

static void put16(bt_buf *b, uint32_t v)
{
    bt_buf_putc(b, (char)(v & 0xff));
    bt_buf_putc(b, (char)((v >> 8) & 0xff));
}

static void put32(bt_buf *b, uint32_t v)
{
    put16(b, v & 0xffff);
    put16(b, v >> 16);
}

static void zb_init(zb *z)
{
    bt_buf_init(&z->data);
    bt_buf_init(&z->cd);
    z->n = 0;
}

/* Adds an entry: method 0 (stored) or 8 (deflated); mode is the unix mode (0: made by
 * MS-DOS, no mode); declared_usize, when not 0, replaces the true size in the headers. */
static void zb_add_raw(zb *z, const char *name, const void *content, size_t len, int method,
                       uint32_t mode, uint32_t declared_usize)
{
    uint8_t *packed = NULL;
    size_t plen = len;
    if (method == 8) {
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
        uLong bound = deflateBound(&zs, (uLong)len);
        packed = bt_xmalloc(bound);
        zs.next_in = (Bytef *)(uintptr_t)content;
        zs.avail_in = (uInt)len;
        zs.next_out = packed;
        zs.avail_out = (uInt)bound;
        assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
        plen = zs.total_out;
        deflateEnd(&zs);
    }
    uint32_t crc = (uint32_t)crc32(0L, content, (uInt)len);
    uint32_t usize = declared_usize ? declared_usize : (uint32_t)len;
    uint32_t off = (uint32_t)z->data.len;
    size_t nl = strlen(name);
    put32(&z->data, 0x04034b50u);
    put16(&z->data, 20);
    put16(&z->data, 0);
    put16(&z->data, (uint32_t)method);
    put32(&z->data, 0);
    put32(&z->data, crc);
    put32(&z->data, (uint32_t)plen);
    put32(&z->data, usize);
    put16(&z->data, (uint32_t)nl);
    put16(&z->data, 0);
    bt_buf_append(&z->data, name, nl);
    bt_buf_append(&z->data, method == 8 ? (const char *)packed : content, plen);

    put32(&z->cd, 0x02014b50u);
    put16(&z->cd, mode ? (3u << 8 | 20) : 20);
    put16(&z->cd, 20);
    put16(&z->cd, 0);
    put16(&z->cd, (uint32_t)method);
    put32(&z->cd, 0);
    put32(&z->cd, crc);
    put32(&z->cd, (uint32_t)plen);
    put32(&z->cd, usize);
    put16(&z->cd, (uint32_t)nl);
    put16(&z->cd, 0);
    put16(&z->cd, 0);
    put16(&z->cd, 0);
    put16(&z->cd, 0);
    put32(&z->cd, mode << 16);
    put32(&z->cd, off);
    bt_buf_append(&z->cd, name, nl);
    z->n++;
    free(packed);
}

static void zb_add(zb *z, const char *name, const char *content, int method, uint32_t mode)
{
    zb_add_raw(z, name, content, strlen(content), method, mode, 0);
}

/* The whole archive (heap), its length in *len; z is spent. */
static uint8_t *zb_finish(zb *z, size_t *len)
{
    uint32_t cd_off = (uint32_t)z->data.len, cd_size = (uint32_t)z->cd.len;
    bt_buf_append(&z->data, z->cd.data ? z->cd.data : "", z->cd.len);
    put32(&z->data, 0x06054b50u);
    put16(&z->data, 0);
    put16(&z->data, 0);
    put16(&z->data, z->n & 0xffff);
    put16(&z->data, z->n & 0xffff);
    put32(&z->data, cd_size);
    put32(&z->data, cd_off);
    put16(&z->data, 0);
    bt_buf_fini(&z->cd);
    *len = z->data.len;
    return (uint8_t *)bt_buf_steal(&z->data);
}

/* ---- helpers ---- */

typedef struct seen {
    char names[8][64];
    char contents[8][256];
    bool exec[8];
    bool dir[8];
    int n;
} seen;

static int record(void *ctx, const bt_unzip_entry *e, bt_err *err)
{
    (void)err;
    seen *s = ctx;
    assert_true(s->n < 8);
    snprintf(s->names[s->n], 64, "%s", e->name);
    snprintf(s->contents[s->n], 256, "%.*s", (int)e->len, e->data ? (const char *)e->data : "");
    s->exec[s->n] = e->is_executable;
    s->dir[s->n] = e->is_dir;
    s->n++;
    return 0;
}

static int walk(const uint8_t *zip, size_t len, seen *s, bt_err *err)
{
    memset(s, 0, sizeof *s);
    return bt_unzip_walk(zip, len, record, s, err);
}

static char *temp_dir(void)
{
    char tmpl[] = "/tmp/bt_unzip_XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    return bt_xstrdup(tmpl);
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *s = bt_xcalloc(1, 4096);
    size_t n = fread(s, 1, 4095, f);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* ---- tests ---- */

static void reads_stored_and_deflated(void **state)
{
    (void)state;
    zb z;
    zb_init(&z);
    zb_add(&z, "index.py", "def handler(e, c):\n    return e\n", 8, 0100644);
    zb_add(&z, "lib/", "", 0, 040755);
    zb_add(&z, "lib/util.js", "exports.x = 1;\n", 0, 0100644);
    zb_add(&z, "bootstrap", "#!/bin/sh\necho hi\n", 8, 0100755);
    zb_add(&z, "dos.txt", "no unix mode", 8, 0);
    size_t len;
    uint8_t *zip = zb_finish(&z, &len);
    seen s;
    bt_err err = {0};
    assert_int_equal(walk(zip, len, &s, &err), 0);
    assert_int_equal(s.n, 5);
    assert_string_equal(s.names[0], "index.py");
    assert_string_equal(s.contents[0], "def handler(e, c):\n    return e\n");
    assert_false(s.exec[0]);
    assert_string_equal(s.names[1], "lib/");
    assert_true(s.dir[1]);
    assert_string_equal(s.contents[2], "exports.x = 1;\n");
    assert_string_equal(s.names[3], "bootstrap");
    assert_string_equal(s.contents[3], "#!/bin/sh\necho hi\n");
    assert_true(s.exec[3]);
    assert_string_equal(s.contents[4], "no unix mode");
    assert_false(s.exec[4]);
    free(zip);
}

static void unpacks_with_modes(void **state)
{
    (void)state;
    zb z;
    zb_init(&z);
    zb_add(&z, "bootstrap", "#!/bin/sh\n", 8, 0100755);
    zb_add(&z, "a/b/c.txt", "deep", 8, 0100600);
    size_t len;
    uint8_t *zip = zb_finish(&z, &len);
    char *dir = temp_dir();
    char *target = bt_xasprintf("%s/code/v1", dir);
    bt_err err = {0};
    assert_int_equal(bt_unzip_to_dir(zip, len, target, &err), 0);
    char *p = bt_xasprintf("%s/bootstrap", target);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0755);
    char *text = read_all(p);
    assert_string_equal(text, "#!/bin/sh\n");
    free(text);
    free(p);
    p = bt_xasprintf("%s/a/b/c.txt", target);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    text = read_all(p);
    assert_string_equal(text, "deep");
    free(text);
    free(p);
    /* The same archive again into the same folder: nothing is overwritten. */
    assert_int_equal(bt_unzip_to_dir(zip, len, target, &err), BT_EINVAL);
    assert_string_equal(err.msg, BT_UNZIP_MESSAGE);
    assert_int_equal(bt_remove_tree(dir), 0);
    assert_int_not_equal(stat(dir, &st), 0);
    free(target);
    free(dir);
    free(zip);
}

static void refuses_names_outside(void **state)
{
    (void)state;
    const char *names[] = {"../evil.sh", "/etc/evil", "a/../../evil", "a/..", "..",
                           "a//b",       "a\\..\\b",  "./x",          ""};
    char *dir = temp_dir();
    char *target = bt_xasprintf("%s/in", dir);
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        zb z;
        zb_init(&z);
        zb_add(&z, "ok.txt", "fine", 0, 0100644);
        zb_add(&z, names[i], "evil", 8, 0100755);
        size_t len;
        uint8_t *zip = zb_finish(&z, &len);
        bt_err err = {0};
        seen s;
        assert_int_equal(walk(zip, len, &s, &err), BT_EINVAL);
        assert_string_equal(err.msg, BT_UNZIP_MESSAGE);
        assert_int_equal(bt_unzip_to_dir(zip, len, target, &err), BT_EINVAL);
        free(zip);
    }
    char *evil = bt_xasprintf("%s/evil.sh", dir);
    struct stat st;
    assert_int_not_equal(stat(evil, &st), 0);
    assert_int_equal(bt_remove_tree(dir), 0);
    free(evil);
    free(target);
    free(dir);
}

static void refuses_symlinks_and_duplicates(void **state)
{
    (void)state;
    zb z;
    zb_init(&z);
    zb_add(&z, "link", "/etc/passwd", 0, 0120777);
    size_t len;
    uint8_t *zip = zb_finish(&z, &len);
    seen s;
    bt_err err = {0};
    assert_int_equal(walk(zip, len, &s, &err), BT_EINVAL);
    assert_int_equal(s.n, 0);
    free(zip);

    zb_init(&z);
    zb_add(&z, "x.txt", "one", 0, 0100644);
    zb_add(&z, "x.txt", "two", 0, 0100644);
    zip = zb_finish(&z, &len);
    char *dir = temp_dir();
    assert_int_equal(bt_unzip_to_dir(zip, len, dir, &err), BT_EINVAL);
    char *p = bt_xasprintf("%s/x.txt", dir);
    char *text = read_all(p);
    assert_string_equal(text, "one");
    free(text);
    free(p);
    assert_int_equal(bt_remove_tree(dir), 0);
    free(dir);
    free(zip);
}

/* A file, then an entry under it as if it were a folder (or the reverse): the package is
 * unreadable (Lambda's 400), not a failure of the server's disk. */
static void refuses_a_file_used_as_a_folder(void **state)
{
    (void)state;
    const char *orders[2][2] = {{"a", "a/b"}, {"a/b", "a"}};
    for (int i = 0; i < 2; i++) {
        zb z;
        zb_init(&z);
        zb_add(&z, orders[i][0], "x", 0, 0100644);
        zb_add(&z, orders[i][1], "y", 0, 0100644);
        size_t len;
        uint8_t *zip = zb_finish(&z, &len);
        char *dir = temp_dir();
        bt_err err = {0};
        assert_int_equal(bt_unzip_to_dir(zip, len, dir, &err), BT_EINVAL);
        assert_string_equal(err.msg, BT_UNZIP_MESSAGE);
        assert_int_equal(bt_remove_tree(dir), 0);
        free(dir);
        free(zip);
    }
}

static void refuses_corruption_and_truncation(void **state)
{
    (void)state;
    char big[3000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + (i * 7) % 26);
    zb z;
    zb_init(&z);
    zb_add_raw(&z, "big.txt", big, sizeof big, 8, 0100644, 0);
    zb_add(&z, "small.txt", "small", 0, 0100644);
    size_t len;
    uint8_t *zip = zb_finish(&z, &len);
    seen s;
    bt_err err = {0};
    assert_int_equal(walk(zip, len, &s, &err), 0);
    assert_int_equal(s.n, 2);
    /* Every proper prefix is refused, never read past. */
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *part = bt_xmalloc(cut ? cut : 1);
        memcpy(part, zip, cut);
        assert_int_equal(walk(part, cut, &s, &err), BT_EINVAL);
        free(part);
    }
    /* Flipped bytes in the deflated data: bad stream or bad CRC. */
    for (size_t at = 40; at < 60; at++) {
        zip[at] ^= 0x55;
        assert_int_equal(walk(zip, len, &s, &err), BT_EINVAL);
        assert_string_equal(err.msg, BT_UNZIP_MESSAGE);
        zip[at] ^= 0x55;
    }
    /* A stored entry's bytes changed: the CRC tells. */
    size_t at = 0, hits = 0;
    for (size_t i = 0; i + 5 <= len && hits < 2; i++) {
        if (memcmp(zip + i, "small", 5) == 0) {
            at = i;
            hits++;
        }
    }
    assert_int_equal(hits, 2); /* the name, then the contents */
    zip[at] = 'S';
    assert_int_equal(walk(zip, len, &s, &err), BT_EINVAL);
    free(zip);
    /* Garbage. */
    assert_int_equal(walk((const uint8_t *)"PK\x05\x06 not a zip at all", 25, &s, &err), BT_EINVAL);
}

static void refuses_a_size_lie(void **state)
{
    (void)state;
    /* Declares fewer bytes than the stream inflates to. */
    char text[500];
    memset(text, 'x', sizeof text);
    zb z;
    zb_init(&z);
    zb_add_raw(&z, "lie.txt", text, sizeof text, 8, 0100644, 100);
    size_t len;
    uint8_t *zip = zb_finish(&z, &len);
    seen s;
    bt_err err = {0};
    assert_int_equal(walk(zip, len, &s, &err), BT_EINVAL);
    free(zip);
}

static void enforces_limits(void **state)
{
    (void)state;
    zb z;
    zb_init(&z);
    for (int i = 0; i < BT_UNZIP_MAX_ENTRIES + 1; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%d", i);
        zb_add(&z, name, "", 0, 0100644);
    }
    size_t len;
    uint8_t *zip = zb_finish(&z, &len);
    seen s;
    bt_err err = {0};
    assert_int_equal(walk(zip, len, &s, &err), BT_ELIMIT);
    assert_string_equal(err.msg, BT_UNZIP_MESSAGE);
    free(zip);

    /* Two entries that declare 200 MB each: refused before inflating anything. */
    zb_init(&z);
    zb_add_raw(&z, "a", "x", 1, 8, 0100644, 200000000u);
    zb_add_raw(&z, "b", "x", 1, 8, 0100644, 200000000u);
    zip = zb_finish(&z, &len);
    assert_int_equal(bt_unzip_walk(zip, len, record, &s, &err), BT_ELIMIT);
    assert_string_equal(err.msg, "Unzipped size must be smaller than 262144000 bytes");
    free(zip);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_stored_and_deflated),
        cmocka_unit_test(unpacks_with_modes),
        cmocka_unit_test(refuses_names_outside),
        cmocka_unit_test(refuses_symlinks_and_duplicates),
        cmocka_unit_test(refuses_a_file_used_as_a_folder),
        cmocka_unit_test(refuses_corruption_and_truncation),
        cmocka_unit_test(refuses_a_size_lie),
        cmocka_unit_test(enforces_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
