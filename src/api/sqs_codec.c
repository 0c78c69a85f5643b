/*
 * sqs_codec.c — the SQS API's request decoding and answer encoding (sqs_int.h), with no
 * server in sight so that tests and fuzzers drive it directly.
 *
 * Query forms are flattened lists and maps (botocore's query model of SQS 2012-11-05):
 * `Attribute.1.Name=…&Attribute.1.Value=…`, `MessageAttribute.1.Value.StringValue=…`,
 * `SendMessageBatchRequestEntry.2.MessageAttribute.1.Name=…`. They are read into a tree by
 * splitting keys on '.', then the tree is rewritten into the JSON protocol's members. XML
 * answers go the other way: each JSON member becomes the element(s) the query model names.
 */
#include "api/sqs_int.h"

#include "api/xml.h"
#include "base/alloc.h"
#include "queue/codec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[] = {
#define SQS_NAME(name) #name,
    SQS_OPS(SQS_NAME)
#undef SQS_NAME
};

int sqs_op_find(const char *op)
{
    for (int i = 0; i < SQS_N_OPS; i++)
        if (op && strcmp(op_names[i], op) == 0)
            return i;
    return -1;
}

const char *sqs_op_name(sqs_op op)
{
    return op_names[op];
}

/* ---- query form -> JSON request ---- */

#define MAX_KEY_DEPTH 6

static int malformed(qm_err *err, const char *key)
{
    return qm_fail(err, QM_E_MALFORMED_REQUEST, "The parameter %.200s is not valid here.", key);
}

/* Stores value at the path the key's dotted segments name: a.1.b -> tree[a][1][b]. */
static int tree_put(json_t *tree, const char *key, const char *value, qm_err *err)
{
    char *copy = bt_xstrdup(key), *segs[MAX_KEY_DEPTH + 1];
    size_t n = 0;
    for (char *s = copy, *dot;; s = dot + 1) {
        if (n == MAX_KEY_DEPTH) {
            free(copy);
            return malformed(err, key);
        }
        segs[n++] = s;
        dot = strchr(s, '.');
        if (dot == NULL)
            break;
        *dot = '\0';
    }
    json_t *node = tree;
    int rc = 0;
    for (size_t i = 0; i + 1 < n && rc == 0; i++) {
        json_t *child = json_object_get(node, segs[i]);
        if (child == NULL) {
            child = json_object();
            json_object_set_new(node, segs[i], child);
        }
        if (!json_is_object(child))
            rc = malformed(err, key);
        node = child;
    }
    if (rc == 0 && json_object_get(node, segs[n - 1]) == NULL)
        json_object_set_new(node, segs[n - 1], json_string(value));
    else if (rc == 0 && !json_is_string(json_object_get(node, segs[n - 1])))
        rc = malformed(err, key);
    free(copy);
    return rc;
}

/* A numbered collection's members in index order ("1", "2", … — gaps allowed). */
typedef struct numbered {
    long index;
    json_t *value;
} numbered;

static int by_index(const void *a, const void *b)
{
    const numbered *x = a, *y = b;
    return (x->index > y->index) - (x->index < y->index);
}

static numbered *in_order(json_t *o, size_t *n, bool *ok)
{
    numbered *items = bt_xcalloc(json_object_size(o) + 1, sizeof(*items));
    const char *k;
    json_t *v;
    *n = 0;
    *ok = json_is_object(o);
    json_object_foreach(o, k, v)
    {
        char *end;
        long i = strtol(k, &end, 10);
        if (*k < '1' || *k > '9' || *end || i < 1 || i > 100000)
            *ok = false;
        items[(*n)++] = (numbered){i, v};
    }
    qsort(items, *n, sizeof(*items), by_index);
    return items;
}

static bool is_int_member(const char *name)
{
    static const char *const ints[] = {"DelaySeconds", "MaxNumberOfMessages", "VisibilityTimeout",
                                       "WaitTimeSeconds", "MaxResults"};
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
        if (strcmp(ints[i], name) == 0)
            return true;
    return false;
}

/* A scalar member: integers become JSON integers when they read as one (else the decoder
 * reports the text), everything else stays text. */
static json_t *scalar(const char *name, json_t *v)
{
    const char *s = json_string_value(v);
    if (s && is_int_member(name)) {
        char *end;
        long long n = strtoll(s, &end, 10);
        if (*s && *end == '\0' && strlen(s) < 18)
            return json_integer(n);
    }
    return json_incref(v);
}

static json_t *convert(json_t *tree, const char *op, qm_err *err);

/* {N: {kname: k, vname: v}} -> {k: v} (v converted when it is a structure). */
static json_t *as_map(json_t *o, const char *kname, const char *vname, const char *op, qm_err *err)
{
    size_t n;
    bool ok;
    numbered *items = in_order(o, &n, &ok);
    json_t *map = json_object();
    for (size_t i = 0; ok && i < n; i++) {
        const char *k = json_string_value(json_object_get(items[i].value, kname));
        json_t *v = json_object_get(items[i].value, vname);
        if (k == NULL || v == NULL)
            continue;
        json_t *cv = json_is_object(v) ? convert(v, op, err) : json_incref(v);
        if (cv == NULL)
            ok = false;
        else if (json_object_get(map, k) == NULL)
            json_object_set_new(map, k, cv);
        else
            json_decref(cv);
    }
    free(items);
    if (!ok) {
        json_decref(map);
        if (err && err->code != QM_E_MALFORMED_REQUEST)
            malformed(err, kname);
        return NULL;
    }
    return map;
}

static json_t *as_list(json_t *o, bool convert_items, const char *op, qm_err *err)
{
    size_t n;
    bool ok;
    numbered *items = in_order(o, &n, &ok);
    json_t *list = json_array();
    for (size_t i = 0; ok && i < n; i++) {
        json_t *v = convert_items && json_is_object(items[i].value)
                        ? convert(items[i].value, op, err)
                        : json_incref(items[i].value);
        if (v == NULL)
            ok = false;
        else
            json_array_append_new(list, v);
    }
    free(items);
    if (!ok) {
        json_decref(list);
        malformed(err, "list");
        return NULL;
    }
    return list;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Rewrites one level of the tree into JSON members (botocore's query serialisation, read
 * backwards). */
static json_t *convert(json_t *tree, const char *op, qm_err *err)
{
    json_t *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(tree, k, v)
    {
        json_t *member = NULL;
        const char *name = k;
        if (strcmp(k, "Action") == 0 || strcmp(k, "Version") == 0)
            continue;
        if (strcmp(k, "Attribute") == 0) {
            name = "Attributes";
            member = as_map(v, "Name", "Value", op, err);
        } else if (strcmp(k, "Tag") == 0) {
            name = op && strcmp(op, "CreateQueue") == 0 ? "tags" : "Tags";
            member = as_map(v, "Key", "Value", op, err);
        } else if (strcmp(k, "MessageAttribute") == 0 || strcmp(k, "MessageSystemAttribute") == 0) {
            name = strcmp(k, "MessageAttribute") == 0 ? "MessageAttributes"
                                                      : "MessageSystemAttributes";
            member = as_map(v, "Name", "Value", op, err);
        } else if (strcmp(k, "AttributeName") == 0 || strcmp(k, "MessageAttributeName") == 0 ||
                   strcmp(k, "MessageSystemAttributeName") == 0 || strcmp(k, "TagKey") == 0) {
            static const char *const plural[][2] = {
                {"AttributeName", "AttributeNames"},
                {"MessageAttributeName", "MessageAttributeNames"},
                {"MessageSystemAttributeName", "MessageSystemAttributeNames"},
                {"TagKey", "TagKeys"}};
            for (size_t i = 0; i < 4; i++)
                if (strcmp(plural[i][0], k) == 0)
                    name = plural[i][1];
            member = as_list(v, false, op, err);
        } else if (ends_with(k, "RequestEntry")) {
            name = "Entries";
            member = as_list(v, true, op, err);
        } else if (json_is_object(v)) {
            member = convert(v, op, err);
        } else {
            member = scalar(k, v);
        }
        if (member == NULL) {
            json_decref(out);
            return NULL;
        }
        json_object_set_new(out, name, member);
    }
    return out;
}

json_t *sqs_form_to_json(const char *op, const bt_form *f, qm_err *err)
{
    json_t *tree = json_object();
    for (size_t i = 0; i < bt_form_len(f); i++) {
        const char *k, *v;
        bt_form_at(f, i, &k, &v);
        if (tree_put(tree, k, v, err) < 0) {
            json_decref(tree);
            return NULL;
        }
    }
    json_t *out = convert(tree, op, err);
    json_decref(tree);
    return out;
}

/* ---- decoding ---- */

static int invalid(qm_err *err, const char *name)
{
    return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                   "Value for parameter %s is invalid. Reason: the value has the wrong type.",
                   name);
}

static int missing(qm_err *err, const char *name)
{
    return qm_fail(err, QM_E_MISSING_PARAMETER, "The request must contain the parameter %s.", name);
}

static int get_string(json_t *o, const char *name, bool required, const char **out, qm_err *err)
{
    json_t *v = json_object_get(o, name);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return required ? missing(err, name) : 0;
    if (!json_is_string(v))
        return invalid(err, name);
    *out = json_string_value(v);
    return 0;
}

static int get_int(json_t *o, const char *name, int64_t *out, qm_err *err)
{
    json_t *v = json_object_get(o, name);
    *out = -1;
    if (v == NULL || json_is_null(v))
        return 0;
    if (json_is_string(v))
        return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                       "Value %.100s for parameter %s is invalid. Reason: Must be an integer.",
                       json_string_value(v), name);
    if (!json_is_integer(v))
        return invalid(err, name);
    /* -1 means "not given": any other negative value is kept out of range. */
    *out = json_integer_value(v) < 0 ? INT32_MIN : json_integer_value(v);
    if (*out == INT32_MIN)
        return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                       "Value %" JSON_INTEGER_FORMAT " for parameter %s is invalid. Reason: Must "
                       "not be negative.",
                       json_integer_value(v), name);
    return 0;
}

static int get_map(json_t *o, const char *name, qm_kv **out, size_t *n, qm_err *err)
{
    json_t *v = json_object_get(o, name);
    *out = NULL;
    *n = 0;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return invalid(err, name);
    *out = bt_xcalloc(json_object_size(v) + 1, sizeof(**out));
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        if (!json_is_string(x))
            return invalid(err, name);
        (*out)[(*n)++] = (qm_kv){k, json_string_value(x)};
    }
    return 0;
}

static int get_names(json_t *o, const char *name, const char ***out, size_t *n, qm_err *err)
{
    json_t *v = json_object_get(o, name);
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return invalid(err, name);
    *out = bt_xrealloc(*out, (*n + json_array_size(v) + 1) * sizeof(**out));
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
    {
        if (!json_is_string(x))
            return invalid(err, name);
        (*out)[(*n)++] = json_string_value(x);
    }
    return 0;
}

/* {"name": {"DataType", "StringValue" | "BinaryValue" (base64)}} into attrs. */
static int get_attrs(json_t *o, const char *member, qm_attr *attrs, size_t room, size_t *n,
                     qm_err *err)
{
    json_t *v = json_object_get(o, member);
    *n = 0;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return invalid(err, member);
    if (json_object_size(v) > room)
        return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                       "Number of message attributes [%zu] exceeds the allowed maximum [%zu].",
                       json_object_size(v), room);
    const char *name;
    json_t *a;
    json_object_foreach(v, name, a)
    {
        qm_attr *out = &attrs[(*n)++];
        out->name = bt_xstrdup(name);
        const char *type = json_string_value(json_object_get(a, "DataType"));
        json_t *sv = json_object_get(a, "StringValue");
        json_t *bv = json_object_get(a, "BinaryValue");
        if (!json_is_object(a) || type == NULL)
            return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                           "The message attribute '%.256s' must contain a non-empty message "
                           "attribute type.",
                           name);
        out->type = bt_xstrdup(type);
        bt_buf b;
        bt_buf_init(&b);
        if (json_is_string(bv)) {
            if (!qc_base64_decode(json_string_value(bv), json_string_length(bv), &b)) {
                bt_buf_fini(&b);
                return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                               "The message attribute '%.256s' has an invalid binary value.", name);
            }
            out->is_binary = true;
        } else if (json_is_string(sv)) {
            bt_buf_append(&b, json_string_value(sv), json_string_length(sv));
        } else {
            bt_buf_append(&b, "", 0);
        }
        out->len = b.len;
        out->value = bt_buf_steal(&b);
    }
    return 0;
}

static int decode_send(json_t *o, sqs_entry *e, qm_err *err)
{
    e->send.delay_s = -1;
    e->visibility_s = -1;
    if (get_string(o, "MessageBody", false, &e->send.body, err) < 0 ||
        get_int(o, "DelaySeconds", &e->send.delay_s, err) < 0 ||
        get_string(o, "MessageGroupId", false, &e->send.group_id, err) < 0 ||
        get_string(o, "MessageDeduplicationId", false, &e->send.dedup_id, err) < 0 ||
        get_attrs(o, "MessageAttributes", e->attrs, QM_MAX_ATTRIBUTES, &e->send.n_attrs, err) < 0 ||
        get_attrs(o, "MessageSystemAttributes", e->sys_attrs, 1, &e->send.n_sys_attrs, err) < 0)
        return -1;
    e->send.attrs = e->attrs;
    e->send.sys_attrs = e->sys_attrs;
    return 0;
}

static const char *entry_name(sqs_op op)
{
    switch (op) {
    case SQS_SendMessageBatch:
        return "SendMessageBatchRequestEntry";
    case SQS_DeleteMessageBatch:
        return "DeleteMessageBatchRequestEntry";
    default:
        return "ChangeMessageVisibilityBatchRequestEntry";
    }
}

/* The batch rules (SQS API reference; texts as AWS was recorded giving them). */
static int decode_entries(sqs_op op, json_t *body, sqs_req *r, qm_err *err)
{
    json_t *list = json_object_get(body, "Entries");
    if (list != NULL && !json_is_null(list) && !json_is_array(list))
        return invalid(err, "Entries");
    size_t n = json_array_size(list);
    if (n == 0)
        return qm_fail(err, QM_E_EMPTY_BATCH, "There should be at least one %s in the request.",
                       entry_name(op));
    if (n > QM_MAX_BATCH_ENTRIES)
        return qm_fail(err, QM_E_TOO_MANY_ENTRIES,
                       "Maximum number of entries per request are %d. You have sent %zu.",
                       QM_MAX_BATCH_ENTRIES, n);
    r->entries = bt_xcalloc(n, sizeof(*r->entries));
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(list, i);
        sqs_entry *e = &r->entries[r->n_entries++];
        e->visibility_s = -1;
        if (!json_is_object(o))
            return invalid(err, "Entries");
        if (get_string(o, "Id", true, &e->id, err) < 0)
            return -1;
        if (!qm_batch_id_ok(e->id))
            return qm_fail(err, QM_E_INVALID_BATCH_ID,
                           "A batch entry id can only contain alphanumeric characters, hyphens "
                           "and underscores. It can be at most 80 letters long.");
        for (size_t k = 0; k < i; k++)
            if (strcmp(r->entries[k].id, e->id) == 0)
                return qm_fail(err, QM_E_BATCH_IDS_NOT_DISTINCT, "Id %s repeated.", e->id);
        int rc = 0;
        if (op == SQS_SendMessageBatch)
            rc = decode_send(o, e, err);
        else
            rc = get_string(o, "ReceiptHandle", false, &e->receipt, err);
        if (rc == 0 && op == SQS_ChangeMessageVisibilityBatch)
            rc = get_int(o, "VisibilityTimeout", &e->visibility_s, err);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int decode_receive(json_t *body, sqs_req *r, qm_err *err)
{
    qm_receive *rv = &r->recv;
    if (get_names(body, "AttributeNames", &r->sys_names, &r->n_sys_names, err) < 0 ||
        get_names(body, "MessageSystemAttributeNames", &r->sys_names, &r->n_sys_names, err) < 0 ||
        get_names(body, "MessageAttributeNames", &r->attr_names, &r->n_attr_names, err) < 0 ||
        get_int(body, "MaxNumberOfMessages", &rv->max, err) < 0 ||
        get_int(body, "VisibilityTimeout", &rv->visibility_s, err) < 0 ||
        get_int(body, "WaitTimeSeconds", &rv->wait_s, err) < 0)
        return -1;
    rv->sys_names = r->sys_names;
    rv->n_sys_names = r->n_sys_names;
    rv->attr_names = r->attr_names;
    rv->n_attr_names = r->n_attr_names;
    return qm_check_receive(rv, err);
}

int sqs_decode(sqs_op op, json_t *body, sqs_req *r, qm_err *err)
{
    memset(r, 0, sizeof(*r));
    r->op = op;
    r->body = json_incref(body);
    r->max_results = -1;
    r->recv.max = r->recv.visibility_s = r->recv.wait_s = -1;
    if (!json_is_object(body))
        return qm_fail(err, QM_E_MALFORMED_REQUEST, "The request body is not a JSON object.");
    if (get_string(body, "QueueUrl", false, &r->queue_url, err) < 0)
        return -1;
    switch (op) {
    case SQS_CreateQueue:
        return get_string(body, "QueueName", true, &r->queue_name, err) < 0 ||
                       get_map(body, "Attributes", &r->attrs, &r->n_attrs, err) < 0 ||
                       get_map(body, "tags", &r->tags, &r->n_tags, err) < 0
                   ? -1
                   : 0;
    case SQS_GetQueueUrl:
        return get_string(body, "QueueName", true, &r->queue_name, err) < 0 ||
                       get_string(body, "QueueOwnerAWSAccountId", false, &r->owner, err) < 0
                   ? -1
                   : 0;
    case SQS_ListQueues:
    case SQS_ListDeadLetterSourceQueues:
        return get_string(body, "QueueNamePrefix", false, &r->prefix, err) < 0 ||
                       get_string(body, "NextToken", false, &r->next_token, err) < 0 ||
                       get_int(body, "MaxResults", &r->max_results, err) < 0
                   ? -1
                   : 0;
    case SQS_GetQueueAttributes:
        return get_names(body, "AttributeNames", &r->names, &r->n_names, err);
    case SQS_SetQueueAttributes:
        if (json_object_get(body, "Attributes") == NULL)
            return missing(err, "Attributes");
        return get_map(body, "Attributes", &r->attrs, &r->n_attrs, err);
    case SQS_SendMessage:
        r->entries = bt_xcalloc(1, sizeof(*r->entries));
        r->n_entries = 1;
        return decode_send(body, &r->entries[0], err);
    case SQS_ReceiveMessage:
        return decode_receive(body, r, err);
    case SQS_DeleteMessage:
    case SQS_ChangeMessageVisibility:
        r->entries = bt_xcalloc(1, sizeof(*r->entries));
        r->n_entries = 1;
        if (get_string(body, "ReceiptHandle", true, &r->entries[0].receipt, err) < 0 ||
            get_int(body, "VisibilityTimeout", &r->entries[0].visibility_s, err) < 0)
            return -1;
        if (op == SQS_ChangeMessageVisibility && r->entries[0].visibility_s < 0)
            return missing(err, "VisibilityTimeout");
        return 0;
    case SQS_SendMessageBatch:
    case SQS_DeleteMessageBatch:
    case SQS_ChangeMessageVisibilityBatch:
        return decode_entries(op, body, r, err);
    case SQS_TagQueue:
        if (json_object_get(body, "Tags") == NULL)
            return missing(err, "Tags");
        return get_map(body, "Tags", &r->tags, &r->n_tags, err);
    case SQS_UntagQueue:
        if (json_object_get(body, "TagKeys") == NULL)
            return missing(err, "TagKeys");
        return get_names(body, "TagKeys", &r->names, &r->n_names, err);
    case SQS_PurgeQueue:
    case SQS_DeleteQueue:
    case SQS_ListQueueTags:
    case SQS_N_OPS:
        return 0;
    }
    return 0;
}

static void attrs_fini(qm_attr *attrs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(attrs[i].name);
        free(attrs[i].type);
        free(attrs[i].value);
    }
}

void sqs_req_fini(sqs_req *r)
{
    for (size_t i = 0; i < r->n_entries; i++) {
        attrs_fini(r->entries[i].attrs, QM_MAX_ATTRIBUTES);
        attrs_fini(r->entries[i].sys_attrs, 1);
    }
    free(r->entries);
    free(r->attrs);
    free(r->tags);
    free(r->names);
    free(r->sys_names);
    free(r->attr_names);
    json_decref(r->body);
    memset(r, 0, sizeof(*r));
}

/* ---- answers ---- */

static void put_int_string(json_t *o, const char *name, int64_t v)
{
    char text[24];
    snprintf(text, sizeof(text), "%" PRId64, v);
    json_object_set_new(o, name, json_string(text));
}

static json_t *system_attributes(const qm_msg *m, const qm_receive *r)
{
    json_t *a = json_object();
    if (qm_wants_sys(r, "SenderId") && m->sender_id)
        json_object_set_new(a, "SenderId", json_string(m->sender_id));
    if (qm_wants_sys(r, "SentTimestamp"))
        put_int_string(a, "SentTimestamp", m->sent_ms);
    if (qm_wants_sys(r, "ApproximateReceiveCount"))
        put_int_string(a, "ApproximateReceiveCount", m->receive_count);
    if (qm_wants_sys(r, "ApproximateFirstReceiveTimestamp"))
        put_int_string(a, "ApproximateFirstReceiveTimestamp", m->first_receive_ms);
    if (qm_wants_sys(r, "SequenceNumber") && m->seq)
        json_object_set_new(a, "SequenceNumber", json_string(m->seq));
    if (qm_wants_sys(r, "MessageDeduplicationId") && m->dedup_id)
        json_object_set_new(a, "MessageDeduplicationId", json_string(m->dedup_id));
    if (qm_wants_sys(r, "MessageGroupId") && m->group_id)
        json_object_set_new(a, "MessageGroupId", json_string(m->group_id));
    if (qm_wants_sys(r, "AWSTraceHeader") && m->trace_header)
        json_object_set_new(a, "AWSTraceHeader", json_string(m->trace_header));
    if (qm_wants_sys(r, "DeadLetterQueueSourceArn") && m->dlq_source)
        json_object_set_new(a, "DeadLetterQueueSourceArn", json_string(m->dlq_source));
    return a;
}

static json_t *attribute_value(const qm_attr *a)
{
    json_t *v = json_object();
    if (a->is_binary) {
        bt_buf b;
        bt_buf_init(&b);
        qc_base64_encode(a->value, a->len, &b);
        json_object_set_new(v, "BinaryValue", json_string(b.data));
        bt_buf_fini(&b);
    } else {
        json_object_set_new(v, "StringValue", json_stringn(a->value, a->len));
    }
    json_object_set_new(v, "DataType", json_string(a->type));
    return v;
}

json_t *sqs_messages_json(qm_msg *const *msgs, size_t n, const qm_receive *r, int64_t now_ms)
{
    (void)now_ms;
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        const qm_msg *m = msgs[i];
        json_t *o = json_object();
        json_object_set_new(o, "MessageId", json_string(m->id));
        json_object_set_new(o, "ReceiptHandle", json_string(m->receipt));
        json_object_set_new(o, "MD5OfBody", json_string(m->md5_body));
        json_object_set_new(o, "Body", json_stringn(m->body, m->body_len));
        json_t *sys = system_attributes(m, r);
        if (json_object_size(sys))
            json_object_set_new(o, "Attributes", sys);
        else
            json_decref(sys);
        const qm_attr *picked[QM_MAX_ATTRIBUTES];
        size_t k = 0;
        for (size_t j = 0; j < m->n_attrs && k < QM_MAX_ATTRIBUTES; j++)
            if (qm_wants_attr(r, m->attrs[j].name))
                picked[k++] = &m->attrs[j];
        if (k) {
            char md5[33];
            qm_attrs_md5(picked, k, md5);
            json_object_set_new(o, "MD5OfMessageAttributes", json_string(md5));
            json_t *attrs = json_object();
            for (size_t j = 0; j < k; j++)
                json_object_set_new(attrs, picked[j]->name, attribute_value(picked[j]));
            json_object_set_new(o, "MessageAttributes", attrs);
        }
        json_array_append_new(list, o);
    }
    json_t *out = json_object();
    if (n)
        json_object_set_new(out, "Messages", list);
    else
        json_decref(list);
    return out;
}

static const char xml_ns[] = "http://queue.amazonaws.com/doc/2012-11-05/";

static void xml_value(bt_xml *x, const char *name, const json_t *v, sqs_op op);

/* A map member, flattened: <Attribute><Name/><Value/></Attribute>, <Tag><Key/><Value/>. */
static void xml_map(bt_xml *x, const char *element, const char *kname, const json_t *map, sqs_op op)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)map, k, v)
    {
        bt_xml_open(x, element, NULL);
        bt_xml_text(x, kname, k);
        xml_value(x, "Value", v, op);
        bt_xml_close(x);
    }
}

static void xml_list(bt_xml *x, const char *element, const json_t *list, sqs_op op)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) xml_value(x, element, v, op);
}

static const char *result_entry(sqs_op op)
{
    switch (op) {
    case SQS_SendMessageBatch:
        return "SendMessageBatchResultEntry";
    case SQS_DeleteMessageBatch:
        return "DeleteMessageBatchResultEntry";
    default:
        return "ChangeMessageVisibilityBatchResultEntry";
    }
}

/* The members of an object, each as its query-model element(s). */
static void xml_members(bt_xml *x, const json_t *o, sqs_op op)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)o, k, v)
    {
        if (strcmp(k, "Attributes") == 0)
            xml_map(x, "Attribute", "Name", v, op);
        else if (strcmp(k, "MessageAttributes") == 0)
            xml_map(x, "MessageAttribute", "Name", v, op);
        else if (strcmp(k, "Tags") == 0)
            xml_map(x, "Tag", "Key", v, op);
        else if (strcmp(k, "QueueUrls") == 0 || strcmp(k, "queueUrls") == 0)
            xml_list(x, "QueueUrl", v, op);
        else if (strcmp(k, "Messages") == 0)
            xml_list(x, "Message", v, op);
        else if (strcmp(k, "Successful") == 0)
            xml_list(x, result_entry(op), v, op);
        else if (strcmp(k, "Failed") == 0)
            xml_list(x, "BatchResultErrorEntry", v, op);
        else
            xml_value(x, k, v, op);
    }
}

static void xml_value(bt_xml *x, const char *name, const json_t *v, sqs_op op)
{
    char text[32];
    if (json_is_string(v)) {
        bt_xml_textn(x, name, json_string_value(v), json_string_length(v));
    } else if (json_is_boolean(v)) {
        bt_xml_text(x, name, json_is_true(v) ? "true" : "false");
    } else if (json_is_integer(v)) {
        snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        bt_xml_text(x, name, text);
    } else if (json_is_object(v)) {
        bt_xml_open(x, name, NULL);
        xml_members(x, v, op);
        bt_xml_close(x);
    }
}

/* Operations without output answer with the envelope alone (SQS's query responses). */
static bool has_result(sqs_op op)
{
    switch (op) {
    case SQS_SetQueueAttributes:
    case SQS_DeleteMessage:
    case SQS_ChangeMessageVisibility:
    case SQS_PurgeQueue:
    case SQS_DeleteQueue:
    case SQS_TagQueue:
    case SQS_UntagQueue:
        return false;
    default:
        return true;
    }
}

void sqs_render_xml(sqs_op op, const json_t *result, const char *request_id, bt_buf *out)
{
    bt_xml x;
    char element[64];
    bt_xml_init(&x, out);
    snprintf(element, sizeof(element), "%sResponse", op_names[op]);
    bt_xml_open(&x, element, xml_ns);
    if (has_result(op)) {
        char result_name[64];
        snprintf(result_name, sizeof(result_name), "%sResult", op_names[op]);
        bt_xml_open(&x, result_name, NULL);
        xml_members(&x, result, op);
        bt_xml_close(&x);
    }
    bt_xml_open(&x, "ResponseMetadata", NULL);
    bt_xml_text(&x, "RequestId", request_id);
    bt_xml_close(&x);
    bt_xml_close(&x);
}

static const char *fault_type(const qm_err *err)
{
    return qm_code_status(err->code) >= 500 ? "Receiver" : "Sender";
}

void sqs_render_xml_error(const qm_err *err, const char *request_id, bt_buf *out)
{
    bt_xml x;
    bt_xml_init(&x, out);
    bt_xml_open(&x, "ErrorResponse", xml_ns);
    bt_xml_open(&x, "Error", NULL);
    bt_xml_text(&x, "Type", fault_type(err));
    bt_xml_text(&x, "Code", qm_code_query(err->code));
    bt_xml_text(&x, "Message", err->msg);
    bt_xml_empty(&x, "Detail");
    bt_xml_close(&x);
    bt_xml_text(&x, "RequestId", request_id);
    bt_xml_close(&x);
}

json_t *sqs_json_error(const qm_err *err)
{
    char type[96];
    snprintf(type, sizeof(type), "com.amazonaws.sqs#%s", qm_code_shape(err->code));
    return json_pack("{s:s,s:s}", "__type", type, "message", err->msg);
}

void sqs_query_error_header(const qm_err *err, char *out, size_t len)
{
    snprintf(out, len, "%s;%s", qm_code_query(err->code), fault_type(err));
}
