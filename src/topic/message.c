/*
 * message.c — what SNS delivers, as AWS shapes it (SNS notes §12): the JSON envelope of
 * http/https/sqs/email-json deliveries (key order as recorded: Type, MessageId, Token,
 * TopicArn, Subject, Message, SubscribeURL, Timestamp, SignatureVersion, Signature,
 * SigningCertURL, UnsubscribeURL, MessageAttributes), the string that is signed, Lambda's
 * SNS event (SigningCertUrl/UnsubscribeUrl casing, "Subject": null when absent), and mail
 * as RFC 5322 text. Pure; no I/O.
 */
#include "topic/topic_int.h"

#include "base/alloc.h"
#include "queue/codec.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static bool is_notification(const topic__msg *m)
{
    return strcmp(m->type, "Notification") == 0;
}

static void canon(bt_buf *b, const char *key, const char *value)
{
    if (value == NULL)
        return;
    bt_buf_printf(b, "%s\n%s\n", key, value);
}

/* https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html: the
 * fields in byte order of their names, each as "name\nvalue\n". */
char *topic__canonical(const topic__msg *m)
{
    bt_buf b;
    bt_buf_init(&b);
    canon(&b, "Message", m->message);
    canon(&b, "MessageId", m->message_id);
    if (is_notification(m)) {
        canon(&b, "Subject", m->subject);
    } else {
        canon(&b, "SubscribeURL", m->subscribe_url);
    }
    canon(&b, "Timestamp", m->timestamp);
    if (!is_notification(m))
        canon(&b, "Token", m->token);
    canon(&b, "TopicArn", m->topic_arn);
    canon(&b, "Type", m->type);
    if (b.data == NULL)
        bt_buf_puts(&b, "");
    return bt_buf_steal(&b);
}

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v)
        json_object_set_new(o, k, json_string(v));
}

json_t *topic__envelope(const topic__msg *m, const char *sig_version, const char *signature,
                        const char *cert_url, const char *unsub_url)
{
    json_t *o = json_object();
    set_str(o, "Type", m->type);
    set_str(o, "MessageId", m->message_id);
    if (!is_notification(m))
        set_str(o, "Token", m->token);
    set_str(o, "TopicArn", m->topic_arn);
    if (is_notification(m))
        set_str(o, "Subject", m->subject);
    set_str(o, "Message", m->message);
    if (!is_notification(m))
        set_str(o, "SubscribeURL", m->subscribe_url);
    set_str(o, "Timestamp", m->timestamp);
    set_str(o, "SignatureVersion", sig_version);
    set_str(o, "Signature", signature);
    set_str(o, "SigningCertURL", cert_url);
    if (is_notification(m))
        set_str(o, "UnsubscribeURL", unsub_url);
    if (is_notification(m) && m->attrs && json_object_size(m->attrs) > 0)
        json_object_set_new(o, "MessageAttributes", json_deep_copy(m->attrs));
    return o;
}

json_t *topic__lambda_event(const topic__msg *m, const char *sub_arn, const char *sig_version,
                            const char *signature, const char *cert_url, const char *unsub_url)
{
    json_t *sns = json_object();
    set_str(sns, "Type", m->type);
    set_str(sns, "MessageId", m->message_id);
    set_str(sns, "TopicArn", m->topic_arn);
    json_object_set_new(sns, "Subject", m->subject ? json_string(m->subject) : json_null());
    set_str(sns, "Message", m->message);
    set_str(sns, "Timestamp", m->timestamp);
    set_str(sns, "SignatureVersion", sig_version);
    set_str(sns, "Signature", signature);
    set_str(sns, "SigningCertUrl", cert_url);
    set_str(sns, "UnsubscribeUrl", unsub_url);
    json_object_set_new(sns, "MessageAttributes",
                        m->attrs ? json_deep_copy(m->attrs) : json_object());
    json_t *rec = json_pack("{s:s,s:s,s:s,s:o}", "EventSource", "aws:sns", "EventVersion", "1.0",
                            "EventSubscriptionArn", sub_arn, "Sns", sns);
    return json_pack("{s:[o]}", "Records", rec);
}

const char *topic__structured(const json_t *structure, const char *protocol)
{
    const char *v = json_string_value(json_object_get(structure, protocol));
    return v ? v : json_string_value(json_object_get(structure, "default"));
}

void topic__http_date(int64_t now_ms, char out[40])
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static bool is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* A header value as one line: a control character (CR and LF above all, which would start
 * a header of their own) becomes a space. */
static char *one_line(const char *s)
{
    char *v = bt_xstrdup(s ? s : "");
    for (char *p = v; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    return v;
}

char *topic__mail_text(const char *from_in, const char *to_in, const char *subject_in,
                       const char *body, const char *message_id_in, int64_t now_ms)
{
    char *from = one_line(from_in), *to = one_line(to_in), *subject = one_line(subject_in),
         *message_id = one_line(message_id_in);
    bt_buf b;
    bt_buf_init(&b);
    char date[40];
    topic__http_date(now_ms, date);
    /* RFC 5322 wants "+0000" rather than "GMT"; both parse, the numeric zone is preferred. */
    size_t dl = strlen(date);
    if (dl > 4)
        memcpy(date + dl - 3, "+0000", 6);
    bt_buf_printf(&b, "Date: %s\r\nFrom: %s\r\nTo: %s\r\nMessage-ID: <%s>\r\n", date, from, to,
                  message_id);
    if (is_ascii(subject)) {
        bt_buf_printf(&b, "Subject: %s\r\n", subject);
    } else {
        bt_buf_puts(&b, "Subject: =?UTF-8?B?");
        qc_base64_encode(subject, strlen(subject), &b);
        bt_buf_puts(&b, "?=\r\n");
    }
    bt_buf_puts(&b, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                    "Content-Transfer-Encoding: 8bit\r\n\r\n");
    /* Lines end in CRLF; a line that starts with '.' is left to curl, which dot-stuffs. */
    for (const char *p = body; *p; p++) {
        if (*p == '\n' && (p == body || p[-1] != '\r'))
            bt_buf_putc(&b, '\r');
        bt_buf_putc(&b, *p);
    }
    bt_buf_puts(&b, "\r\n");
    free(from);
    free(to);
    free(subject);
    free(message_id);
    return bt_buf_steal(&b);
}
