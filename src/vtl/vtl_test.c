/*
 * vtl_test.c — mapping templates compiled and rendered against requests, output compared
 * byte for byte: the case study's template, references and quiet/undefined rendering,
 * directives, $input/$util/$context, string and collection methods, errors with their
 * positions, and the bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/err.h"
#include "vtl/vtl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const vtl_param HEADERS[] = {
    {"Content-Type", "application/json"}, {"User-Agent", "curl/8.0"}, {"X-Both", "from-header"}};
static const vtl_param PATHS[] = {{"id", "abc"}, {"X-Both", "from-path"}};
static const vtl_param STAGE[] = {{"env", "prod"}, {"table", "t1"}};

/* A request with body (may be NULL), query string (raw), the fixed headers/path/stage. */
typedef struct fixture {
    vtl_request req;
    vtl_param *query;
    size_t n_query;
} fixture;

static void fixture_init(fixture *f, const char *body, const char *query)
{
    memset(f, 0, sizeof(*f));
    f->n_query = vtl_parse_query(query, &f->query);
    f->req.body = body;
    f->req.body_len = body != NULL ? strlen(body) : 0;
    f->req.query = (vtl_params){f->query, f->n_query};
    f->req.header = (vtl_params){HEADERS, 3};
    f->req.path = (vtl_params){PATHS, 2};
    f->req.stage_variables = (vtl_params){STAGE, 2};
    f->req.request_id = "req-123";
    f->req.http_method = "GET";
    f->req.resource_path = "/things/{id}";
    f->req.source_ip = "192.0.2.1";
    f->req.user_agent = "curl/8.0";
}

static void fixture_fini(fixture *f)
{
    vtl_params_free(f->query, f->n_query);
}

/* Renders text; returns the rc and leaves the output (or the error message) in *out. */
static int run_limited(const char *text, const char *body, const char *query,
                       const vtl_limits *limits, char **out)
{
    fixture f;
    fixture_init(&f, body, query);
    vtl_template *t = NULL;
    bt_err err;
    int rc = vtl_compile(text, &t, &err);
    if (rc != 0) {
        *out = strdup(err.msg);
        fixture_fini(&f);
        return rc;
    }
    bt_buf b;
    bt_buf_init(&b);
    rc = vtl_render_limited(t, &f.req, limits, &b, &err);
    if (rc != 0) {
        *out = strdup(err.msg);
        bt_buf_fini(&b);
    } else {
        *out = bt_buf_steal(&b);
    }
    vtl_free(t);
    fixture_fini(&f);
    return rc;
}

static void check(const char *text, const char *body, const char *query, const char *want)
{
    char *got = NULL;
    int rc = run_limited(text, body, query, NULL, &got);
    if (rc != 0 || strcmp(got, want) != 0)
        fprintf(stderr, "template: %s\n  want: [%s]\n  got (rc %d): [%s]\n", text, want, rc, got);
    assert_int_equal(rc, 0);
    assert_string_equal(got, want);
    free(got);
}

static void check_error(const char *text, const char *body, int code, const char *want_msg)
{
    char *got = NULL;
    int rc = run_limited(text, body, NULL, NULL, &got);
    if (rc != code || strstr(got, want_msg) == NULL)
        fprintf(stderr, "template: %s\n  want error %d: [%s]\n  got (rc %d): [%s]\n", text, code,
                want_msg, rc, got);
    assert_int_equal(rc, code);
    assert_non_null(strstr(got, want_msg));
    free(got);
}

static void test_case_study(void **state)
{
    (void)state;
    check(
        "#set($inputRoot = $input.path('$'))\n{\n \"requestId\": \"$input.params('requestId')\",\n"
        " \"timestamp\": \"$input.params('timestamp')\",\n"
        " \"token\": \"$input.params('token')\"\n}",
        NULL, "requestId=r1&timestamp=123&token=a%2Bb",
        "{\n \"requestId\": \"r1\",\n \"timestamp\": \"123\",\n \"token\": \"a+b\"\n}");
}

static void test_references(void **state)
{
    (void)state;
    check("$missing|$!missing|${missing}|$!{missing}|$missing.x('a')", NULL, NULL,
          "$missing||${missing}||$missing.x('a')");
    check("#set($a = 'v')$a|${a}|$!a|${a}x|$a.|$ 5|$5|#fff|a#b", NULL, NULL,
          "v|v|v|vx|v.|$ 5|$5|#fff|a#b");
    check("$input.params('nope')|", NULL, NULL, "|");
    check("#set($m = {'a': {'b': [10, 20]}})$m.a.b[1]|$m['a'].b.get(0)|$m.a.c|$!m.a.c", NULL, NULL,
          "20|10|$m.a.c|");
}

static void test_set_values(void **state)
{
    (void)state;
    check("#set($a = \"hi\")#set($n = 3)#set($b = true)#set($l = [1, \"two\", 3.5, false])"
          "#set($m = {\"k\": \"v\", \"n\": 2})$a $n $b $l $m $m.k $l[1] $l.size() $m.size()",
          NULL, NULL, "hi 3 true [1, two, 3.5, false] {k=v, n=2} v two 4 2");
    check("#set($r = [1..4])$r #set($d = [3..1])$d #set($e = [])$e.size()", NULL, NULL,
          "[1, 2, 3, 4] [3, 2, 1] 0");
    /* Velocity 1.7: #set to null keeps the old value */
    check("#set($a = 1)#set($a = $nothing)$a", NULL, NULL, "1");
    check("#set($m = {})#set($m.k = 5)#set($m['j'] = 'x')$m #set($l = [1, 2])#set($l[0] = 9)$l",
          NULL, NULL, "{k=5, j=x} [9, 2]");
    check(
        "#set($x = 7 + 3 * 2)$x #set($y = (7 + 3) / 4)$y #set($z = 7 % 3)$z #set($w = -2.5 * 2)$w",
        NULL, NULL, "13 2 1 -5.0");
    check("#set($d = 1.0)$d #set($e = 25000000.0)$e #set($f = 0.0001)$f", NULL, NULL,
          "1.0 2.5E7 1.0E-4");
}

static void test_string_literals(void **state)
{
    (void)state;
    check("#set($name = \"Ann\")#set($g = \"Hello $name! ${name}s\")#set($s = 'Hi $name')$g|$s",
          NULL, NULL, "Hello Ann! Anns|Hi $name");
    check("#set($q = 'it''s')#set($d = \"say \"\"hi\"\"\")$q|$d", NULL, NULL, "it's|say \"hi\"");
    check("#set($u = \"$undefined\")$u", NULL, NULL, "$undefined");
}

static void test_if(void **state)
{
    (void)state;
    const char *t = "#if($n > 5)big#elseif($n == 5)five#else small#end";
    check("#set($n = 9)#if($n > 5)big#elseif($n == 5)five#else small#end", NULL, NULL, "big");
    check("#set($n = 5)#if($n > 5)big#elseif($n == 5)five#else small#end", NULL, NULL, "five");
    check("#set($n = 1)#if($n > 5)big#elseif($n == 5)five#{else} small#end", NULL, NULL, " small");
    (void)t;
    check("#if($missing)a#else b#end|#if(!$missing)c#end|#if('')d#end|#if(false || 1 == 1)e#end"
          "|#if(true && !true)f#end|#if($x == $y)g#end|#if(\"1\" == 1)h#end",
          NULL, NULL, " b|c|d|e||g|h");
    check("#if(2 >= 2 and 1 lt 2 and not false)ok#end|#if('b' > 'a')s#end|#if(1.5 < 2)r#end", NULL,
          NULL, "ok|s|r");
    check("#set($p = $input.params('limit'))#if($p && $p.length() != 0)has#else none#end", NULL,
          "limit=", " none");
}

static void test_foreach(void **state)
{
    (void)state;
    const char *body = "{\"items\": [{\"id\": 1, \"n\": \"a\"}, {\"id\": 2, \"n\": \"b\"},"
                       " {\"id\": 3, \"n\": \"c\"}]}";
    check("[#foreach($i in $input.path('$.items'))$i.id#if($foreach.hasNext),#end#end]", body, NULL,
          "[1,2,3]");
    check("#foreach($i in $input.path('$.items'))$velocityCount:$foreach.index:$i.n "
          "#end",
          body, NULL, "1:0:a 2:1:b 3:2:c ");
    check("#set($m = {'a': 1, 'b': 2})#foreach($k in $m.keySet())$k#end|#foreach($v in $m)$v#end",
          NULL, NULL, "ab|12");
    check("#foreach($i in [1..5])#if($i == 3)#break#end$i#end", NULL, NULL, "12");
    check("#foreach($i in $missing)x#end|#foreach($o in [1])#foreach($i in [7, "
          "8])$i$foreach.count#end"
          "$foreach.count#end",
          NULL, NULL, "|71821");
    check("#set($i = 'keep')#foreach($i in [1, 2])#end$i", NULL, NULL, "keep");
}

static void test_comments_and_lines(void **state)
{
    (void)state;
    check("a## comment\nb#* block\n comment *#c#[[$raw #if]]#", NULL, NULL, "abc$raw #if");
    check("{\n  #set($a = 1)\n  #if($a == 1)\n  \"a\": $a\n  #end\n  ## note\n}", NULL, NULL,
          "{\n  \"a\": 1\n}");
    check("[\n#foreach($x in [1, 2])\n  $x#if($foreach.hasNext),#end\n#end\n]", NULL, NULL,
          "[\n  1,\n  2\n]");
    check("x #stop y", NULL, NULL, "x ");
}

static void test_input(void **state)
{
    (void)state;
    const char *body = "{\"a\": {\"b\": 1, \"c\": [true, null]}, \"s\": \"x\\\"y\", \"n\": 2.5}";
    check("$input.json('$.a')|$input.json('$.s')|$input.json('$.nope')|$input.json('$.n')", body,
          NULL, "{\"b\":1,\"c\":[true,null]}|\"x\\\"y\"|null|2.5");
    check("$input.path('$.a')|$input.path('$.s')|$input.path('$.a.c').size()|$input.path('$.nope')",
          body, NULL, "{b=1, c=[true, null]}|x\"y|2|$input.path('$.nope')");
    check("$input.body", body, NULL, body);
    check("$input.json('$')|$input.path('$').size()", NULL, NULL, "{}|0");
    check("#set($a = $input.path('$.a'))$a.b $a.c[0]", body, NULL, "1 true");
    check("$input.params().querystring|$input.params().header.get('User-Agent')|"
          "$input.params('X-Both')|$input.params('id')|$input.params('content-type')",
          NULL, "a=1&b=x+y", "{a=1, b=x y}|curl/8.0|from-path|abc|application/json");
    check("#foreach($t in $input.params().keySet())$t,#end", NULL, NULL,
          "path,querystring,header,");
    check("#set($all = $input.params())#foreach($type in $all.keySet())#set($ps = $all.get($type))"
          "$type:#foreach($n in $ps.keySet())$n=$ps.get($n);#end #end",
          NULL, "q=1",
          "path:id=abc;X-Both=from-path; querystring:q=1; "
          "header:Content-Type=application/json;User-Agent=curl/8.0;X-Both=from-header; ");
}

static void test_util(void **state)
{
    (void)state;
    check("$util.escapeJavaScript(\"say \"\"hi\"\" it's\")", NULL, NULL, "say \\\"hi\\\" it\\'s");
    check("#set($s = $input.path('$.s'))$util.escapeJavaScript($s)",
          "{\"s\": \"a\\nb\\t/\\\\ \\u00e9\\u20ac\\ud83d\\ude00\\u0001\"}", NULL,
          "a\\nb\\t\\/\\\\ \\u00E9\\u20AC\\uD83D\\uDE00\\u0001");
    /* The reference's advice: undo the \' that JSON does not allow. */
    check("$util.escapeJavaScript(\"it's\").replaceAll(\"\\\\'\",\"'\")", NULL, NULL, "it's");
    check("$util.urlEncode(\"a b&c/\xc3\xa9*~\")|$util.urlDecode('a+b%26c%2F')|"
          "$util.urlDecode('bad%zz')",
          NULL, NULL, "a+b%26c%2F%C3%A9*%7E|a b&c/|$util.urlDecode('bad%zz')");
    check("$util.base64Encode('hi?')|$util.base64Encode('')|$util.base64Decode('aGk/')|"
          "$util.base64Decode('aGk')|$!util.base64Decode('*')",
          NULL, NULL, "aGk/||hi?|hi|");
    check("#set($o = $util.parseJson($input.path('$.errorMessage')))$o.key2.arr[0] $o.key1",
          "{\"errorMessage\": \"{\\\"key1\\\":\\\"var1\\\",\\\"key2\\\":{\\\"arr\\\":[1,2,3]}}\"}",
          NULL, "1 var1");
}

static void test_context(void **state)
{
    (void)state;
    check("$context.requestId $context.httpMethod $context.resourcePath "
          "$context.identity.sourceIp $context.identity.userAgent $context.stage",
          NULL, NULL, "req-123 GET /things/{id} 192.0.2.1 curl/8.0 $context.stage");
    check("$stageVariables.env ${stageVariables['table']} $stageVariables.get('env') "
          "$stageVariables.nope",
          NULL, NULL, "prod t1 prod $stageVariables.nope");
}

static void test_string_methods(void **state)
{
    (void)state;
    /* case mapping is ASCII-only (Java's maps all of Unicode) */
    check("#set($s = \" H\xc3\xa9llo \xf0\x9f\x98\x80 \")$s.length()|$s.trim()|$s.contains('llo')|"
          "$s.toUpperCase()|$s.trim().substring(1, 3)|$s.indexOf('l')",
          NULL, NULL,
          "10|H\xc3\xa9llo \xf0\x9f\x98\x80|true| H\xc3\xa9LLO \xf0\x9f\x98\x80 "
          "|\xc3\xa9l|3");
    check("#set($s = 'a-b--c')$s.replace('-', '+')|$s.replaceAll('-+', '_')|"
          "$s.replaceFirst('(\\w)-', '$1=')|$s.split('-')|$s.matches('[a-c-]+')|$s.matches('b')",
          NULL, NULL, "a+b++c|a_b_c|a=b--c|[a, b, , c]|true|false");
    check("#set($s = 'abc')$s.replaceAll('x*', '-')|$s.startsWith('ab')|$s.endsWith('bc')|"
          "$s.equals('abc')|$s.isEmpty()|$s.toString()",
          NULL, NULL, "-a-b-c-|true|true|true|false|abc");
    check("#set($l = [1, 'a'])$l.contains('a')|$l.contains(2)|$l.add(3)|$l|$l.get(5)x", NULL, NULL,
          "true|false|true|[1, a, 3]|$l.get(5)x");
    check("#set($m = {'a': 1})$m.containsKey('a')|$m.put('b', 2)|$m.values()|$m.isEmpty()", NULL,
          NULL, "true|$m.put('b', 2)|[1, 2]|false");
}

static void test_compile_errors(void **state)
{
    (void)state;
    check_error("ok\n  #if($a)\nx", NULL, BT_EINVAL, "line 2, column 3: #if has no #end");
    check_error("#set($a = )", NULL, BT_EINVAL, "line 1, column 11: unexpected ')'");
    check_error("a\n#end", NULL, BT_EINVAL, "line 2, column 5: #end without #if");
    check_error("#set($a = 'abc)", NULL, BT_EINVAL, "line 1, column 11: unterminated string");
    check_error("x #* never", NULL, BT_EINVAL, "line 1, column 3: unterminated #* comment");
    check_error("#macro(m)#end", NULL, BT_EINVAL, "#macro is not supported");
    check_error("${a.b", NULL, BT_EINVAL, "line 1, column 6: expected '}'");
    check_error("#foreach($i [1])#end", NULL, BT_EINVAL, "line 1, column 13: expected 'in'");
    check_error("#foreach($i in [1])#else#end", NULL, BT_EINVAL, "#else inside #foreach");
    check_error("$a.b(1,", NULL, BT_EINVAL, "line 1, column 8: expression expected");
    check_error("#set($a.b() = 1)", NULL, BT_EINVAL, "cannot assign to a method call");
    char deep[600];
    size_t n = 0;
    for (int i = 0; i < 80; i++)
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "#if(1)");
    check_error(deep, NULL, BT_ELIMIT, "nested deeper than 64 levels");
    char parens[200];
    memset(parens, '(', 150);
    strcpy(parens + 150, "1");
    char tpl[300];
    snprintf(tpl, sizeof(tpl), "#set($a = %s)", parens);
    check_error(tpl, NULL, BT_ELIMIT, "nested deeper");
}

static void test_render_errors(void **state)
{
    (void)state;
    check_error("ok\n $input.path('$.a')", "{not json", BT_EINVAL,
                "line 2, column 8: the request body is not valid JSON");
    check_error("$input.json('$[')", "{}", BT_EINVAL, "line 1, column 7: invalid JSONPath");
    check_error("$util.parseJson('{')", NULL, BT_EINVAL, "$util.parseJson");
    check_error("#set($s = 'a')$s.replaceAll('(', '')", NULL, BT_EINVAL,
                "line 1, column 17: invalid regular expression");
    check_error("#set($m = {})#set($m.self = $m)", NULL, BT_EINVAL, "cannot contain itself");
    check_error("#set($l = [])$l.add($l)", NULL, BT_EINVAL, "cannot contain itself");
}

static void test_limits(void **state)
{
    (void)state;
    char *got = NULL;
    vtl_limits small = {.max_output = 1000, .max_iterations = 1000, .max_steps = 100000};
    assert_int_equal(run_limited("#foreach($i in [1..100])#foreach($j in [1..100])x#end#end", NULL,
                                 NULL, &small, &got),
                     BT_ELIMIT);
    assert_non_null(strstr(got, "more than 1000 iterations"));
    free(got);
    assert_int_equal(run_limited("#set($s = 'xxxxxxxxxx')#foreach($i in [1..20])#set($s = \"$s$s\")"
                                 "#end$s",
                                 NULL, NULL, &small, &got),
                     BT_ELIMIT);
    assert_non_null(strstr(got, "longer than 1000 bytes"));
    free(got);
    assert_int_equal(
        run_limited("#foreach($i in [1..999])xxxxxxxxxxxxxxxxxxx#end", NULL, NULL, &small, &got),
        BT_ELIMIT);
    assert_non_null(strstr(got, "output longer than 1000 bytes"));
    free(got);
    assert_int_equal(run_limited("#set($r = [1..100000])", NULL, NULL, &small, &got), BT_ELIMIT);
    free(got);
    vtl_limits steps = {.max_steps = 500};
    assert_int_equal(run_limited("#foreach($i in [1..900])$i#end", NULL, NULL, &steps, &got),
                     BT_ELIMIT);
    assert_non_null(strstr(got, "more than 500 steps"));
    free(got);
    /* a deep body renders through json() but is refused as text, never crashing */
    char body[5000];
    memset(body, '[', 1000);
    memset(body + 1000, ']', 1000);
    body[2000] = '\0';
    assert_int_equal(run_limited("$input.path('$')", body, NULL, NULL, &got), BT_ELIMIT);
    free(got);
    assert_int_equal(run_limited("$input.json('$').length()", body, NULL, NULL, &got), 0);
    assert_string_equal(got, "2000");
    free(got);
}

/* A list holding the same list twice, 24 times over, is small (48 items) but stands for
 * 2^24 leaves: comparing it (with ==, equals or contains) is bounded by the output limit
 * like rendering it, never a walk of every leaf. */
/* Steps count the bytes a method scans or a string copies: a loop over a 4 MiB string's
 * length stops at the step limit instead of scanning gigabytes. */
static void test_work_on_big_strings_is_bounded(void **state)
{
    (void)state;
    char *got = NULL;
    assert_int_equal(run_limited("#set($s = 'x')#foreach($i in [1..22])#set($s = \"$s$s\")#end"
                                 "#foreach($i in [1..100000])#set($n = $s.length())#end$n",
                                 NULL, NULL, NULL, &got),
                     BT_ELIMIT);
    assert_non_null(strstr(got, "more than 10000000 steps"));
    free(got);
    assert_int_equal(run_limited("#set($s = 'x')#foreach($i in [1..22])#set($s = \"$s$s\")#end"
                                 "#foreach($i in [1..100000])#set($t = \"$s\")#end",
                                 NULL, NULL, NULL, &got),
                     BT_ELIMIT);
    free(got);
    /* a regular expression that backtracks near its limit, many times */
    assert_int_equal(run_limited("#set($s = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab')"
                                 "#foreach($i in [1..100000])#set($m = $s.matches('(a|aa)*c'))#end",
                                 NULL, NULL, NULL, &got),
                     BT_ELIMIT);
    free(got);
    /* ordinary work stays well inside */
    assert_int_equal(
        run_limited("#set($s = 'a,b,c')#foreach($i in [1..1000])#set($p = $s.split(','))"
                    "#end$p.size()",
                    NULL, NULL, NULL, &got),
        0);
    assert_string_equal(got, "3");
    free(got);
}

static void test_shared_values_compare_bounded(void **state)
{
    (void)state;
    char tpl[4096];
    size_t n = 0;
    n += (size_t)snprintf(tpl + n, sizeof tpl - n, "#set($a0 = [1, 2])#set($b0 = [1, 2])");
    for (int i = 1; i <= 24; i++)
        n += (size_t)snprintf(tpl + n, sizeof tpl - n,
                              "#set($a%d = [$a%d, $a%d])#set($b%d = [$b%d, $b%d])", i, i - 1, i - 1,
                              i, i - 1, i - 1);
    vtl_limits small = {.max_output = 100000, .max_iterations = 1000, .max_steps = 100000};
    const char *tails[] = {"#if($a24 == 'x')y#{else}n#end", "#if($a24 == $b24)y#{else}n#end",
                           "#set($n = 5)$n.equals($a24)", "#set($l = ['x'])$l.contains($a24)"};
    for (size_t i = 0; i < sizeof tails / sizeof *tails; i++) {
        char text[4200];
        snprintf(text, sizeof text, "%s%s", tpl, tails[i]);
        char *got = NULL;
        assert_int_equal(run_limited(text, NULL, NULL, &small, &got), BT_ELIMIT);
        free(got);
    }
}

static void test_parse_query(void **state)
{
    (void)state;
    vtl_param *ps = NULL;
    size_t n = vtl_parse_query("a=1&&b=&c&d=x+y%21&e=%zz&=v", &ps);
    assert_int_equal(n, 6);
    assert_string_equal(ps[0].name, "a");
    assert_string_equal(ps[0].value, "1");
    assert_string_equal(ps[1].name, "b");
    assert_string_equal(ps[1].value, "");
    assert_string_equal(ps[2].name, "c");
    assert_string_equal(ps[2].value, "");
    assert_string_equal(ps[3].value, "x y!");
    assert_string_equal(ps[4].value, "%zz");
    assert_string_equal(ps[5].name, "");
    assert_string_equal(ps[5].value, "v");
    vtl_params_free(ps, n);
    assert_int_equal(vtl_parse_query("", &ps), 0);
    vtl_params_free(ps, 0);
}

static void test_reuse(void **state)
{
    (void)state;
    /* one compiled template, two requests: nothing leaks from one render into the next */
    vtl_template *t = NULL;
    bt_err err;
    assert_int_equal(vtl_compile("#if($input.params('a') == '1')#set($x = 'one')#end$!x", &t, &err),
                     0);
    const char *queries[] = {"a=1", "a=2"};
    const char *want[] = {"one", ""};
    for (int i = 0; i < 2; i++) {
        fixture f;
        fixture_init(&f, NULL, queries[i]);
        bt_buf b;
        bt_buf_init(&b);
        assert_int_equal(vtl_render(t, &f.req, &b, &err), 0);
        assert_string_equal(b.data, want[i]);
        bt_buf_fini(&b);
        fixture_fini(&f);
    }
    vtl_free(t);
    vtl_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case_study),
        cmocka_unit_test(test_references),
        cmocka_unit_test(test_set_values),
        cmocka_unit_test(test_string_literals),
        cmocka_unit_test(test_if),
        cmocka_unit_test(test_foreach),
        cmocka_unit_test(test_comments_and_lines),
        cmocka_unit_test(test_input),
        cmocka_unit_test(test_util),
        cmocka_unit_test(test_context),
        cmocka_unit_test(test_string_methods),
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_render_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_shared_values_compare_bounded),
        cmocka_unit_test(test_work_on_big_strings_is_bounded),
        cmocka_unit_test(test_parse_query),
        cmocka_unit_test(test_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
