/*
 * spawn.c — starting a function's process so that it cannot outlive the server.
 *
 * A worker started by uv_spawn is a child of the engine thread; were the server killed
 * (kill -9, a crash), the worker would go on running, holding its Runtime API port's peer,
 * its memory and whatever its code does. Linux's parent-death signal ends it with the
 * server, but it must be set in the child between fork and exec, where libuv offers no
 * hook. So when the service has a launcher (fn_set_launcher: the `baton` binary itself,
 * whose hidden verb `__spawn PID PROGRAM ARGS…` sets PR_SET_PDEATHSIG to SIGKILL, checks
 * that PID is still its parent, and execs PROGRAM), processes start through it. Without a
 * launcher (unit tests that are not the baton binary) they start directly.
 *
 * The launcher would turn "no such program" into an exit status; the program is looked up
 * here first, and a missing or non-executable one is spawned directly, so that it fails
 * as before (ENOENT, EACCES).
 */
#include "base/alloc.h"
#include "fn/fn_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fn_set_launcher(fn_service *fs, const char *path)
{
    free(fs->launcher);
    fs->launcher = path ? bt_xstrdup(path) : NULL;
}

/* 0 when file (a path, or a name looked up in PATH as execvp would, resolved against cwd
 * when relative) can be executed; else a negative libuv error. */
static int check_program(const char *file, const char *cwd)
{
    if (strchr(file, '/') != NULL) {
        char *p =
            file[0] == '/' || cwd == NULL ? bt_xstrdup(file) : bt_xasprintf("%s/%s", cwd, file);
        int rc = access(p, X_OK) == 0 ? 0 : (errno == EACCES ? UV_EACCES : UV_ENOENT);
        free(p);
        return rc;
    }
    const char *path = getenv("PATH");
    if (path == NULL)
        path = "/usr/local/bin:/usr/bin:/bin";
    int rc = UV_ENOENT;
    for (const char *s = path; rc != 0;) {
        const char *e = strchr(s, ':');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        char *p = bt_xasprintf("%.*s/%s", (int)n, n ? s : ".", file);
        if (access(p, X_OK) == 0)
            rc = 0;
        else if (errno == EACCES)
            rc = UV_EACCES;
        free(p);
        if (e == NULL)
            break;
        s = e + 1;
    }
    return rc;
}

int fn__spawn(fn_service *fs, uv_loop_t *loop, uv_process_t *proc, const uv_process_options_t *o)
{
    if (fs->launcher == NULL)
        return uv_spawn(loop, proc, o);
    /* Not runnable: let uv_spawn fail on it directly, as it does without a launcher (and
     * leave the handle initialised, as callers expect of a failed uv_spawn). */
    if (check_program(o->file, o->cwd) != 0)
        return uv_spawn(loop, proc, o);
    int rc;
    size_t argc = 0;
    while (o->args[argc] != NULL)
        argc++;
    char pid[24];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    char **argv = bt_xcalloc(argc + 4, sizeof *argv);
    argv[0] = fs->launcher;
    static char verb[] = "__spawn";
    argv[1] = verb;
    argv[2] = pid;
    argv[3] = (char *)(uintptr_t)o->file;
    for (size_t i = 1; i < argc; i++)
        argv[3 + i] = o->args[i];
    uv_process_options_t lo = *o;
    lo.file = fs->launcher;
    lo.args = argv;
    rc = uv_spawn(loop, proc, &lo);
    free(argv);
    return rc;
}
