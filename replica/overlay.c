/*  overlay: see overlay.h. A strmap from stored key to the pending
    entry; an entry holds the value inline. */
#include "replica/overlay.h"
#include "runtime/strmap.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t decree;
    size_t len;
    bool deleted;
    uint8_t value [];
} entry_t;

struct overlay_t {
    strmap_t *map;
};

overlay_t *
overlay_new (void)
{
    overlay_t *self = calloc (1, sizeof *self);
    if (!self || !(self->map = strmap_new ())) {
        free (self);
        return NULL;
    }
    return self;
}

void
overlay_destroy (overlay_t **self_p)
{
    overlay_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    size_t cursor = 0;
    const char *key;
    void *value;
    while (strmap_next (self->map, &cursor, &key, &value) == 0)
        free (value);
    strmap_destroy (&self->map);
    free (self);
}

int
overlay_put (overlay_t *self, const uint8_t *key, size_t key_len,
             const uint8_t *value, size_t value_len, uint64_t decree)
{
    size_t len = value ? value_len : 0;
    entry_t *entry = malloc (sizeof *entry + len);
    if (!entry)
        return -1;
    entry->decree = decree;
    entry->len = len;
    entry->deleted = value == NULL;
    if (len)
        memcpy (entry->value, value, len);
    entry_t *old = strmap_getn (self->map, key, key_len);
    if (strmap_putn (self->map, key, key_len, entry)) {
        free (entry);
        return -1;
    }
    free (old);
    return 0;
}

int
overlay_get (overlay_t *self, const uint8_t *key, size_t key_len,
             const uint8_t **value, size_t *value_len)
{
    if (!strmap_size (self->map))
        return 0;
    entry_t *entry = strmap_getn (self->map, key, key_len);
    if (!entry)
        return 0;
    *value = entry->deleted ? NULL : entry->value;
    *value_len = entry->len;
    return 1;
}

void
overlay_applied (overlay_t *self, const uint8_t *key, size_t key_len, uint64_t decree)
{
    if (!strmap_size (self->map))
        return;
    entry_t *entry = strmap_getn (self->map, key, key_len);
    if (entry && entry->decree == decree)
        free (strmap_taken (self->map, key, key_len));
}

size_t
overlay_size (overlay_t *self)
{
    return strmap_size (self->map);
}
