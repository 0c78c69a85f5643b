/*
 * jsonpath_put.c — jpath_put: writes a value at a reference path as ResultPath does, creating
 * missing intermediate objects. Called by the engine's payload pipeline (engine/pipeline.c).
 * Copy on write: the input document is never modified; the result shares every subtree off
 * the path with it.
 */
#include "base/err.h"
#include "path/jsonpath_int.h"

/* ---------------------------------------------------------------- ResultPath */

int jpath_put(const jpath *p, json_t *doc, json_t *value, json_t **out)
{
    *out = NULL;
    if (p->root != JPATH_ROOT_INPUT)
        return BT_EINVAL;
    if (p->n_segs == 0) {
        *out = json_incref(value);
        return 0;
    }
    for (size_t i = 0; i < p->n_segs; i++)
        if (p->segs[i].kind != SEG_NAME || p->segs[i].descend)
            return BT_EINVAL;
    if (!json_is_object(doc))
        return BT_EINVAL;
    json_t *top = json_copy(doc);
    json_t *obj = top;
    for (size_t i = 0; i + 1 < p->n_segs; i++) {
        const char *name = p->segs[i].name;
        json_t *child = json_object_get(obj, name);
        json_t *copy;
        if (child == NULL) {
            copy = json_object();
        } else if (json_is_object(child)) {
            copy = json_copy(child);
        } else {
            json_decref(top);
            return BT_EINVAL;
        }
        json_object_set_new(obj, name, copy);
        obj = copy;
    }
    json_object_set(obj, p->segs[p->n_segs - 1].name, value);
    *out = top;
    return 0;
}
