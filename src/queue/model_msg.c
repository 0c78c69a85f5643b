/*
 * model_msg.c — messages: sending (validation, MD5s, FIFO deduplication and sequence
 * numbers), receiving (visibility, receipt handles, FIFO group order, redrive, retention),
 * deleting, changing visibility, purging. A queue keeps its messages in one list in send
 * order; a receive walks it, which is what SQS's FIFO order needs and costs O(queue length)
 * per receive — fine for the depths a single server holds.
 *
 * A message is receivable when it is not held (service.c holds new messages until they are
 * durable), its visible_ms has passed and it has not outlived the queue's retention period.
 * It is in flight while it has a receipt handle and its visible_ms lies ahead.
 *
 *   send --> [held] --release--> visible <--visibility lapses-- in flight
 *                                   |   `------- receive ------->  |
 *                                   `-- delete (latest handle), purge, expiry, redrive --'
 */
#include "queue/codec.h"
#include "queue/model_int.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "base/rand.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- lifetime ---- */

qm_msg *qm_msg_alloc(void)
{
    return bt_xcalloc(1, sizeof(qm_msg));
}

void qm__msg_free(qm_msg *msg)
{
    for (size_t i = 0; i < msg->n_attrs; i++) {
        free(msg->attrs[i].name);
        free(msg->attrs[i].type);
        free(msg->attrs[i].value);
    }
    free(msg->attrs);
    free(msg->body);
    free(msg->trace_header);
    free(msg->receipt);
    free(msg->group_id);
    free(msg->dedup_id);
    free(msg->seq);
    free(msg->sender_id);
    free(msg->dlq_source);
    free(msg);
}

static void unhold(qmodel *m, qm_msg *msg)
{
    if (!msg->is_held)
        return;
    if (msg->held_prev)
        msg->held_prev->held_next = msg->held_next;
    else
        m->held_head = msg->held_next;
    if (msg->held_next)
        msg->held_next->held_prev = msg->held_prev;
    else
        m->held_tail = msg->held_prev;
    msg->held_prev = msg->held_next = NULL;
    msg->is_held = false;
}

static void unlink_msg(qm_msg *msg)
{
    qm_queue *q = msg->queue;
    if (msg->prev)
        msg->prev->next = msg->next;
    else
        q->head = msg->next;
    if (msg->next)
        msg->next->prev = msg->prev;
    else
        q->tail = msg->prev;
    msg->prev = msg->next = NULL;
    bt_strmap_del(&q->by_id, msg->id);
    q->n_msgs--;
}

static void append_msg(qm_queue *q, qm_msg *msg)
{
    msg->queue = q;
    msg->prev = q->tail;
    msg->next = NULL;
    if (q->tail)
        q->tail->next = msg;
    else
        q->head = msg;
    q->tail = msg;
    bt_strmap_put(&q->by_id, msg->id, msg);
    q->n_msgs++;
}

void qm__msg_remove(qm_msg *msg)
{
    unhold(msg->queue->model, msg);
    unlink_msg(msg);
    qm__msg_free(msg);
}

void qm__queue_free_messages(qm_queue *q)
{
    while (q->head)
        qm__msg_remove(q->head);
}

/* Deletes msg, telling the observer. */
static void drop(qm_msg *msg)
{
    const qm_observer *o = &msg->queue->model->obs;
    if (o->msg_deleted)
        o->msg_deleted(o->ud, msg);
    qm__msg_remove(msg);
}

size_t qmodel_release(qmodel *m, uint64_t serial)
{
    size_t n = 0;
    while (m->held_head && m->held_head->serial <= serial) {
        unhold(m, m->held_head);
        n++;
    }
    return n;
}

size_t qmodel_drop_held(qmodel *m, uint64_t serial)
{
    size_t n = 0;
    while (m->held_head && m->held_head->serial <= serial) {
        qm__msg_remove(m->held_head);
        n++;
    }
    return n;
}

/* ---- MD5 of attributes ---- */

static void put_length_prefixed(bt_buf *b, const char *s, size_t len)
{
    unsigned char n[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16),
                          (unsigned char)(len >> 8), (unsigned char)len};
    bt_buf_append(b, (const char *)n, 4);
    bt_buf_append(b, s, len);
}

/* AWS's encoding (SQS developer guide, "Calculating the MD5 message digest for message
 * attributes"): per attribute in name order, the name, the data type, a transport byte
 * (1 text, 2 binary) and the value, each length-prefixed with 4 big-endian bytes. */
void qm_attrs_md5(const qm_attr *const *attrs, size_t n, char out[33])
{
    bt_buf b;
    bt_buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        const qm_attr *a = attrs[i];
        put_length_prefixed(&b, a->name, strlen(a->name));
        put_length_prefixed(&b, a->type, strlen(a->type));
        bt_buf_putc(&b, a->is_binary ? 2 : 1);
        put_length_prefixed(&b, a->value, a->len);
    }
    qc_md5_hex(b.data ? b.data : "", b.len, out);
    bt_buf_fini(&b);
}

static int by_name(const void *a, const void *b)
{
    const qm_attr *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

static void md5_of(const qm_attr *attrs, size_t n, char out[33])
{
    const qm_attr *sorted[QM_MAX_ATTRIBUTES];
    for (size_t i = 0; i < n; i++)
        sorted[i] = &attrs[i];
    qsort(sorted, n, sizeof(sorted[0]), by_name);
    qm_attrs_md5(sorted, n, out);
}

/* ---- validation ---- */

bool qm_batch_id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n < 1 || n > 80)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

static bool attr_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

static bool has_prefix_nocase(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        char c = *s >= 'A' && *s <= 'Z' ? (char)(*s + 32) : *s;
        if (c != *prefix)
            return false;
    }
    return true;
}

/* Message attribute names (SQS developer guide, "Message attributes"): up to 256 characters
 * of [A-Za-z0-9_.-], no leading, trailing or doubled '.', no AWS. or Amazon. prefix. */
static bool attr_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > 256 || name[0] == '.' || name[n - 1] == '.' || strstr(name, "..") ||
        has_prefix_nocase(name, "aws.") || has_prefix_nocase(name, "amazon."))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!attr_name_char(name[i]))
            return false;
    return true;
}

/* The base type of a DataType ("Number.float" -> "Number"), or NULL when it has none of
 * String, Number, Binary. */
static const char *base_type(const char *type)
{
    static const char *const bases[] = {"String", "Number", "Binary"};
    if (strlen(type) > 256)
        return NULL;
    for (int i = 0; i < 3; i++) {
        size_t k = strlen(bases[i]);
        if (strncmp(type, bases[i], k) == 0 && (type[k] == '\0' || (type[k] == '.' && type[k + 1])))
            return bases[i];
    }
    return NULL;
}

/* A decimal number as SQS takes it: sign, digits, fraction, exponent. */
static bool number_ok(const char *s)
{
    size_t digits = 0;
    if (*s == '+' || *s == '-')
        s++;
    for (; *s >= '0' && *s <= '9'; s++)
        digits++;
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++)
            digits++;
    if (digits == 0)
        return false;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (*s < '0' || *s > '9')
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

static int check_attrs(const qm_attr *attrs, size_t n, size_t *bytes, qm_err *err)
{
    if (n > QM_MAX_ATTRIBUTES)
        return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                       "Number of message attributes [%zu] exceeds the allowed maximum [%d].", n,
                       QM_MAX_ATTRIBUTES);
    for (size_t i = 0; i < n; i++) {
        const qm_attr *a = &attrs[i];
        if (!attr_name_ok(a->name))
            return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                           "Message (user) attribute name '%.256s' is invalid.", a->name);
        for (size_t k = 0; k < i; k++)
            if (strcmp(attrs[k].name, a->name) == 0)
                return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                               "Message (user) attribute name '%.256s' is duplicated.", a->name);
        const char *base = base_type(a->type);
        if (base == NULL)
            return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                           "The type of message (user) attribute '%.256s' is invalid. You must "
                           "use only the following supported type prefixes: Binary, Number, "
                           "String.",
                           a->name);
        bool binary = strcmp(base, "Binary") == 0;
        if (a->value == NULL || a->len == 0 || a->is_binary != binary)
            return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                           "Message (user) attribute '%.256s' must contain a non-empty value of "
                           "type '%s'.",
                           a->name, binary ? "Binary" : "String");
        if (!binary && !qc_text_ok(a->value, a->len))
            return qm_fail(err, QM_E_INVALID_MESSAGE_CONTENTS,
                           "Message (user) attribute '%.256s' contains invalid characters.",
                           a->name);
        if (strcmp(base, "Number") == 0 && !number_ok(a->value))
            return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                           "Can't cast the value of message (user) attribute '%.256s' to a "
                           "number.",
                           a->name);
        *bytes += strlen(a->name) + strlen(a->type) + a->len;
    }
    return 0;
}

static int check_sys_attrs(const qm_attr *attrs, size_t n, qm_err *err)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(attrs[i].name, "AWSTraceHeader") != 0)
            return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                           "Message system attribute name '%.256s' is invalid.", attrs[i].name);
        if (strcmp(attrs[i].type, "String") != 0 || attrs[i].is_binary || attrs[i].len == 0 ||
            !qc_text_ok(attrs[i].value, attrs[i].len))
            return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                           "Message system attribute 'AWSTraceHeader' must contain a non-empty "
                           "value of type 'String'.");
    }
    if (n > 1)
        return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                       "Message system attribute name 'AWSTraceHeader' is duplicated.");
    return 0;
}

/* MessageGroupId and MessageDeduplicationId: 1–128 characters, alphanumerics and
 * punctuation (printable ASCII but space). */
static bool token_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return false;
    return true;
}

static int not_for_this_queue(qm_err *err, const char *value, const char *param)
{
    return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                   "Value %.128s for parameter %s is invalid. Reason: The request include "
                   "parameter that is not valid for this queue type.",
                   value, param);
}

int qm_check_send(const qm_queue *q, const qm_send *s, size_t *bytes, qm_err *err)
{
    const qm__settings *set = &q->set;
    if (s->body == NULL || *s->body == '\0')
        return qm_fail(err, QM_E_MISSING_PARAMETER,
                       "The request must contain the parameter MessageBody.");
    size_t len = strlen(s->body);
    if (!qc_text_ok(s->body, len))
        return qm_fail(err, QM_E_INVALID_MESSAGE_CONTENTS,
                       "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD "
                       "| #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF");
    *bytes = len;
    if (check_attrs(s->attrs, s->n_attrs, bytes, err) < 0 ||
        check_sys_attrs(s->sys_attrs, s->n_sys_attrs, err) < 0)
        return -1;
    if (*bytes > (size_t)set->max_size)
        return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                       "One or more parameters are invalid. Reason: Message must be shorter "
                       "than %" PRId64 " bytes.",
                       set->max_size);
    if (s->delay_s > 900 || s->delay_s < -1)
        return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                       "Value %" PRId64 " for parameter DelaySeconds is invalid. Reason: "
                       "DelaySeconds must be >= 0 and <= 900.",
                       s->delay_s);
    if (s->group_id && !token_ok(s->group_id))
        return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                       "Value %.128s for parameter MessageGroupId is invalid. Reason: "
                       "MessageGroupId can only include alphanumeric and punctuation characters. "
                       "1 to 128 in length.",
                       s->group_id);
    if (s->dedup_id && !token_ok(s->dedup_id))
        return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                       "Value %.128s for parameter MessageDeduplicationId is invalid. Reason: "
                       "MessageDeduplicationId can only include alphanumeric and punctuation "
                       "characters. 1 to 128 in length.",
                       s->dedup_id);
    if (!set->is_fifo) {
        if (s->dedup_id)
            return not_for_this_queue(err, s->dedup_id, "MessageDeduplicationId");
        return 0;
    }
    /* FIFO queues take the queue's delay only (SendMessage: DelaySeconds). */
    if (s->delay_s > 0) {
        char text[24];
        snprintf(text, sizeof(text), "%" PRId64, s->delay_s);
        return not_for_this_queue(err, text, "DelaySeconds");
    }
    if (s->group_id == NULL)
        return qm_fail(err, QM_E_MISSING_PARAMETER,
                       "The request must contain the parameter MessageGroupId.");
    if (s->dedup_id == NULL && !set->content_dedup)
        return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                       "The queue should either have ContentBasedDeduplication enabled or "
                       "MessageDeduplicationId provided explicitly");
    return 0;
}

/* ---- sending ---- */

static void copy_attrs(qm_msg *msg, const qm_attr *attrs, size_t n)
{
    msg->attrs = n ? bt_xcalloc(n, sizeof(*msg->attrs)) : NULL;
    msg->n_attrs = n;
    for (size_t i = 0; i < n; i++) {
        qm_attr *a = &msg->attrs[i];
        a->name = bt_xstrdup(attrs[i].name);
        a->type = bt_xstrdup(attrs[i].type);
        a->value = bt_xmalloc(attrs[i].len + 1);
        memcpy(a->value, attrs[i].value, attrs[i].len);
        a->value[attrs[i].len] = '\0';
        a->len = attrs[i].len;
        a->is_binary = attrs[i].is_binary;
    }
    for (size_t i = 1; i < n; i++) {
        for (size_t k = i; k > 0 && strcmp(msg->attrs[k - 1].name, msg->attrs[k].name) > 0; k--) {
            qm_attr t = msg->attrs[k];
            msg->attrs[k] = msg->attrs[k - 1];
            msg->attrs[k - 1] = t;
        }
    }
}

/* The deduplication key: the explicit id or the body's SHA-256, scoped to the group when the
 * queue's DeduplicationScope is messageGroup ('\n' cannot occur in either part). */
static char *dedup_key(const qm_queue *q, const qm_send *s)
{
    char sha[65];
    const char *id = s->dedup_id;
    if (id == NULL) {
        qc_sha256_hex(s->body, strlen(s->body), sha);
        id = sha;
    }
    if (strcmp(q->set.dedup_scope, "messageGroup") == 0)
        return bt_xasprintf("%s\n%s", s->group_id, id);
    return bt_xstrdup(id);
}

static void remember_dedup(qm_queue *q, char *key, const char *id, const char *seq,
                           int64_t expires_ms)
{
    qm__dedup *d = bt_xcalloc(1, sizeof(*d));
    d->key = key;
    snprintf(d->id, sizeof(d->id), "%s", id);
    d->seq = seq ? bt_xstrdup(seq) : NULL;
    d->expires_ms = expires_ms;
    bt_strmap_put(&q->dedup, d->key, d);
    if (q->dedup_tail)
        q->dedup_tail->next = d;
    else
        q->dedup_head = d;
    q->dedup_tail = d;
}

static void forget_dedup(qm_queue *q, int64_t now_ms)
{
    while (q->dedup_head && q->dedup_head->expires_ms <= now_ms) {
        qm__dedup *d = q->dedup_head;
        q->dedup_head = d->next;
        if (q->dedup_head == NULL)
            q->dedup_tail = NULL;
        bt_strmap_del(&q->dedup, d->key);
        free(d->key);
        free(d->seq);
        free(d);
    }
}

static void fill_sent(const qm_msg *msg, qm_sent *out)
{
    memcpy(out->message_id, msg->id, sizeof(out->message_id));
    memcpy(out->md5_body, msg->md5_body, sizeof(out->md5_body));
    memcpy(out->md5_attrs, msg->md5_attrs, sizeof(out->md5_attrs));
    memcpy(out->md5_sys, msg->md5_sys, sizeof(out->md5_sys));
    snprintf(out->seq, sizeof(out->seq), "%s", msg->seq ? msg->seq : "");
}

/* Sequence numbers increase per queue, across restarts too: they start from the clock. */
static char *next_seq(qm_queue *q, int64_t now_ms)
{
    uint64_t from_clock = (uint64_t)(now_ms > 0 ? now_ms : 0) * 1000000u;
    q->last_seq = q->last_seq + 1 > from_clock ? q->last_seq + 1 : from_clock;
    return bt_xasprintf("%" PRIu64, q->last_seq);
}

int qm_send_message(qmodel *m, qm_queue *q, const qm_send *s, int64_t now_ms, qm_sent *out,
                    qm_err *err)
{
    size_t bytes;
    if (qm_check_send(q, s, &bytes, err) < 0)
        return -1;
    char *key = NULL;
    if (q->set.is_fifo) {
        forget_dedup(q, now_ms);
        key = dedup_key(q, s);
        const qm__dedup *d = bt_strmap_get(&q->dedup, key);
        if (d) {
            /* Accepted, not enqueued again: the answer names the original. */
            free(key);
            memset(out, 0, sizeof(*out));
            snprintf(out->message_id, sizeof(out->message_id), "%s", d->id);
            snprintf(out->seq, sizeof(out->seq), "%s", d->seq ? d->seq : "");
            qc_md5_hex(s->body, strlen(s->body), out->md5_body);
            if (s->n_attrs)
                md5_of(s->attrs, s->n_attrs, out->md5_attrs);
            if (s->n_sys_attrs)
                md5_of(s->sys_attrs, s->n_sys_attrs, out->md5_sys);
            return 0;
        }
    }
    qm_msg *msg = qm_msg_alloc();
    uint8_t raw[16];
    bt_random_bytes(raw, sizeof(raw));
    bt_uuid_format(raw, msg->id);
    msg->body_len = strlen(s->body);
    msg->body = bt_xstrdup(s->body);
    copy_attrs(msg, s->attrs, s->n_attrs);
    qc_md5_hex(msg->body, msg->body_len, msg->md5_body);
    if (s->n_attrs)
        md5_of(s->attrs, s->n_attrs, msg->md5_attrs);
    if (s->n_sys_attrs) {
        msg->trace_header = bt_xstrdup(s->sys_attrs[0].value);
        md5_of(s->sys_attrs, s->n_sys_attrs, msg->md5_sys);
    }
    int64_t delay = s->delay_s >= 0 ? s->delay_s : q->set.delay_s;
    msg->sent_ms = msg->enqueued_ms = now_ms;
    msg->visible_ms = now_ms + delay * 1000;
    msg->group_id = s->group_id ? bt_xstrdup(s->group_id) : NULL;
    msg->dedup_id = s->dedup_id ? bt_xstrdup(s->dedup_id) : NULL;
    msg->sender_id = bt_xstrdup(m->account);
    if (q->set.is_fifo)
        msg->seq = next_seq(q, now_ms);
    msg->serial = ++m->serial;
    append_msg(q, msg);
    if (m->hold) {
        msg->is_held = true;
        msg->held_prev = m->held_tail;
        if (m->held_tail)
            m->held_tail->held_next = msg;
        else
            m->held_head = msg;
        m->held_tail = msg;
    }
    if (m->obs.msg_added)
        m->obs.msg_added(m->obs.ud, msg);
    if (key) {
        int64_t expires = now_ms + QM_DEDUP_WINDOW_MS;
        if (m->obs.dedup_saved)
            m->obs.dedup_saved(m->obs.ud, q, key, msg->id, msg->seq, expires);
        remember_dedup(q, key, msg->id, msg->seq, expires);
    }
    fill_sent(msg, out);
    return 0;
}

/* ---- receiving ---- */

static bool expired(const qm_msg *msg, int64_t now_ms)
{
    return now_ms >= msg->enqueued_ms + msg->queue->set.retention_s * 1000;
}

static bool in_flight(const qm_msg *msg, int64_t now_ms)
{
    return msg->receipt && msg->visible_ms > now_ms;
}

static bool available(const qm_msg *msg, int64_t now_ms)
{
    return !msg->is_held && msg->visible_ms <= now_ms && !expired(msg, now_ms);
}

int qm_check_receive(const qm_receive *r, qm_err *err)
{
    if (r->max == 0 || r->max < -1 || r->max > QM_MAX_RECEIVE)
        return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                       "Value %" PRId64 " for parameter MaxNumberOfMessages is invalid. Reason: "
                       "Must be between 1 and 10, if provided.",
                       r->max);
    if (r->wait_s < -1 || r->wait_s > QM_MAX_WAIT_S)
        return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                       "Value %" PRId64 " for parameter WaitTimeSeconds is invalid. Reason: Must "
                       "be >= 0 and <= 20, if provided.",
                       r->wait_s);
    if (r->visibility_s < -1 || r->visibility_s > QM_MAX_VISIBILITY_S)
        return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                       "Value %" PRId64 " for parameter VisibilityTimeout is invalid. Reason: "
                       "Must be >= 0 and <= 43200, if provided.",
                       r->visibility_s);
    return 0;
}

bool qm_wants_sys(const qm_receive *r, const char *name)
{
    for (size_t i = 0; i < r->n_sys_names; i++)
        if (strcmp(r->sys_names[i], "All") == 0 || strcmp(r->sys_names[i], name) == 0)
            return true;
    return false;
}

/* "All" or ".*": every attribute; "prefix.*": names starting with "prefix."; else exact. */
bool qm_wants_attr(const qm_receive *r, const char *name)
{
    for (size_t i = 0; i < r->n_attr_names; i++) {
        const char *want = r->attr_names[i];
        size_t n = strlen(want);
        if (strcmp(want, "All") == 0 || strcmp(want, ".*") == 0 || strcmp(want, name) == 0)
            return true;
        if (n > 2 && strcmp(want + n - 2, ".*") == 0 && strncmp(name, want, n - 1) == 0)
            return true;
    }
    return false;
}

static char *new_receipt(const qm_msg *msg)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t raw[16];
    char text[37 + 1 + 32 + 1];
    bt_random_bytes(raw, sizeof(raw));
    int n = snprintf(text, sizeof(text), "%s:", msg->id);
    for (size_t i = 0; i < sizeof(raw); i++) {
        text[n++] = hex[raw[i] >> 4];
        text[n++] = hex[raw[i] & 15];
    }
    text[n] = '\0';
    bt_buf b;
    bt_buf_init(&b);
    qc_base64_encode(text, (size_t)n, &b);
    return bt_buf_steal(&b);
}

/* The message id inside a receipt handle; false when the handle is not one of ours. */
static bool receipt_id(const char *receipt, char id[37])
{
    size_t len = strlen(receipt);
    bt_buf b;
    bt_buf_init(&b);
    bool ok = len <= 128 && qc_base64_decode(receipt, len, &b) && b.len == 36 + 1 + 32 &&
              b.data[36] == ':';
    if (ok) {
        memcpy(id, b.data, 36);
        id[36] = '\0';
    }
    bt_buf_fini(&b);
    return ok;
}

/* Moves msg to the dead-letter queue: it keeps its id and receive count; a FIFO message's
 * retention starts again there (SQS developer guide, "dead-letter queues"). */
static void redrive(qm_msg *msg, qm_queue *dlq, int64_t now_ms)
{
    qmodel *m = dlq->model;
    qm_queue *from = msg->queue;
    if (m->obs.msg_deleted)
        m->obs.msg_deleted(m->obs.ud, msg);
    unlink_msg(msg);
    free(msg->dlq_source);
    msg->dlq_source = bt_xstrdup(from->arn);
    free(msg->receipt);
    msg->receipt = NULL;
    msg->visible_ms = now_ms;
    if (dlq->set.is_fifo)
        msg->enqueued_ms = now_ms;
    msg->serial = ++m->serial;
    if (bt_strmap_get(&dlq->by_id, msg->id)) {
        qm__msg_free(msg);
        return;
    }
    append_msg(dlq, msg);
    if (m->obs.msg_added)
        m->obs.msg_added(m->obs.ud, msg);
}

static bool group_blocked(const bt_strmap *blocked, const qm_msg *msg)
{
    return msg->group_id && bt_strmap_get(blocked, msg->group_id) == blocked;
}

static void block(bt_strmap *blocked, const qm_msg *msg)
{
    if (msg->group_id && bt_strmap_get(blocked, msg->group_id) != blocked)
        bt_strmap_put(blocked, msg->group_id, blocked);
}

/* FIFO groups with a message in flight: none of their messages may be received. */
static void blocked_groups(const qm_queue *q, int64_t now_ms, bt_strmap *blocked)
{
    for (const qm_msg *msg = q->head; msg; msg = msg->next)
        if (msg->group_id && in_flight(msg, now_ms))
            block(blocked, msg);
}

size_t qm_receive_now(qmodel *m, qm_queue *q, const qm_receive *r, int64_t now_ms, qm_msg **out)
{
    size_t max = r->max > 0 ? (size_t)r->max : 1, n = 0;
    int64_t vis = r->visibility_s >= 0 ? r->visibility_s : q->set.visibility_s;
    qm_queue *dlq = q->set.dlq_arn ? qm_find_arn(m, q->set.dlq_arn) : NULL;
    bt_strmap blocked;
    bt_strmap_init(&blocked);
    if (q->set.is_fifo)
        blocked_groups(q, now_ms, &blocked);
    for (qm_msg *msg = q->head, *next; msg && n < max; msg = next) {
        next = msg->next;
        if (expired(msg, now_ms) && !msg->is_held) {
            drop(msg);
            continue;
        }
        if (q->set.is_fifo && group_blocked(&blocked, msg))
            continue;
        if (!available(msg, now_ms)) {
            if (q->set.is_fifo)
                block(&blocked, msg); /* later messages of its group wait behind it */
            continue;
        }
        if (dlq && dlq != q && msg->receive_count >= q->set.max_receive) {
            redrive(msg, dlq, now_ms);
            continue;
        }
        free(msg->receipt);
        msg->receipt = new_receipt(msg);
        msg->receive_count++;
        if (msg->first_receive_ms == 0)
            msg->first_receive_ms = now_ms;
        msg->received_ms = now_ms;
        msg->visible_ms = now_ms + vis * 1000;
        if (m->obs.msg_updated)
            m->obs.msg_updated(m->obs.ud, msg);
        out[n++] = msg;
    }
    bt_strmap_fini(&blocked);
    return n;
}

int64_t qm_next_visible_ms(const qm_queue *q, int64_t now_ms)
{
    int64_t next = INT64_MAX;
    for (const qm_msg *msg = q->head; msg; msg = msg->next)
        if (!msg->is_held && msg->visible_ms > now_ms && msg->visible_ms < next)
            next = msg->visible_ms;
    return next;
}

bool qm_has_receivable(const qm_queue *q, int64_t now_ms)
{
    bt_strmap blocked;
    bt_strmap_init(&blocked);
    bool found = false;
    if (q->set.is_fifo)
        blocked_groups(q, now_ms, &blocked);
    for (const qm_msg *msg = q->head; msg && !found; msg = msg->next) {
        if (q->set.is_fifo && group_blocked(&blocked, msg))
            continue;
        found = available(msg, now_ms);
        if (!found && q->set.is_fifo)
            block(&blocked, msg);
    }
    bt_strmap_fini(&blocked);
    return found;
}

/* ---- deleting, visibility ---- */

static int receipt_invalid(qm_err *err, const char *receipt)
{
    return qm_fail(err, QM_E_RECEIPT_HANDLE_INVALID,
                   "The input receipt handle \"%.200s\" is not a valid receipt handle.", receipt);
}

/*
 * DeleteMessage (API reference): the latest receipt handle deletes; an older one succeeds
 * without deleting on a standard queue ("the request succeeds, but the message might not be
 * deleted"), and on a FIFO queue a handle that is not current or whose visibility timeout
 * has lapsed is refused as expired (AWS recorded). A handle of a message already gone
 * succeeds, as deletes are idempotent.
 */
int qm_delete_message(qmodel *m, qm_queue *q, const char *receipt, int64_t now_ms, qm_err *err)
{
    (void)m;
    char id[37];
    if (!receipt_id(receipt, id))
        return receipt_invalid(err, receipt);
    qm_msg *msg = bt_strmap_get(&q->by_id, id);
    if (msg == NULL)
        return 0;
    bool current = msg->receipt && strcmp(msg->receipt, receipt) == 0;
    if (q->set.is_fifo && (!current || !in_flight(msg, now_ms)))
        return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                       "Value %.200s for parameter ReceiptHandle is invalid. Reason: The receipt "
                       "handle has expired.",
                       receipt);
    if (current)
        drop(msg);
    return 0;
}

int qm_change_visibility(qmodel *m, qm_queue *q, const char *receipt, int64_t visibility_s,
                         int64_t now_ms, qm_err *err)
{
    char id[37];
    if (!receipt_id(receipt, id))
        return receipt_invalid(err, receipt);
    if (visibility_s < 0 || visibility_s > QM_MAX_VISIBILITY_S)
        return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                       "Value %" PRId64 " for parameter VisibilityTimeout is invalid. Reason: "
                       "Must be >= 0 and <= 43200, if provided.",
                       visibility_s);
    qm_msg *msg = bt_strmap_get(&q->by_id, id);
    if (msg == NULL || msg->receipt == NULL || strcmp(msg->receipt, receipt) != 0 ||
        !in_flight(msg, now_ms))
        return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                       "Value %.200s for parameter ReceiptHandle is invalid. Reason: Message "
                       "does not exist or is not available for visibility timeout change.",
                       receipt);
    /* The 12-hour bound counts from the receive, not from this call (API reference). */
    if ((now_ms - msg->received_ms) / 1000 + visibility_s > QM_MAX_VISIBILITY_S)
        return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                       "Value %" PRId64 " for parameter VisibilityTimeout is invalid. Reason: "
                       "Total VisibilityTimeout for the message is beyond the limit [43200 "
                       "seconds].",
                       visibility_s);
    msg->visible_ms = now_ms + visibility_s * 1000;
    if (m->obs.msg_updated)
        m->obs.msg_updated(m->obs.ud, msg);
    return 0;
}

int qm_purge(qmodel *m, qm_queue *q, int64_t now_ms, qm_err *err)
{
    if (q->purged_ms && now_ms - q->purged_ms < QM_PURGE_INTERVAL_MS)
        return qm_fail(err, QM_E_PURGE_IN_PROGRESS,
                       "Only one PurgeQueue operation on %s is allowed every 60 seconds.", q->name);
    q->purged_ms = now_ms;
    if (m->obs.purged)
        m->obs.purged(m->obs.ud, q);
    qm__queue_free_messages(q);
    if (m->obs.queue_saved)
        m->obs.queue_saved(m->obs.ud, q);
    return 0;
}

void qm_sweep(qmodel *m, int64_t now_ms)
{
    for (qm_queue *q = m->first; q; q = q->next_name) {
        for (qm_msg *msg = q->head, *next; msg; msg = next) {
            next = msg->next;
            if (!msg->is_held && expired(msg, now_ms))
                drop(msg);
        }
        forget_dedup(q, now_ms);
    }
}

void qm_counts(const qm_queue *q, int64_t now_ms, int64_t *visible, int64_t *inflight,
               int64_t *delayed)
{
    *visible = *inflight = *delayed = 0;
    for (const qm_msg *msg = q->head; msg; msg = msg->next) {
        if (expired(msg, now_ms))
            continue;
        if (in_flight(msg, now_ms))
            ++*inflight;
        else if (msg->visible_ms > now_ms)
            ++*delayed;
        else
            ++*visible;
    }
}

qm_msg *qm_first_message(const qm_queue *q)
{
    return q->head;
}

/* ---- restoring ---- */

void qm_restore_message(qmodel *m, qm_queue *q, qm_msg *msg)
{
    if (bt_strmap_get(&q->by_id, msg->id)) {
        qm__msg_free(msg);
        return;
    }
    if (msg->serial > m->serial)
        m->serial = msg->serial;
    if (msg->seq) {
        uint64_t seq = strtoull(msg->seq, NULL, 10);
        if (seq > q->last_seq)
            q->last_seq = seq;
    }
    append_msg(q, msg);
}

void qm_restore_dedup(qmodel *m, qm_queue *q, const char *key, const char *message_id,
                      const char *seq, int64_t expires_ms)
{
    (void)m;
    if (bt_strmap_get(&q->dedup, key))
        return;
    remember_dedup(q, bt_xstrdup(key), message_id, seq, expires_ms);
}
