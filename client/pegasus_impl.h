/*  pegasus_impl: what the client library's files share.

    Every operation becomes an op: a protobuf request, where it goes (by
    key hash, or to an explicit partition), whether it is idempotent, and a
    deadline. The client's actor routes it, sends it, retries it, and
    completes it; the calling thread waits (sync) or a callback runs
    (async).
*/
#ifndef CLIENT_PEGASUS_IMPL_H
#define CLIENT_PEGASUS_IMPL_H

#include "client/pegasus.h"
#include "runtime/actor.h"
#include "runtime/rt.h"

#include <pthread.h>

typedef struct op_t op_t;

//  Runs on the client's actor when the op is over, with the final status
//  and the reply (which it may take).
typedef void (op_done_fn) (op_t *op, int status, const char *error, msg_t **reply_p);

struct op_t {
    msg_t *request;                     //  the request as built (owned)
    uint64_t hash;                      //  where: by key hash...
    int32_t partition;                  //  ...or this partition if >= 0
    int32_t target;                     //  the partition of the last attempt
    bool idempotent;
    bool heap;                          //  freed after done (async ops)
    int64_t deadline_ms;                //  runtime clock
    int attempts;
    int last_status;
    char last_error [256];
    op_done_fn *done;
    void *arg;
    op_t *next;                         //  in the queue waiting for routing
};

struct pegasus_client_t {
    rt_t *rt;
    actor_t *actor;
    char *table;
    char *meta;
    int default_timeout_ms;
    _Atomic uint32_t partition_count;
};

//  The process's shared client runtime (created by the first user).
rt_t *
    pegasus_runtime_acquire (void);

void
    pegasus_runtime_release (void);

//  Sets the calling thread's error message; returns status.
int
    pegasus_fail (int status, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

//  Runs an op and waits: the status, and the reply (caller destroys) in
//  *reply_p when there is one. Takes the request.
int
    pegasus_execute (pegasus_client_t *self, msg_t **request_p, uint64_t hash,
                     int32_t partition, bool idempotent, int timeout_ms, msg_t **reply_p);

//  Queues an op whose completion runs `done` on the client's actor. The
//  op is heap-allocated here and freed after done returns. Takes the
//  request. OK or a failure (then done never runs).
int
    pegasus_execute_async (pegasus_client_t *self, msg_t **request_p, uint64_t hash,
                           int32_t partition, bool idempotent, int timeout_ms,
                           op_done_fn *done, void *arg);

//  One meta request of an administration call, on the shared runtime:
//  the status (a failure's message recorded for pegasus_error) and, if it
//  is OK, the reply in *reply_p (NULL otherwise). Takes the request (NULL:
//  out of memory).
int
    pegasus_admin_call (const char *meta_servers, msg_t *request, int timeout_ms, msg_t **reply_p);

//  Asks meta (trying each server of the list) and waits: the status and
//  the reply in *reply_p. Takes the request.
int
    pegasus_meta_call (rt_t *rt, const char *meta_servers, msg_t **request_p, int timeout_ms,
                       msg_t **reply_p);

//  Asks the actor `name` on node (host:port) and waits: the status (
//  INVALID_ARGUMENT if node is not an address) and the reply in *reply_p.
//  Takes the request.
int
    pegasus_node_call (rt_t *rt, const char *node, const char *name, msg_t **request_p,
                       int timeout_ms, msg_t **reply_p);

//  The deadline, on the runtime's clock, of a call with this timeout.
int64_t
    pegasus_deadline (pegasus_client_t *self, int timeout_ms);

#endif
