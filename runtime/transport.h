/*  transport: the node's ZeroMQ I/O thread.

    One ROUTER socket bound at the node's address receives from every peer;
    one DEALER per peer node, connected on first use, sends to it (and
    reconnects by itself when the peer restarts). A client node binds
    nothing: its DEALERs also receive the replies, which servers route back
    through their ROUTER by the client's routing id. Only the I/O thread
    touches sockets.

    Workers pack envelopes themselves (in parallel) and queue them on a
    lock-free outbox; the I/O thread coalesces what is queued for one peer
    into one frame (a pg.Batch), so under load a frame carries many
    messages and ZeroMQ's per-frame cost is paid once. Incoming frames are
    decoded in place and each envelope goes straight to its actor's mailbox.
*/
#ifndef RUNTIME_TRANSPORT_H
#define RUNTIME_TRANSPORT_H

#include "runtime/msg.h"

#include <czmq.h>

typedef struct rt_t rt_t;
typedef struct transport_t transport_t;

//  Create sockets and bind (per `transport/*` config); sets the node's
//  name into rt. Returns NULL on a bad config or a failed bind (logged).
transport_t *
    transport_new (rt_t *rt, zconfig_t *config);

//  Start the I/O thread (after the scheduler exists).
int
    transport_start (transport_t *self);

//  Wakes the I/O thread (a transport_t *): the scheduler's host wake, so
//  that actors hosted on the I/O thread run when a message reaches them.
void
    transport_wake (void *self);

//  Flush what is queued, stop the I/O thread and close its sockets. Later
//  sends return SHUTDOWN. The object stays valid until transport_destroy.
void
    transport_stop (transport_t *self);

//  Free everything (after the scheduler is gone: workers may send until
//  then). Stops first if needed.
void
    transport_destroy (transport_t **self_p);

//  Pack msg for actor `to_actor` on `node`, from local actor `from_actor`
//  ("" if none), and queue it. Returns OK, BUSY (outbox full),
//  INVALID_ARGUMENT (local-only kind, bad node name) or SHUTDOWN.
//  Consumes the message.
int
    transport_send (transport_t *self, const char *node, const char *to_actor,
                    const char *from_actor, msg_t **msg_p);

//  True if node names a server ("host:port") rather than a client.
bool
    transport_node_is_server (const char *node);

#endif
