/*
 * xml_test.c — unit tests for xml.c: the escapes SQS uses (& < > " and CR), characters
 * XML 1.0 cannot carry replaced by U+FFFD, and element nesting.
 */
#include "api/xml.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void escapes(void **state)
{
    (void)state;
    bt_buf b;
    bt_buf_init(&b);
    const char s[] = "\"&quot;&quot;\r <a>'\t\n\xe2\x82\xac";
    bt_xml_escape(&b, s, sizeof(s) - 1);
    assert_string_equal(b.data, "&quot;&amp;quot;&amp;quot;&#xD; &lt;a&gt;'\t\n\xe2\x82\xac");
    bt_buf_reset(&b);
    bt_xml_escape(&b,
                  "a\x01"
                  "b\xff"
                  "c\xef\xbf\xbe",
                  8);
    assert_string_equal(b.data, "a\xef\xbf\xbd"
                                "b\xef\xbf\xbd"
                                "c\xef\xbf\xbd");
    bt_buf_fini(&b);
}

static void elements(void **state)
{
    (void)state;
    bt_buf b;
    bt_buf_init(&b);
    bt_xml x;
    bt_xml_init(&x, &b);
    bt_xml_open(&x, "R", "urn:x");
    bt_xml_text(&x, "A", "1<2");
    bt_xml_empty(&x, "D");
    bt_xml_close(&x);
    assert_string_equal(b.data, "<?xml version=\"1.0\"?><R xmlns=\"urn:x\"><A>1&lt;2</A><D/></R>");
    bt_buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escapes),
        cmocka_unit_test(elements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
