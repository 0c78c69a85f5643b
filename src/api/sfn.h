/*
 * sfn.h — the Step Functions API (AWS JSON 1.0, X-Amz-Target: AWSStepFunctions.<Op>).
 */
#ifndef BT_API_SFN_H
#define BT_API_SFN_H

#include "api/api.h"
#include "server/sfn.h"

/* Serves one call on the engine thread (c->op, c->json); answers it. */
void api_sfn(api_call *c);

#endif
