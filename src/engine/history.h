/*
 * history.h — execution history as data. The engine appends events while it runs a
 * transition; a store persists them and GetExecutionHistory renders them. An event keeps
 * references to the JSON it carries (inputs/outputs are shared, never copied) and is
 * rendered to AWS's shape only when someone reads it (history_event_to_json).
 */
#ifndef BT_ENGINE_HISTORY_H
#define BT_ENGINE_HISTORY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef enum hist_type {
#define HIST(name, key) HIST_##name,
#include "engine/history.def"
#undef HIST
    HIST_N_TYPES
} hist_type;

const char *hist_type_name(hist_type t);

typedef struct hist_event {
    hist_type type;
    uint32_t id;      /* 1-based, increasing */
    uint32_t prev_id; /* 0 when none */
    int64_t timestamp_ms;
    const char *name; /* state name (borrowed from the compiled machine) or NULL */
    json_t *data;     /* input or output payload carried by the event, or NULL */
    char *error;      /* owned or NULL */
    char *cause;      /* owned or NULL */
    json_t *extra;    /* further detail fields (owned object) or NULL */
    int64_t number;   /* Map iteration index, or MapStateStarted length; -1 when unused */
} hist_event;

typedef struct history {
    hist_event *events;
    size_t len;
    size_t cap;
    uint32_t base; /* events dropped before events[0] (history_drop_first) */
} history;

void history_init(history *h);
void history_fini(history *h);
/* Appends an event (id assigned); returns it (valid until the next append). */
hist_event *history_append(history *h, hist_type type, uint32_t prev_id, int64_t ts_ms);
/* Frees the first n events (a store has them); ids go on from where they were. */
void history_drop_first(history *h, size_t n);

/*
 * AWS's shape: {"timestamp", "type", "id", "previousEventId", "<type>EventDetails": {…}}.
 * The timestamp is rendered as epoch seconds with milliseconds (a JSON number), as the
 * AWS JSON protocol does. include_data=false drops inputs/outputs.
 * NULL when a payload nests deeper than BT_JSON_MAX_DEPTH (its text cannot be written; the
 * engine fails any state that would record such a value, so its own histories always
 * render). history_to_json is NULL if any event is.
 */
json_t *history_event_to_json(const hist_event *ev, int include_data);
json_t *history_to_json(const history *h, int include_data);

#endif
