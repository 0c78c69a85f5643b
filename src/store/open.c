/*
 * open.c — store_open and store_close: the data folder and its lock, the writer's and the
 * reader's connections and their pragmas, the checks that the file is a sound Baton store
 * of a schema this build knows, and the migrations. The checks read before anything writes,
 * so a file that is refused is left as it was. All of this runs on the opening thread
 * before the writer starts, or after it stopped, so none of it takes the writer's mutex.
 */
#include "base/alloc.h"
#include "store/store_int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define APPLICATION_ID  0x4241544e /* "BATN": PRAGMA application_id of every Baton store */
#define BUSY_TIMEOUT_MS 5000
/* Checkpoint the WAL into the file every 2000 pages (8 MiB at 4 KiB pages), twice SQLite's
 * default, since the writer pays for it between commits; once checkpointed, a WAL larger
 * than 32 MiB is truncated back, so a burst does not hold its disk space for good. */
#define WAL_AUTOCHECKPOINT_PAGES 2000
#define JOURNAL_SIZE_LIMIT       (32 * 1024 * 1024)

int store__sqlite_err(sqlite3 *db, int rc, const char *what, bt_err *err)
{
    int code = (rc & 0xff) == SQLITE_FULL ? BT_ELIMIT : BT_EIO;
    const char *msg = db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (what != NULL)
        return bt_err_set(err, code, "%s: %s", what, msg);
    return bt_err_set(err, code, "%s", msg);
}

static int make_dir(const char *dir, bt_err *err)
{
    if (mkdir(dir, 0700) == 0)
        return 0;
    struct stat st;
    if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    return bt_err_set(err, BT_EIO, "cannot create %s: %s", dir,
                      errno == EEXIST ? "not a directory" : strerror(errno));
}

/* The pid the holder wrote, or 0 when it cannot be read (it may not have written it yet). */
static long holder_pid(int fd)
{
    char text[32];
    ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
    if (n <= 0)
        return 0;
    text[n] = '\0';
    long pid = strtol(text, NULL, 10);
    return pid > 0 ? pid : 0;
}

/* flock belongs to the open file description, so it is released when the process dies
 * however it dies, and a second open in this process is refused like another process. */
static int take_lock(store *s, const char *dir, bt_err *err)
{
    char *path = bt_xasprintf("%s/baton.lock", dir);
    int rc = 0;
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd < 0) {
        rc = bt_err_set(err, BT_EIO, "cannot open %s: %s", path, strerror(errno));
        goto out;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        long pid = errno == EWOULDBLOCK ? holder_pid(s->lock_fd) : 0;
        if (errno != EWOULDBLOCK)
            rc = bt_err_set(err, BT_EIO, "cannot lock %s: %s", path, strerror(errno));
        else if (pid > 0)
            rc = bt_err_set(err, BT_EEXIST, "another baton serve (pid %ld) is using %s", pid, dir);
        else
            rc = bt_err_set(err, BT_EEXIST, "another baton serve is using %s", dir);
        goto out;
    }
    char text[32];
    int len = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
    if (ftruncate(s->lock_fd, 0) != 0 || pwrite(s->lock_fd, text, (size_t)len, 0) != len)
        rc = bt_err_set(err, BT_EIO, "cannot write %s: %s", path, strerror(errno));
out:
    free(path);
    return rc;
}

static int exec_sql(store *s, sqlite3 *db, const char *sql, bt_err *err)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : store__sqlite_err(db, rc, s->path, err);
}

/* The first column of the first row of sql as an integer (a pragma, a count). */
static int query_int(store *s, sqlite3 *db, const char *sql, int64_t *out, bt_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    int code = rc == SQLITE_OK ? 0 : store__sqlite_err(db, rc, s->path, err);
    sqlite3_finalize(st);
    return code;
}

/* The cheap integrity check. Reading the header (application_id) refuses a file that is not
 * SQLite; counting sqlite_schema parses every table's definition; reading the first row of
 * each table loads its root page and the pages down to its first leaf, which is where a
 * truncated or overwritten file usually shows. The cost is a few pages per table whatever the
 * file's size, where quick_check reads every page. Damage deeper in a table surfaces as
 * SQLITE_CORRUPT when it is read, and the WAL's own checksums guard the last commits. */
static int probe_tables(store *s, bt_err *err)
{
    static const char list[] =
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND rootpage > 0";
    sqlite3_stmt *tables = NULL;
    int rc = sqlite3_prepare_v2(s->db, list, -1, &tables, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(tables)) == SQLITE_ROW) {
        char *sql = sqlite3_mprintf("SELECT 1 FROM \"%w\" LIMIT 1",
                                    (const char *)sqlite3_column_text(tables, 0));
        sqlite3_stmt *first = NULL;
        rc = sqlite3_prepare_v2(s->db, sql, -1, &first, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(first);
        if (rc == SQLITE_ROW || rc == SQLITE_DONE)
            rc = SQLITE_OK;
        sqlite3_finalize(first);
        sqlite3_free(sql);
    }
    int code = rc == SQLITE_DONE ? 0 : store__sqlite_err(s->db, rc, s->path, err);
    sqlite3_finalize(tables);
    return code;
}

/* Every page read once (PRAGMA quick_check: about 3 ms per MB): damage that still parses —
 * an index page overwritten so that a lookup misses without an error — is found here, before
 * the server answers "does not exist" for what the damage hides. */
static int quick_check(store *s, bt_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check(10)", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store__sqlite_err(s->db, rc, s->path, err);
    char first[256] = "";
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (first[0] == '\0')
            snprintf(first, sizeof first, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return store__sqlite_err(s->db, rc, s->path, err);
    if (strcmp(first, "ok") != 0)
        return bt_err_set(err, BT_EIO, "%s is damaged (%s); restore it from a copy", s->path,
                          first);
    return 0;
}

/* Whether the file is ours and how far it is migrated. A file nobody wrote yet (no id, no
 * version, no schema) is ours to take; any other file without our id is refused untouched. */
static int check_identity(store *s, const store_config *cfg, int64_t *version, bool *is_new,
                          bt_err *err)
{
    int64_t app_id = 0, n_schema = 0;
    int rc = query_int(s, s->db, "PRAGMA application_id", &app_id, err);
    if (rc == 0)
        rc = query_int(s, s->db, "PRAGMA user_version", version, err);
    if (rc == 0)
        rc = query_int(s, s->db, "SELECT count(*) FROM sqlite_schema", &n_schema, err);
    if (rc != 0)
        return rc;
    *is_new = app_id == 0 && *version == 0 && n_schema == 0;
    if (!*is_new && app_id != APPLICATION_ID)
        return bt_err_set(err, BT_ESTATE, "%s is not a Baton store (application_id %lld)", s->path,
                          (long long)app_id);
    int known = cfg->n_migrations ? cfg->migrations[cfg->n_migrations - 1].version : 0;
    if (*version > known)
        return bt_err_set(err, BT_ESTATE,
                          "%s was written by a newer Baton (schema %lld; this one knows up to %d)",
                          s->path, (long long)*version, known);
    int rc2 = probe_tables(s, err);
    if (rc2 == 0 && cfg->full_check && !*is_new)
        rc2 = quick_check(s, err);
    return rc2;
}

/* journal_mode answers with the mode the file is in, which stays the old one when WAL is not
 * possible (no shared memory on that file system): refuse rather than run without it. */
static int use_wal(store *s, bt_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int code = 0;
    if (rc != SQLITE_ROW)
        code = store__sqlite_err(s->db, rc, s->path, err);
    else if (strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0)
        code = bt_err_set(err, BT_EIO, "%s: cannot use WAL mode on this file system", s->path);
    sqlite3_finalize(st);
    return code;
}

static int configure_writer(store *s, const store_config *cfg, bool is_new, bt_err *err)
{
    int rc = use_wal(s, err);
    if (rc != 0)
        return rc;
    char *sql = sqlite3_mprintf("PRAGMA synchronous = %s; PRAGMA foreign_keys = OFF;"
                                "PRAGMA wal_autocheckpoint = %d; PRAGMA journal_size_limit = %d",
                                cfg->sync_normal ? "NORMAL" : "FULL", WAL_AUTOCHECKPOINT_PAGES,
                                JOURNAL_SIZE_LIMIT);
    rc = exec_sql(s, s->db, sql, err);
    sqlite3_free(sql);
    if (rc == 0 && is_new) {
        sql = sqlite3_mprintf("PRAGMA application_id = %d", APPLICATION_ID);
        rc = exec_sql(s, s->db, sql, err);
        sqlite3_free(sql);
    }
    return rc;
}

/* max_page_count is a per-connection limit on the file's pages, checked whenever a
 * transaction allocates one; only the writer's connection writes, so setting it there caps
 * the store. The WAL is not counted: it is bounded by the checkpoints. */
static int cap_size(store *s, int64_t max_bytes, bt_err *err)
{
    if (max_bytes <= 0)
        return 0;
    int64_t page_size = 0;
    int rc = query_int(s, s->db, "PRAGMA page_size", &page_size, err);
    if (rc != 0)
        return rc;
    int64_t pages = max_bytes / page_size > 0 ? max_bytes / page_size : 1;
    char *sql = sqlite3_mprintf("PRAGMA max_page_count = %lld", (long long)pages);
    rc = exec_sql(s, s->db, sql, err);
    sqlite3_free(sql);
    return rc;
}

/* Each migration with its version, in one transaction: a failed one leaves the file at the
 * version before it, to be retried by the next open. */
static int migrate(store *s, const store_config *cfg, int64_t version, bt_err *err)
{
    for (size_t i = 0; i < cfg->n_migrations; i++) {
        const store_migration *m = &cfg->migrations[i];
        assert(i == 0 || m->version > cfg->migrations[i - 1].version);
        if (m->version <= version)
            continue;
        char *stamp = sqlite3_mprintf("PRAGMA user_version = %d", m->version);
        int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(s->db, m->sql, NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(s->db, stamp, NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
        sqlite3_free(stamp);
        if (rc != SQLITE_OK) {
            char *what = bt_xasprintf("%s: migration %d", s->path, m->version);
            int code = store__sqlite_err(s->db, rc, what, err);
            free(what);
            if (!sqlite3_get_autocommit(s->db))
                sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return code;
        }
    }
    return 0;
}

static int open_connection(store *s, int flags, sqlite3 **db, bt_err *err)
{
    int rc = sqlite3_open_v2(s->path, db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(*db, BUSY_TIMEOUT_MS);
    return rc == SQLITE_OK ? 0 : store__sqlite_err(*db, rc, s->path, err);
}

static int open_db(store *s, const store_config *cfg, bt_err *err)
{
    int64_t version = 0;
    bool is_new = false;
    int rc = open_connection(s, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &s->db, err);
    if (rc == 0)
        rc = check_identity(s, cfg, &version, &is_new, err);
    if (rc == 0)
        rc = configure_writer(s, cfg, is_new, err);
    if (rc == 0)
        rc = cap_size(s, cfg->max_bytes, err);
    if (rc == 0)
        rc = migrate(s, cfg, version, err);
    if (rc == 0)
        rc = open_connection(s, SQLITE_OPEN_READWRITE, &s->reader, err);
    /* The engine thread reads through this connection; query_only turns a write slipped
     * past the writer into an error instead of a second writer. */
    if (rc == 0)
        rc = exec_sql(s, s->reader, "PRAGMA query_only = ON", err);
    return rc;
}

static void teardown(store *s)
{
    store__stmt_cache_fini(&s->read_stmts);
    store__stmt_cache_fini(&s->write_stmts);
    /* The reader goes first, so that closing the last connection checkpoints the whole WAL
     * into the file and removes it. */
    sqlite3_close(s->reader);
    sqlite3_close(s->db);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s->first_failure);
    free(s);
}

store *store_open(const store_config *cfg, bt_err *err)
{
    bt_err_clear(err);
    store *s = bt_xcalloc(1, sizeof(*s));
    s->path = bt_xasprintf("%s/baton.db", cfg->dir);
    s->lock_fd = -1;
    s->wakeup = cfg->wakeup;
    s->wakeup_ctx = cfg->wakeup_ctx;
    s->stop_after_failure = cfg->stop_after_failure;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    int rc = make_dir(cfg->dir, err);
    if (rc == 0)
        rc = take_lock(s, cfg->dir, err);
    if (rc == 0)
        rc = open_db(s, cfg, err);
    if (rc == 0) {
        store__stmt_cache_init(&s->write_stmts, s->db);
        store__stmt_cache_init(&s->read_stmts, s->reader);
        rc = store__writer_start(s, err);
    }
    if (rc != 0) {
        teardown(s);
        return NULL;
    }
    return s;
}

void store_close(store *s)
{
    if (s == NULL)
        return;
    store__writer_stop(s);
    store_poll(s);
    teardown(s);
}

const char *store_path(const store *s)
{
    return s->path;
}

sqlite3 *store_reader(store *s)
{
    return s->reader;
}

sqlite3_stmt *store_read_stmt(store *s, const char *sql)
{
    sqlite3_stmt *st = store__stmt_get(&s->read_stmts, sql);
    if (st != NULL) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    return st;
}
