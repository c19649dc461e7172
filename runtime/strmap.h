/*  strmap: hash map from strings or byte strings (copied in) to pointers.

    Same design as u64map (linear probing, backward-shift deletion); keys
    are copied and owned by the map (with a NUL after them, so string
    keys read back as strings). Not thread-safe.
*/
#ifndef RUNTIME_STRMAP_H
#define RUNTIME_STRMAP_H

#include <stddef.h>

typedef struct strmap_t strmap_t;

strmap_t *
    strmap_new (void);

void
    strmap_destroy (strmap_t **self_p);

//  Insert or replace; value must not be NULL. Returns 0 or -1 (no memory).
//  Replacing the value of a key already there never fails.
int
    strmap_put (strmap_t *self, const char *key, void *value);

//  Same, for a key of len bytes (which may hold NULs).
int
    strmap_putn (strmap_t *self, const void *key, size_t len, void *value);

void *
    strmap_get (strmap_t *self, const char *key);

//  Same, for a key that is not NUL-terminated.
void *
    strmap_getn (strmap_t *self, const void *key, size_t len);

//  Removes the key; its value, or NULL if it was not there.
void *
    strmap_take (strmap_t *self, const char *key);

void *
    strmap_taken (strmap_t *self, const void *key, size_t len);

size_t
    strmap_size (strmap_t *self);

//  Iterate from *cursor = 0; returns 0 with key/value, or -1 at the end.
int
    strmap_next (strmap_t *self, size_t *cursor, const char **key, void **value);

#endif
