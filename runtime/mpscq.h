/*  mpscq: intrusive, lock-free, multi-producer single-consumer queue.

    Used for actor mailboxes, worker run queues and the transport outbox.
    Any thread may push; only the queue's consumer pops or parks it.

    The queue can be "parked": a bit on the head pointer saying its consumer
    is idle and nobody has scheduled it. The push that finds the bit set
    clears it and reports so, and that pusher alone must schedule the
    consumer. One atomic exchange per push both enqueues and decides who
    schedules: no flag, no lock, no double scheduling (Pony's trick, on a
    Vyukov queue with a stub node so the consumer owns what it pops).
*/
#ifndef RUNTIME_MPSCQ_H
#define RUNTIME_MPSCQ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct mpscq_node_t {
    _Atomic(struct mpscq_node_t *) next;
} mpscq_node_t;

typedef struct {
    //  Producers' end: the last pushed node, low bit = parked. Own cache
    //  line, so producers do not bounce the consumer's line.
    _Alignas(64) _Atomic(uintptr_t) head;
    //  A counter for the queue's user (mailbox depth, run queue length),
    //  kept here because producers update it right after their exchange on
    //  head, so the line is already theirs. mpscq itself never touches it.
    _Atomic int64_t count;
    //  Consumer's end: next node to pop, or the stub.
    _Alignas(64) mpscq_node_t *tail;
    mpscq_node_t stub;
} mpscq_t;

//  Initialise an empty queue, parked or active.
void
    mpscq_init (mpscq_t *self, bool parked);

//  Push a node. Returns true if the queue was parked: the caller must now
//  schedule the consumer.
bool
    mpscq_push (mpscq_t *self, mpscq_node_t *node);

//  Consumer only. Pop the oldest node, or NULL if the queue is empty or a
//  producer is between its two steps (then the queue is not empty and a
//  later pop will see the node; mpscq_park will fail meanwhile).
mpscq_node_t *
    mpscq_pop (mpscq_t *self);

//  Consumer only. Park the queue if it is empty. Returns true if parked
//  (the next push will report it; parking twice is harmless), false if
//  something is queued.
bool
    mpscq_park (mpscq_t *self);

//  Any thread: true if nothing is queued (a racy snapshot).
bool
    mpscq_empty (mpscq_t *self);

#endif
