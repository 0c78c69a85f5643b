/*
 * history.c — history events: append and render in AWS's shape (history.h).
 */
#include "engine/history.h"
#include "base/alloc.h"
#include "base/json.h"

#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {
#define HIST(name, key) #name,
#include "engine/history.def"
#undef HIST
};

static const char *const detail_keys[] = {
#define HIST(name, key) key,
#include "engine/history.def"
#undef HIST
};

const char *hist_type_name(hist_type t)
{
    return type_names[t];
}

void history_init(history *h)
{
    h->events = NULL;
    h->len = 0;
    h->cap = 0;
    h->base = 0;
}

static void event_fini(hist_event *ev)
{
    json_decref(ev->data);
    json_decref(ev->extra);
    free(ev->error);
    free(ev->cause);
}

void history_fini(history *h)
{
    for (size_t i = 0; i < h->len; i++)
        event_fini(&h->events[i]);
    free(h->events);
    history_init(h);
}

void history_drop_first(history *h, size_t n)
{
    if (n > h->len)
        n = h->len;
    for (size_t i = 0; i < n; i++)
        event_fini(&h->events[i]);
    memmove(h->events, h->events + n, (h->len - n) * sizeof(*h->events));
    h->len -= n;
    h->base += (uint32_t)n;
}

hist_event *history_append(history *h, hist_type type, uint32_t prev_id, int64_t ts_ms)
{
    if (h->len == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 8;
        h->events = bt_xrealloc(h->events, h->cap * sizeof(*h->events));
    }
    hist_event *ev = &h->events[h->len++];
    memset(ev, 0, sizeof(*ev));
    ev->type = type;
    ev->id = h->base + (uint32_t)h->len;
    ev->prev_id = prev_id;
    ev->timestamp_ms = ts_ms;
    ev->number = -1;
    return ev;
}

static const char *data_key(hist_type t, int *is_input)
{
    *is_input = 0;
    switch (t) {
    case HIST_ExecutionStarted:
    case HIST_PassStateEntered:
    case HIST_TaskStateEntered:
    case HIST_ChoiceStateEntered:
    case HIST_WaitStateEntered:
    case HIST_SucceedStateEntered:
    case HIST_FailStateEntered:
    case HIST_ParallelStateEntered:
    case HIST_MapStateEntered:
    case HIST_LambdaFunctionScheduled:
    case HIST_ActivityScheduled:
        *is_input = 1;
        return "input";
    case HIST_TaskScheduled:
        return "parameters";
    default:
        return "output";
    }
}

/*
 * NULL when the event's data must be rendered and nests deeper than BT_JSON_MAX_DEPTH (its
 * text cannot be written); history_to_json is then NULL too. No event is ever rendered with
 * its data missing or altered.
 */
json_t *history_event_to_json(const hist_event *ev, int include_data)
{
    json_t *o = json_object();
    json_object_set_new(o, "timestamp", json_real((double)ev->timestamp_ms / 1000.0));
    json_object_set_new(o, "type", json_string(type_names[ev->type]));
    json_object_set_new(o, "id", json_integer(ev->id));
    json_object_set_new(o, "previousEventId", json_integer(ev->prev_id));
    const char *key = detail_keys[ev->type];
    if (key == NULL)
        return o;
    json_t *d = ev->extra ? json_copy(ev->extra) : json_object();
    if (ev->name)
        json_object_set_new(d, "name", json_string(ev->name));
    if (ev->number >= 0)
        json_object_set_new(d, ev->type == HIST_MapStateStarted ? "length" : "index",
                            json_integer(ev->number));
    if (ev->error)
        json_object_set_new(d, "error", json_string(ev->error));
    if (ev->cause)
        json_object_set_new(d, "cause", json_string(ev->cause));
    if (ev->data) {
        int is_input;
        const char *dk = data_key(ev->type, &is_input);
        if (include_data || ev->type == HIST_TaskScheduled) {
            char *text = bt_json_dumps(ev->data);
            if (text == NULL) { /* too deep to write: no event rather than a wrong one */
                json_decref(d);
                json_decref(o);
                return NULL;
            }
            json_object_set_new(d, dk, json_string(text));
            free(text);
        }
        if (ev->type != HIST_TaskScheduled) {
            json_t *det = json_object();
            json_object_set_new(det, "truncated", json_false());
            char *dkey = bt_xasprintf("%sDetails", dk);
            json_object_set_new(d, dkey, det);
            free(dkey);
        }
    }
    json_object_set_new(o, key, d);
    return o;
}

json_t *history_to_json(const history *h, int include_data)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < h->len; i++) {
        json_t *ev = history_event_to_json(&h->events[i], include_data);
        if (ev == NULL) {
            json_decref(arr);
            return NULL;
        }
        json_array_append_new(arr, ev);
    }
    return arr;
}
