/*
 * approval_test.c — unit tests for the pure parts of approvals (link.c): link ids are
 * signed, checked under their key only, resist tampering, and the N-of-M rule.
 */
#include "approval/approval.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const uint8_t key_a[] = "0123456789abcdef0123456789abcdef";
static const uint8_t key_b[] = "fedcba9876543210fedcba9876543210";

static void links_check_under_their_key(void **state)
{
    (void)state;
    char id[APPROVAL_LINK_LEN + 1], other[APPROVAL_LINK_LEN + 1];
    approval_link_make(key_a, 32, id);
    approval_link_make(key_a, 32, other);
    assert_int_equal(strlen(id), APPROVAL_LINK_LEN);
    assert_string_not_equal(id, other);
    for (size_t i = 0; i < APPROVAL_LINK_LEN; i++)
        assert_non_null(
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", id[i]));
    assert_true(approval_link_check(key_a, 32, id));
    assert_true(approval_link_check(key_a, 32, other));
    assert_false(approval_link_check(key_b, 32, id));
}

static void tampered_links_are_refused(void **state)
{
    (void)state;
    char id[APPROVAL_LINK_LEN + 1];
    approval_link_make(key_a, 32, id);
    for (size_t i = 0; i < APPROVAL_LINK_LEN; i++) {
        char t[APPROVAL_LINK_LEN + 1];
        memcpy(t, id, sizeof t);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        /* 24 bytes fill 32 characters exactly: every character is signed */
        assert_false(approval_link_check(key_a, 32, t));
    }
    char shorter[APPROVAL_LINK_LEN];
    memcpy(shorter, id, APPROVAL_LINK_LEN - 1);
    shorter[APPROVAL_LINK_LEN - 1] = '\0';
    assert_false(approval_link_check(key_a, 32, shorter));
    assert_false(approval_link_check(key_a, 32, ""));
    assert_false(approval_link_check(key_a, 32, NULL));
    assert_false(approval_link_check(key_a, 32, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    assert_false(approval_link_check(key_a, 32, "../../../../etc/passwd/../../../"));
}

static void n_of_m(void **state)
{
    (void)state;
    /* 1 of 1 */
    assert_int_equal(approval_tally(1, 1, 0, 0), APPROVAL_PENDING);
    assert_int_equal(approval_tally(1, 1, 1, 0), APPROVAL_APPROVED);
    assert_int_equal(approval_tally(1, 1, 0, 1), APPROVAL_REJECTED);
    /* 2 of 2 */
    assert_int_equal(approval_tally(2, 2, 1, 0), APPROVAL_PENDING);
    assert_int_equal(approval_tally(2, 2, 2, 0), APPROVAL_APPROVED);
    assert_int_equal(approval_tally(2, 2, 1, 1), APPROVAL_REJECTED);
    /* 2 of 3: one rejection ends it */
    assert_int_equal(approval_tally(2, 3, 1, 0), APPROVAL_PENDING);
    assert_int_equal(approval_tally(2, 3, 0, 1), APPROVAL_REJECTED);
    assert_int_equal(approval_tally(2, 3, 2, 0), APPROVAL_APPROVED);
    /* 1 of 3 */
    assert_int_equal(approval_tally(1, 3, 1, 0), APPROVAL_APPROVED);
    /* out of reach without a rejection: more required than approvers left */
    assert_int_equal(approval_tally(3, 2, 0, 0), APPROVAL_REJECTED);
    /* Required below 1 counts as 1 */
    assert_int_equal(approval_tally(0, 2, 1, 0), APPROVAL_APPROVED);
    assert_int_equal(approval_tally(0, 2, 0, 0), APPROVAL_PENDING);
}

static void limits_count_characters(void **state)
{
    (void)state;
    assert_int_equal(approval_text_chars(""), 0);
    assert_int_equal(approval_text_chars(NULL), 0);
    assert_int_equal(approval_text_chars("abc"), 3);
    assert_int_equal(approval_text_chars("\xc3\xa9t\xc3\xa9"), 3);            /* "été" */
    assert_int_equal(approval_text_chars("\xe2\x82\xac\xf0\x9f\x98\x80"), 2); /* € 😀 */
}

static void addresses(void **state)
{
    (void)state;
    assert_true(approval_address_ok("alice@example.com"));
    assert_true(approval_address_ok("a.b+tag@sub.example.org"));
    assert_true(approval_address_ok("\xc3\xa4lice@ex\xc3\xa4mple.com")); /* SMTPUTF8 */
    const char *bad[] = {
        NULL,         "",           "@",          "a@",           "@example.com",
        "a@b@c",      "a b@x.com",  "a\tb@x.com", "a\x01b@x.com", "a\x7f@x.com",
        "a\"b@x.com", "a<b@x.com",  "a@x.com>",   "a,b@x.com",    "a;b@x.com",
        "a:b@x.com",  "a\\b@x.com", "a(b)@x.com", "a@[1.2.3.4]",  "a\r\nRCPT TO:<e@x>@x.com"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(approval_address_ok(bad[i]));
    char long_one[300];
    memset(long_one, 'a', sizeof long_one);
    memcpy(long_one + 250, "@x.co", 6);
    assert_false(approval_address_ok(long_one)); /* 255 bytes */
    long_one[249] = '\0';
    memcpy(long_one + 244, "@x.co", 6);
    assert_true(approval_address_ok(long_one));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(links_check_under_their_key),
        cmocka_unit_test(tampered_links_are_refused),
        cmocka_unit_test(n_of_m),
        cmocka_unit_test(limits_count_characters),
        cmocka_unit_test(addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
