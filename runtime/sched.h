/*  sched: worker threads, run queues, timers, pinned threads.

    M:N scheduling: many actors over `runtime/workers` threads. Each worker
    owns a lock-free run queue of actors; an actor made runnable by a send
    goes to the sending worker's queue (the receiver runs where its message
    is hot in cache), or round-robin from other threads. An idle worker
    asks the busiest worker for an actor (a steal request the victim serves
    between turns, so run queues stay single-consumer) and then sleeps.

    Pinned threads each run only the actors bound to them: blocking work
    never stalls a shared worker. Each thread keeps its own timer heap;
    timers set from other threads arrive through a lock-free inbox.

    The host is a pinned worker without a thread of its own: the transport's
    I/O thread runs its actors between two polls (sched_host_*). An actor
    there receives from the network and sends to it without waking another
    thread, which saves two thread switches per message it handles.
*/
#ifndef RUNTIME_SCHED_H
#define RUNTIME_SCHED_H

#include "runtime/actor_impl.h"

#include <stdbool.h>

typedef struct sched_t sched_t;

typedef struct {
    int workers;                    //  shared worker threads (>= 1)
    int pinned;                     //  pinned threads (>= 0)
    int batch;                      //  messages per actor turn
    int spin_us;                    //  idle spin before sleeping
    //  Non-NULL: keep a host worker, woken by calling host_wake (host_arg).
    void (*host_wake) (void *arg);
    void *host_arg;
} sched_config_t;

sched_t *
    sched_new (rt_t *rt, const sched_config_t *config);

//  Stops and joins every thread, after running what is still queued
//  (dead actors draining their mailboxes) and dropping pending timers.
void
    sched_destroy (sched_t **self_p);

//  The actor's mailbox was just unparked: queue it to run. The caller has
//  taken the reference the run queue holds.
void
    sched_schedule (sched_t *self, actor_t *actor);

//  From actor_run: the actor has more messages after its turn.
void
    sched_requeue (worker_t *w, actor_t *actor);

//  A pinned thread for a new pinned actor, or NULL if the runtime has
//  none. Near I/O: the host, if there is one. Shared: the least loaded
//  thread not reserved. Exclusive: a thread with no actor, reserved until
//  its actor goes; *alone says whether one was free (if not, the least
//  loaded thread is shared). The host is never exclusive.
worker_t *
    sched_pinned_thread (sched_t *self, bool exclusive, bool near_io, bool *alone);

//  Release a pinned thread's slot when its actor is freed.
void
    sched_unpin (worker_t *w);

//  Where actors bound to w run, for introspection: "shared" (w NULL), "io"
//  (the host) or "pinned-N".
void
    sched_thread_label (worker_t *w, char *out, size_t size);

//  The host worker, or NULL if the runtime keeps none.
worker_t *
    sched_host (sched_t *self);

//  On the thread that drives the host, before and after its loop.
void
    sched_host_enter (worker_t *host);
void
    sched_host_leave (worker_t *host);

//  Fires due timers and runs up to `turns` actor turns. True if actors are
//  still queued.
bool
    sched_host_run (worker_t *host, int turns);

//  Before the driving thread blocks for at most max_ms: marks the host
//  asleep, so that a schedule calls host_wake, and returns how long it may
//  block (0 if work is already waiting, else up to the next timer, and
//  never more than one wait slice: see WAIT_SLICE_NS in sched.c).
int
    sched_host_sleep (worker_t *host, int max_ms);

//  After the block, whatever woke it.
void
    sched_host_awake (worker_t *host);

//  Arm a timer: msg is delivered to msg->from (a reference the timer
//  owns) at msg->deadline_ns on the runtime clock. Takes ownership.
void
    sched_add_timer (sched_t *self, msg_t *msg);

//  True if the calling thread is one of this scheduler's threads.
bool
    sched_is_own_thread (sched_t *self);

//  The actor whose turn is running on this thread, or NULL.
actor_t *
    sched_current (void);

void
    sched_set_current (actor_t *actor);

//  Batch size: messages per turn.
int
    sched_batch (sched_t *self);

//  Number of sleeping workers (for tests and introspection).
int
    sched_sleepers (sched_t *self);

#endif
