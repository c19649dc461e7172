/*  overlay: see overlay.h. A strmap from stored key to the pending
    entry; an entry holds the value inline, then a copy of the key (so an
    undo can find the entry's slot again without a second allocation).

    Between overlay_begin and overlay_commit/overlay_rollback, a put does
    not free the entry it replaces: it records (new entry, old entry) in
    the undo list. Rollback walks that list backwards, putting each old
    entry back (replacing a key's value never allocates, so it cannot
    fail) or removing a key that had none; commit frees the old entries.
*/
#include "replica/overlay.h"
#include "runtime/strmap.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t decree;
    size_t len;
    size_t key_len;
    bool deleted;
    uint8_t value [];                   //  len value bytes, then the key
} entry_t;

typedef struct {
    entry_t *entry;                     //  put since overlay_begin
    entry_t *old;                       //  what it replaced, or NULL
} undo_t;

struct overlay_t {
    strmap_t *map;
    bool saving;                        //  between begin and commit/rollback
    undo_t *undo;
    size_t nundo;
    size_t undo_capacity;
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
    for (size_t i = 0; i < self->nundo; i++)
        free (self->undo [i].old);      //  replaced: no longer in the map
    free (self->undo);
    strmap_destroy (&self->map);
    free (self);
}

int
overlay_put (overlay_t *self, const uint8_t *key, size_t key_len,
             const uint8_t *value, size_t value_len, uint64_t decree)
{
    size_t len = value ? value_len : 0;
    if (self->saving && self->nundo == self->undo_capacity) {
        size_t capacity = self->undo_capacity ? self->undo_capacity * 2 : 16;
        undo_t *grown = realloc (self->undo, capacity * sizeof *grown);
        if (!grown)
            return -1;
        self->undo = grown;
        self->undo_capacity = capacity;
    }
    entry_t *entry = malloc (sizeof *entry + len + key_len);
    if (!entry)
        return -1;
    entry->decree = decree;
    entry->len = len;
    entry->key_len = key_len;
    entry->deleted = value == NULL;
    if (len)
        memcpy (entry->value, value, len);
    if (key_len)
        memcpy (entry->value + len, key, key_len);
    entry_t *old = strmap_getn (self->map, key, key_len);
    if (strmap_putn (self->map, key, key_len, entry)) {
        free (entry);
        return -1;
    }
    if (self->saving)
        self->undo [self->nundo++] = (undo_t) { entry, old };
    else
        free (old);
    return 0;
}

void
overlay_begin (overlay_t *self)
{
    assert (!self->saving && self->nundo == 0);
    self->saving = true;
}

void
overlay_commit (overlay_t *self)
{
    for (size_t i = 0; i < self->nundo; i++)
        free (self->undo [i].old);
    self->nundo = 0;
    self->saving = false;
}

void
overlay_rollback (overlay_t *self)
{
    for (size_t i = self->nundo; i-- > 0; ) {
        entry_t *entry = self->undo [i].entry;
        const uint8_t *key = entry->value + entry->len;
        if (self->undo [i].old) {
            int rc = strmap_putn (self->map, key, entry->key_len, self->undo [i].old);
            assert (rc == 0);           //  the key is there: a replace cannot fail
            (void) rc;
        }
        else
            strmap_taken (self->map, key, entry->key_len);
        free (entry);
    }
    self->nundo = 0;
    self->saving = false;
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
    //  A mutation is applied in a turn of its own, never inside a request
    //  that may still roll its entries back.
    assert (!self->saving);
    entry_t *entry = strmap_getn (self->map, key, key_len);
    if (entry && entry->decree == decree)
        free (strmap_taken (self->map, key, key_len));
}

size_t
overlay_size (overlay_t *self)
{
    return strmap_size (self->map);
}
