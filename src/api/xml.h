/*
 * xml.h — the little XML the query protocols answer with: elements with text, written in
 * order into a bt_buf. Text is escaped as SQS escapes it (& < > " and CR as &#xD;, so that a
 * body with "\r" or "&quot;" survives the client's parser byte for byte); characters
 * XML 1.0 cannot carry at all (C0 controls other than TAB, LF, CR; U+FFFE, U+FFFF; bytes
 * that are not UTF-8) become U+FFFD, since a reference to them would make the whole
 * document unreadable. SQS never stores them (InvalidMessageContents), so only error
 * messages quoting a client's input can contain them.
 */
#ifndef BT_API_XML_H
#define BT_API_XML_H

#include "base/buf.h"

#include <stddef.h>

typedef struct bt_xml {
    bt_buf *out;
    const char *stack[16]; /* open elements (borrowed names) */
    size_t depth;
} bt_xml;

/* Starts a document (the XML declaration) in out. */
void bt_xml_init(bt_xml *x, bt_buf *out);
/* <name> or <name xmlns="ns"> (ns may be NULL). */
void bt_xml_open(bt_xml *x, const char *name, const char *ns);
void bt_xml_close(bt_xml *x);
/* <name>text</name>; bt_xml_textn for text with a length. */
void bt_xml_text(bt_xml *x, const char *name, const char *text);
void bt_xml_textn(bt_xml *x, const char *name, const char *text, size_t len);
/* <name/> */
void bt_xml_empty(bt_xml *x, const char *name);
/* Appends s[0..len) escaped for text or attribute values. */
void bt_xml_escape(bt_buf *out, const char *s, size_t len);

#endif
