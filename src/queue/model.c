/*
 * model.c — queues: names, attributes (parsed into qm__settings, validated as SQS does,
 * rendered back as the strings GetQueueAttributes returns), tags, creation and deletion.
 * Messages are model_msg.c's. Attribute texts and limits follow the SQS API reference
 * (CreateQueue, SetQueueAttributes) and the error texts AWS was recorded giving.
 *
 * A change is validated whole before anything is touched: SetQueueAttributes works on a
 * copy of the settings and swaps it in, so a refused call leaves the queue as it was.
 */
#include "queue/model_int.h"

#include "base/alloc.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors ---- */

int qm_fail(qm_err *e, qm_code code, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        e->code = code;
        vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const struct {
    const char *shape, *query, *exception;
    int status;
} codes[] = {
    {"", "", NULL, 200},
#define QERR(name, shape, code, status, exception) {shape, code, exception, status},
#include "queue/errors.def"
#undef QERR
};

const char *qm_code_shape(qm_code c)
{
    return codes[c].shape;
}

const char *qm_code_query(qm_code c)
{
    return codes[c].query;
}

int qm_code_status(qm_code c)
{
    return codes[c].status;
}

const char *qm_code_exception(qm_code c)
{
    return codes[c].exception;
}

/* ---- the model ---- */

qmodel *qmodel_new(const char *region, const char *account)
{
    qmodel *m = bt_xcalloc(1, sizeof(*m));
    m->region = bt_xstrdup(region);
    m->account = bt_xstrdup(account);
    bt_strmap_init(&m->by_name);
    return m;
}

static void settings_fini(qm__settings *s)
{
    free(s->redrive);
    free(s->dlq_arn);
    free(s->allow);
    free(s->policy);
    free(s->kms_key);
}

static void queue_free(qm_queue *q)
{
    qm__queue_free_messages(q);
    for (qm__dedup *d = q->dedup_head, *next; d; d = next) {
        next = d->next;
        free(d->key);
        free(d->seq);
        free(d);
    }
    bt_strmap_fini(&q->dedup);
    bt_strmap_fini(&q->by_id);
    for (size_t i = 0; i < q->n_tags; i++) {
        free(q->tags[i].key);
        free(q->tags[i].value);
    }
    free(q->tags);
    settings_fini(&q->set);
    free(q->name);
    free(q->arn);
    free(q);
}

void qmodel_free(qmodel *m)
{
    if (m == NULL)
        return;
    for (qm_queue *q = m->first, *next; q; q = next) {
        next = q->next_name;
        queue_free(q);
    }
    for (qm__deleted *d = m->deleted, *next; d; d = next) {
        next = d->next;
        free(d->name);
        free(d);
    }
    bt_strmap_fini(&m->by_name);
    free(m->region);
    free(m->account);
    free(m);
}

void qmodel_set_observer(qmodel *m, const qm_observer *obs)
{
    m->obs = *obs;
}

void qmodel_set_hold(qmodel *m, bool hold)
{
    m->hold = hold;
}

uint64_t qmodel_last_serial(const qmodel *m)
{
    return m->serial;
}

const char *qmodel_account(const qmodel *m)
{
    return m->account;
}

const char *qmodel_region(const qmodel *m)
{
    return m->region;
}

static void notify_saved(const qm_queue *q)
{
    const qm_observer *o = &q->model->obs;
    if (o->queue_saved)
        o->queue_saved(o->ud, q);
}

/* ---- names ---- */

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* 1–80 characters of [A-Za-z0-9_-], and for FIFO queues the ".fifo" suffix on top. */
static int check_name(const char *name, bool is_fifo, qm_err *err)
{
    size_t n = strlen(name), base = is_fifo && ends_with(name, ".fifo") ? n - 5 : n;
    bool ok = n >= 1 && n <= QM_MAX_QUEUE_NAME_CHARS && base >= 1 && (!is_fifo || base < n);
    for (size_t i = 0; ok && i < base; i++)
        ok = name_char(name[i]);
    if (ok)
        return 0;
    if (is_fifo)
        return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                       "The name of a FIFO queue can only include alphanumeric characters, "
                       "hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in "
                       "length.");
    return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                   "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 "
                   "in length");
}

/* ---- attributes ---- */

static void settings_default(qm__settings *s, bool is_fifo)
{
    memset(s, 0, sizeof(*s));
    s->is_fifo = is_fifo;
    s->max_size = QM_MAX_MESSAGE_SIZE;
    s->retention_s = 345600;
    s->visibility_s = 30;
    s->kms_reuse_s = 300;
    s->sse = true;
    s->dedup_scope = "queue";
    s->throughput = "perQueue";
}

static char *dup_or_null(const char *s)
{
    return s ? bt_xstrdup(s) : NULL;
}

static void settings_copy(qm__settings *dst, const qm__settings *src)
{
    *dst = *src;
    dst->redrive = dup_or_null(src->redrive);
    dst->dlq_arn = dup_or_null(src->dlq_arn);
    dst->allow = dup_or_null(src->allow);
    dst->policy = dup_or_null(src->policy);
    dst->kms_key = dup_or_null(src->kms_key);
}

static void replace(char **slot, const char *value)
{
    free(*slot);
    *slot = value && *value ? bt_xstrdup(value) : NULL;
}

/* Decimal digits only, as SQS reads attribute values. */
static bool parse_int(const char *s, int64_t *out)
{
    int64_t v = 0;
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return true;
}

static int bad_value(qm_err *err, const char *name)
{
    return qm_fail(err, QM_E_INVALID_ATTRIBUTE_VALUE, "Invalid value for the parameter %s.", name);
}

typedef enum attr_kind {
    A_INT,     /* a bounded integer */
    A_BOOL,    /* "true" | "false" */
    A_TEXT,    /* kept as given */
    A_REDRIVE, /* RedrivePolicy */
    A_ALLOW,   /* RedriveAllowPolicy */
    A_CHOICE,  /* one of two words */
} attr_kind;

typedef struct attr_def {
    const char *name;
    attr_kind kind;
    int64_t min, max;
    bool fifo_only;
    const char *choice[2];
} attr_def;

/* The attributes CreateQueue and SetQueueAttributes accept (SQS API reference). */
static const attr_def attr_defs[] = {
    {"DelaySeconds", A_INT, 0, 900, false, {NULL, NULL}},
    {"MaximumMessageSize", A_INT, 1024, QM_MAX_MESSAGE_SIZE, false, {NULL, NULL}},
    {"MessageRetentionPeriod", A_INT, 60, 1209600, false, {NULL, NULL}},
    {"ReceiveMessageWaitTimeSeconds", A_INT, 0, QM_MAX_WAIT_S, false, {NULL, NULL}},
    {"VisibilityTimeout", A_INT, 0, QM_MAX_VISIBILITY_S, false, {NULL, NULL}},
    {"Policy", A_TEXT, 0, 0, false, {NULL, NULL}},
    {"RedrivePolicy", A_REDRIVE, 0, 0, false, {NULL, NULL}},
    {"RedriveAllowPolicy", A_ALLOW, 0, 0, false, {NULL, NULL}},
    {"KmsMasterKeyId", A_TEXT, 0, 0, false, {NULL, NULL}},
    {"KmsDataKeyReusePeriodSeconds", A_INT, 60, 86400, false, {NULL, NULL}},
    {"SqsManagedSseEnabled", A_BOOL, 0, 0, false, {NULL, NULL}},
    {"FifoQueue", A_BOOL, 0, 0, false, {NULL, NULL}},
    {"ContentBasedDeduplication", A_BOOL, 0, 0, true, {NULL, NULL}},
    {"DeduplicationScope", A_CHOICE, 0, 0, true, {"queue", "messageGroup"}},
    {"FifoThroughputLimit", A_CHOICE, 0, 0, true, {"perQueue", "perMessageGroupId"}},
};

static const attr_def *find_def(const char *name)
{
    for (size_t i = 0; i < sizeof(attr_defs) / sizeof(attr_defs[0]); i++)
        if (strcmp(attr_defs[i].name, name) == 0)
            return &attr_defs[i];
    return NULL;
}

static int64_t *int_slot(qm__settings *s, const char *name)
{
    if (strcmp(name, "DelaySeconds") == 0)
        return &s->delay_s;
    if (strcmp(name, "MaximumMessageSize") == 0)
        return &s->max_size;
    if (strcmp(name, "MessageRetentionPeriod") == 0)
        return &s->retention_s;
    if (strcmp(name, "ReceiveMessageWaitTimeSeconds") == 0)
        return &s->wait_s;
    if (strcmp(name, "VisibilityTimeout") == 0)
        return &s->visibility_s;
    return &s->kms_reuse_s;
}

static int redrive_invalid(qm_err *err, const char *value, const char *reason)
{
    return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                   "Value %.300s for parameter RedrivePolicy is invalid. Reason: %s", value,
                   reason);
}

/*
 * RedrivePolicy: a JSON map {"deadLetterTargetArn": ARN, "maxReceiveCount": 1–1000 (a number
 * or its text)}; the target must exist (unless restoring, when queues load in any order) and
 * be of the source's type. "" removes the policy. Kept normalised, as AWS renders it back.
 */
static int apply_redrive(const qmodel *m, qm__settings *s, const char *value, bool restoring,
                         qm_err *err)
{
    if (*value == '\0') {
        replace(&s->redrive, NULL);
        replace(&s->dlq_arn, NULL);
        return 0;
    }
    json_t *j = json_loads(value, JSON_REJECT_DUPLICATES, NULL);
    json_t *arn = json_object_get(j, "deadLetterTargetArn");
    json_t *count = json_object_get(j, "maxReceiveCount");
    int64_t n = 0;
    int rc = 0;
    if (!json_is_object(j) || !json_is_string(arn) || count == NULL) {
        rc = redrive_invalid(err, value, "Redrive policy is not a valid JSON map.");
        goto out;
    }
    if (json_is_integer(count))
        n = json_integer_value(count);
    else if (!json_is_string(count) || !parse_int(json_string_value(count), &n))
        n = -1;
    if (n < 1 || n > 1000) {
        rc = qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                     "Value %.300s for parameter RedrivePolicy is invalid. Reason: Invalid value "
                     "for maxReceiveCount, valid values are from 1 to 1000 both inclusive.",
                     value);
        goto out;
    }
    if (!restoring) {
        const qm_queue *dlq = qm_find_arn(m, json_string_value(arn));
        if (dlq == NULL) {
            rc = redrive_invalid(err, value, "Dead-letter target does not exist.");
            goto out;
        }
        if (dlq->set.is_fifo != s->is_fifo) {
            rc = redrive_invalid(err, value,
                                 "Dead-letter queue must be same type of queue as the source.");
            goto out;
        }
    }
    char *text = bt_xasprintf("{\"deadLetterTargetArn\":\"%s\",\"maxReceiveCount\":%" PRId64 "}",
                              json_string_value(arn), n);
    replace(&s->redrive, text);
    free(text);
    replace(&s->dlq_arn, json_string_value(arn));
    s->max_receive = n;
out:
    json_decref(j);
    return rc;
}

/* RedriveAllowPolicy: {"redrivePermission": allowAll|denyAll|byQueue, "sourceQueueArns":
 * [≤ 10 ARNs], the list only with byQueue}. Stored as given. */
static int apply_allow(qm__settings *s, const char *value, qm_err *err)
{
    if (*value == '\0') {
        replace(&s->allow, NULL);
        return 0;
    }
    json_t *j = json_loads(value, JSON_REJECT_DUPLICATES, NULL);
    const char *perm = json_string_value(json_object_get(j, "redrivePermission"));
    json_t *arns = json_object_get(j, "sourceQueueArns");
    bool ok = json_is_object(j) && perm &&
              (strcmp(perm, "allowAll") == 0 || strcmp(perm, "denyAll") == 0 ||
               strcmp(perm, "byQueue") == 0);
    if (ok && strcmp(perm, "byQueue") == 0)
        ok = json_is_array(arns) && json_array_size(arns) >= 1 && json_array_size(arns) <= 10;
    else if (ok)
        ok = arns == NULL;
    json_decref(j);
    if (!ok)
        return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                       "Value %.300s for parameter RedriveAllowPolicy is invalid.", value);
    replace(&s->allow, value);
    return 0;
}

static int apply_one(const qmodel *m, qm__settings *s, const char *name, const char *value,
                     bool is_create, bool restoring, qm_err *err)
{
    const attr_def *d = find_def(name);
    if (d == NULL || (strcmp(name, "FifoQueue") == 0 && !is_create && !s->is_fifo))
        return qm_fail(err, QM_E_INVALID_ATTRIBUTE_NAME, "Unknown Attribute %s.", name);
    if (d->fifo_only && !s->is_fifo)
        return qm_fail(err, QM_E_INVALID_ATTRIBUTE_NAME,
                       "You can specify the %s only when FifoQueue is set to true.", name);
    int64_t n;
    switch (d->kind) {
    case A_INT:
        if (!parse_int(value, &n) || n < d->min || n > d->max)
            return bad_value(err, name);
        *int_slot(s, name) = n;
        return 0;
    case A_BOOL: {
        bool yes = strcmp(value, "true") == 0;
        if (!yes && strcmp(value, "false") != 0)
            return bad_value(err, name);
        if (strcmp(name, "FifoQueue") == 0) {
            if (yes != s->is_fifo)
                return qm_fail(err, QM_E_INVALID_ATTRIBUTE_VALUE,
                               "Invalid value for the parameter FifoQueue. Reason: Modifying "
                               "queue type is not supported.");
        } else if (strcmp(name, "SqsManagedSseEnabled") == 0) {
            s->sse = yes;
        } else {
            s->content_dedup = yes;
        }
        return 0;
    }
    case A_TEXT:
        replace(strcmp(name, "Policy") == 0 ? &s->policy : &s->kms_key, value);
        return 0;
    case A_REDRIVE:
        return apply_redrive(m, s, value, restoring, err);
    case A_ALLOW:
        return apply_allow(s, value, err);
    case A_CHOICE:
        for (int i = 0; i < 2; i++) {
            if (strcmp(value, d->choice[i]) == 0) {
                if (strcmp(name, "DeduplicationScope") == 0)
                    s->dedup_scope = d->choice[i];
                else
                    s->throughput = d->choice[i];
                return 0;
            }
        }
        return bad_value(err, name);
    }
    return bad_value(err, name);
}

static int apply_all(const qmodel *m, qm__settings *s, const qm_kv *attrs, size_t n, bool is_create,
                     bool restoring, qm_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (apply_one(m, s, attrs[i].key, attrs[i].value, is_create, restoring, err) < 0)
            return -1;
    return 0;
}

/* ---- rendering ---- */

typedef void (*put_fn)(void *ud, const char *name, const char *value);

static void put_int(put_fn put, void *ud, const char *name, int64_t v)
{
    char text[24];
    snprintf(text, sizeof(text), "%" PRId64, v);
    put(ud, name, text);
}

/* Every attribute in AWS's order; unset optional ones are left out. */
static void render(const qm_queue *q, int64_t now_ms, bool with_state, put_fn put, void *ud)
{
    const qm__settings *s = &q->set;
    if (with_state) {
        int64_t visible, inflight, delayed;
        qm_counts(q, now_ms, &visible, &inflight, &delayed);
        put(ud, "QueueArn", q->arn);
        put_int(put, ud, "ApproximateNumberOfMessages", visible);
        put_int(put, ud, "ApproximateNumberOfMessagesNotVisible", inflight);
        put_int(put, ud, "ApproximateNumberOfMessagesDelayed", delayed);
        put_int(put, ud, "CreatedTimestamp", q->created_ms / 1000);
        put_int(put, ud, "LastModifiedTimestamp", q->modified_ms / 1000);
    }
    put_int(put, ud, "VisibilityTimeout", s->visibility_s);
    put_int(put, ud, "MaximumMessageSize", s->max_size);
    put_int(put, ud, "MessageRetentionPeriod", s->retention_s);
    put_int(put, ud, "DelaySeconds", s->delay_s);
    put_int(put, ud, "ReceiveMessageWaitTimeSeconds", s->wait_s);
    if (s->policy)
        put(ud, "Policy", s->policy);
    if (s->redrive)
        put(ud, "RedrivePolicy", s->redrive);
    if (s->allow)
        put(ud, "RedriveAllowPolicy", s->allow);
    if (s->kms_key) {
        put(ud, "KmsMasterKeyId", s->kms_key);
        put_int(put, ud, "KmsDataKeyReusePeriodSeconds", s->kms_reuse_s);
    }
    put(ud, "SqsManagedSseEnabled", s->sse ? "true" : "false");
    if (s->is_fifo) {
        put(ud, "FifoQueue", "true");
        put(ud, "DeduplicationScope", s->dedup_scope);
        put(ud, "FifoThroughputLimit", s->throughput);
        put(ud, "ContentBasedDeduplication", s->content_dedup ? "true" : "false");
    }
}

static const char *const read_only[] = {
    "QueueArn",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
};

static bool known_name(const char *name)
{
    if (strcmp(name, "All") == 0 || find_def(name))
        return true;
    for (size_t i = 0; i < sizeof(read_only) / sizeof(read_only[0]); i++)
        if (strcmp(read_only[i], name) == 0)
            return true;
    return false;
}

typedef struct filter {
    const char *const *names;
    size_t n;
    put_fn put;
    void *ud;
} filter;

static void put_filtered(void *ud, const char *name, const char *value)
{
    filter *f = ud;
    for (size_t i = 0; i < f->n; i++) {
        if (strcmp(f->names[i], "All") == 0 || strcmp(f->names[i], name) == 0) {
            f->put(f->ud, name, value);
            return;
        }
    }
}

int qm_get_attributes(const qmodel *m, const qm_queue *q, const char *const *names, size_t n,
                      int64_t now_ms, put_fn put, void *ud, qm_err *err)
{
    (void)m;
    for (size_t i = 0; i < n; i++)
        if (!known_name(names[i]))
            return qm_fail(err, QM_E_INVALID_ATTRIBUTE_NAME, "Unknown Attribute %.256s.", names[i]);
    filter f = {names, n, put, ud};
    render(q, now_ms, true, put_filtered, &f);
    return 0;
}

static void put_json(void *ud, const char *name, const char *value)
{
    json_object_set_new(ud, name, json_string(value));
}

/* The rendered settable attributes of a queue with these settings, as a JSON object. */
static json_t *rendered(const qm__settings *set)
{
    qm_queue probe = {0};
    probe.set = *set;
    json_t *o = json_object();
    render(&probe, 0, false, put_json, o);
    return o;
}

void qm_stored_attributes(const qm_queue *q, put_fn put, void *ud)
{
    qm__settings defaults;
    settings_default(&defaults, q->set.is_fifo);
    json_t *fresh = rendered(&defaults), *now = rendered(&q->set);
    const char *name;
    json_t *v;
    json_object_foreach(now, name, v)
    {
        const char *text = json_string_value(v);
        const char *was = json_string_value(json_object_get(fresh, name));
        if (was == NULL || strcmp(was, text) != 0 || strcmp(name, "FifoQueue") == 0)
            put(ud, name, text);
    }
    json_decref(fresh);
    json_decref(now);
}

/* ---- queues ---- */

qm_queue *qm_find(const qmodel *m, const char *name)
{
    return bt_strmap_get(&m->by_name, name);
}

qm_queue *qm_find_arn(const qmodel *m, const char *arn)
{
    char prefix[160];
    int n = snprintf(prefix, sizeof(prefix), "arn:aws:sqs:%s:%s:", m->region, m->account);
    if (n < 0 || (size_t)n >= sizeof(prefix) || strncmp(arn, prefix, (size_t)n) != 0)
        return NULL;
    return qm_find(m, arn + n);
}

qm_queue *qm_first_after(const qmodel *m, const char *after)
{
    qm_queue *q = m->first;
    while (q && after && strcmp(q->name, after) <= 0)
        q = q->next_name;
    return q;
}

qm_queue *qm_next(const qm_queue *q)
{
    return q->next_name;
}

const char *qm_queue_name(const qm_queue *q)
{
    return q->name;
}

const char *qm_queue_arn(const qm_queue *q)
{
    return q->arn;
}

bool qm_queue_is_fifo(const qm_queue *q)
{
    return q->set.is_fifo;
}

int64_t qm_queue_wait_s(const qm_queue *q)
{
    return q->set.wait_s;
}

const char *qm_queue_dlq_arn(const qm_queue *q)
{
    return q->set.dlq_arn;
}

int64_t qm_queue_purged_ms(const qm_queue *q)
{
    return q->purged_ms;
}

int64_t qm_queue_created_ms(const qm_queue *q)
{
    return q->created_ms;
}

int64_t qm_queue_modified_ms(const qm_queue *q)
{
    return q->modified_ms;
}

/* Links q into the name-ordered list and the map. */
static qm_queue *queue_insert(qmodel *m, const char *name, const qm__settings *set)
{
    qm_queue *q = bt_xcalloc(1, sizeof(*q));
    q->model = m;
    q->name = bt_xstrdup(name);
    q->arn = bt_xasprintf("arn:aws:sqs:%s:%s:%s", m->region, m->account, name);
    q->set = *set;
    bt_strmap_init(&q->by_id);
    bt_strmap_init(&q->dedup);
    bt_strmap_put(&m->by_name, q->name, q);
    qm_queue **link = &m->first, *prev = NULL;
    while (*link && strcmp((*link)->name, name) < 0) {
        prev = *link;
        link = &(*link)->next_name;
    }
    q->next_name = *link;
    q->prev_name = prev;
    if (*link)
        (*link)->prev_name = q;
    *link = q;
    return q;
}

static void forget_deleted(qmodel *m, int64_t now_ms)
{
    for (qm__deleted **d = &m->deleted; *d;) {
        if (now_ms - (*d)->at_ms >= QM_DELETE_BLOCK_MS) {
            qm__deleted *gone = *d;
            *d = gone->next;
            free(gone->name);
            free(gone);
        } else {
            d = &(*d)->next;
        }
    }
}

static bool recently_deleted(const qmodel *m, const char *name)
{
    for (const qm__deleted *d = m->deleted; d; d = d->next)
        if (strcmp(d->name, name) == 0)
            return true;
    return false;
}

static int check_tags(const qm_queue *q, const qm_kv *tags, size_t n, qm_err *err);
static void put_tags(qm_queue *q, const qm_kv *tags, size_t n);

/* An existing queue matches when each attribute given renders as it does now. */
static int compare_existing(const qm_queue *q, const qm_kv *attrs, size_t n, qm_err *err)
{
    qm__settings want;
    settings_copy(&want, &q->set);
    int rc = apply_all(q->model, &want, attrs, n, true, false, err);
    if (rc == 0) {
        json_t *have = rendered(&q->set), *asked = rendered(&want);
        const char *name;
        json_t *v;
        json_object_foreach(asked, name, v)
        {
            if (!json_equal(v, json_object_get(have, name))) {
                rc = qm_fail(err, QM_E_QUEUE_EXISTS,
                             "A queue already exists with the same name and a different value "
                             "for attribute %s",
                             name);
                break;
            }
        }
        json_decref(have);
        json_decref(asked);
    }
    settings_fini(&want);
    return rc;
}

int qm_create_queue(qmodel *m, const char *name, const qm_kv *attrs, size_t n_attrs,
                    const qm_kv *tags, size_t n_tags, int64_t now_ms, qm_queue **out, bool *created,
                    qm_err *err)
{
    bool is_fifo = false;
    for (size_t i = 0; i < n_attrs; i++)
        if (strcmp(attrs[i].key, "FifoQueue") == 0)
            is_fifo = strcmp(attrs[i].value, "true") == 0;
    *created = false;
    qm_queue *q = qm_find(m, name);
    if (q) {
        if (compare_existing(q, attrs, n_attrs, err) < 0)
            return -1;
        *out = q;
        return 0;
    }
    if (check_name(name, is_fifo, err) < 0)
        return -1;
    forget_deleted(m, now_ms);
    if (recently_deleted(m, name))
        return qm_fail(err, QM_E_QUEUE_DELETED_RECENTLY,
                       "You must wait 60 seconds after deleting a queue before you can create "
                       "another with the same name.");
    qm__settings set;
    settings_default(&set, is_fifo);
    if (apply_all(m, &set, attrs, n_attrs, true, false, err) < 0 ||
        check_tags(NULL, tags, n_tags, err) < 0) {
        settings_fini(&set);
        return -1;
    }
    q = queue_insert(m, name, &set);
    q->created_ms = q->modified_ms = now_ms;
    put_tags(q, tags, n_tags);
    *out = q;
    *created = true;
    notify_saved(q);
    return 0;
}

int qm_set_attributes(qmodel *m, qm_queue *q, const qm_kv *attrs, size_t n, int64_t now_ms,
                      qm_err *err)
{
    qm__settings set;
    settings_copy(&set, &q->set);
    if (apply_all(m, &set, attrs, n, false, false, err) < 0) {
        settings_fini(&set);
        return -1;
    }
    settings_fini(&q->set);
    q->set = set;
    q->modified_ms = now_ms;
    notify_saved(q);
    return 0;
}

int qm_delete_queue(qmodel *m, qm_queue *q, int64_t now_ms, qm_err *err)
{
    (void)err;
    if (m->obs.queue_deleted)
        m->obs.queue_deleted(m->obs.ud, q);
    forget_deleted(m, now_ms);
    qm__deleted *d = bt_xcalloc(1, sizeof(*d));
    d->name = bt_xstrdup(q->name);
    d->at_ms = now_ms;
    d->next = m->deleted;
    m->deleted = d;
    bt_strmap_del(&m->by_name, q->name);
    if (q->prev_name)
        q->prev_name->next_name = q->next_name;
    else
        m->first = q->next_name;
    if (q->next_name)
        q->next_name->prev_name = q->prev_name;
    queue_free(q);
    return 0;
}

/* ---- tags ---- */

static qm__tag *find_tag(const qm_queue *q, const char *key)
{
    for (size_t i = 0; q && i < q->n_tags; i++)
        if (strcmp(q->tags[i].key, key) == 0)
            return &q->tags[i];
    return NULL;
}

/* Keys 1–128 characters, values up to 256, at most 50 per queue (SQS quotas). */
static int check_tags(const qm_queue *q, const qm_kv *tags, size_t n, qm_err *err)
{
    size_t total = q ? q->n_tags : 0;
    for (size_t i = 0; i < n; i++) {
        size_t klen = strlen(tags[i].key);
        if (klen < 1 || klen > 128)
            return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                           "Tag keys must be between 1 and 128 characters in length.");
        if (strlen(tags[i].value) > 256)
            return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                           "Tag values may only be up to 256 characters in length.");
        bool seen = find_tag(q, tags[i].key) != NULL;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(tags[k].key, tags[i].key) == 0;
        total += !seen;
    }
    if (total > QM_MAX_TAGS)
        return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE, "Too many tags added for queue %s.",
                       q ? q->name : "");
    return 0;
}

static void put_tags(qm_queue *q, const qm_kv *tags, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        qm__tag *t = find_tag(q, tags[i].key);
        if (t) {
            replace(&t->value, tags[i].value);
            if (t->value == NULL)
                t->value = bt_xstrdup("");
            continue;
        }
        q->tags = bt_xrealloc(q->tags, (q->n_tags + 1) * sizeof(*q->tags));
        q->tags[q->n_tags].key = bt_xstrdup(tags[i].key);
        q->tags[q->n_tags].value = bt_xstrdup(tags[i].value);
        q->n_tags++;
    }
}

int qm_tag(qmodel *m, qm_queue *q, const qm_kv *tags, size_t n, qm_err *err)
{
    (void)m;
    if (check_tags(q, tags, n, err) < 0)
        return -1;
    put_tags(q, tags, n);
    notify_saved(q);
    return 0;
}

int qm_untag(qmodel *m, qm_queue *q, const char *const *keys, size_t n, qm_err *err)
{
    (void)m;
    (void)err;
    for (size_t i = 0; i < n; i++) {
        qm__tag *t = find_tag(q, keys[i]);
        if (t == NULL)
            continue;
        free(t->key);
        free(t->value);
        size_t at = (size_t)(t - q->tags);
        memmove(t, t + 1, (q->n_tags - at - 1) * sizeof(*t));
        q->n_tags--;
    }
    notify_saved(q);
    return 0;
}

size_t qm_n_tags(const qm_queue *q)
{
    return q->n_tags;
}

void qm_tag_at(const qm_queue *q, size_t i, const char **key, const char **value)
{
    *key = q->tags[i].key;
    *value = q->tags[i].value;
}

/* ---- restoring ---- */

qm_queue *qm_restore_queue(qmodel *m, const char *name, bool is_fifo, int64_t created_ms,
                           int64_t modified_ms, int64_t purged_ms, const qm_kv *attrs,
                           size_t n_attrs, const qm_kv *tags, size_t n_tags)
{
    if (qm_find(m, name))
        return NULL;
    qm__settings set;
    settings_default(&set, is_fifo);
    for (size_t i = 0; i < n_attrs; i++)
        apply_one(m, &set, attrs[i].key, attrs[i].value, true, true, NULL);
    qm_queue *q = queue_insert(m, name, &set);
    q->created_ms = created_ms;
    q->modified_ms = modified_ms;
    q->purged_ms = purged_ms;
    put_tags(q, tags, n_tags);
    return q;
}
