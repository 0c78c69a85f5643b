/*
 * cmd_client.c — the client verbs (`baton start`, `describe`, `history`, …) against a Step
 * Functions endpoint: `baton serve`, or anything speaking AWS's API. One table describes
 * every verb (operation, argument, options, help); one parser, one request builder per
 * verb and one runner serve them all. What a user sees is the aws CLI's: the answer
 * indented by 4 on stdout (nothing for an empty one), its error sentences on stderr, and
 * its exit statuses — 252 usage, 254 the service refused, 255 no answer.
 */
#include "base/alloc.h"
#include "base/arn.h"
#include "base/buf.h"
#include "base/file.h"
#include "base/json.h"
#include "cli/cli.h"
#include "cli/client.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_ENDPOINT  "http://127.0.0.1:8083"
#define DEFAULT_REGION    "us-east-1"
#define DEFAULT_ROLE      "arn:aws:iam::123456789012:role/baton"
#define DEFAULT_TIMEOUT_S 60
#define PAGE_MAX          1000 /* AWS's largest maxResults */
#define COUNT_MAX         1000000000L

typedef enum opt {
    OPT_NAME,
    OPT_DEFINITION,
    OPT_ROLE_ARN,
    OPT_TYPE,
    OPT_INPUT,
    OPT_INPUT_FILE,
    OPT_STATUS,
    OPT_MAX,
    OPT_REVERSE,
    OPT_OUTPUT,
    OPT_ERROR,
    OPT_CAUSE,
    /* every verb takes these */
    OPT_ENDPOINT,
    OPT_REGION,
    OPT_TIMEOUT,
    OPT_HELP,
    N_OPTS
} opt;

#define FIRST_COMMON_OPT OPT_ENDPOINT

static const char *const machine_types[] = {"STANDARD", "EXPRESS", NULL};
static const char *const execution_statuses[] = {
    "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE", NULL};

typedef struct opt_spec {
    const char *flag;
    const char *metavar;        /* NULL: a switch */
    const char *const *choices; /* the values allowed (NULL-terminated), or NULL: any */
} opt_spec;

static const opt_spec opt_specs[N_OPTS] = {
    [OPT_NAME] = {"--name", "NAME", NULL},
    [OPT_DEFINITION] = {"--definition", "FILE|JSON", NULL},
    [OPT_ROLE_ARN] = {"--role-arn", "ARN", NULL},
    [OPT_TYPE] = {"--type", "STANDARD|EXPRESS", machine_types},
    [OPT_INPUT] = {"--input", "JSON", NULL},
    [OPT_INPUT_FILE] = {"--input-file", "FILE", NULL},
    [OPT_STATUS] = {"--status", "STATUS", execution_statuses},
    [OPT_MAX] = {"--max", "N", NULL},
    [OPT_REVERSE] = {"--reverse", NULL, NULL},
    [OPT_OUTPUT] = {"--output", "JSON", NULL},
    [OPT_ERROR] = {"--error", "ERROR", NULL},
    [OPT_CAUSE] = {"--cause", "CAUSE", NULL},
    [OPT_ENDPOINT] = {"--endpoint", "URL", NULL},
    [OPT_REGION] = {"--region", "REGION", NULL},
    [OPT_TIMEOUT] = {"--timeout", "SECONDS", NULL},
    [OPT_HELP] = {"--help", NULL, NULL},
};

static const char *const common_help[N_OPTS] = {
    [OPT_ENDPOINT] =
        "the Step Functions endpoint (default $BATON_ENDPOINT, else " DEFAULT_ENDPOINT ")",
    [OPT_REGION] =
        "the region (default $AWS_REGION, else $AWS_DEFAULT_REGION, else " DEFAULT_REGION ")",
    [OPT_TIMEOUT] = "give up on a call after this many seconds (default 60)",
    [OPT_HELP] = "this text",
};

/* What the command line gave; a switch's value is its flag. */
typedef struct verb_args {
    const char *arg;
    const char *value[N_OPTS];
} verb_args;

/* One call, or a list gathered from every page of it. */
typedef struct request {
    const char *op;
    json_t *body;
    const char *list; /* paged: the member whose items are gathered ("events"); else NULL */
    long max_items;   /* paged: stop after this many; 0: every page */
} request;

typedef struct verb_opt {
    opt id;
    bool required;
    const char *help; /* NULL ends a verb's list */
} verb_opt;

#define VERB_MAX_OPTS 4

typedef struct verb {
    const char *name;
    const char *op;  /* NULL: build picks it */
    const char *arg; /* the argument's name, or NULL when there is none */
    const char *arg_help;
    const char *summary;
    verb_opt opts[VERB_MAX_OPTS];
    /* Fills rq->body (and rq->op, list, max_items as needed) from a; -1 with problem. */
    int (*build)(const verb_args *a, request *rq, bt_buf *problem);
    /* The argument names a state machine, by ARN or by name: the body's member that a name
     * is replaced in, once ListStateMachines has found its ARN. */
    const char *machine_member;
} verb;

/* --- arguments ---------------------------------------------------------------------------- */

static bool is_arn(const char *s)
{
    return strncmp(s, "arn:", 4) == 0;
}

static bool verb_takes(const verb *v, opt o)
{
    if (o >= FIRST_COMMON_OPT)
        return true;
    for (size_t i = 0; i < VERB_MAX_OPTS && v->opts[i].help; i++)
        if (v->opts[i].id == o)
            return true;
    return false;
}

/* The option spelled by the first len bytes of s, or N_OPTS. */
static opt find_opt(const verb *v, const char *s, size_t len)
{
    for (int o = 0; o < N_OPTS; o++) {
        const char *flag = opt_specs[o].flag;
        if (strlen(flag) == len && memcmp(flag, s, len) == 0)
            return verb_takes(v, (opt)o) ? (opt)o : N_OPTS;
    }
    return N_OPTS;
}

static bool is_choice(const char *const *choices, const char *value)
{
    for (size_t i = 0; choices[i]; i++)
        if (strcmp(choices[i], value) == 0)
            return true;
    return false;
}

static void list_choices(bt_buf *b, const char *const *choices)
{
    for (size_t i = 0; choices[i]; i++)
        bt_buf_printf(b, "%s%s", i ? ", " : "", choices[i]);
}

/* Takes the value of option o (flag text in s; inline value after '=' or the next word). */
static int take_value(opt o, const char *s, const char *inline_value, int argc, char **argv, int *i,
                      verb_args *a, bt_buf *problem)
{
    const opt_spec *spec = &opt_specs[o];
    const char *value;
    if (a->value[o]) {
        bt_buf_printf(problem, "%s is given twice", spec->flag);
        return -1;
    }
    if (spec->metavar == NULL) {
        if (inline_value) {
            bt_buf_printf(problem, "%s takes no value", spec->flag);
            return -1;
        }
        value = spec->flag;
    } else if (inline_value) {
        value = inline_value;
    } else if (*i + 1 < argc) {
        value = argv[++*i];
    } else {
        bt_buf_printf(problem, "%s needs a value (%s)", s, spec->metavar);
        return -1;
    }
    if (spec->choices && !is_choice(spec->choices, value)) {
        bt_buf_printf(problem, "%s takes one of ", spec->flag);
        list_choices(problem, spec->choices);
        bt_buf_printf(problem, ", not '%s'", value);
        return -1;
    }
    a->value[o] = value;
    return 0;
}

/* Reads argv[1..] (argv[0] is the verb): options anywhere, `--flag=value` or `--flag value`,
 * and `--` before an argument that starts with '-' (a task token may). Returns 0, 1 when
 * --help was asked for, or -1 with problem. */
static int parse_args(const verb *v, int argc, char **argv, verb_args *a, bt_buf *problem)
{
    memset(a, 0, sizeof(*a));
    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!options_done && strcmp(s, "--") == 0) {
            options_done = true;
        } else if (!options_done && s[0] == '-' && s[1] != '\0') {
            const char *eq = strchr(s, '=');
            size_t len = eq ? (size_t)(eq - s) : strlen(s);
            opt o = find_opt(v, s, len);
            if (o == N_OPTS) {
                bt_buf_printf(problem, "unknown option '%.*s'", (int)len, s);
                return -1;
            }
            if (take_value(o, s, eq ? eq + 1 : NULL, argc, argv, &i, a, problem) != 0)
                return -1;
        } else if (v->arg && a->arg == NULL) {
            a->arg = s;
        } else {
            bt_buf_printf(problem, "unexpected argument '%s'", s);
            return -1;
        }
    }
    if (a->value[OPT_HELP])
        return 1;
    if (v->arg && a->arg == NULL) {
        bt_buf_printf(problem, "missing %s", v->arg);
        return -1;
    }
    for (size_t i = 0; i < VERB_MAX_OPTS && v->opts[i].help; i++) {
        if (v->opts[i].required && a->value[v->opts[i].id] == NULL) {
            bt_buf_printf(problem, "%s is required", opt_specs[v->opts[i].id].flag);
            return -1;
        }
    }
    return 0;
}

/* A count in 1..COUNT_MAX, digits only. */
static int parse_count(const char *flag, const char *text, long *out, bt_buf *problem)
{
    char *end;
    errno = 0;
    long n = text[0] >= '0' && text[0] <= '9' ? strtol(text, &end, 10) : 0;
    if (n < 1 || n > COUNT_MAX || errno != 0 || *end != '\0') {
        bt_buf_printf(problem, "%s takes a whole number from 1 to %ld, not '%s'", flag, COUNT_MAX,
                      text);
        return -1;
    }
    *out = n;
    return 0;
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

/* The endpoint, region and timeout: options, then the environment, then defaults. */
static int client_config(const verb_args *a, cli_client_config *cfg, bt_buf *problem)
{
    const char *endpoint = a->value[OPT_ENDPOINT];
    const char *source = "--endpoint";
    if (endpoint == NULL) {
        endpoint = env_or("BATON_ENDPOINT", DEFAULT_ENDPOINT);
        source = "BATON_ENDPOINT";
    }
    if (strncmp(endpoint, "http://", 7) != 0 && strncmp(endpoint, "https://", 8) != 0) {
        bt_buf_printf(problem, "%s must be an http:// or https:// URL, not '%s'", source, endpoint);
        return -1;
    }
    cfg->endpoint = endpoint;
    cfg->region = a->value[OPT_REGION]
                      ? a->value[OPT_REGION]
                      : env_or("AWS_REGION", env_or("AWS_DEFAULT_REGION", DEFAULT_REGION));
    cfg->timeout_s = DEFAULT_TIMEOUT_S;
    if (a->value[OPT_TIMEOUT])
        return parse_count("--timeout", a->value[OPT_TIMEOUT], &cfg->timeout_s, problem);
    return 0;
}

/* --- request bodies ----------------------------------------------------------------------- */

static void put_string(json_t *o, const char *key, const char *value)
{
    if (value)
        json_object_set_new(o, key, json_string(value));
}

static char *read_named_file(const char *flag, const char *path, bt_buf *problem)
{
    char *text = bt_read_file(path, NULL);
    if (text == NULL)
        bt_buf_printf(problem, "%s: cannot read %s: %s", flag, path, strerror(errno));
    return text;
}

/* The text of a document argument, as the aws CLI reads one: file://PATH is the file's
 * content; so is a bare path when paths_too (a definition, which never starts with '{'
 * once blanks are skipped); anything else is the text itself. */
static char *read_document(const char *flag, const char *arg, bool paths_too, bt_buf *problem)
{
    if (strncmp(arg, "file://", 7) == 0)
        return read_named_file(flag, arg + 7, problem);
    if (paths_too && arg[strspn(arg, " \t\r\n")] != '{')
        return read_named_file(flag, arg, problem);
    return bt_xstrdup(arg);
}

/* JSON text for a member such as input or output: from file (when given) or arg, checked
 * here so that a typo is a usage error rather than a round trip. */
static char *read_json(const char *flag, const char *arg, const char *file_flag, const char *file,
                       bt_buf *problem)
{
    char *text =
        file ? read_named_file(file_flag, file, problem) : read_document(flag, arg, false, problem);
    if (text == NULL)
        return NULL;
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &err);
    if (v == NULL) {
        bt_buf_printf(problem, "%s is not valid JSON: %s (line %d, column %d)",
                      file ? file_flag : flag, err.text, err.line, err.column);
        free(text);
        return NULL;
    }
    json_decref(v);
    return text;
}

static int build_create(const verb_args *a, request *rq, bt_buf *problem)
{
    char *definition = read_document("--definition", a->value[OPT_DEFINITION], true, problem);
    if (definition == NULL)
        return -1;
    rq->body = json_object();
    put_string(rq->body, "name", a->value[OPT_NAME]);
    json_object_set_new(rq->body, "definition", json_string(definition));
    put_string(rq->body, "roleArn", a->value[OPT_ROLE_ARN] ? a->value[OPT_ROLE_ARN] : DEFAULT_ROLE);
    put_string(rq->body, "type", a->value[OPT_TYPE]);
    free(definition);
    return 0;
}

static int build_start(const verb_args *a, request *rq, bt_buf *problem)
{
    const char *input = a->value[OPT_INPUT], *input_file = a->value[OPT_INPUT_FILE];
    if (input && input_file) {
        bt_buf_puts(problem, "give --input or --input-file, not both");
        return -1;
    }
    char *text = NULL;
    if (input || input_file) {
        text = read_json("--input", input, "--input-file", input_file, problem);
        if (text == NULL)
            return -1;
    }
    rq->body = json_object();
    put_string(rq->body, "stateMachineArn", a->arg);
    put_string(rq->body, "name", a->value[OPT_NAME]);
    put_string(rq->body, "input", text);
    free(text);
    return 0;
}

/* Which operation describes a resource, by its ARN's type. */
static const struct {
    bt_arn_kind kind;
    const char *op;
    const char *member;
} describe_ops[] = {
    {BT_ARN_STATE_MACHINE, "DescribeStateMachine", "stateMachineArn"},
    {BT_ARN_EXECUTION, "DescribeExecution", "executionArn"},
    {BT_ARN_EXPRESS_EXECUTION, "DescribeExecution", "executionArn"},
    {BT_ARN_ACTIVITY, "DescribeActivity", "activityArn"},
    {BT_ARN_MAP_RUN, "DescribeMapRun", "mapRunArn"},
};

static int build_describe(const verb_args *a, request *rq, bt_buf *problem)
{
    bt_arn arn;
    const char *why;
    if (bt_arn_parse(a->arg, &arn, &why) != 0) {
        bt_buf_printf(problem, "'%s' is not a Step Functions ARN: %s", a->arg, why);
        return -1;
    }
    for (size_t i = 0; i < sizeof(describe_ops) / sizeof(describe_ops[0]); i++) {
        if (describe_ops[i].kind == arn.kind) {
            rq->op = describe_ops[i].op;
            rq->body = json_object();
            put_string(rq->body, describe_ops[i].member, a->arg);
            return 0;
        }
    }
    assert(!"every ARN kind has an operation");
    return -1;
}

static int build_executions(const verb_args *a, request *rq, bt_buf *problem)
{
    if (a->value[OPT_MAX] && parse_count("--max", a->value[OPT_MAX], &rq->max_items, problem))
        return -1;
    rq->list = "executions";
    rq->body = json_object();
    put_string(rq->body, "stateMachineArn", a->arg);
    put_string(rq->body, "statusFilter", a->value[OPT_STATUS]);
    return 0;
}

static int build_history(const verb_args *a, request *rq, bt_buf *problem)
{
    (void)problem;
    rq->list = "events";
    rq->body = json_object();
    put_string(rq->body, "executionArn", a->arg);
    if (a->value[OPT_REVERSE])
        json_object_set_new(rq->body, "reverseOrder", json_true());
    return 0;
}

static int build_send_success(const verb_args *a, request *rq, bt_buf *problem)
{
    const char *output = a->value[OPT_OUTPUT] ? a->value[OPT_OUTPUT] : "{}";
    char *text = read_json("--output", output, NULL, NULL, problem);
    if (text == NULL)
        return -1;
    rq->body = json_object();
    put_string(rq->body, "taskToken", a->arg);
    put_string(rq->body, "output", text);
    free(text);
    return 0;
}

/* send-failure, heartbeat and stop: the argument and the optional error and cause. */
static int build_argument(const char *member, const verb_args *a, request *rq)
{
    rq->body = json_object();
    put_string(rq->body, member, a->arg);
    put_string(rq->body, "error", a->value[OPT_ERROR]);
    put_string(rq->body, "cause", a->value[OPT_CAUSE]);
    return 0;
}

static int build_token(const verb_args *a, request *rq, bt_buf *problem)
{
    (void)problem;
    return build_argument("taskToken", a, rq);
}

static int build_stop(const verb_args *a, request *rq, bt_buf *problem)
{
    (void)problem;
    return build_argument("executionArn", a, rq);
}

#define STATE_MACHINE_HELP "a state machine ARN, or its name (found with ListStateMachines)"

static const verb verbs[] = {
    {"create-state-machine",
     "CreateStateMachine",
     NULL,
     NULL,
     "create a state machine; print its ARN",
     {{OPT_NAME, true, "the state machine's name"},
      {OPT_DEFINITION, true, "the definition (ASL): a file, file://FILE, or the JSON text"},
      {OPT_ROLE_ARN, false, "the execution role (default " DEFAULT_ROLE ")"},
      {OPT_TYPE, false, "the state machine's type (default STANDARD)"}},
     build_create,
     NULL},
    {"start",
     "StartExecution",
     "STATE_MACHINE",
     STATE_MACHINE_HELP,
     "start an execution; print its ARN",
     {{OPT_NAME, false, "the execution's name (default: a UUID)"},
      {OPT_INPUT, false, "the execution input: JSON text or file://FILE (default {})"},
      {OPT_INPUT_FILE, false, "read the execution input from FILE"}},
     build_start,
     "stateMachineArn"},
    {"describe",
     NULL,
     "ARN",
     "an execution ARN (DescribeExecution) or a state machine ARN (DescribeStateMachine)",
     "describe an execution or a state machine",
     {{0}},
     build_describe,
     NULL},
    {"executions",
     "ListExecutions",
     "STATE_MACHINE",
     STATE_MACHINE_HELP,
     "list a state machine's executions (every page)",
     {{OPT_STATUS, false,
       "only those with this status: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED or "
       "PENDING_REDRIVE"},
      {OPT_MAX, false, "stop after N executions"}},
     build_executions,
     "stateMachineArn"},
    {"history",
     "GetExecutionHistory",
     "EXECUTION_ARN",
     "the execution",
     "print an execution's history events (every page)",
     {{OPT_REVERSE, false, "newest event first"}},
     build_history,
     NULL},
    {"send-success",
     "SendTaskSuccess",
     "TOKEN",
     "the task token ($$.Task.Token); put -- before one that starts with '-'",
     "complete the task waiting for TOKEN with a result",
     {{OPT_OUTPUT, false, "the task's result: JSON text or file://FILE (default {})"}},
     build_send_success,
     NULL},
    {"send-failure",
     "SendTaskFailure",
     "TOKEN",
     "the task token ($$.Task.Token); put -- before one that starts with '-'",
     "fail the task waiting for TOKEN (Retry and Catch apply)",
     {{OPT_ERROR, false, "the error name that Retry and Catch match"},
      {OPT_CAUSE, false, "a longer description of the failure"}},
     build_token,
     NULL},
    {"heartbeat",
     "SendTaskHeartbeat",
     "TOKEN",
     "the task token ($$.Task.Token); put -- before one that starts with '-'",
     "tell the task waiting for TOKEN that work on it goes on",
     {{0}},
     build_token,
     NULL},
    {"stop",
     "StopExecution",
     "EXECUTION_ARN",
     "the execution",
     "stop a running execution (it ends ABORTED)",
     {{OPT_ERROR, false, "the error recorded in the ExecutionAborted event"},
      {OPT_CAUSE, false, "the cause recorded with it"}},
     build_stop,
     NULL},
};

#define N_VERBS (sizeof(verbs) / sizeof(verbs[0]))

static const verb *find_verb(const char *name)
{
    for (size_t i = 0; i < N_VERBS; i++)
        if (strcmp(verbs[i].name, name) == 0)
            return &verbs[i];
    return NULL;
}

bool cmd_client_is_verb(const char *name)
{
    return find_verb(name) != NULL;
}

/* --- help --------------------------------------------------------------------------------- */

static void put_opt_usage(bt_buf *b, opt o, bool required)
{
    const opt_spec *spec = &opt_specs[o];
    bt_buf_printf(b, " %s%s%s%s%s", required ? "" : "[", spec->flag, spec->metavar ? " " : "",
                  spec->metavar ? spec->metavar : "", required ? "" : "]");
}

/* "start STATE_MACHINE [--name NAME] …", without the common options. */
static char *synopsis(const verb *v)
{
    bt_buf b;
    bt_buf_init(&b);
    bt_buf_puts(&b, v->name);
    if (v->arg)
        bt_buf_printf(&b, " %s", v->arg);
    for (size_t i = 0; i < VERB_MAX_OPTS && v->opts[i].help; i++)
        put_opt_usage(&b, v->opts[i].id, v->opts[i].required);
    return bt_buf_steal(&b);
}

#define HELP_WIDTH 80

/* The length of the word at s: up to a blank, where "[--name NAME]" is one word. */
static size_t word_length(const char *s)
{
    size_t len = 0;
    for (int depth = 0; s[len] && (s[len] != ' ' || depth > 0); len++)
        depth += s[len] == '[' ? 1 : s[len] == ']' ? -1 : 0;
    return len;
}

/* Writes text's words from column col on, breaking lines before HELP_WIDTH and starting
 * each new one at column indent; ends the line. */
static void print_wrapped(FILE *f, int col, const char *text, int indent)
{
    bool first = true;
    while (*text) {
        size_t len = word_length(text);
        if (!first && col + 1 + (int)len > HELP_WIDTH) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
        } else if (!first) {
            fputc(' ', f);
            col++;
        }
        fwrite(text, 1, len, f);
        col += (int)len;
        first = false;
        text += len;
        text += strspn(text, " ");
    }
    fputc('\n', f);
}

static void print_usage(FILE *f, const verb *v)
{
    char *s = synopsis(v);
    char *line = bt_xasprintf("baton %s [--endpoint URL] [--region REGION] [--timeout SECONDS]", s);
    fputs("usage: ", f);
    print_wrapped(f, 7, line, 8);
    free(line);
    free(s);
}

/* "  --name NAME         help", the help on the next line when the left part is long. */
static void print_item(FILE *f, const char *left, const char *help)
{
    if (strlen(left) > 18)
        fprintf(f, "  %s\n%22s", left, "");
    else
        fprintf(f, "  %-18s  ", left);
    print_wrapped(f, 22, help, 22);
}

static void print_opt_item(FILE *f, opt o, const char *help)
{
    char left[64];
    const opt_spec *spec = &opt_specs[o];
    snprintf(left, sizeof(left), "%s%s%s", spec->flag, spec->metavar ? " " : "",
             spec->metavar ? spec->metavar : "");
    print_item(f, left, help);
}

static void print_help(FILE *f, const verb *v)
{
    print_usage(f, v);
    fprintf(f, "\nbaton %s: %s", v->name, v->summary);
    fprintf(f, v->op ? " (%s).\n\n" : ".\n\n", v->op);
    if (v->arg)
        print_item(f, v->arg, v->arg_help);
    for (size_t i = 0; i < VERB_MAX_OPTS && v->opts[i].help; i++)
        print_opt_item(f, v->opts[i].id, v->opts[i].help);
    for (int o = FIRST_COMMON_OPT; o < N_OPTS; o++)
        print_opt_item(f, (opt)o, common_help[o]);
    fputs("\nThe answer is printed as JSON. Exit status: 0 done, 252 usage error, 254 the\n"
          "service answered with an error, 255 no answer from the endpoint.\n",
          f);
}

void cmd_client_usage(FILE *f)
{
    for (size_t i = 0; i < N_VERBS; i++) {
        char *s = synopsis(&verbs[i]);
        fputs("  ", f);
        print_wrapped(f, 2, s, 6);
        fprintf(f, "%22s", "");
        print_wrapped(f, 22, verbs[i].summary, 22);
        free(s);
    }
}

/* --- calls and output --------------------------------------------------------------------- */

static int exit_status(cli_outcome outcome)
{
    switch (outcome) {
    case CLI_ANSWERED:
        return EXIT_OK;
    case CLI_SERVICE_ERROR:
        return EXIT_SERVICE;
    case CLI_NO_ANSWER:
        return EXIT_NO_ANSWER;
    }
    return EXIT_NO_ANSWER;
}

/* What the aws CLI writes on stderr for an answer that is not a success (heap). */
static char *failure_text(const char *op, const cli_answer *a)
{
    if (a->outcome == CLI_SERVICE_ERROR)
        return bt_xasprintf("\nAn error occurred (%s) when calling the %s operation: %s\n", a->code,
                            op, a->message);
    return bt_xasprintf("\n%s\n", a->message);
}

/* Makes one call; on success *answer is the body (caller's), else the failure is reported. */
static int call(cli_client *c, const char *op, json_t *body, json_t **answer)
{
    cli_answer a;
    cli_client_call(c, op, body, &a);
    int status = exit_status(a.outcome);
    if (status == EXIT_OK) {
        *answer = json_incref(a.body);
    } else {
        char *text = failure_text(op, &a);
        fputs(text, stderr);
        free(text);
    }
    cli_answer_fini(&a);
    return status;
}

static void set_page(json_t *body, long page_size, const char *next_token)
{
    json_object_set_new(body, "maxResults", json_integer(page_size));
    if (next_token)
        json_object_set_new(body, "nextToken", json_string(next_token));
    else
        json_object_del(body, "nextToken");
}

/* The answer's nextToken (heap), or NULL on the last page. */
static char *next_token(const json_t *answer)
{
    const char *token = json_string_value(json_object_get(answer, "nextToken"));
    return token && *token ? bt_xstrdup(token) : NULL;
}

/* Every page of rq, its items gathered into {"<list>": […]}. */
static int call_pages(cli_client *c, request *rq, json_t **answer)
{
    json_t *items = json_array();
    char *token = NULL;
    int status;
    for (;;) {
        long have = (long)json_array_size(items);
        long page =
            rq->max_items && rq->max_items - have < PAGE_MAX ? rq->max_items - have : PAGE_MAX;
        set_page(rq->body, page, token);
        free(token);
        json_t *got = NULL;
        if ((status = call(c, rq->op, rq->body, &got)) != EXIT_OK)
            break;
        json_array_extend(items, json_object_get(got, rq->list));
        token = next_token(got);
        json_decref(got);
        if (rq->max_items && (long)json_array_size(items) >= rq->max_items) {
            while ((long)json_array_size(items) > rq->max_items)
                json_array_remove(items, json_array_size(items) - 1);
            free(token);
            token = NULL;
        }
        if (token == NULL)
            break;
    }
    if (status == EXIT_OK) {
        *answer = json_object();
        json_object_set(*answer, rq->list, items);
    }
    json_decref(items);
    return status;
}

/* The ARN of the state machine called name, from every page of ListStateMachines (heap). */
static int find_machine(cli_client *c, const char *name, char **arn)
{
    json_t *body = json_object();
    char *token = NULL;
    int status;
    *arn = NULL;
    do {
        set_page(body, PAGE_MAX, token);
        free(token);
        token = NULL;
        json_t *got = NULL;
        if ((status = call(c, "ListStateMachines", body, &got)) != EXIT_OK)
            break;
        size_t i;
        json_t *item;
        json_array_foreach(json_object_get(got, "stateMachines"), i, item)
        {
            const char *item_arn = json_string_value(json_object_get(item, "stateMachineArn"));
            const char *item_name = json_string_value(json_object_get(item, "name"));
            if (item_arn && item_name && strcmp(item_name, name) == 0 && *arn == NULL)
                *arn = bt_xstrdup(item_arn);
        }
        if (*arn == NULL)
            token = next_token(got);
        json_decref(got);
    } while (token);
    json_decref(body);
    if (status == EXIT_OK && *arn == NULL) {
        fprintf(stderr, "\nNo state machine is named '%s' (ListStateMachines)\n", name);
        status = EXIT_SERVICE;
    }
    return status;
}

/* v's text indented by 4 as Python's json.dumps(indent=4) writes it, which the aws CLI
 * prints; scalars in Baton's compact form (shortest reals, UTF-8 kept). */
static void write_indented(bt_buf *b, json_t *v, int depth)
{
    size_t n = json_is_object(v) ? json_object_size(v) : json_array_size(v);
    if (!(json_is_object(v) || json_is_array(v)) || n == 0) {
        int rc = bt_json_write(b, v);
        assert(rc == 0); /* parsed by jansson, so never too deep */
        (void)rc;
        return;
    }
    bt_buf_putc(b, json_is_object(v) ? '{' : '[');
    size_t i = 0;
    const char *key;
    json_t *member;
    if (json_is_object(v)) {
        json_object_foreach(v, key, member)
        {
            bt_buf_printf(b, "%s\n%*s", i++ ? "," : "", 4 * (depth + 1), "");
            bt_json_write_string(b, key, strlen(key));
            bt_buf_puts(b, ": ");
            write_indented(b, member, depth + 1);
        }
    } else {
        json_array_foreach(v, i, member)
        {
            bt_buf_printf(b, "%s\n%*s", i ? "," : "", 4 * (depth + 1), "");
            write_indented(b, member, depth + 1);
        }
    }
    bt_buf_printf(b, "\n%*s%c", 4 * depth, "", json_is_object(v) ? '}' : ']');
}

/* The aws CLI prints nothing for an empty answer (SendTaskSuccess, SendTaskHeartbeat, …). */
static void print_answer(json_t *answer)
{
    if (json_object_size(answer) == 0)
        return;
    bt_buf b;
    bt_buf_init(&b);
    write_indented(&b, answer, 0);
    bt_buf_putc(&b, '\n');
    fwrite(b.data, 1, b.len, stdout);
    bt_buf_fini(&b);
}

static int usage_error(const verb *v, const bt_buf *problem)
{
    fprintf(stderr, "baton %s: %s\n\n", v->name, problem->data);
    print_usage(stderr, v);
    fprintf(stderr, "Run 'baton %s --help' for the options.\n", v->name);
    return EXIT_USAGE;
}

/* Everything from the command line to the request, without a call: 0 (with *rq and *cfg
 * ready), 1 for --help, or -1 with problem. */
static int prepare(const verb *v, int argc, char **argv, verb_args *a, cli_client_config *cfg,
                   request *rq, bt_buf *problem)
{
    int rc = parse_args(v, argc, argv, a, problem);
    if (rc != 0)
        return rc;
    if (client_config(a, cfg, problem) != 0)
        return -1;
    memset(rq, 0, sizeof(*rq));
    rq->op = v->op;
    if (v->build(a, rq, problem) != 0) {
        json_decref(rq->body);
        rq->body = NULL;
        return -1;
    }
    return 0;
}

int cmd_client(int argc, char **argv)
{
    const verb *v = find_verb(argv[0]);
    assert(v != NULL);
    verb_args a;
    cli_client_config cfg;
    request rq;
    bt_buf problem;
    bt_buf_init(&problem);
    int rc = prepare(v, argc, argv, &a, &cfg, &rq, &problem);
    if (rc != 0) {
        if (rc > 0)
            print_help(stdout, v);
        int status = rc > 0 ? EXIT_OK : usage_error(v, &problem);
        bt_buf_fini(&problem);
        return status;
    }
    bt_buf_fini(&problem);

    cli_client *c = cli_client_new(&cfg);
    int status = EXIT_OK;
    if (v->machine_member && !is_arn(a.arg)) {
        char *arn = NULL;
        status = find_machine(c, a.arg, &arn);
        if (status == EXIT_OK)
            json_object_set_new(rq.body, v->machine_member, json_string(arn));
        free(arn);
    }
    json_t *answer = NULL;
    if (status == EXIT_OK)
        status = rq.list ? call_pages(c, &rq, &answer) : call(c, rq.op, rq.body, &answer);
    if (status == EXIT_OK)
        print_answer(answer);
    json_decref(answer);
    json_decref(rq.body);
    cli_client_free(c);
    return status;
}
