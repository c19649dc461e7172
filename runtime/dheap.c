/*  dheap: see dheap.h. */
#include "runtime/dheap.h"

#include <stdlib.h>

static inline bool
s_before (const dheap_item_t *a, const dheap_item_t *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void
s_sift_down (dheap_t *self, size_t i)
{
    for (;;) {
        size_t left = 2 * i + 1, best = i;
        if (left < self->size && s_before (&self->items [left], &self->items [best]))
            best = left;
        if (left + 1 < self->size && s_before (&self->items [left + 1], &self->items [best]))
            best = left + 1;
        if (best == i)
            return;
        dheap_item_t tmp = self->items [i];
        self->items [i] = self->items [best];
        self->items [best] = tmp;
        i = best;
    }
}

void
dheap_init (dheap_t *self)
{
    self->items = NULL;
    self->size = self->capacity = 0;
    self->seq = 0;
}

void
dheap_fini (dheap_t *self)
{
    free (self->items);
    dheap_init (self);
}

int
dheap_push (dheap_t *self, int64_t due, uint64_t value)
{
    if (self->size == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 64;
        dheap_item_t *items = realloc (self->items, capacity * sizeof *items);
        if (!items)
            return -1;
        self->items = items;
        self->capacity = capacity;
    }
    size_t i = self->size++;
    dheap_item_t item = { due, self->seq++, value };
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!s_before (&item, &self->items [parent]))
            break;
        self->items [i] = self->items [parent];
        i = parent;
    }
    self->items [i] = item;
    return 0;
}

bool
dheap_pop (dheap_t *self, dheap_item_t *item)
{
    if (!self->size)
        return false;
    *item = self->items [0];
    self->items [0] = self->items [--self->size];
    s_sift_down (self, 0);
    return true;
}

void
dheap_filter (dheap_t *self, bool (*keep) (uint64_t value, void *ctx), void *ctx)
{
    size_t kept = 0;
    for (size_t i = 0; i < self->size; i++)
        if (keep (self->items [i].value, ctx))
            self->items [kept++] = self->items [i];
    self->size = kept;
    for (size_t i = kept / 2; i-- > 0;)
        s_sift_down (self, i);
}
