/*
 * cmd_spawn.c — `baton __spawn PID PROGRAM ARGS…`: the first step of a function's process
 * (fn/spawn.c). It asks the kernel to send it SIGKILL when its parent thread — the server's
 * engine thread — ends, and then becomes PROGRAM; the signal stays set across the exec. If
 * the server died before the request was made, the parent is no longer PID and it stops.
 */
#include "cli/cli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int cmd_spawn(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "baton __spawn: usage: baton __spawn PID PROGRAM [ARGS…]\n");
        return 127;
    }
    long parent = strtol(argv[1], NULL, 10);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || (long)getppid() != parent)
        return 127;
    execvp(argv[2], argv + 2);
    fprintf(stderr, "baton __spawn: cannot run %s: %s\n", argv[2], strerror(errno));
    return 127;
}
