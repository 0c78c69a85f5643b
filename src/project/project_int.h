/*
 * project_int.h — what the checker's files share: the walk's context and the helpers that
 * read one typed value from a mapping, each reporting what is wrong at the node's position.
 */
#ifndef BT_PROJECT_PROJECT_INT_H
#define BT_PROJECT_PROJECT_INT_H

#include "project/project.h"

typedef struct ck {
    project *p;
    prj_problems *pr;
    const prj_node *root;
} ck;

/* Unknown keys of map (every key not in allowed, a NULL-terminated list), each reported with
 * the closest allowed one when it is close. what: "queue 'Orders'". */
void prj__keys(ck *c, const prj_node *map, const char *const *allowed, const char *what);
/* The allowed word closest to word (edit distance at most a third of its length, at least
 * 2), or NULL. */
const char *prj__closest(const char *word, const char *const *choices, size_t n);
/* The node when it is a mapping; else reports "<what> is a <kind> (expected a mapping)". */
const prj_node *prj__map(ck *c, const prj_node *n, const char *what);
const char *prj__kind_name(const prj_node *n);
/* The value at key as a heap string (a scalar of any style), or NULL (absent, or reported
 * when not a scalar). required: a missing key is reported at map. */
char *prj__str(ck *c, const prj_node *map, const char *key, const char *what, bool required);
/* true/false (plain), def when absent. */
bool prj__bool(ck *c, const prj_node *map, const char *key, const char *what, bool def);
/* An integer in [min, max]; def when absent. */
int64_t prj__int(ck *c, const prj_node *map, const char *key, const char *what, int64_t min,
                 int64_t max, int64_t def);
/* Seconds: an integer, or a string "<n>s", "<n>m", "<n>h", "<n>d"; in [min, max]. */
int64_t prj__duration(ck *c, const prj_node *map, const char *key, const char *what, int64_t min,
                      int64_t max, int64_t def);
/* Bytes: an integer, or "<n>KiB", "<n>MiB"; in [min, max]. */
int64_t prj__size(ck *c, const prj_node *map, const char *key, const char *what, int64_t min,
                  int64_t max, int64_t def);
/* A secret given as KEY (in the file), KEY_env (an environment variable) or KEY_file (a file
 * relative to the project's folder, trailing newline trimmed): at most one of them. */
char *prj__secret(ck *c, const prj_node *map, const char *key, const char *what, bool required);
/* The largest project or definition file read, and the largest secret file. */
#define PRJ_MAX_FILE   (8u << 20)
#define PRJ_MAX_SECRET (64u << 10)
/* Why bt_read_regular_file failed, from its errno: "not a regular file (a FIFO, a device
 * or a folder)", "larger than N bytes", or strerror's words. */
const char *prj__read_error(int err, size_t max);
/* path relative to the project's folder, made absolute (heap). */
char *prj__abs(const project *p, const char *path);
/* [A-Za-z0-9_-] only, 1..max characters (a ".fifo" suffix allowed when fifo_ok). */
bool prj__simple_name(const char *name, size_t max, bool fifo_ok);

/* The checks beyond the core services (check_more.c): topics, routes, schedules, smtp,
 * public_url, signing keys. */
void prj__check_topics(ck *c, const prj_node *n);
void prj__check_routes(ck *c, const prj_node *n);
void prj__check_schedules(ck *c, const prj_node *n);
void prj__check_smtp(ck *c, const prj_node *n);
void prj__check_settings(ck *c);
/* Whether ref names something declared (by name) or is an ARN with arn_prefix; reports at
 * node otherwise. kind: "queue", list: the declared names. */
bool prj__ref(ck *c, const prj_node *node, const char *ref, const char *what, const char *kind,
              const char *section, const char *arn_prefix, const char *const *names, size_t n);

/* apply.c ↔ apply_fn.c: functions and triggers, through their services. */
void project__apply_functions(project_runtime *rt, const project *p);
void project__apply_triggers(project_runtime *rt, const project *p);
void project__remove_triggers(project_runtime *rt, const project *p);
void project__remove_functions(project_runtime *rt, const project *p);
/* apply.c ↔ apply_topic.c: topics, subscriptions, smtp and public_url. */
void project__apply_topics(project_runtime *rt, const project *p);
void project__remove_topics(project_runtime *rt, const project *p);
const project_services *project__services(const project_runtime *rt);
/* apply_route.c: the routes, replaced as a whole in the route table. */
void project__apply_routes(project_runtime *rt, const project *p);

/* apply_sched.c: schedules, through sched.h. */
void project__apply_schedules(project_runtime *rt, const project *p);
void project__remove_schedules(project_runtime *rt, const project *p);
/* Counts and logs one declaration that could not be applied. */
void project__failed(project_runtime *rt, const char *kind, const char *name, const char *why);

#endif
