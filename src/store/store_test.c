/*
 * store_test.c — unit tests for the store on real files in a fresh /tmp folder each:
 * migrations (order, no reapplication, a failed one rolled back, a newer file refused),
 * files that are not ours or are damaged, the folder lock, batches and their completions,
 * group commit, value round trips, the reader's statement cache, max_bytes as a full disk,
 * close with work in flight, and durability of acknowledged batches across kill -9.
 *
 * The writer is made to stand still where a test needs a group of a known shape: the wakeup
 * it calls after each commit blocks while the test holds the gate, and everything submitted
 * meanwhile becomes the next group.
 */
#include "base/alloc.h"
#include "base/err.h"
#include "store/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- the wakeup: counts commits, and holds the writer inside it while the gate is shut */

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t n_wakeups;
    bool is_gate_shut;
    bool is_writer_held;
} wake = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false, false};

static void on_wakeup(void *ctx)
{
    (void)ctx;
    pthread_mutex_lock(&wake.mu);
    wake.n_wakeups++;
    while (wake.is_gate_shut) {
        wake.is_writer_held = true;
        pthread_cond_broadcast(&wake.cv);
        pthread_cond_wait(&wake.cv, &wake.mu);
    }
    wake.is_writer_held = false;
    pthread_cond_broadcast(&wake.cv);
    pthread_mutex_unlock(&wake.mu);
}

static struct timespec deadline_in(int seconds)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += seconds;
    return ts;
}

/* Waits (10 s at most) for a wakeup after the seen-th; returns the new count. */
static uint64_t wait_wakeup(uint64_t seen)
{
    struct timespec deadline = deadline_in(10);
    pthread_mutex_lock(&wake.mu);
    while (wake.n_wakeups == seen) {
        if (pthread_cond_timedwait(&wake.cv, &wake.mu, &deadline) != 0)
            break;
    }
    uint64_t n = wake.n_wakeups;
    pthread_mutex_unlock(&wake.mu);
    if (n == seen)
        fail_msg("the store's writer did not wake us within 10 s");
    return n;
}

/* Polls until every submitted batch has completed. */
static void drain(store *s)
{
    uint64_t seen = 0;
    store_poll(s);
    while (store_pending(s) > 0) {
        seen = wait_wakeup(seen);
        store_poll(s);
    }
}

static void shut_gate(void)
{
    pthread_mutex_lock(&wake.mu);
    wake.is_gate_shut = true;
    pthread_mutex_unlock(&wake.mu);
}

static void wait_writer_held(void)
{
    struct timespec deadline = deadline_in(10);
    pthread_mutex_lock(&wake.mu);
    while (!wake.is_writer_held) {
        if (pthread_cond_timedwait(&wake.cv, &wake.mu, &deadline) != 0)
            break;
    }
    bool held = wake.is_writer_held;
    pthread_mutex_unlock(&wake.mu);
    if (!held)
        fail_msg("the store's writer did not reach its wakeup within 10 s");
}

static void open_gate(void)
{
    pthread_mutex_lock(&wake.mu);
    wake.is_gate_shut = false;
    pthread_cond_broadcast(&wake.cv);
    pthread_mutex_unlock(&wake.mu);
}

/* ---- folders, stores, reads */

static char *make_dir(void)
{
    char *dir = bt_xstrdup("/tmp/baton-store-test.XXXXXX");
    assert_non_null(mkdtemp(dir));
    return dir;
}

static void remove_dir(char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            char *path = bt_xasprintf("%s/%s", dir, e->d_name);
            assert_int_equal(unlink(path), 0);
            free(path);
        }
    }
    closedir(d);
    assert_int_equal(rmdir(dir), 0);
    free(dir);
}

static const store_migration migrations[] = {
    {1, "CREATE TABLE applied(v INTEGER); INSERT INTO applied VALUES (1);"},
    {2, "CREATE TABLE t(id INTEGER PRIMARY KEY, v); INSERT INTO applied VALUES (2);"},
    {3, "CREATE TABLE counter(n INTEGER); INSERT INTO counter VALUES (0);"
        "INSERT INTO applied VALUES (3);"},
};
#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

static store_config config(const char *dir)
{
    return (store_config){
        .dir = dir,
        .migrations = migrations,
        .n_migrations = N_MIGRATIONS,
        .wakeup = on_wakeup,
    };
}

static store *open_ok(const store_config *cfg)
{
    bt_err err;
    store *s = store_open(cfg, &err);
    if (s == NULL)
        fail_msg("store_open: %s", err.msg);
    assert_int_equal(err.code, BT_OK);
    return s;
}

/* The integer in the first column of sql's first row (sql a literal: the cache keys on it). */
static int64_t read_int(store *s, const char *sql, int64_t arg)
{
    sqlite3_stmt *st = store_read_stmt(s, sql);
    assert_non_null(st);
    if (sqlite3_bind_parameter_count(st) > 0)
        assert_int_equal(sqlite3_bind_int64(st, 1, arg), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return v;
}

static void read_text(store *s, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *st = store_read_stmt(s, sql);
    assert_non_null(st);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *text = sqlite3_column_text(st, 0);
    snprintf(out, cap, "%s", text != NULL ? (const char *)text : "(null)");
    sqlite3_reset(st);
}

static const char sql_applied[] = "SELECT group_concat(v, ',') FROM (SELECT v FROM applied "
                                  "ORDER BY rowid)";
static const char sql_version[] = "PRAGMA user_version";
static const char sql_insert[] = "INSERT INTO t(id, v) VALUES (?, ?)";
static const char sql_count[] = "SELECT count(*) FROM t";
static const char sql_has[] = "SELECT count(*) FROM t WHERE id = ?";

/* A completion's record: which one ran, in what order, with what result. */
typedef struct record {
    int order[512];
    int rc[512];
    int n;
} record;

typedef struct tag {
    record *rec;
    int id;
    store *s; /* when set, the completion checks that the row `id` is readable */
} tag;

static void on_done(void *ctx, int rc)
{
    tag *t = ctx;
    if (t->s != NULL && rc == 0)
        assert_int_equal(read_int(t->s, sql_has, t->id), 1);
    t->rec->order[t->rec->n] = t->id;
    t->rec->rc[t->rec->n] = rc;
    t->rec->n++;
}

static store_batch *insert_batch(int64_t id, const char *value)
{
    store_batch *b = store_batch_new();
    store_batch_add(b, sql_insert, "it", id, value);
    return b;
}

/* ---- migrations and the files we refuse */

static void migrations_apply_once_in_order(void **state)
{
    (void)state;
    char *dir = make_dir();
    store_config cfg = config(dir);
    cfg.n_migrations = 2;
    store *s = open_ok(&cfg);
    char text[64];
    read_text(s, sql_applied, text, sizeof(text));
    assert_string_equal(text, "1,2");
    assert_int_equal(read_int(s, sql_version, 0), 2);
    assert_int_equal(read_int(s, "PRAGMA application_id", 0), 0x4241544e);
    assert_int_equal(read_int(s, "SELECT journal_mode = 'wal' FROM pragma_journal_mode", 0), 1);
    store_close(s);

    cfg.n_migrations = 3;
    for (int round = 0; round < 2; round++) {
        s = open_ok(&cfg);
        read_text(s, sql_applied, text, sizeof(text));
        assert_string_equal(text, "1,2,3");
        assert_int_equal(read_int(s, sql_version, 0), 3);
        store_close(s);
    }
    remove_dir(dir);
}

static void failed_migration_leaves_previous_version(void **state)
{
    (void)state;
    char *dir = make_dir();
    store_config cfg = config(dir);
    store_close(open_ok(&cfg));

    store_migration more[N_MIGRATIONS + 1];
    memcpy(more, migrations, sizeof(migrations));
    more[N_MIGRATIONS] =
        (store_migration){4, "INSERT INTO applied VALUES (4); SELECT * FROM no_such_table;"};
    cfg.migrations = more;
    cfg.n_migrations = N_MIGRATIONS + 1;
    bt_err err;
    assert_null(store_open(&cfg, &err));
    assert_int_equal(err.code, BT_EIO);
    char *want = bt_xasprintf("%s/baton.db: migration 4: no such table: no_such_table", dir);
    assert_string_equal(err.msg, want);
    free(want);

    cfg = config(dir);
    store *s = open_ok(&cfg);
    char text[64];
    read_text(s, sql_applied, text, sizeof(text));
    assert_string_equal(text, "1,2,3");
    assert_int_equal(read_int(s, sql_version, 0), 3);
    store_close(s);
    remove_dir(dir);
}

static void newer_schema_refused(void **state)
{
    (void)state;
    char *dir = make_dir();
    store_config cfg = config(dir);
    store_close(open_ok(&cfg));

    cfg.n_migrations = 2;
    bt_err err;
    assert_null(store_open(&cfg, &err));
    assert_int_equal(err.code, BT_ESTATE);
    char *want = bt_xasprintf(
        "%s/baton.db was written by a newer Baton (schema 3; this one knows up to 2)", dir);
    assert_string_equal(err.msg, want);
    free(want);

    cfg.n_migrations = 3;
    store_close(open_ok(&cfg)); /* refused, not harmed */
    remove_dir(dir);
}

static void write_raw_db(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void foreign_sqlite_file_refused_untouched(void **state)
{
    (void)state;
    char *dir = make_dir();
    char *path = bt_xasprintf("%s/baton.db", dir);
    write_raw_db(path, "CREATE TABLE notes(x); INSERT INTO notes VALUES ('mine');");
    store_config cfg = config(dir);
    bt_err err;
    assert_null(store_open(&cfg, &err));
    assert_int_equal(err.code, BT_ESTATE);
    char *want = bt_xasprintf("%s is not a Baton store (application_id 0)", path);
    assert_string_equal(err.msg, want);
    free(want);

    /* Still in rollback-journal mode, with its one table and no migration applied. */
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT (SELECT journal_mode FROM pragma_journal_mode) || "
                                        "(SELECT count(*) FROM sqlite_schema)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "delete1");
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    free(path);
    remove_dir(dir);
}

static void write_file(const char *path, const void *data, size_t len, off_t at)
{
    int fd = open(path, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, data, len, at), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

static void not_a_database_refused(void **state)
{
    (void)state;
    char *dir = make_dir();
    char *path = bt_xasprintf("%s/baton.db", dir);
    char junk[8192];
    memset(junk, 'j', sizeof(junk));
    write_file(path, junk, sizeof(junk), 0);
    store_config cfg = config(dir);
    bt_err err;
    assert_null(store_open(&cfg, &err));
    assert_int_equal(err.code, BT_EIO);
    char *want = bt_xasprintf("%s: file is not a database", path);
    assert_string_equal(err.msg, want);
    free(want);
    free(path);
    remove_dir(dir);
}

static void damaged_table_refused(void **state)
{
    (void)state;
    char *dir = make_dir();
    store_config cfg = config(dir);
    store *s = open_ok(&cfg);
    store_batch *b = store_batch_new();
    char value[200];
    memset(value, 'v', sizeof(value) - 1);
    value[sizeof(value) - 1] = '\0';
    for (int64_t id = 1; id <= 500; id++)
        store_batch_add(b, sql_insert, "it", id, value);
    store_submit(s, b);
    drain(s);
    int64_t root = read_int(s, "SELECT rootpage FROM sqlite_schema WHERE name = 't'", 0);
    int64_t page_size = read_int(s, "PRAGMA page_size", 0);
    store_close(s); /* checkpoints: every page is in baton.db now */

    char *path = bt_xasprintf("%s/baton.db", dir);
    char junk[4096];
    memset(junk, 0xee, sizeof(junk));
    assert_true(page_size <= (int64_t)sizeof(junk));
    write_file(path, junk, (size_t)page_size, (off_t)((root - 1) * page_size));
    bt_err err;
    assert_null(store_open(&cfg, &err));
    assert_int_equal(err.code, BT_EIO);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "malformed"));
    free(path);
    remove_dir(dir);
}

/* ---- the lock */

static void lock_refuses_second_open(void **state)
{
    (void)state;
    char *dir = make_dir();
    store_config cfg = config(dir);
    store *s = open_ok(&cfg);

    bt_err err;
    assert_null(store_open(&cfg, &err));
    assert_int_equal(err.code, BT_EEXIST);
    char *want = bt_xasprintf("another baton serve (pid %ld) is using %s", (long)getpid(), dir);
    assert_string_equal(err.msg, want);
    free(want);

    char *lock = bt_xasprintf("%s/baton.lock", dir);
    char text[32] = {0};
    int fd = open(lock, O_RDONLY);
    assert_true(fd >= 0);
    assert_true(read(fd, text, sizeof(text) - 1) > 0);
    close(fd);
    char *pid = bt_xasprintf("%ld\n", (long)getpid());
    assert_string_equal(text, pid);
    free(pid);
    free(lock);

    store_close(s);
    s = open_ok(&cfg);
    store_close(s);
    remove_dir(dir);
}

static void folder_created_private(void **state)
{
    (void)state;
    char *parent = make_dir();
    char *dir = bt_xasprintf("%s/data", parent);
    store_config cfg = config(dir);
    store_close(open_ok(&cfg));
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);

    char *missing = bt_xasprintf("%s/no/such", parent);
    cfg.dir = missing;
    bt_err err;
    assert_null(store_open(&cfg, &err));
    assert_int_equal(err.code, BT_EIO);
    char *want = bt_xasprintf("cannot create %s: No such file or directory", missing);
    assert_string_equal(err.msg, want);
    free(want);
    free(missing);
    remove_dir(dir);
    remove_dir(parent);
}

/* ---- batches and completions */

static void batches_complete_in_order(void **state)
{
    (void)state;
    char *dir = make_dir();
    store_config cfg = config(dir);
    store *s = open_ok(&cfg);
    record rec = {.n = 0};
    tag tags[102];
    for (int i = 0; i < 100; i++) {
        char value[32];
        snprintf(value, sizeof(value), "row %d", i);
        store_batch *b = insert_batch(i, value);
        tags[i] = (tag){&rec, i, s};
        store_batch_on_done(b, on_done, &tags[i]);
        store_submit(s, b);
    }
    /* Two completions on an empty batch: after every batch before it, in the order added. */
    store_batch *empty = store_batch_new();
    assert_true(store_batch_empty(empty));
    tags[100] = (tag){&rec, 100, NULL};
    tags[101] = (tag){&rec, 101, NULL};
    store_batch_on_done(empty, on_done, &tags[100]);
    store_batch_on_done(empty, on_done, &tags[101]);
    assert_false(store_batch_empty(empty));
    assert_int_equal(store_batch_bytes(empty), 0);
    store_submit(s, empty);
    store_submit(s, store_batch_new()); /* nothing at all: finishes, runs nothing */
    assert_int_equal(store_pending(s), 102);
    drain(s);

    assert_int_equal(rec.n, 102);
    for (int i = 0; i < 102; i++) {
        assert_int_equal(rec.order[i], i);
        assert_int_equal(rec.rc[i], 0);
    }
    assert_int_equal(read_int(s, sql_count, 0), 100);
    char text[32];
    read_text(s, "SELECT v FROM t WHERE id = 57", text, sizeof(text));
    assert_string_equal(text, "row 57");
    assert_string_equal(store_last_error(s), "");
    store_close(s);
    remove_dir(dir);
}

static void group_commit_groups(void **state)
{
    (void)state;
    char *dir = make_dir();
    store_config cfg = config(dir);
    store *s = open_ok(&cfg);
    shut_gate();
    store_batch *first = store_batch_new();
    for (int64_t id = 0; id < 1000; id++)
        store_batch_add(first, sql_insert, "it", id, "first");
    store_submit(s, first);
    wait_writer_held(); /* the first commit is done; the writer waits in its wakeup */
    for (int64_t id = 1000; id < 1200; id++)
        store_submit(s, insert_batch(id, "grouped"));
    open_gate();
    drain(s);

    store_stats st;
    store_get_stats(s, &st);
    assert_int_equal(st.commits, 2); /* 201 batches in two transactions */
    assert_int_equal(st.batches, 201);
    assert_int_equal(st.statements, 1200);
    assert_int_equal(st.failures, 0);
    assert_true(st.commit_us_total > 0);
    assert_int_equal(read_int(s, sql_count, 0), 1200);
    store_close(s);
    remove_dir(dir);
}

/* A failing batch fails its whole group: the good batch committed with it is not written,
 * and the next group goes on as if nothing had happened. */
static void failed_group_rolls_back_whole(void **state)
{
    (void)state;
    char *dir = make_dir();
    store_config cfg = config(dir);
    store *s = open_ok(&cfg);
    record rec = {.n = 0};
    tag tags[4] = {{&rec, 0, NULL}, {&rec, 1, NULL}, {&rec, 2, NULL}, {&rec, 3, NULL}};

    shut_gate();
    store_batch *b = insert_batch(1, "before");
    store_batch_on_done(b, on_done, &tags[0]);
    store_submit(s, b);
    wait_writer_held();
    b = insert_batch(2, "good, same group");
    store_batch_on_done(b, on_done, &tags[1]);
    store_submit(s, b);
    b = insert_batch(1, "duplicate key");
    store_batch_on_done(b, on_done, &tags[2]);
    store_submit(s, b);
    open_gate();
    drain(s);
    assert_string_equal(store_last_error(s), "UNIQUE constraint failed: t.id");

    b = insert_batch(3, "after");
    store_batch_on_done(b, on_done, &tags[3]);
    store_submit(s, b);
    drain(s);

    assert_int_equal(rec.n, 4);
    int want_rc[4] = {0, BT_EIO, BT_EIO, 0};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(rec.order[i], i);
        assert_int_equal(rec.rc[i], want_rc[i]);
    }
    char text[64];
    read_text(s, "SELECT group_concat(id || '=' || v, ';') FROM t", text, sizeof(text));
    assert_string_equal(text, "1=before;3=after");
    store_stats st;
    store_get_stats(s, &st);
    assert_int_equal(st.commits, 2);
    assert_int_equal(st.failures, 1);
    assert_int_equal(st.batches, 2);

    /* SQL that does not prepare fails its batch the same way, with SQLite's message. */
    static const char bad_sql[] = "INSERT INTO no_such_table VALUES (?)";
    b = store_batch_new();
    store_batch_add(b, bad_sql, "i", (int64_t)1);
    store_batch_on_done(b, on_done, &tags[0]);
    store_submit(s, b);
    drain(s);
    assert_int_equal(rec.rc[4], BT_EIO);
    assert_string_equal(store_last_error(s),
                        "INSERT INTO no_such_table VALUES (?): no such table: no_such_table");
    store_close(s);
    remove_dir(dir);
}

static void close_runs_pending_completions(void **state)
{
    (void)state;
    char *dir = make_dir();
    store_config cfg = config(dir);
    store *s = open_ok(&cfg);
    record rec = {.n = 0};
    tag tags[50];
    for (int i = 0; i < 50; i++) {
        store_batch *b = insert_batch(i, "x");
        tags[i] = (tag){&rec, i, NULL};
        store_batch_on_done(b, on_done, &tags[i]);
        store_submit(s, b);
    }
    store_close(s);
    assert_int_equal(rec.n, 50);
    for (int i = 0; i < 50; i++) {
        assert_int_equal(rec.order[i], i);
        assert_int_equal(rec.rc[i], 0);
    }
    s = open_ok(&cfg);
    assert_int_equal(read_int(s, sql_count, 0), 50);
    store_close(s);
    remove_dir(dir);
}

/* ---- values */

static void values_round_trip(void **state)
{
    (void)state;
    static const char insert_all[] = "INSERT INTO t(id, v) VALUES (?, ?)";
    char *dir = make_dir();
    store_config cfg = config(dir);
    store *s = open_ok(&cfg);
    static const unsigned char zeros[5] = {0, 1, 0, 2, 0};
    size_t big_len = 300000;
    unsigned char *big = bt_xmalloc(big_len);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (unsigned char)(i * 7);

    store_batch *b = store_batch_new();
    store_batch_add(b, insert_all, "ib", (int64_t)1, zeros, sizeof(zeros));
    store_batch_add(b, insert_all, "it", (int64_t)2, "h\xc3\xa9llo");
    store_batch_add(b, insert_all, "it", (int64_t)3, "");
    store_batch_add(b, insert_all, "ib", (int64_t)4, "", (size_t)0);
    store_batch_add(b, insert_all, "it", (int64_t)5, (const char *)NULL);
    store_batch_add(b, insert_all, "ib", (int64_t)6, (const void *)NULL, (size_t)9);
    store_batch_add(b, insert_all, "in", (int64_t)7);
    store_batch_add(b, insert_all, "ii", (int64_t)8, INT64_MIN);
    store_batch_add(b, insert_all, "ii", (int64_t)9, INT64_MAX);
    store_batch_add(b, insert_all, "ib", (int64_t)10, big, big_len);
    assert_int_equal(store_batch_bytes(b), 10 * 8 + 5 + 6 + 2 * 8 + big_len);
    store_submit(s, b);
    drain(s);

    char text[128];
    read_text(s, "SELECT group_concat(id || ':' || typeof(v), ' ') FROM t", text, sizeof(text));
    assert_string_equal(text, "1:blob 2:text 3:text 4:blob 5:null 6:null 7:null 8:integer "
                              "9:integer 10:blob");
    sqlite3_stmt *st = store_read_stmt(s, "SELECT v FROM t WHERE id = ?");
    int64_t ids[] = {1, 2, 4, 8, 9, 10};
    for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, ids[k]);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        const void *data = sqlite3_column_blob(st, 0);
        int len = sqlite3_column_bytes(st, 0);
        switch (ids[k]) {
        case 1:
            assert_int_equal(len, sizeof(zeros));
            assert_memory_equal(data, zeros, sizeof(zeros));
            break;
        case 2:
            assert_string_equal((const char *)sqlite3_column_text(st, 0), "h\xc3\xa9llo");
            break;
        case 4:
            assert_int_equal(len, 0);
            break;
        case 8:
            assert_true(sqlite3_column_int64(st, 0) == INT64_MIN);
            break;
        case 9:
            assert_true(sqlite3_column_int64(st, 0) == INT64_MAX);
            break;
        default:
            assert_int_equal(len, (int)big_len);
            assert_memory_equal(data, big, big_len);
        }
    }
    sqlite3_reset(st);
    free(big);
    store_close(s);
    remove_dir(dir);
}

static void reader_caches_by_address(void **state)
{
    (void)state;
    static const char select_param[] = "SELECT typeof(?)";
    char *dir = make_dir();
    store_config cfg = config(dir);
    store *s = open_ok(&cfg);
    sqlite3_stmt *st = store_read_stmt(s, select_param);
    assert_non_null(st);
    assert_int_equal(sqlite3_bind_int64(st, 1, 42), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "integer");

    /* Mid-result, bound: handed back reset and with its binding cleared. */
    assert_ptr_equal(store_read_stmt(s, select_param), st);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "null");
    sqlite3_reset(st);

    /* Many statements: the cache grows and still finds each one. */
    static char texts[40][32];
    sqlite3_stmt *stmts[40];
    for (int i = 0; i < 40; i++) {
        snprintf(texts[i], sizeof(texts[i]), "SELECT %d", i);
        stmts[i] = store_read_stmt(s, texts[i]);
        assert_non_null(stmts[i]);
    }
    for (int i = 0; i < 40; i++) {
        assert_ptr_equal(store_read_stmt(s, texts[i]), stmts[i]);
        assert_int_equal(sqlite3_step(stmts[i]), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(stmts[i], 0), i);
        sqlite3_reset(stmts[i]);
    }

    assert_null(store_read_stmt(s, "SELECT FROM"));
    assert_string_equal(sqlite3_errmsg(store_reader(s)), "near \"FROM\": syntax error");
    assert_int_not_equal(
        sqlite3_exec(store_reader(s), "INSERT INTO t VALUES (1, 1)", NULL, NULL, NULL), SQLITE_OK);
    assert_string_equal(sqlite3_errmsg(store_reader(s)), "attempt to write a readonly database");
    assert_int_equal(read_int(s, sql_count, 0), 0);
    store_close(s);
    remove_dir(dir);
}

/* ---- max_bytes: a store that fills up */

static int submit_wait(store *s, store_batch *b)
{
    record rec = {.n = 0};
    tag t = {&rec, 0, NULL};
    store_batch_on_done(b, on_done, &t);
    store_submit(s, b);
    drain(s);
    assert_int_equal(rec.n, 1);
    return rec.rc[0];
}

static store_batch *blob_rows(int64_t first, int n, const unsigned char *blob, size_t len)
{
    store_batch *b = store_batch_new();
    for (int64_t id = first; id < first + n; id++)
        store_batch_add(b, sql_insert, "ib", id, blob, len);
    return b;
}

static void max_bytes_fails_as_full_disk(void **state)
{
    (void)state;
    enum { MAX_BYTES = 128 * 1024, ROWS = 4 };
    char *dir = make_dir();
    store_config cfg = config(dir);
    cfg.max_bytes = MAX_BYTES;
    store *s = open_ok(&cfg);
    unsigned char blob[1500];
    memset(blob, 0xab, sizeof(blob));

    int64_t next = 1;
    int rc = 0, n_ok = 0;
    while (n_ok < 200 && (rc = submit_wait(s, blob_rows(next, ROWS, blob, sizeof(blob)))) == 0) {
        next += ROWS;
        n_ok++;
    }
    assert_int_equal(rc, BT_ELIMIT);
    assert_true(n_ok > 5); /* room for a few dozen rows before it filled */
    assert_string_equal(store_last_error(s), "database or disk is full");
    /* Nothing of the failed batch: every row is one of the batches that succeeded. */
    assert_int_equal(read_int(s, sql_count, 0), n_ok * ROWS);
    assert_int_equal(read_int(s, "SELECT max(id) FROM t", 0), next - 1);
    store_stats st;
    store_get_stats(s, &st);
    assert_int_equal(st.failures, 1);

    /* Deleting makes room: the freed pages are reused, the file does not grow. */
    store_batch *del = store_batch_new();
    store_batch_add(del, "DELETE FROM t WHERE id < ?", "i", (int64_t)(ROWS * (n_ok / 2) + 1));
    assert_int_equal(submit_wait(s, del), 0);
    assert_int_equal(submit_wait(s, blob_rows(next, 1, blob, 100)), 0);
    int64_t rows = n_ok * ROWS - ROWS * (n_ok / 2) + 1;
    assert_int_equal(read_int(s, sql_count, 0), rows);
    store_close(s);

    char *path = bt_xasprintf("%s/baton.db", dir);
    struct stat file;
    assert_int_equal(stat(path, &file), 0);
    assert_true(file.st_size <= MAX_BYTES);
    free(path);

    s = open_ok(&cfg);
    assert_int_equal(read_int(s, sql_count, 0), rows);
    assert_int_equal(submit_wait(s, blob_rows(next + 1, 1, blob, 100)), 0);
    assert_int_equal(read_int(s, sql_count, 0), rows + 1);
    store_close(s);
    remove_dir(dir);
}

/* ---- kill -9 */

static const char sql_bump[] = "UPDATE counter SET n = n + 1";

static int ack_fd = -1;

static void ack(void *ctx, int rc)
{
    int64_t id = (int64_t)(intptr_t)ctx;
    if (rc != 0 || write(ack_fd, &id, sizeof(id)) != (ssize_t)sizeof(id))
        _exit(3);
}

/* The child: numbered batches (a row and a counter bump each) as fast as the store takes
 * them; each id goes down the pipe once its batch is durable. Runs until killed. */
static void child_main(const char *dir, int fd)
{
    ack_fd = fd;
    store_config cfg = config(dir);
    bt_err err;
    store *s = store_open(&cfg, &err);
    if (s == NULL)
        _exit(2);
    /* No cmocka assertion here: a failure would unwind into the test runner's copy. */
    sqlite3_stmt *st = store_read_stmt(s, "SELECT ifnull(max(id), 0) + 1 FROM t");
    if (st == NULL || sqlite3_step(st) != SQLITE_ROW)
        _exit(4);
    int64_t first = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    uint64_t seen = wake.n_wakeups;
    for (int64_t id = first;; id++) {
        store_batch *b = store_batch_new();
        store_batch_add(b, sql_insert, "it", id, "acknowledged once durable");
        store_batch_add(b, sql_bump, "");
        store_batch_on_done(b, ack, (void *)(intptr_t)id);
        store_submit(s, b);
        store_poll(s);
        while (store_pending(s) > 64) {
            seen = wait_wakeup(seen);
            store_poll(s);
        }
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads acknowledged ids until the deadline (then kills the child) and on to end of file.
 * They come in order, one apart; the first may skip ids of the previous round that were
 * committed but not acknowledged. Returns the last one, or prev when there was none. */
static int64_t collect_acks(int fd, pid_t child, int64_t deadline, int64_t prev)
{
    bool is_killed = false, is_first = true;
    for (;;) {
        int64_t left = deadline - now_ms();
        if (!is_killed && left <= 0) {
            assert_int_equal(kill(child, SIGKILL), 0);
            is_killed = true;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, is_killed ? 1000 : (int)left) == 0)
            continue;
        int64_t id;
        ssize_t n = read(fd, &id, sizeof(id));
        if (n == 0)
            return prev;
        assert_int_equal(n, sizeof(id));
        assert_true(is_first ? id > prev : id == prev + 1);
        is_first = false;
        prev = id;
    }
}

static void acknowledged_batches_survive_kill(void **state)
{
    (void)state;
    char *dir = make_dir();
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    srand(seed);
    int64_t acked = 0;
    for (int round = 0; round < 4; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0) {
            close(fds[0]);
            child_main(dir, fds[1]);
        }
        close(fds[1]);
        int64_t delay = 80 + rand() % 300;
        int64_t last = collect_acks(fds[0], child, now_ms() + delay, acked);
        close(fds[0]);
        int status = 0;
        assert_int_equal(waitpid(child, &status, 0), child);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
            fail_msg("the child ended by itself (status %d, seed %u)", status, seed);
        assert_true(last > acked); /* it got somewhere in each round */
        acked = last;

        store_config cfg = config(dir);
        store *s = open_ok(&cfg);
        int64_t n_rows = read_int(s, sql_count, 0);
        assert_true(n_rows >= acked);
        assert_int_equal(read_int(s, "SELECT ifnull(max(id), 0) FROM t", 0), n_rows);
        assert_int_equal(read_int(s, "SELECT n FROM counter", 0), n_rows);
        char text[32];
        read_text(s, "PRAGMA integrity_check", text, sizeof(text));
        assert_string_equal(text, "ok");
        store_close(s);
    }
    remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(migrations_apply_once_in_order),
        cmocka_unit_test(failed_migration_leaves_previous_version),
        cmocka_unit_test(newer_schema_refused),
        cmocka_unit_test(foreign_sqlite_file_refused_untouched),
        cmocka_unit_test(not_a_database_refused),
        cmocka_unit_test(damaged_table_refused),
        cmocka_unit_test(lock_refuses_second_open),
        cmocka_unit_test(folder_created_private),
        cmocka_unit_test(batches_complete_in_order),
        cmocka_unit_test(group_commit_groups),
        cmocka_unit_test(failed_group_rolls_back_whole),
        cmocka_unit_test(close_runs_pending_completions),
        cmocka_unit_test(values_round_trip),
        cmocka_unit_test(reader_caches_by_address),
        cmocka_unit_test(max_bytes_fails_as_full_disk),
        cmocka_unit_test(acknowledged_batches_survive_kill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
