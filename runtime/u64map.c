/*  u64map: see u64map.h. */
#include "runtime/u64map.h"
#include "runtime/hash.h"

#include <stdbool.h>
#include <stdlib.h>

typedef struct {
    uint64_t key;
    void *value;                //  NULL = empty slot
} slot_t;

struct u64map_t {
    slot_t *slots;
    size_t mask;                //  capacity - 1, capacity a power of two
    size_t size;
};

u64map_t *
u64map_new (void)
{
    u64map_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->slots = calloc (16, sizeof (slot_t));
    if (!self->slots) {
        free (self);
        return NULL;
    }
    self->mask = 15;
    return self;
}

void
u64map_destroy (u64map_t **self_p)
{
    if (*self_p) {
        free ((*self_p)->slots);
        free (*self_p);
        *self_p = NULL;
    }
}

static int
s_grow (u64map_t *self)
{
    size_t capacity = (self->mask + 1) * 2;
    slot_t *slots = calloc (capacity, sizeof (slot_t));
    if (!slots)
        return -1;
    for (size_t i = 0; i <= self->mask; i++) {
        slot_t *old = &self->slots [i];
        if (!old->value)
            continue;
        size_t j = hash_u64 (old->key) & (capacity - 1);
        while (slots [j].value)
            j = (j + 1) & (capacity - 1);
        slots [j] = *old;
    }
    free (self->slots);
    self->slots = slots;
    self->mask = capacity - 1;
    return 0;
}

int
u64map_put (u64map_t *self, uint64_t key, void *value)
{
    if ((self->size + 1) * 4 > (self->mask + 1) * 3 && s_grow (self))
        return -1;
    size_t i = hash_u64 (key) & self->mask;
    while (self->slots [i].value) {
        if (self->slots [i].key == key) {
            self->slots [i].value = value;
            return 0;
        }
        i = (i + 1) & self->mask;
    }
    self->slots [i].key = key;
    self->slots [i].value = value;
    self->size++;
    return 0;
}

void *
u64map_get (u64map_t *self, uint64_t key)
{
    size_t i = hash_u64 (key) & self->mask;
    while (self->slots [i].value) {
        if (self->slots [i].key == key)
            return self->slots [i].value;
        i = (i + 1) & self->mask;
    }
    return NULL;
}

void *
u64map_take (u64map_t *self, uint64_t key)
{
    size_t i = hash_u64 (key) & self->mask;
    while (self->slots [i].value && self->slots [i].key != key)
        i = (i + 1) & self->mask;
    void *value = self->slots [i].value;
    if (!value)
        return NULL;
    //  Backward shift: pull later entries of the probe run into the hole
    //  when their home slot does not lie cyclically in (hole, j].
    size_t hole = i;
    size_t j = i;
    for (;;) {
        j = (j + 1) & self->mask;
        if (!self->slots [j].value)
            break;
        size_t home = hash_u64 (self->slots [j].key) & self->mask;
        bool movable = hole <= j ? (home <= hole || home > j)
                                 : (home <= hole && home > j);
        if (movable) {
            self->slots [hole] = self->slots [j];
            hole = j;
        }
    }
    self->slots [hole].value = NULL;
    self->size--;
    return value;
}

size_t
u64map_size (u64map_t *self)
{
    return self->size;
}

void
u64map_clear (u64map_t *self, void (*free_value) (void *))
{
    for (size_t i = 0; i <= self->mask; i++) {
        if (self->slots [i].value && free_value)
            free_value (self->slots [i].value);
        self->slots [i] = (slot_t) { 0, NULL };
    }
    self->size = 0;
}

int
u64map_next (u64map_t *self, size_t *cursor, uint64_t *key, void **value)
{
    while (*cursor <= self->mask) {
        slot_t *slot = &self->slots [(*cursor)++];
        if (slot->value) {
            *key = slot->key;
            *value = slot->value;
            return 0;
        }
    }
    return -1;
}
