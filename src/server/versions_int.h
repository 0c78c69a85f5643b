/*
 * versions_int.h — the registry of state machine versions and aliases, shared by versions.c
 * (the registry, the version operations, executions through versions and aliases) and
 * aliases.c (the alias operations and their routing). One machine's versions and aliases
 * live in one vset, found by the machine's id.
 */
#ifndef BT_SERVER_VERSIONS_INT_H
#define BT_SERVER_VERSIONS_INT_H

#include "base/buf.h"
#include "server/server_int.h"

/* AWS's quotas and bounds: 1000 versions and 100 aliases per machine (PublishStateMachineVersion,
 * CreateStateMachineAlias), descriptions of at most 256 characters (VersionDescription,
 * AliasDescription), routings of one or two versions (RoutingConfigurationList). */
#define MAX_VERSIONS    1000
#define MAX_ALIASES     100
#define MAX_DESCRIPTION 256
#define MAX_ROUTES      2

typedef struct version {
    int64_t number;
    int64_t revision; /* revisions row */
    int64_t created_ms;
    char *revision_id;
    char *role_arn;
    char *description, *logging, *tracing;
} version;

typedef struct route {
    int64_t version; /* number */
    int weight;
} route;

typedef struct alias {
    int64_t id; /* creation order, across machines */
    char *name, *description;
    route routes[MAX_ROUTES];
    size_t n_routes;
    int64_t created_ms, updated_ms;
} alias;

/* One machine's versions (by number) and aliases (by id). */
typedef struct vset {
    char key[24];
    int64_t last_number;
    version **versions;
    size_t n_versions, cap_versions;
    alias **aliases;
    size_t n_aliases, cap_aliases;
} vset;

/* versions.c */
vset *versions__set(server *s, int64_t sm_id, bool create);
version *versions__find(const vset *vs, int64_t number);
alias *versions__find_alias(const vset *vs, const char *name);
bool versions__routes_to(const alias *al, int64_t number);
/* The machine a version or alias ARN belongs to (the ARN without its qualifier), or NULL. */
machine *versions__machine_of(server *s, const char *qualified);
/* The parts of a state machine ARN that has a qualifier, or -1 with InvalidArn. */
int versions__parse_qualified(const char *text, bt_arn *a, sfn_err *err);
/* "<machine arn>:<number>" (heap). */
char *versions__arn(const machine *m, int64_t number);
int versions__check_description(const char *text, const char *member, sfn_err *err);
/* "[a, b]" — how AWS's messages quote the values they refuse. */
void versions__list_text(bt_buf *b, const char *const *items, size_t n);

/* aliases.c */
int versions__load_aliases(server *s);
void versions__alias_free(alias *al);
/* The version an alias sends one execution to, drawn by weight. */
int64_t versions__draw(const alias *al);

#endif
