/*  overlay: see overlay.h. Open addressing over byte-string keys with
    backward-shift deletion, like runtime/strmap but for binary keys. */
#include "replica/overlay.h"
#include "runtime/hash.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t *key;                       //  NULL = empty slot; key then value
    size_t key_len;
    size_t value_len;
    bool deleted;
    uint64_t hash;
    uint64_t decree;
} slot_t;

struct overlay_t {
    slot_t *slots;
    size_t mask;
    size_t size;
};

overlay_t *
overlay_new (void)
{
    overlay_t *self = calloc (1, sizeof *self);
    if (!self || !(self->slots = calloc (64, sizeof (slot_t)))) {
        free (self);
        return NULL;
    }
    self->mask = 63;
    return self;
}

void
overlay_destroy (overlay_t **self_p)
{
    overlay_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    for (size_t i = 0; i <= self->mask; i++)
        free (self->slots [i].key);
    free (self->slots);
    free (self);
}

static size_t
s_find (overlay_t *self, const uint8_t *key, size_t len, uint64_t hash)
{
    size_t i = hash & self->mask;
    while (self->slots [i].key) {
        slot_t *slot = &self->slots [i];
        if (slot->hash == hash && slot->key_len == len && !memcmp (slot->key, key, len))
            return i;
        i = (i + 1) & self->mask;
    }
    return i;
}

static int
s_grow (overlay_t *self)
{
    size_t capacity = (self->mask + 1) * 2;
    slot_t *slots = calloc (capacity, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i <= self->mask; i++) {
        if (!self->slots [i].key)
            continue;
        size_t j = self->slots [i].hash & (capacity - 1);
        while (slots [j].key)
            j = (j + 1) & (capacity - 1);
        slots [j] = self->slots [i];
    }
    free (self->slots);
    self->slots = slots;
    self->mask = capacity - 1;
    return 0;
}

int
overlay_put (overlay_t *self, const uint8_t *key, size_t key_len,
             const uint8_t *value, size_t value_len, uint64_t decree)
{
    if ((self->size + 1) * 4 > (self->mask + 1) * 3 && s_grow (self))
        return -1;
    uint64_t hash = hash_bytes (key, key_len);
    size_t i = s_find (self, key, key_len, hash);
    slot_t *slot = &self->slots [i];
    uint8_t *copy = malloc (key_len + (value ? value_len : 0) + 1);
    if (!copy)
        return -1;
    memcpy (copy, key, key_len);
    if (value && value_len)
        memcpy (copy + key_len, value, value_len);
    if (slot->key)
        free (slot->key);
    else
        self->size++;
    slot->key = copy;
    slot->key_len = key_len;
    slot->value_len = value ? value_len : 0;
    slot->deleted = value == NULL;
    slot->hash = hash;
    slot->decree = decree;
    return 0;
}

int
overlay_get (overlay_t *self, const uint8_t *key, size_t key_len,
             const uint8_t **value, size_t *value_len)
{
    if (!self->size)
        return 0;
    size_t i = s_find (self, key, key_len, hash_bytes (key, key_len));
    slot_t *slot = &self->slots [i];
    if (!slot->key)
        return 0;
    *value = slot->deleted ? NULL : slot->key + slot->key_len;
    *value_len = slot->value_len;
    return 1;
}

void
overlay_applied (overlay_t *self, const uint8_t *key, size_t key_len, uint64_t decree)
{
    if (!self->size)
        return;
    size_t i = s_find (self, key, key_len, hash_bytes (key, key_len));
    if (!self->slots [i].key || self->slots [i].decree != decree)
        return;
    free (self->slots [i].key);
    size_t hole = i, j = i;
    for (;;) {
        j = (j + 1) & self->mask;
        if (!self->slots [j].key)
            break;
        size_t home = self->slots [j].hash & self->mask;
        bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            self->slots [hole] = self->slots [j];
            hole = j;
        }
    }
    self->slots [hole].key = NULL;
    self->size--;
}

size_t
overlay_size (overlay_t *self)
{
    return self->size;
}
