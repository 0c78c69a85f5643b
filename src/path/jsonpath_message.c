/*
 * jsonpath_message.c — jpath_miss_message: why a definite path found nothing, worded as
 * Jayway (and so AWS) words it, Java class names included. Called by the engine's payload
 * pipeline (engine/pipeline.c) on the error path only, after jpath_eval returned
 * BT_ENOTFOUND; it re-walks the path with the root resolution and indexing of jsonpath_eval.c.
 */
#include "base/alloc.h"
#include "base/buf.h"
#include "path/jsonpath_int.h"

#include <stdint.h>
#include <stdlib.h>

/* ---------------------------------------------------------------- messages */

static const char *java_class(json_t *v)
{
    if (v == NULL)
        return "null";
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "java.util.LinkedHashMap";
    case JSON_ARRAY:
        return "java.util.ArrayList";
    case JSON_STRING:
        return "java.lang.String";
    case JSON_INTEGER: {
        json_int_t i = json_integer_value(v);
        return i >= INT32_MIN && i <= INT32_MAX ? "java.lang.Integer" : "java.lang.Long";
    }
    case JSON_REAL:
        return "java.lang.Double";
    case JSON_TRUE:
    case JSON_FALSE:
        return "java.lang.Boolean";
    case JSON_NULL:
        break;
    }
    return "null";
}

char *jpath_miss_message(const jpath *p, const jpath_env *env)
{
    json_t *v = jpath__resolve_root(p, env);
    if (v == NULL) {
        if (p->root == JPATH_ROOT_VAR)
            return bt_xasprintf("Variable '$%s' is not defined", p->var);
        return bt_xasprintf("No results for path: %s", p->normalized);
    }
    if (!p->definite)
        return bt_xasprintf("No results for path: %s", p->normalized);
    bt_buf prefix;
    bt_buf_init(&prefix);
    bt_buf_putc(&prefix, '$');
    char *msg = NULL;
    size_t n = p->merge_tail ? p->n_segs - 1 : p->n_segs;
    for (size_t i = 0; i < n && msg == NULL; i++) {
        const seg *s = &p->segs[i];
        bool leaf = i + 1 == p->n_segs;
        if (s->kind == SEG_NAME) {
            if (!json_is_object(v)) {
                msg = bt_xasprintf("Expected to find an object with property ['%s'] in path %s "
                                   "but found '%s'. This is not a json object according to the "
                                   "JsonProvider: "
                                   "'com.jayway.jsonpath.spi.json.JacksonJsonProvider'.",
                                   s->name, prefix.data, java_class(v));
                break;
            }
            v = json_object_get(v, s->name);
            bt_buf_printf(&prefix, "['%s']", s->name);
            if (v == NULL)
                msg = leaf ? bt_xasprintf("No results for path: %s", p->normalized)
                           : bt_xasprintf("Missing property in path %s", prefix.data);
        } else {
            if (!json_is_array(v)) {
                char *ctx = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                msg = bt_xasprintf("Filter: [%lld] can only be applied to arrays. Current "
                                   "context is: %s",
                                   s->index, ctx ? ctx : "null");
                free(ctx);
                break;
            }
            v = jpath__array_at(v, s->index);
            bt_buf_printf(&prefix, "[%lld]", s->index);
            if (v == NULL)
                msg = bt_xasprintf("No results for path: %s", p->normalized);
        }
    }
    if (msg == NULL)
        msg = bt_xasprintf("No results for path: %s", p->normalized);
    bt_buf_fini(&prefix);
    return msg;
}
