/*
 * sfn.h — the Step Functions API (AWS JSON 1.0, X-Amz-Target: AWSStepFunctions.<Op>).
 */
#ifndef BT_API_SFN_H
#define BT_API_SFN_H

#include "api/api.h"
#include "server/sfn.h"

/* Serves one call on the engine thread (c->op, c->json); answers it. */
void api_sfn(api_call *c);

/* The request checks alone (presence and JSON type of each member; null is absent): 0, or
 * -1 with AWS's error. Pure, for tests and the fuzzer. */
int api_sfn_check(const char *op, json_t *req, sfn_err *err);
/* The operations the table knows, by index. */
size_t api_sfn_n_ops(void);
const char *api_sfn_op_name(size_t i);

#endif
