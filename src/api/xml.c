/*
 * xml.c — the XML writer of xml.h. Names are our own constants and written as they are;
 * only text passes through bt_xml_escape.
 */
#include "api/xml.h"

#include "queue/codec.h"

#include <assert.h>
#include <string.h>

void bt_xml_init(bt_xml *x, bt_buf *out)
{
    x->out = out;
    x->depth = 0;
    bt_buf_puts(out, "<?xml version=\"1.0\"?>");
}

void bt_xml_open(bt_xml *x, const char *name, const char *ns)
{
    assert(x->depth < sizeof(x->stack) / sizeof(x->stack[0]));
    x->stack[x->depth++] = name;
    bt_buf_printf(x->out, "<%s", name);
    if (ns) {
        bt_buf_puts(x->out, " xmlns=\"");
        bt_xml_escape(x->out, ns, strlen(ns));
        bt_buf_putc(x->out, '"');
    }
    bt_buf_putc(x->out, '>');
}

void bt_xml_close(bt_xml *x)
{
    assert(x->depth > 0);
    bt_buf_printf(x->out, "</%s>", x->stack[--x->depth]);
}

void bt_xml_textn(bt_xml *x, const char *name, const char *text, size_t len)
{
    bt_buf_printf(x->out, "<%s>", name);
    bt_xml_escape(x->out, text, len);
    bt_buf_printf(x->out, "</%s>", name);
}

void bt_xml_text(bt_xml *x, const char *name, const char *text)
{
    bt_xml_textn(x, name, text, strlen(text));
}

void bt_xml_empty(bt_xml *x, const char *name)
{
    bt_buf_printf(x->out, "<%s/>", name);
}

void bt_xml_escape(bt_buf *out, const char *s, size_t len)
{
    static const char replacement[] = "\xef\xbf\xbd";
    for (size_t i = 0; i < len;) {
        size_t start = i;
        long c = qc_utf8_next(s, len, &i);
        if (c < 0) {
            bt_buf_puts(out, replacement);
            i = start + 1;
            continue;
        }
        switch (c) {
        case '&':
            bt_buf_puts(out, "&amp;");
            break;
        case '<':
            bt_buf_puts(out, "&lt;");
            break;
        case '>':
            bt_buf_puts(out, "&gt;");
            break;
        case '"':
            bt_buf_puts(out, "&quot;");
            break;
        case '\r':
            bt_buf_puts(out, "&#xD;");
            break;
        case '\t':
        case '\n':
            bt_buf_putc(out, (char)c);
            break;
        default:
            if (c < 0x20 || c == 0xfffe || c == 0xffff)
                bt_buf_puts(out, replacement);
            else
                bt_buf_append(out, s + start, i - start);
        }
    }
}
