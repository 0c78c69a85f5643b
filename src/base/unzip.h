/*
 * unzip.h — reads zip archives: Lambda's deployment packages (CreateFunction's and
 * UpdateFunctionCode's ZipFile). Stored and deflated entries of a single-disk archive, found
 * through its central directory; each entry's CRC-32 is checked. Refused, as Lambda refuses
 * them: encrypted or ZIP64 archives, absolute names and names with a ".." part (a package
 * must not write outside its folder), symbolic links, more than BT_UNZIP_MAX_ENTRIES entries
 * and more than BT_UNZIP_MAX_BYTES unpacked.
 */
#ifndef BT_BASE_UNZIP_H
#define BT_BASE_UNZIP_H

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BT_UNZIP_MAX_ENTRIES 10000
/* Lambda's quota for a function's unpacked code: 250 MB (262,144,000 bytes). */
#define BT_UNZIP_MAX_BYTES 262144000ULL

/* Lambda's message for a package it cannot read. */
#define BT_UNZIP_MESSAGE                                                                           \
    "Could not unzip uploaded file. Please check your file, then try to upload again."

/* One entry, borrowed for the callback: name as stored ("dir/file.py", a directory's ends
 * in '/', data NULL), its contents, and whether its unix mode has an executable bit. */
typedef struct bt_unzip_entry {
    const char *name;
    const uint8_t *data;
    size_t len;
    bool is_dir;
    bool is_executable;
} bt_unzip_entry;

/* Returns 0 to go on, or a negative BT_E* that stops the walk and is returned. */
typedef int (*bt_unzip_fn)(void *ctx, const bt_unzip_entry *e, bt_err *err);

/* Checks the archive and hands each entry, inflated, to fn in central-directory order. 0, or
 * BT_EINVAL (unreadable, unsafe) / BT_ELIMIT (too many entries or bytes) with Lambda's
 * message in err, or what fn returned. */
int bt_unzip_walk(const void *zip, size_t len, bt_unzip_fn fn, void *ctx, bt_err *err);

/* Unpacks the archive into dir (created, with its parents, when absent; it should be empty:
 * an entry whose file exists already is refused). Files are 0644, or 0755 when the entry's
 * mode is executable; directories 0755. On failure what was written stays (the caller
 * removes the folder). */
int bt_unzip_to_dir(const void *zip, size_t len, const char *dir, bt_err *err);

/* Removes a folder and everything under it (symbolic links are removed, not followed).
 * 0, or BT_EIO. */
int bt_remove_tree(const char *dir);

#endif
