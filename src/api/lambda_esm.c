/*
 * lambda_esm.c — the Lambda API's event source mappings (Create/Get/List/Update/Delete
 * EventSourceMapping) over trigger/trigger.h: the body's members read into a trigger_config,
 * the service's checks answered in Lambda's codes; listing by FunctionName and
 * EventSourceArn, a page of at most 100 with the last UUID as NextMarker.
 */
#include "api/lambda_int.h"
#include "base/alloc.h"

#include <stdlib.h>
#include <string.h>

/* ---- event source mappings ---- */

static void fail_trigger(lcall *l, int rc, const bt_err *err)
{
    if (rc == BT_ENOTFOUND && strncmp(err->msg, "Unrecognized event source", 25) != 0)
        lambda__fail(l, "ResourceNotFoundException", NULL, "%s", err->msg);
    else if (rc == BT_EEXIST)
        lambda__fail(l, "ResourceConflictException", NULL, "%s", err->msg);
    else if (rc == BT_EIO)
        lambda__fail(l, "ServiceException", NULL, "%s", err->msg);
    else
        lambda__fail(l, "InvalidParameterValueException", NULL, "%s", err->msg);
}

static const trigger_info *mapping(lcall *l)
{
    const trigger_info *t = trigger_get(l->ts, l->route.resource);
    if (t == NULL)
        lambda__fail(
            l, "ResourceNotFoundException", NULL,
            "The resource you requested does not exist. (Service: Lambda, Status Code: 404, "
            "Request ID: %s)",
            l->c->request_id);
    return t;
}

/* Reads the body's mapping members over cfg (strings borrowed from the body or fname).
 * false when answered. */
static bool mapping_settings(lcall *l, trigger_config *cfg, char fname[FN_NAME_MAX + 1])
{
    json_t *v;
    if (!lambda__member(l, "EventSourceArn", JSON_STRING, &v))
        return false;
    if (v)
        cfg->queue_arn = json_string_value(v);
    if (!lambda__member(l, "FunctionName", JSON_STRING, &v))
        return false;
    if (v) {
        char qual[130];
        if (fn_parse_name(l->fs, json_string_value(v), fname, qual) != 0) {
            lambda__fail(l, "InvalidParameterValueException", NULL, "Function does not exist");
            return false;
        }
        cfg->function = fname;
    }
    if (!lambda__member(l, "Enabled", JSON_TRUE, &v))
        return false;
    if (v)
        cfg->enabled = json_is_true(v);
    if (!lambda__member(l, "BatchSize", JSON_INTEGER, &v))
        return false;
    if (v)
        cfg->batch_size = (int)json_integer_value(v);
    if (!lambda__member(l, "MaximumBatchingWindowInSeconds", JSON_INTEGER, &v))
        return false;
    if (v)
        cfg->batching_window_s = (int)json_integer_value(v);
    if (!lambda__member(l, "FunctionResponseTypes", JSON_ARRAY, &v))
        return false;
    if (v) {
        cfg->report_item_failures = false;
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            if (!json_is_string(x) || strcmp(json_string_value(x), "ReportBatchItemFailures")) {
                lambda__fail(
                    l, "ValidationException", NULL,
                    "1 validation error detected: Value at 'functionResponseTypes' failed to "
                    "satisfy constraint: Member must satisfy constraint: [Member must satisfy "
                    "enum value set: [ReportBatchItemFailures]]");
                return false;
            }
            cfg->report_item_failures = true;
        }
    }
    if (!lambda__member(l, "ScalingConfig", JSON_OBJECT, &v))
        return false;
    if (v) {
        json_t *m = json_object_get(v, "MaximumConcurrency");
        cfg->max_concurrency = json_is_integer(m) ? (int)json_integer_value(m) : 0;
    }
    return true;
}

static void put_mapping(lcall *l, trigger_config *cfg, int status)
{
    char uuid[37];
    bt_err err = {0};
    int rc = trigger_put(l->ts, cfg, FN_ORIGIN_API, uuid, &err);
    if (rc != 0) {
        fail_trigger(l, rc, &err);
        return;
    }
    const trigger_info *t = trigger_get(l->ts, uuid);
    lambda__ok_json(l, status, t ? trigger_to_json(l->ts, t) : json_pack("{s:s}", "UUID", uuid));
}

void lambda__esm(lcall *l)
{
    if (l->ts == NULL) {
        lambda__fail(l, "ServiceException", NULL, "This server runs no queue triggers");
        return;
    }
    char fname[FN_NAME_MAX + 1];
    switch (l->route.op) {
    case LAMBDA_OP_CREATE_EVENT_SOURCE_MAPPING: {
        trigger_config cfg = {.enabled = true};
        if (!mapping_settings(l, &cfg, fname))
            return;
        if (cfg.queue_arn == NULL || cfg.function == NULL) {
            lambda__fail(l, "InvalidParameterValueException", NULL,
                         cfg.function ? "Unrecognized event source." : "Function does not exist");
            return;
        }
        put_mapping(l, &cfg, 202);
        return;
    }
    case LAMBDA_OP_GET_EVENT_SOURCE_MAPPING: {
        const trigger_info *t = mapping(l);
        if (t)
            lambda__ok_json(l, 200, trigger_to_json(l->ts, t));
        return;
    }
    case LAMBDA_OP_UPDATE_EVENT_SOURCE_MAPPING: {
        const trigger_info *t = mapping(l);
        if (t == NULL)
            return;
        trigger_config cfg = t->cfg;
        cfg.uuid = t->uuid;
        if (!mapping_settings(l, &cfg, fname))
            return;
        put_mapping(l, &cfg, 202);
        return;
    }
    case LAMBDA_OP_DELETE_EVENT_SOURCE_MAPPING: {
        const trigger_info *t = mapping(l);
        if (t == NULL)
            return;
        json_t *j = trigger_to_json(l->ts, t);
        json_object_set_new(j, "State", json_string("Deleting"));
        trigger_delete(l->ts, l->route.resource);
        lambda__ok_json(l, 202, j);
        return;
    }
    case LAMBDA_OP_LIST_EVENT_SOURCE_MAPPINGS: {
        const char *fn_given = lambda__query(l, "FunctionName"),
                   *arn = lambda__query(l, "EventSourceArn");
        char qual[130];
        if (fn_given && fn_parse_name(l->fs, fn_given, fname, qual) != 0) {
            lambda__fail(l, "InvalidParameterValueException", NULL, "Function does not exist");
            return;
        }
        const char *marker = lambda__query(l, "Marker"), *max = lambda__query(l, "MaxItems");
        long limit = max ? strtol(max, NULL, 10) : 100;
        limit = limit < 1 || limit > 100 ? 100 : limit;
        size_t n;
        const trigger_info **all = trigger_list(l->ts, fn_given ? fname : NULL, arn, &n);
        size_t i = 0;
        if (marker && *marker)
            while (i < n && strcmp(all[i]->uuid, marker) != 0)
                i++, (void)0;
        if (marker && *marker && i < n)
            i++;
        json_t *list = json_array();
        for (; i < n && (long)json_array_size(list) < limit; i++)
            json_array_append_new(list, trigger_to_json(l->ts, all[i]));
        json_t *body = json_pack("{s:o}", "EventSourceMappings", list);
        if (i < n)
            json_object_set_new(body, "NextMarker", json_string(all[i - 1]->uuid));
        free(all);
        lambda__ok_json(l, 200, body);
        return;
    }
    default:
        lambda__fail(l, "ServiceException", NULL, "unrouted operation");
        return;
    }
}
