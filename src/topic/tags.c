/*
 * tags.c — a topic's tags (CreateTopic's Tags, TagResource, UntagResource,
 * ListTagsForResource): held with the topic in memory, written into the current batch as rows
 * of the server's `tags` table under the topic's ARN, loaded with the topics, dropped with
 * the topic. SNS's limits (its API model): at most 50 tags per topic, keys of 1–128 and values
 * of 0–256 characters; an unknown topic is ResourceNotFound (404), too many tags
 * TagLimitExceeded (400).
 */
#include "topic/topic_int.h"

#include "base/alloc.h"

#include <string.h>

#define TAGS_MAX      50
#define TAG_KEY_MAX   128
#define TAG_VALUE_MAX 256

static const char sql_tag_put[] = "INSERT OR REPLACE INTO tags (arn, key, value) VALUES (?, ?, ?)";
static const char sql_tag_del[] = "DELETE FROM tags WHERE arn = ? AND key = ?";
static const char sql_tags_del[] = "DELETE FROM tags WHERE arn = ?";
static const char sql_tags_load[] = "SELECT key, value FROM tags WHERE arn = ?";

/* Characters of UTF-8 text (the limits count characters, not bytes). */
static size_t chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static topic__topic *resource(topic_service *ts, const char *arn, topic_err *err)
{
    topic__topic *t = arn ? topic__find(ts, arn) : NULL;
    if (t == NULL)
        topic__fail(err, 404, "ResourceNotFound", "Resource does not exist");
    return t;
}

static int too_many(topic_err *err)
{
    topic__fail(err, 400, "TagLimitExceeded",
                "Could not complete request: tag quota of per resource exceeded");
    return -1;
}

int topic__tags_check(const topic_kv *tags, size_t n, topic_err *err)
{
    if (n > TAGS_MAX)
        return too_many(err);
    for (size_t i = 0; i < n; i++) {
        size_t k = tags[i].key ? chars(tags[i].key) : 0;
        if (k < 1 || k > TAG_KEY_MAX) {
            topic__fail(err, 400, "InvalidParameter",
                        "Invalid parameter: Tags Reason: a tag key must have 1 to %d characters",
                        TAG_KEY_MAX);
            return -1;
        }
        if (tags[i].value == NULL || chars(tags[i].value) > TAG_VALUE_MAX) {
            topic__fail(err, 400, "InvalidParameter",
                        "Invalid parameter: Tags Reason: a tag value must have 0 to %d characters",
                        TAG_VALUE_MAX);
            return -1;
        }
    }
    return 0;
}

bool topic__tags_equal(const topic__topic *t, const topic_kv *tags, size_t n)
{
    json_t *want = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(want, tags[i].key, json_string(tags[i].value));
    bool same = json_equal(want, t->tags);
    json_decref(want);
    return same;
}

static int put(topic_service *ts, topic__topic *t, const topic_kv *tags, size_t n, topic_err *err)
{
    if (topic__tags_check(tags, n, err) < 0)
        return -1;
    size_t after = json_object_size(t->tags);
    for (size_t i = 0; i < n; i++) {
        bool is_new = json_object_get(t->tags, tags[i].key) == NULL;
        for (size_t j = 0; j < i && is_new; j++)
            is_new = strcmp(tags[j].key, tags[i].key) != 0;
        after += is_new;
    }
    if (after > TAGS_MAX)
        return too_many(err);
    for (size_t i = 0; i < n; i++) {
        json_object_set_new(t->tags, tags[i].key, json_string(tags[i].value));
        store_batch_add(server_batch(ts->srv), sql_tag_put, "ttt", t->arn, tags[i].key,
                        tags[i].value);
    }
    return 0;
}

int topic__tags_set(topic_service *ts, topic__topic *t, const topic_kv *tags, size_t n,
                    topic_err *err)
{
    return put(ts, t, tags, n, err);
}

int topic_tag(topic_service *ts, const char *arn, const topic_kv *tags, size_t n, topic_err *err)
{
    topic__topic *t = resource(ts, arn, err);
    return t ? put(ts, t, tags, n, err) : -1;
}

int topic_untag(topic_service *ts, const char *arn, const char *const *keys, size_t n,
                topic_err *err)
{
    topic__topic *t = resource(ts, arn, err);
    if (t == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        size_t k = keys[i] ? chars(keys[i]) : 0;
        if (k < 1 || k > TAG_KEY_MAX) {
            topic__fail(err, 400, "InvalidParameter",
                        "Invalid parameter: TagKeys Reason: a tag key must have 1 to %d "
                        "characters",
                        TAG_KEY_MAX);
            return -1;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (json_object_del(t->tags, keys[i]) == 0)
            store_batch_add(server_batch(ts->srv), sql_tag_del, "tt", t->arn, keys[i]);
    return 0;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int topic_list_tags(topic_service *ts, const char *arn, json_t **out, topic_err *err)
{
    topic__topic *t = resource(ts, arn, err);
    if (t == NULL)
        return -1;
    size_t n = json_object_size(t->tags), i = 0;
    const char **keys = bt_xcalloc(n + 1, sizeof *keys);
    const char *k;
    json_t *v;
    json_object_foreach(t->tags, k, v)
    {
        keys[i++] = k;
    }
    qsort(keys, n, sizeof *keys, by_key);
    *out = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(*out, json_pack("{s:s,s:O}", "Key", keys[i], "Value",
                                              json_object_get(t->tags, keys[i])));
    free(keys);
    return 0;
}

void topic__tags_drop(topic_service *ts, const topic__topic *t)
{
    store_batch_add(server_batch(ts->srv), sql_tags_del, "t", t->arn);
}

int topic__tags_load(topic_service *ts, topic__topic *t, bt_err *err)
{
    store *s = server_store(ts->srv);
    sqlite3_stmt *st = store_read_stmt(s, sql_tags_load);
    if (st == NULL)
        return bt_err_set(err, BT_EIO, "cannot read the tags: %s", sqlite3_errmsg(store_reader(s)));
    sqlite3_bind_text(st, 1, t->arn, -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_object_set_new(t->tags, (const char *)sqlite3_column_text(st, 0),
                            json_string((const char *)sqlite3_column_text(st, 1)));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return bt_err_set(err, BT_EIO, "cannot read the tags: %s", sqlite3_errstr(rc));
    return 0;
}
