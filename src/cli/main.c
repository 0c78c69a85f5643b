/*
 * main.c — `baton`: dispatches to the verbs (cmd_*.c).
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs("usage: baton <command> [options]\n"
          "\n"
          "Baton runs AWS Step Functions state machines (Amazon States Language).\n"
          "\n"
          "commands:\n"
          "  run DEFINITION [--input JSON | --input-file FILE] [--name NAME]\n"
          "      [--execution-name NAME] [--json] [--history] [--mock FILE]\n"
          "      [--mock-case NAME] [--role-arn ARN] [--clock real|virtual] [--seed N]\n"
          "                      run one execution in-process and print its result;\n"
          "                      exit 0 when it succeeded\n"
          "  validate DEFINITION [--json]\n"
          "                      check a definition as CreateStateMachine does; print every\n"
          "                      problem with its JSON Pointer; exit 1 if there is any\n"
          "  check FILE          check a project file (baton.yaml): every problem as\n"
          "                      FILE:LINE:COL: error: …; exit 1 if there is any\n"
          "  serve [--config FILE] [--listen HOST:PORT] [--data DIR] ...\n"
          "                      run the server: the Step Functions, SQS and Lambda APIs on\n"
          "                      one port, executions kept in DIR, the system FILE declares\n"
          "                      (see baton serve --help)\n",
          f);
    cmd_eval_usage(f);
    cmd_client_usage(f);
    cmd_fn_usage(f);
    cmd_outbox_usage(f);
    cmd_approvals_usage(f);
    fputs("  help                this text\n"
          "  version             print the version\n"
          "\n"
          "run options:\n"
          "  --input JSON        execution input (default {})\n"
          "  --input-file FILE   read the execution input from FILE\n"
          "  --name NAME         state machine name (default: the file name)\n"
          "  --execution-name N  execution name (default: a UUID)\n"
          "  --json              print one DescribeExecution-shaped JSON object\n"
          "  --history           also print the execution history (AWS event shapes)\n"
          "  --mock FILE         answer Task states from a Step Functions Local mock config\n"
          "  --mock-case NAME    the test case of the mock config to use\n"
          "  --role-arn ARN      the execution role ($$.Execution.RoleArn)\n"
          "  --clock virtual     Wait states, retries and timeouts take no real time\n"
          "  --seed N            seed for States.UUID, States.MathRandom and retry jitter\n"
          "\n"
          "The client verbs (create-state-machine … stop) call a Step Functions endpoint:\n"
          "  --endpoint URL      default $BATON_ENDPOINT, else http://127.0.0.1:8083\n"
          "  --region REGION     default $AWS_REGION, else $AWS_DEFAULT_REGION, else us-east-1\n"
          "  --timeout SECONDS   give up on a call after this long (default 60)\n"
          "They print the answer as JSON and exit as the aws CLI does: 0 done, 252 usage\n"
          "error, 254 the service answered with an error, 255 no answer. `baton VERB --help`\n"
          "describes one.\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *verb = argv[1];
    if (strcmp(verb, "__spawn") == 0)
        return cmd_spawn(argc - 1, argv + 1);
    if (strcmp(verb, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(verb, "validate") == 0)
        return cmd_validate(argc - 1, argv + 1);
    if (strcmp(verb, "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (strcmp(verb, "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    if (strcmp(verb, "eval") == 0)
        return cmd_eval(argc - 1, argv + 1);
    if (cmd_client_is_verb(verb))
        return cmd_client(argc - 1, argv + 1);
    if (strcmp(verb, "outbox") == 0)
        return cmd_outbox(argc - 1, argv + 1);
    if (strcmp(verb, "approvals") == 0)
        return cmd_approvals(argc - 1, argv + 1);
    if (cmd_fn_is_verb(verb))
        return cmd_fn(argc - 1, argv + 1);
    if (strcmp(verb, "help") == 0 || strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(verb, "version") == 0 || strcmp(verb, "--version") == 0) {
        printf("baton %s\n", BATON_VERSION);
        return 0;
    }
    fprintf(stderr, "baton: unknown command '%s'\n\n", verb);
    usage(stderr);
    return 2;
}
