/*  mpscq: see mpscq.h.

    Memory ordering, in one place:
    - push: the exchange on head is seq_cst. Release publishes the node's
      contents to whoever later reads head; acquire pairs with the
      consumer's release in mpscq_park, so the pusher that unparks (and then
      schedules the consumer) sees everything the consumer wrote before it
      parked. Sequential consistency (free on x86, where any xchg is a full
      barrier) lets the scheduler's sleep protocol pair a push with a later
      load of a worker's sleeping flag, Dekker-style: see sched.c. The link store prev->next is release and pairs with the
      consumer's acquire load of next: that is how a node's payload becomes
      visible to the consumer.
    - pop: loads of next are acquire (above). tail is the consumer's own.
    - park: a CAS head == stub -> stub|1, acq_rel, succeeding only when the
      stub is the last node, i.e. the queue is empty.
*/
#include "runtime/mpscq.h"

#include <stddef.h>

#define PARKED ((uintptr_t) 1)

void
mpscq_init (mpscq_t *self, bool parked)
{
    atomic_store_explicit (&self->stub.next, NULL, memory_order_relaxed);
    atomic_store_explicit (&self->count, 0, memory_order_relaxed);
    self->tail = &self->stub;
    atomic_store_explicit (&self->head,
                           (uintptr_t) &self->stub | (parked ? PARKED : 0),
                           memory_order_release);
}

bool
mpscq_push (mpscq_t *self, mpscq_node_t *node)
{
    atomic_store_explicit (&node->next, NULL, memory_order_relaxed);
    uintptr_t prev = atomic_exchange_explicit (&self->head, (uintptr_t) node,
                                               memory_order_seq_cst);
    mpscq_node_t *prev_node = (mpscq_node_t *) (prev & ~PARKED);
    atomic_store_explicit (&prev_node->next, node, memory_order_release);
    return (prev & PARKED) != 0;
}

mpscq_node_t *
mpscq_pop (mpscq_t *self)
{
    mpscq_node_t *tail = self->tail;
    mpscq_node_t *next = atomic_load_explicit (&tail->next, memory_order_acquire);
    if (tail == &self->stub) {
        if (next == NULL)
            return NULL;
        self->tail = next;
        tail = next;
        next = atomic_load_explicit (&next->next, memory_order_acquire);
    }
    if (next) {
        self->tail = next;
        return tail;
    }
    //  tail is the last node we can see. If head moved past it, a producer
    //  has exchanged head but not linked yet: come back later.
    uintptr_t head = atomic_load_explicit (&self->head, memory_order_acquire);
    if ((mpscq_node_t *) head != tail)
        return NULL;
    //  tail is the only node: put the stub behind it so tail can leave.
    //  The consumer is running, so head carries no parked bit here.
    mpscq_push (self, &self->stub);
    next = atomic_load_explicit (&tail->next, memory_order_acquire);
    if (next) {
        self->tail = next;
        return tail;
    }
    return NULL;
}

bool
mpscq_park (mpscq_t *self)
{
    //  If head is the stub, the stub is the last node and tail is the stub
    //  too (pop always steps over a stub it pushed), so the queue is empty.
    //  Parking a parked queue succeeds (a consumer like the transport's
    //  I/O thread may look again without anything having been pushed).
    uintptr_t expected = (uintptr_t) &self->stub;
    if (atomic_compare_exchange_strong_explicit (&self->head, &expected, expected | PARKED,
                                                 memory_order_acq_rel, memory_order_acquire))
        return true;
    return expected == ((uintptr_t) &self->stub | PARKED);
}

bool
mpscq_empty (mpscq_t *self)
{
    uintptr_t head = atomic_load_explicit (&self->head, memory_order_seq_cst);
    return (mpscq_node_t *) (head & ~PARKED) == &self->stub;
}
