/*  strmap: see strmap.h. */
#include "runtime/strmap.h"
#include "runtime/hash.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *key;                  //  NULL = empty slot
    size_t len;
    uint64_t hash;
    void *value;
} slot_t;

struct strmap_t {
    slot_t *slots;
    size_t mask;
    size_t size;
};

strmap_t *
strmap_new (void)
{
    strmap_t *self = calloc (1, sizeof *self);
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
strmap_destroy (strmap_t **self_p)
{
    strmap_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i <= self->mask; i++)
        free (self->slots [i].key);
    free (self->slots);
    free (self);
    *self_p = NULL;
}

static int
s_grow (strmap_t *self)
{
    size_t capacity = (self->mask + 1) * 2;
    slot_t *slots = calloc (capacity, sizeof (slot_t));
    if (!slots)
        return -1;
    for (size_t i = 0; i <= self->mask; i++) {
        slot_t *old = &self->slots [i];
        if (!old->key)
            continue;
        size_t j = old->hash & (capacity - 1);
        while (slots [j].key)
            j = (j + 1) & (capacity - 1);
        slots [j] = *old;
    }
    free (self->slots);
    self->slots = slots;
    self->mask = capacity - 1;
    return 0;
}

static size_t
s_find (strmap_t *self, const void *key, size_t len, uint64_t hash)
{
    size_t i = hash & self->mask;
    while (self->slots [i].key) {
        slot_t *slot = &self->slots [i];
        if (slot->hash == hash && slot->len == len && !memcmp (slot->key, key, len))
            return i;
        i = (i + 1) & self->mask;
    }
    return i;
}

int
strmap_put (strmap_t *self, const char *key, void *value)
{
    return strmap_putn (self, key, strlen (key), value);
}

int
strmap_putn (strmap_t *self, const void *key, size_t len, void *value)
{
    //  Look before growing: replacing a value never allocates, so it never
    //  fails (an undo that puts an old value back relies on it).
    uint64_t hash = hash_bytes (key, len);
    size_t i = s_find (self, key, len, hash);
    if (self->slots [i].key) {
        self->slots [i].value = value;
        return 0;
    }
    if ((self->size + 1) * 4 > (self->mask + 1) * 3) {
        if (s_grow (self))
            return -1;
        i = s_find (self, key, len, hash);
    }
    slot_t *slot = &self->slots [i];
    slot->key = malloc (len + 1);
    if (!slot->key)
        return -1;
    memcpy (slot->key, key, len);
    slot->key [len] = 0;
    slot->len = len;
    slot->hash = hash;
    slot->value = value;
    self->size++;
    return 0;
}

void *
strmap_getn (strmap_t *self, const void *key, size_t len)
{
    size_t i = s_find (self, key, len, hash_bytes (key, len));
    return self->slots [i].key ? self->slots [i].value : NULL;
}

void *
strmap_get (strmap_t *self, const char *key)
{
    return strmap_getn (self, key, strlen (key));
}

void *
strmap_take (strmap_t *self, const char *key)
{
    return strmap_taken (self, key, strlen (key));
}

void *
strmap_taken (strmap_t *self, const void *key, size_t len)
{
    size_t i = s_find (self, key, len, hash_bytes (key, len));
    if (!self->slots [i].key)
        return NULL;
    void *value = self->slots [i].value;
    free (self->slots [i].key);
    size_t hole = i;
    size_t j = i;
    for (;;) {
        j = (j + 1) & self->mask;
        if (!self->slots [j].key)
            break;
        size_t home = self->slots [j].hash & self->mask;
        bool movable = hole <= j ? (home <= hole || home > j)
                                 : (home <= hole && home > j);
        if (movable) {
            self->slots [hole] = self->slots [j];
            hole = j;
        }
    }
    self->slots [hole].key = NULL;
    self->slots [hole].value = NULL;
    self->size--;
    return value;
}

size_t
strmap_size (strmap_t *self)
{
    return self->size;
}

int
strmap_next (strmap_t *self, size_t *cursor, const char **key, void **value)
{
    while (*cursor <= self->mask) {
        slot_t *slot = &self->slots [(*cursor)++];
        if (slot->key) {
            *key = slot->key;
            *value = slot->value;
            return 0;
        }
    }
    return -1;
}
