/*  dheap: binary min-heap of (due time, value), FIFO among equal times.

    Backs the per-worker timer heaps and each actor's request deadlines.
    Not thread-safe: one owner.
*/
#ifndef RUNTIME_DHEAP_H
#define RUNTIME_DHEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int64_t due;
    uint64_t seq;
    uint64_t value;
} dheap_item_t;

typedef struct {
    dheap_item_t *items;
    size_t size;
    size_t capacity;
    uint64_t seq;
} dheap_t;

void
    dheap_init (dheap_t *self);

void
    dheap_fini (dheap_t *self);

//  Returns 0, or -1 if out of memory.
int
    dheap_push (dheap_t *self, int64_t due, uint64_t value);

//  The earliest item, or NULL if empty.
static inline const dheap_item_t *
dheap_peek (const dheap_t *self)
{
    return self->size ? &self->items [0] : NULL;
}

//  Removes the earliest item into *item; false if empty.
bool
    dheap_pop (dheap_t *self, dheap_item_t *item);

//  Keeps only items for which keep(value, ctx) is true, then re-heapifies.
//  Used to drop entries of answered requests in one O(n) pass.
void
    dheap_filter (dheap_t *self, bool (*keep) (uint64_t value, void *ctx), void *ctx);

#endif
