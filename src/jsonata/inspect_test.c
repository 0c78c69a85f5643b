/*
 * inspect_test.c — jn_expr_top_refs: what an expression reads from its top-level context,
 * each distinct reference once, in the order written.
 */
#include "base/buf.h"
#include "jsonata/jsonata.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void collect(void *arg, jn_ref_kind kind, const char *text, size_t len)
{
    static const char *const tags[] = {"name", "context", "root", "field"};
    bt_buf *b = arg;
    if (b->len)
        bt_buf_putc(b, ' ');
    bt_buf_printf(b, "%s:%.*s", tags[kind], (int)len, text);
}

/* expected: "kind:text" for each reference, space-separated; "" for none */
static void check(const char *expr, const char *expected)
{
    jn_expr *e;
    jn_error err;
    if (jn_compile(expr, strlen(expr), &e, &err) != 0)
        fail_msg("%s: does not compile: %s", expr, err.message);
    bt_buf b;
    bt_buf_init(&b);
    jn_expr_top_refs(e, collect, &b);
    jn_expr_free(e);
    char *got = bt_buf_steal(&b);
    if (strcmp(got, expected) != 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s: expected [%s], got [%s]", expr, expected, got);
        free(got);
        fail_msg("%s", msg);
    }
    free(got);
}

static void test_top_level_reads(void **state)
{
    (void)state;
    check("phone", "name:phone");
    check("phone[0].number", "name:phone");
    check("a + b & a", "name:a name:b");
    check("$.x", "context:$");
    check("$$.x", "root:$$");
    check("{key: 1, 'lit': v}", "name:key name:v");
    check("[x, -y, (z; 1)]", "name:x name:y name:z");
    check("c ? t : e", "name:c name:t name:e");
    check("$f(arg)", "name:arg");
    check("$map($v, function($x){ b })", "name:b");
    check("$v := w", "name:w");
    check("$states.errorOutput.Cause", "field:$states.errorOutput");
    check("`odd name`", "name:odd name");
}

static void test_other_contexts_not_walked(void **state)
{
    (void)state;
    check("$states.input.items[phone > 3].name", "field:$states.input");
    check("$v.a^(b){c: d}", "field:$v.a");
    check("$v[k]", "");
    check("$x", "");
    check("1 + 'a' & true", "");
    check("$map($v, function($x){ $x.p })", "field:$x.p");
    check("**.a", "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_top_level_reads),
        cmocka_unit_test(test_other_contexts_not_walked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
