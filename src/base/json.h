/*
 * json.h — compact JSON text as AWS writes it. jansson prints reals with 17 significant
 * digits (1.1 → 1.1000000000000001); AWS prints the shortest text that reads back as the
 * same double (1.1). Everything else follows jansson's compact form: key order kept, '/'
 * not escaped, non-ASCII left as UTF-8.
 *
 * Depth is counted as jansson's parser counts it: every value on the way down is one level,
 * scalars included. 1, "s", [] and {} are depth 1; [1], [[]] and {"a":{}} are depth 2. The
 * writer accepts what jansson's parser accepts (depth <= JSON_PARSER_MAX_DEPTH, 2048), so
 * anything Baton writes reads back; a deeper value is refused, never altered.
 */
#ifndef BT_JSON_H
#define BT_JSON_H

#include "base/buf.h"

#include <jansson.h>

/* The deepest nesting the writer accepts: jansson's JSON_PARSER_MAX_DEPTH (not in its
 * public headers). A scalar inside 2047 arrays is depth 2048 and written; inside 2048, refused. */
#define BT_JSON_MAX_DEPTH 2048

/* The cause text for a value the writer refuses (keep the number equal to the limit). */
#define BT_JSON_TOO_DEEP "The value nests deeper than 2048 levels and cannot be serialised"

/*
 * Appends v's compact text to b ("null" for NULL). Returns 0, or BT_ELIMIT when v nests
 * deeper than BT_JSON_MAX_DEPTH; what was appended to b is then unspecified. Never descends
 * more than BT_JSON_MAX_DEPTH + 1 levels, whatever v holds.
 */
int bt_json_write(bt_buf *b, const json_t *v);
/* Appends s (len bytes) as a JSON string literal, quotes included. */
void bt_json_write_string(bt_buf *b, const char *s, size_t len);
/* v's compact text as a heap string (caller frees); "null" for NULL. NULL only when v nests
 * deeper than BT_JSON_MAX_DEPTH (bt_json_write's BT_ELIMIT). */
char *bt_json_dumps(const json_t *v);
/* The shortest decimal text of d that reads back as d ("1.1", "2.0", "1e+20"). */
void bt_json_format_real(double d, char *out, size_t outlen);

#endif
