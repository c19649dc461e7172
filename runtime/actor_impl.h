/*  actor_impl: the actor struct, private to runtime/. */
#ifndef RUNTIME_ACTOR_IMPL_H
#define RUNTIME_ACTOR_IMPL_H

#include "runtime/actor.h"
#include "runtime/dheap.h"
#include "runtime/mpscq.h"
#include "runtime/u64map.h"

#include <stdatomic.h>

typedef struct worker_t worker_t;

enum { ACTOR_LOCAL, ACTOR_REMOTE };
enum { LIFE_ALIVE, LIFE_DEAD };

struct actor_t {
    //  Mailbox; mailbox.count is the depth (pushes minus pops).
    mpscq_t mailbox;
    //  Written by senders and the scheduler.
    _Atomic int refs;
    _Atomic int life;
    mpscq_node_t rq_node;           //  run queue link
    _Atomic uint64_t sent;
    _Atomic uint64_t received;
    _Atomic uint64_t rejected;      //  messages refused at the bound
    _Atomic int muted;              //  1 while parked by backpressure
    _Atomic(struct mute_t *) muters; //  senders muted on this actor

    //  Fixed at spawn.
    int kind;                       //  ACTOR_LOCAL / ACTOR_REMOTE
    rt_t *rt;
    char *name;                     //  remote: the actor's name there
    char *node;                     //  remote: its node; local: NULL
    char *address;                  //  remote: "node/name"
    const actor_ops_t *ops;
    worker_t *home;                 //  pinned thread, or NULL; set by its own turn
    bool near_io;                   //  spawned near_io: may move (actor_move)
    int postponed;                  //  put back, not yet handled again (own turn)
    int64_t limit;

    //  Owned by the actor's turn: no other thread touches these.
    void *state;
    rtrand_t rand;
    u64map_t *pending;              //  corr -> pending_t
    dheap_t deadlines;              //  (deadline, corr) of pending asks
    int64_t sweep_due;              //  time of the armed sweep, 0 = none
    u64map_t *timers;               //  live timer ids
    uint64_t next_corr;
    uint64_t next_timer;
    bool exiting;
    bool dying;
    actor_t *mute_on;               //  an overloaded receiver we sent to
};

//  A muted sender waiting on a receiver (lock-free stack node).
typedef struct mute_t {
    struct mute_t *next;
    actor_t *sender;                //  a reference
} mute_t;

//  Scheduler entry: run one turn of an actor on worker w.
void
    actor_run (actor_t *self, worker_t *w);

//  Depths at which an actor counts as overloaded (its senders get muted)
//  and at which its muted senders are let go.
#define ACTOR_OVERLOADED(actor) ((actor)->limit >= 4 ? (actor)->limit / 2 : 1)
#define ACTOR_RELIEVED(actor)   ((actor)->limit >= 4 ? (actor)->limit / 4 : 1)

//  Transport entry: push a message from the network to a local actor,
//  honouring its bound unless bypass. Returns OK, BUSY or NO_ACTOR; on
//  failure the message is NOT consumed.
int
    actor_push (actor_t *self, msg_t *msg, bool bypass);

//  A reference to actor `name` on another node, or NULL (no memory).
actor_t *
    actor_proxy_new (rt_t *rt, const char *node, const char *name);


#endif
