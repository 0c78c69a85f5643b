/*
 * cli.h — the `baton` verbs. Each returns the process exit status.
 */
#ifndef BT_CLI_CLI_H
#define BT_CLI_CLI_H

int cmd_run(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_serve(int argc, char **argv);

#endif
