/*  rt: one runtime per process role: worker threads, pinned threads,
    the actor registry, the clock, and the node's network transport.

    Config keys (ZPL, all optional; see docs/pegasus.cfg for every key):

        runtime
            workers = 2             # shared worker threads (default: CPUs)
            pinned_threads = 2      # threads for blocking actors
            batch = 100             # messages per actor turn
            mailbox_limit = 10000   # default bound on an actor's queue
            spin_us = 50            # idle spin before a worker sleeps
            io_actors = true        # near_io actors run on the I/O thread
            seed = 0                # random seed (0 = from the system)
            log_level = notice
        transport
            bind = 127.0.0.1:0      # host:port; 0 picks a free port; empty = client
            advertise =             # host:port peers use, if not the bind address
            max_frame = 16M         # larger frames are dropped and counted
            batch_bytes = 64K       # envelopes coalesced per frame
            outbox_limit = 64M      # bytes queued and not yet taken by ZeroMQ; then BUSY
            peer_backlog = 16M      # bytes held for one peer that is not reading
            sndhwm = 1000           # frames queued per peer in ZeroMQ
            linger_ms = 1000
            reconnect_ms = 100
            tcp_max_rt_ms = 5000    # unacknowledged this long: reset, remade
*/
#ifndef RUNTIME_RT_H
#define RUNTIME_RT_H

#include "runtime/actor.h"
#include "runtime/rtclock.h"

#include <czmq.h>

typedef struct {
    uint64_t frames_in;
    uint64_t frames_out;
    uint64_t envelopes_in;
    uint64_t envelopes_out;
    uint64_t dropped_bad;           //  frames/envelopes/payloads that did not decode
    uint64_t dropped_no_actor;      //  envelopes naming an unknown actor
    uint64_t dropped_too_large;
    uint64_t dropped_busy;          //  refused at a mailbox or outbox bound
    uint64_t dropped_unroutable;    //  peer gone or its queue full
    uint64_t expired;               //  requests dropped past their deadline
    uint64_t late_replies;          //  replies after their ask timed out
} rt_stats_t;

//  Start a runtime from config (NULL = defaults). Returns NULL on a bad
//  config value or if the transport cannot bind (logged).
rt_t *
    rt_new (zconfig_t *config);

//  Start a runtime from ZPL text built printf-style, e.g.
//  rt_newf ("runtime\n    workers = %d\n", 2). NULL as rt_new.
rt_t *
    rt_newf (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

//  Same, with a clock other than the system's (simulation, tests).
rt_t *
    rt_new_with_clock (zconfig_t *config, const rtclock_t *clock);

//  Stop every actor (fini runs), the transport and the threads; free all.
void
    rt_destroy (rt_t **self_p);

//  This node's address: "host:port", or "c-<hex>" for a client node.
const char *
    rt_node (rt_t *self);

const rtclock_t *
    rt_clock (rt_t *self);

//  Resolve "name" (local) or "node/name" (any node) to a reference, or
//  NULL if a local name is unknown or the address is malformed. A remote
//  reference always resolves; sends to it fail later if nobody is there.
actor_t *
    rt_lookup (rt_t *self, const char *address);

//  Blocking request for threads outside the runtime (tests, the shell):
//  sends *req_p to `to` and waits for the reply. Returns the reply's
//  status (or TIMEOUT...) and the reply in *reply_p (NULL if none). Not
//  for use inside an actor: it would block a worker (returns
//  INVALID_ARGUMENT).
int
    rt_call (rt_t *self, actor_t *to, msg_t **req_p, int64_t timeout_ms,
             msg_t **reply_p);

//  Fire-and-forget from outside the runtime.
int
    rt_send (rt_t *self, actor_t *to, msg_t **msg_p);

void
    rt_stats (rt_t *self, rt_stats_t *stats);

//  Calls fn for every live local actor (introspection). fn must not spawn
//  or stop actors.
void
    rt_foreach_actor (rt_t *self, void (*fn) (actor_t *actor, void *ctx), void *ctx);

//  The default mailbox bound (runtime/mailbox_limit).
int64_t
    rt_mailbox_limit (rt_t *self);

#endif
