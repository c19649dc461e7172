/*  actor: the unit of concurrency.

    An actor is private state, one receive function and a mailbox. Actors
    never share mutable state; they send messages. The runtime runs each
    actor on one thread at a time, so its state needs no lock, and hands a
    worker at most `runtime/batch` messages of one actor per turn.

    Writing an actor:

        static int
        counter_init (actor_t *self, void *args)
        {
            counter_t *state = calloc (1, sizeof *state);
            if (!state)
                return -1;                      //  spawn fails
            actor_set_state (self, state);
            return 0;
        }

        static void
        counter_receive (actor_t *self, msg_t **msg_p)
        {
            counter_t *state = actor_state (self);
            if (msg_is (*msg_p, &pg__ping__descriptor)) {
                state->count++;
                if (msg_is_request (*msg_p))
                    actor_reply (self, *msg_p, ...);
            }
        }                                       //  runtime frees *msg_p

        static void
        counter_fini (actor_t *self)
        {
            free (actor_state (self));
        }

        static const actor_ops_t counter_ops = {
            "counter", counter_init, counter_receive, counter_fini
        };

        actor_t *counter = actor_spawn (rt, "counter", &counter_ops, NULL, NULL);

    Ownership: receive gets msg_t **; if it leaves the message there, the
    runtime destroys it after receive returns; to keep it (to reply later,
    or to forward it) take it and set *msg_p = NULL. Every function taking
    msg_t ** takes ownership, whatever it returns.

    Time, timers and randomness come from the runtime (actor_now_ms,
    actor_send_after, actor_random), never from the system, so a cluster
    can run on a simulated clock.
*/
#ifndef RUNTIME_ACTOR_H
#define RUNTIME_ACTOR_H

#include "runtime/msg.h"
#include "runtime/rtrand.h"
#include "runtime/status.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct rt_t rt_t;

typedef struct {
    const char *kind;                                   //  shown in introspection
    //  Runs on the spawning thread before actor_spawn returns; 0, or -1 to
    //  refuse the spawn. Keep it quick: blocking set-up belongs in a first
    //  message the actor sends itself.
    int (*init) (actor_t *self, void *args);
    void (*receive) (actor_t *self, msg_t **msg_p);
    //  Runs on the actor's thread when it stops; may be NULL.
    void (*fini) (actor_t *self);
} actor_ops_t;

typedef struct {
    //  Run on a pinned thread instead of the shared workers: for actors
    //  that block (fsync, big RocksDB calls, file copies).
    bool pinned;
    //  Pinned, and alone on its thread when one is free: for an actor
    //  others must never wait behind (the log's fsync). With no free
    //  pinned thread it shares the least loaded one (and says so).
    bool exclusive;
    //  Pinned to the transport's I/O thread when the runtime lets actors
    //  run there (runtime/io_actors), else to a pinned thread as above: for
    //  actors that mostly answer the network and whose turns are short
    //  (the partitions). It saves two thread switches per message, and
    //  costs the node's network a stall while such an actor's turn lasts.
    bool near_io;
    //  Bound on queued messages; 0 = runtime/mailbox_limit.
    int64_t mailbox_limit;
} actor_opts_t;

//  From the actor's own turn, for an actor spawned near_io: move to a
//  pinned thread of its own kind (blocking) before a call that may block
//  for long (a flush, opening a database), so the node's network does not
//  wait behind it, and back near I/O (!blocking) after. True if its thread
//  changed: the turn ends with this message and the next runs on the new
//  thread. False, and nothing changes, if it is already there or the
//  runtime keeps no actors on the I/O thread.
bool
    actor_move (actor_t *self, bool blocking);

//  From the actor's own turn: puts the message being handled back at the
//  end of its own mailbox, unchanged (sender, correlation, deadline), to
//  be handled again later, typically after actor_move.
void
    actor_postpone (actor_t *self, msg_t **msg_p);

//  From the actor's own turn: messages it postponed that have not come
//  back yet (handled, expired or dropped).
int
    actor_postponed (actor_t *self);

//  The kind of bodiless messages: error replies, empty OK replies.
extern const msg_kind_t actor_kind_empty;

//  Reply callback of actor_ask: runs on the asking actor's thread with the
//  reply, or a bodiless message whose status is TIMEOUT, BUSY, NO_ACTOR,
//  UNREACHABLE or SHUTDOWN. Takes ownership as receive does.
typedef void (actor_reply_fn) (actor_t *self, msg_t **reply_p, void *arg);

//  Spawn a local actor named `name` (1..128 of [A-Za-z0-9._:-], unique on
//  this node). Returns after init ran, with a reference the caller must
//  release (actor_stop or actor_unref), or NULL if the name is taken or
//  invalid, init refused, or the runtime is stopping (logged).
actor_t *
    actor_spawn (rt_t *rt, const char *name, const actor_ops_t *ops,
                 void *args, const actor_opts_t *opts);

//  Stop an actor and release the caller's reference. Called from outside
//  the runtime's threads it returns after the actor's fini ran (and its
//  name is free again); called from an actor it returns at once and the
//  stop happens after messages already queued. Messages that reach a
//  stopped actor are dropped; requests among them get NO_ACTOR.
void
    actor_stop (actor_t **self_p);

//  Stop the calling actor after the current message.
void
    actor_exit (actor_t *self);

actor_t *
    actor_ref (actor_t *self);

void
    actor_unref (actor_t **self_p);

void
    actor_set_state (actor_t *self, void *state);

void *
    actor_state (actor_t *self);

//  Local actors: the name. Remote: "node/name".
const char *
    actor_name (actor_t *self);

rt_t *
    actor_rt (actor_t *self);

bool
    actor_is_remote (actor_t *self);

//  Send a one-way message (tell). self is the sending actor, or NULL from
//  outside any actor. Returns PG__STATUS__OK, or BUSY (the receiver is at
//  its bound: the message was dropped), NO_ACTOR, INVALID_ARGUMENT (a
//  local-only kind sent to another node). The message is consumed either
//  way.
int
    actor_send (actor_t *self, actor_t *to, msg_t **msg_p);

//  Send a request; exactly one call of cb follows if this returns OK: the
//  reply, or a TIMEOUT after timeout_ms (> 0). If this returns non-OK, cb
//  is never called. self must be the calling actor.
int
    actor_ask (actor_t *self, actor_t *to, msg_t **req_p, int64_t timeout_ms,
               actor_reply_fn *cb, void *arg);

//  Reply to a request (the request stays owned by the caller). The reply's
//  status is whatever msg_set_status put there (OK by default).
int
    actor_reply (actor_t *self, msg_t *request, msg_t **reply_p);

//  Reply with a status and a message and no payload.
int
    actor_reply_error (actor_t *self, msg_t *request, int status,
                       const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));

//  Timer: deliver msg to self after delay_ms. Returns a timer id for
//  actor_cancel, or 0 on failure (msg consumed either way).
uint64_t
    actor_send_after (actor_t *self, int64_t delay_ms, msg_t **msg_p);

//  From the actor's own turn: work that many events ask for, done once. A
//  bodiless message of `kind` to self after delay_ms (0: behind what is
//  queued now), unless *pending says one is on its way; sets *pending,
//  which the handler of `kind` clears. Returns *pending (false: nothing
//  could be sent; the next call tries again).
bool
    actor_wake (actor_t *self, const msg_kind_t *kind, int64_t delay_ms, bool *pending);

//  Cancel a timer; its message will not be delivered. Unknown or already
//  fired ids are ignored.
void
    actor_cancel (actor_t *self, uint64_t timer_id);

//  Runtime time: monotonic ms for durations, wall ms for stamps.
int64_t
    actor_now_ms (actor_t *self);

int64_t
    actor_wall_ms (actor_t *self);

//  The actor's own deterministic random source.
rtrand_t *
    actor_random (actor_t *self);

//  The sender of a message as a reference to reply to later or keep (new
//  reference), or NULL if it came from outside any actor.
actor_t *
    actor_sender (actor_t *self, msg_t *msg);

//  Introspection snapshot of one actor.
typedef struct {
    const char *name;
    const char *kind;
    int64_t mailbox_depth;
    uint64_t received;
    uint64_t sent;
    uint64_t busy_rejects;
    bool pinned;
    char thread [16];                   //  "shared", "io" or "pinned-N"
} actor_info_t;

void
    actor_info (actor_t *self, actor_info_t *info);

#endif
