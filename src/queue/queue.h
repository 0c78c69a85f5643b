/*
 * queue.h — Baton's SQS-compatible queues as the server runs them: the model (model.h) on
 * the engine thread, made durable and able to wait. Every change is written into the
 * current store batch (server_batch); a sent message becomes receivable only once its batch
 * is durable, and then wakes the receives waiting on its queue. Long polls wait on uv timers
 * of the server's loop. The Step Functions integration sends through the same path.
 *
 * Engine thread only, like everything reached through server.h.
 */
#ifndef BT_QUEUE_QUEUE_H
#define BT_QUEUE_QUEUE_H

#include "base/err.h"
#include "integ/integ.h"
#include "queue/model.h"
#include "server/server.h"

typedef struct queue_service queue_service;

/* The service's tables (sqs_queue, sqs_message, sqs_dedup): one migration of the store. */
extern const char queue_schema_v1[];

/* Loads every queue, message and deduplication id from the server's store. NULL with err set
 * (BT_EIO, SQLite's message) when the tables cannot be read. */
queue_service *queue_service_new(server *srv, bt_err *err);
/* Answers every waiting receive with no messages, stops the timers and frees the service.
 * The memory goes once the timers have closed (the server runs the loop until its handles
 * are closed, as uv_loop_close needs anyway) and every commit callback of a send has run
 * (store_close runs them), in whichever order these happen. NULL does nothing. */
void queue_service_free(queue_service *q);

/* The model, for the API layer's reads and changes (their writes reach the batch through
 * the service's observer). Borrowed; valid until queue_service_free. */
qmodel *queue_model(queue_service *q);
int64_t queue_now_ms(const queue_service *q);

/* The URL clients use for a queue: server_endpoint/<account>/<name> (heap string). */
char *queue_url(const queue_service *q, const qm_queue *queue);
/* The queue a QueueUrl names (codec.h's rules); NULL with err set: NonExistentQueue for a
 * URL of another account or region or of a missing queue, InvalidAddress for what is not a
 * queue URL. */
qm_queue *queue_resolve_url(queue_service *q, const char *url, qm_err *err);
/* The same for a request path /<account>/<name>; NULL with err (NonExistentQueue) when the
 * path names no queue here. */
qm_queue *queue_resolve_path(queue_service *q, const char *path, qm_err *err);

/*
 * ReceiveMessage with long polling. Receives now; when nothing is there and the wait
 * (r->wait_s, or the queue's ReceiveMessageWaitTimeSeconds when -1) is above zero, waits
 * until a message becomes receivable or the wait ends. cb(ctx, msgs, n) runs exactly once,
 * possibly inside this call; the messages are borrowed for the call. r and the arrays it
 * points to must stay valid until then. Beyond QUEUE_MAX_WAITERS waiting receives a new one
 * is answered at once with what there is. Returns 0, or -1 with err set when r is invalid
 * (then cb is not called).
 */
#define QUEUE_MAX_WAITERS 10000
typedef void (*queue_receive_cb)(void *ctx, qm_msg *const *msgs, size_t n);
int queue_receive(queue_service *q, qm_queue *queue, const qm_receive *r, queue_receive_cb cb,
                  void *ctx, qm_err *err);
/* Receives waiting now (for /health and tests). */
size_t queue_n_waiters(const queue_service *q);

/*
 * The Step Functions integration for arn:aws:states:::sqs:sendMessage (succeeds with the
 * SendMessage response) and …:sendMessage.waitForTaskToken (reports it as submitted and
 * leaves the task to SendTaskSuccess/Failure). Sends within start(). The integ borrows q;
 * its destroy does nothing.
 */
integ queue_integ(queue_service *q);

#endif
