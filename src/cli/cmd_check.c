/*
 * cmd_check.c — `baton check FILE`: checks a project file as `baton serve --config` would
 * before starting. Exit 0 with a one-line summary; 1 with every problem on stderr as
 * FILE:LINE:COL: error: …; 2 on usage errors.
 */
#include "cli/cli.h"
#include "project/project.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_check(int argc, char **argv)
{
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs("usage: baton check FILE\n\n"
                  "Checks a project file (baton.yaml) as `baton serve --config FILE` does:\n"
                  "every problem is printed as FILE:LINE:COLUMN: error: …; exit 0 when there\n"
                  "is none, 1 otherwise. See docs/project-file.md.\n",
                  stdout);
            return 0;
        }
        if (file != NULL || argv[i][0] == '-') {
            fprintf(stderr, "baton check: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
        file = argv[i];
    }
    if (file == NULL) {
        fprintf(stderr, "usage: baton check FILE\n");
        return 2;
    }
    prj_problems problems;
    prj_problems_init(&problems, file);
    project *p = NULL;
    int rc = project_load(file, &p, &problems);
    if (rc != 0) {
        if (problems.len == 1 && problems.items[0].at.line == 0)
            fprintf(stderr, "%s: error: %s\n", file, problems.items[0].msg);
        else
            prj_problems_print(&problems, stderr);
        prj_problems_fini(&problems);
        return 1;
    }
    char *summary = project_summary(p);
    printf("%s: ok (%s)\n", file, summary);
    free(summary);
    project_free(p);
    prj_problems_fini(&problems);
    return 0;
}
