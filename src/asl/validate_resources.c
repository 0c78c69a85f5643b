/*
 * validate_resources.c — whether AWS recognises a Task's Resource: a Lambda function ARN, an
 * activity ARN, an optimised integration of integrations.def called with a pattern its API
 * supports, or an AWS SDK integration. ARNs outside AWS's partitions are Baton's own namespace
 * and are left to the integration a driver binds (integ/integ.h), as is anything AWS would
 * check against the account (whether the function or activity exists).
 *
 * Called by validate_states.c for the literal Resource of every Task state; pure string work.
 */
#include "asl/validate_int.h"

#include <stdbool.h>
#include <string.h>

/* The integration patterns a service API supports, as integrations.def combines them. */
enum { P_RR = 1, P_SYNC = 2, P_SYNC2 = 4, P_CALLBACK = 8 };

typedef struct integration {
    const char *service;
    const char *action;
    unsigned patterns;
} integration;

static const integration integrations[] = {
#define ASL_INTEGRATION(service, action, patterns) {service, action, patterns},
#include "asl/integrations.def"
#undef ASL_INTEGRATION
};

/* Suffixes in the order they must be tried: ".sync:2" before ".sync". */
static const struct {
    const char *suffix;
    unsigned pattern;
} suffixes[] = {
    {".sync:2", P_SYNC2},
    {".sync", P_SYNC},
    {".waitForTaskToken", P_CALLBACK},
};

/* Text of length len equals the NUL-terminated word. */
static bool span_is(const char *text, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(text, word, len) == 0;
}

static bool is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool is_alnum(char c)
{
    return is_lower(c) || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* AWS's partitions are "aws" and "aws-…" (aws-cn, aws-us-gov, aws-iso, …). */
static bool is_aws_partition(const char *p, size_t len)
{
    return span_is(p, len, "aws") || (len > 4 && memcmp(p, "aws-", 4) == 0);
}

/* Length of s up to its first ':' (all of it without one). */
static size_t field_len(const char *s)
{
    const char *colon = strchr(s, ':');
    return colon ? (size_t)(colon - s) : strlen(s);
}

/* s is one non-empty ARN field: no ':' in it. */
static bool is_one_field(const char *s)
{
    return *s != '\0' && strchr(s, ':') == NULL;
}

/* function:NAME or function:NAME:QUALIFIER (a version or an alias). */
static bool lambda_known(const char *rest)
{
    if (strncmp(rest, "function:", 9) != 0)
        return false;
    const char *name = rest + 9;
    size_t n = field_len(name);
    return n > 0 && (name[n] == '\0' || is_one_field(name + n + 1));
}

/* Splits a known pattern suffix off rest: *len is what precedes it. */
static unsigned split_pattern(const char *rest, size_t *len)
{
    size_t n = strlen(rest);
    for (size_t i = 0; i < N_ELEMS(suffixes); i++) {
        size_t m = strlen(suffixes[i].suffix);
        if (n > m && strcmp(rest + n - m, suffixes[i].suffix) == 0) {
            *len = n - m;
            return suffixes[i].pattern;
        }
    }
    *len = n;
    return P_RR;
}

/*
 * aws-sdk:SERVICE:ACTION. The Developer Guide's integrations table marks Run a Job (.sync)
 * "Not supported" for AWS SDK integrations and Wait for Callback supported; AWS refuses
 * arn:aws:states:::aws-sdk:codebuild:startBuild.sync with its "is not recognized" message
 * (aws/aws-cdk#19174). The service is the SDK's lower-case name and the action the API name in
 * camelCase (supported-services-awssdk.html); which APIs a service has is not checked.
 */
static bool sdk_known(const char *text, size_t len, unsigned pattern)
{
    if (pattern != P_RR && pattern != P_CALLBACK)
        return false;
    size_t i = 0;
    while (i < len && (is_lower(text[i]) || (text[i] >= '0' && text[i] <= '9')))
        i++;
    if (i == 0 || i == len || text[i] != ':')
        return false;
    const char *action = text + i + 1;
    size_t n = len - i - 1;
    if (n == 0 || !is_lower(action[0]))
        return false;
    for (size_t k = 1; k < n; k++)
        if (!is_alnum(action[k]))
            return false;
    return true;
}

/* SERVICE:ACTION[.pattern] of integrations.def, or aws-sdk:SERVICE:ACTION[.pattern]. */
static bool integration_known(const char *rest)
{
    size_t len;
    unsigned pattern = split_pattern(rest, &len);
    if (len > 8 && memcmp(rest, "aws-sdk:", 8) == 0)
        return sdk_known(rest + 8, len - 8, pattern);
    const char *colon = memchr(rest, ':', len);
    if (!colon)
        return false;
    size_t service_len = (size_t)(colon - rest);
    const char *action = colon + 1;
    size_t action_len = len - service_len - 1;
    for (size_t i = 0; i < N_ELEMS(integrations); i++)
        if (span_is(rest, service_len, integrations[i].service) &&
            span_is(action, action_len, integrations[i].action))
            return (integrations[i].patterns & pattern) != 0;
    return false;
}

bool validate__resource_known(const char *res)
{
    /* arn:PARTITION:SERVICE:REGION:ACCOUNT:REST — REST may hold further ':'. */
    if (strncmp(res, "arn:", 4) != 0)
        return false;
    const char *field[5]; /* partition, service, region, account, rest */
    field[0] = res + 4;
    for (int i = 1; i < 5; i++) {
        const char *colon = strchr(field[i - 1], ':');
        if (!colon)
            return false;
        field[i] = colon + 1;
    }
    const char *rest = field[4];

    size_t partition_len = (size_t)(field[1] - field[0] - 1);
    size_t service_len = (size_t)(field[2] - field[1] - 1);
    if (partition_len == 0)
        return false;
    if (!is_aws_partition(field[0], partition_len))
        return true;
    if (span_is(field[1], service_len, "lambda"))
        return lambda_known(rest);
    if (!span_is(field[1], service_len, "states"))
        return false;
    if (strncmp(rest, "activity:", 9) == 0)
        return is_one_field(rest + 9);
    return integration_known(rest);
}
