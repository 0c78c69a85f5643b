/*
 * arn.h — Step Functions resource names and ARNs: AWS's rule for names (state machines,
 * executions, activities, aliases) and the ARN shapes of the Step Functions API, parsed and
 * built. The API layer turns a refusal into AWS's InvalidName / InvalidArn errors; the engine
 * and store use the parts. Pure functions, no allocation except bt_arn_format.
 *
 *   arn:<partition>:states:<region>:<account>:stateMachine:<name>[:<version>|:<alias>]
 *   arn:<partition>:states:<region>:<account>:execution:<machine>:<name>
 *   arn:<partition>:states:<region>:<account>:express:<machine>:<name>:<id>
 *   arn:<partition>:states:<region>:<account>:activity:<name>
 *   arn:<partition>:states:<region>:<account>:mapRun:<machine>/<label>:<id>
 */
#ifndef BT_ARN_H
#define BT_ARN_H

#include <stdbool.h>
#include <stddef.h>

/* AWS's bounds: names 1–80 characters, ARNs up to 256. */
#define BT_NAME_MAX_CHARS 80
#define BT_ARN_MAX_CHARS  256

/*
 * NULL when name is a valid name, else what is wrong with it, as a short static phrase:
 * empty, longer than 80 characters, not UTF-8, or containing whitespace, a control
 * character (U+0000–U+001F, U+007F–U+009F) or one of  < > { } [ ] ? * " # % \ ^ | ~ ` $ & , ; : /
 * (StartExecution's name documentation).
 */
const char *bt_name_problem(const char *name);

/*
 * The same for an alias name, whose rule is stricter (CreateStateMachineAlias's
 * CharacterRestrictedName: 1–80 of A–Z a–z 0–9 _ - . with at least one that is not a digit,
 * so that an alias ARN never reads as a version ARN). NULL when valid, else "is empty", "is
 * longer than 80 characters", "contains a character that is not allowed" or "is all digits".
 */
const char *bt_alias_name_problem(const char *name);

typedef enum bt_arn_kind {
    BT_ARN_STATE_MACHINE,
    BT_ARN_EXECUTION,
    BT_ARN_EXPRESS_EXECUTION,
    BT_ARN_ACTIVITY,
    BT_ARN_MAP_RUN,
} bt_arn_kind;

/* The parts of an ARN; every field is NUL-terminated ("" when the shape has none). */
typedef struct bt_arn {
    bt_arn_kind kind;
    char partition[16];
    char region[32];
    char account[16];
    char machine[4 * BT_NAME_MAX_CHARS + 1];   /* the state machine (all but activity) */
    char qualifier[4 * BT_NAME_MAX_CHARS + 1]; /* stateMachine: version number or alias */
    char name[4 * BT_NAME_MAX_CHARS + 1];      /* execution, activity, or map run label */
    char id[64];                               /* express execution / map run id */
} bt_arn;

/* Parses s into *out. Returns 0, or -1 with *why (static) saying what does not fit. */
int bt_arn_parse(const char *s, bt_arn *out, const char **why);
/* The text of a (heap, caller frees); never NULL. */
char *bt_arn_format(const bt_arn *a);
/* True when the qualifier of a state machine ARN is a version number (digits, no leading 0). */
bool bt_arn_is_version(const bt_arn *a);

#endif
