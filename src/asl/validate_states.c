/*
 * validate_states.c — the rules of each state type beyond the common fields: Task (a Resource
 * AWS recognises, Credentials, timeouts and heartbeats), Wait (exactly one time field), Fail
 * (Error/Cause and their paths), Map (processor, mode, reader, batcher, writer, label,
 * concurrency and tolerated failures) and Parallel (branches). Called by check_state
 * (validate.c); Map and Parallel recurse into validate__check_machine for their sub-machines.
 */
#include "asl/validate_int.h"
#include "path/jsonpath.h"

#include <string.h>

#define MAX_LABEL_CHARS 40

static void check_credentials(vctx *v, json_t *state, bool jsonata)
{
    json_t *cred = json_object_get(state, "Credentials");
    if (!cred)
        return;
    if (!json_is_object(cred)) {
        validate__expected_type(v, "Credentials", "OBJECT");
        return;
    }
    size_t mark = validate__ptr_key(v, "Credentials");
    json_t *role = json_object_get(cred, "RoleArn");
    json_t *role_path = jsonata ? NULL : json_object_get(cred, "RoleArn.$");
    if (!role && !role_path)
        validate__report(v, SCHEMA, "The field 'RoleArn' is required but was missing");
    if (role && !jsonata && !json_is_string(role))
        validate__expected_type(v, "RoleArn", "STRING");
    if (role_path &&
        (!json_is_string(role_path) || !validate__expression_ok(json_string_value(role_path), 0)))
        validate__report(v, SCHEMA,
                         "The value for the field 'RoleArn.$' must be a valid JSONPath or a valid "
                         "intrinsic function call");
    validate__ptr_pop(v, mark);
}

/*
 * AWS's wording for a Resource it does not recognise, as CreateStateMachine reports it
 * ("SCHEMA_VALIDATION_FAILED: The resource provided arn:aws:states:::aws-sdk:codebuild:
 * startBuild.sync is not recognized. …", aws/aws-cdk#19174; LocalStack's Step Functions
 * provider raises the same wording for integrations it does not know).
 */
static void check_resource(vctx *v, json_t *state)
{
    const char *res = validate__get_string(v, state, "Resource");
    if (res && !validate__resource_known(res))
        validate__report_at(v, "Resource", SCHEMA,
                            "The resource provided %s is not recognized. The value is not a valid "
                            "resource ARN, or the resource is not available in this region.",
                            res);
}

void validate__check_task(vctx *v, json_t *state, bool jsonata)
{
    static const char *const required[] = {"Resource"};
    validate__require_fields(v, state, required, N_ELEMS(required));
    check_resource(v, state);
    check_credentials(v, state, jsonata);
    if (jsonata)
        return;
    json_int_t timeout = 0, heartbeat = 0;
    bool has_timeout = validate__check_int(v, state, "TimeoutSeconds", 1, MAX_SECONDS, &timeout);
    bool has_heartbeat =
        validate__check_int(v, state, "HeartbeatSeconds", 1, MAX_SECONDS, &heartbeat);
    if (has_timeout && has_heartbeat && heartbeat >= timeout)
        validate__report_at(v, "HeartbeatSeconds", SCHEMA,
                            "The value of 'HeartbeatSeconds' must be less than the value of "
                            "'TimeoutSeconds'");
    validate__check_path(v, state, "TimeoutSecondsPath", JPATH_REFERENCE, false);
    validate__check_path(v, state, "HeartbeatSecondsPath", JPATH_REFERENCE, false);
    validate__exclusive(v, state, "TimeoutSeconds", "TimeoutSecondsPath");
    validate__exclusive(v, state, "HeartbeatSeconds", "HeartbeatSecondsPath");
}

void validate__check_wait(vctx *v, json_t *state, bool jsonata)
{
    static const char *const kinds[] = {"Seconds", "Timestamp", "SecondsPath", "TimestampPath"};
    size_t n = 0;
    for (size_t i = 0; i < N_ELEMS(kinds); i++)
        n += json_object_get(state, kinds[i]) != NULL;
    if (n != 1)
        validate__report(v, SCHEMA,
                         "A Wait state must contain exactly one of 'Seconds', 'Timestamp', "
                         "'SecondsPath' or 'TimestampPath'");
    if (jsonata)
        return;
    validate__check_int(v, state, "Seconds", 0, MAX_SECONDS, NULL);
    validate__check_timestamp(v, state, "Timestamp");
    validate__check_path(v, state, "SecondsPath", JPATH_REFERENCE, false);
    validate__check_path(v, state, "TimestampPath", JPATH_REFERENCE, false);
}

void validate__check_fail(vctx *v, json_t *state, bool jsonata)
{
    validate__exclusive(v, state, "Error", "ErrorPath");
    validate__exclusive(v, state, "Cause", "CausePath");
    if (jsonata)
        return;
    validate__get_string(v, state, "Error");
    validate__get_string(v, state, "Cause");
    static const char *const paths[] = {"ErrorPath", "CausePath"};
    for (size_t i = 0; i < N_ELEMS(paths); i++) {
        const char *s = validate__get_string(v, state, paths[i]);
        if (s && !validate__expression_ok(s, JPATH_REFERENCE))
            validate__report(v, SCHEMA,
                             "The value for the field '%s' must be a valid JSONPath or a valid "
                             "intrinsic function call",
                             paths[i]);
    }
}

/* Checks an object-valued Map option: allowed keys, an optional required Resource. */
static json_t *map_option(vctx *v, json_t *state, const char *key, const char *const *allowed,
                          size_t n_allowed, bool needs_resource)
{
    json_t *opt = json_object_get(state, key);
    if (!opt)
        return NULL;
    if (!json_is_object(opt)) {
        validate__expected_type(v, key, "OBJECT");
        return NULL;
    }
    size_t mark = validate__ptr_key(v, key);
    validate__only_fields(v, opt, allowed, n_allowed);
    if (needs_resource) {
        static const char *const required[] = {"Resource"};
        validate__require_fields(v, opt, required, N_ELEMS(required));
        validate__get_string(v, opt, "Resource");
    }
    validate__ptr_pop(v, mark);
    return opt;
}

void validate__check_map(vctx *v, json_t *state, bool jsonata, int depth)
{
    static const char *const config_fields[] = {"Mode", "ExecutionType"};
    static const char *const modes[] = {"INLINE", "DISTRIBUTED"};
    static const char *const exec_types[] = {"STANDARD", "EXPRESS"};
    static const char *const reader_fields[] = {"Resource", "Parameters", "Arguments",
                                                "ReaderConfig"};
    static const char *const batcher_fields[] = {"MaxItemsPerBatch", "MaxItemsPerBatchPath",
                                                 "MaxInputBytesPerBatch",
                                                 "MaxInputBytesPerBatchPath", "BatchInput"};
    static const char *const writer_fields[] = {"Resource", "Parameters", "Arguments",
                                                "WriterConfig"};
    static const char *const processor[] = {"ItemProcessor"};

    json_t *proc = json_object_get(state, "ItemProcessor");
    json_t *iter = json_object_get(state, "Iterator");
    const char *proc_key = proc ? "ItemProcessor" : "Iterator";
    if (!proc && !iter)
        validate__require_fields(v, state, processor, 1);
    else if (proc && iter)
        validate__report(v, SCHEMA, "Fields 'ItemProcessor' and 'Iterator' are mutually exclusive");
    if (!proc)
        proc = iter;

    bool distributed = false;
    if (json_is_object(proc)) {
        json_t *config = json_object_get(proc, "ProcessorConfig");
        size_t mark = validate__ptr_key(v, proc_key);
        if (config && !json_is_object(config)) {
            validate__expected_type(v, "ProcessorConfig", "OBJECT");
        } else if (config) {
            size_t m2 = validate__ptr_key(v, "ProcessorConfig");
            validate__only_fields(v, config, config_fields, N_ELEMS(config_fields));
            validate__check_enum(v, config, "Mode", modes, N_ELEMS(modes));
            validate__check_enum(v, config, "ExecutionType", exec_types, N_ELEMS(exec_types));
            json_t *mode = json_object_get(config, "Mode");
            distributed =
                json_is_string(mode) && strcmp(json_string_value(mode), "DISTRIBUTED") == 0;
            if (!distributed && json_object_get(config, "ExecutionType"))
                validate__report(v, SCHEMA, "Field 'ExecutionType' is not supported");
            validate__ptr_pop(v, m2);
        }
        validate__check_machine(v, proc, true, depth + 1);
        validate__ptr_pop(v, mark);
    } else if (proc) {
        validate__expected_type(v, proc_key, "OBJECT");
    }

    static const char *const distributed_only[] = {"ItemReader", "ItemBatcher", "ResultWriter",
                                                   "Label"};
    for (size_t i = 0; i < N_ELEMS(distributed_only); i++)
        if (!distributed && json_object_get(state, distributed_only[i]))
            validate__report(v, SCHEMA, "Field '%s' is not supported", distributed_only[i]);
    map_option(v, state, "ItemReader", reader_fields, N_ELEMS(reader_fields), true);
    map_option(v, state, "ItemBatcher", batcher_fields, N_ELEMS(batcher_fields), false);
    map_option(v, state, "ResultWriter", writer_fields, N_ELEMS(writer_fields), false);
    const char *label = validate__get_string(v, state, "Label");
    if (label && validate__utf8_chars(label) > MAX_LABEL_CHARS)
        validate__report_at(v, "Label", SCHEMA,
                            "The field 'Label' must be at most %d characters long",
                            MAX_LABEL_CHARS);

    if (jsonata)
        return;
    validate__check_template_field(v, state, "ItemSelector", true);
    validate__check_path(v, state, "ItemsPath", JPATH_REFERENCE, false);
    validate__check_int(v, state, "MaxConcurrency", 0, MAX_SECONDS, NULL);
    validate__check_path(v, state, "MaxConcurrencyPath", JPATH_REFERENCE, false);
    validate__check_number(v, state, "ToleratedFailurePercentage", 0, 100);
    validate__check_path(v, state, "ToleratedFailurePercentagePath", JPATH_REFERENCE, false);
    validate__check_int(v, state, "ToleratedFailureCount", 0, MAX_SECONDS, NULL);
    validate__check_path(v, state, "ToleratedFailureCountPath", JPATH_REFERENCE, false);
    validate__exclusive(v, state, "MaxConcurrency", "MaxConcurrencyPath");
    validate__exclusive(v, state, "ToleratedFailurePercentage", "ToleratedFailurePercentagePath");
    validate__exclusive(v, state, "ToleratedFailureCount", "ToleratedFailureCountPath");
    validate__exclusive(v, state, "Parameters", "ItemSelector");
}

void validate__check_parallel(vctx *v, json_t *state, int depth)
{
    static const char *const required[] = {"Branches"};
    if (!validate__require_fields(v, state, required, N_ELEMS(required)))
        return;
    json_t *branches = json_object_get(state, "Branches");
    if (!json_is_array(branches)) {
        validate__expected_type(v, "Branches", "ARRAY");
        return;
    }
    size_t mark = validate__ptr_key(v, "Branches");
    size_t i;
    json_t *b;
    json_array_foreach(branches, i, b)
    {
        size_t m2 = validate__ptr_index(v, i);
        if (json_is_object(b))
            validate__check_machine(v, b, false, depth + 1);
        else
            validate__report(v, SCHEMA, "Expected value of type [OBJECT]");
        validate__ptr_pop(v, m2);
    }
    validate__ptr_pop(v, mark);
}
