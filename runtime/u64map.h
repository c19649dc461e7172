/*  u64map: open-addressing hash map from uint64_t keys to pointers.

    Linear probing with backward-shift deletion (no tombstones, so a map
    with heavy churn, like pending requests, never degrades). Not
    thread-safe: each map belongs to one actor or one thread.
*/
#ifndef RUNTIME_U64MAP_H
#define RUNTIME_U64MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct u64map_t u64map_t;

u64map_t *
    u64map_new (void);

void
    u64map_destroy (u64map_t **self_p);

//  Insert or replace. Returns 0, or -1 if out of memory. value must not
//  be NULL (NULL means "absent" in lookups).
int
    u64map_put (u64map_t *self, uint64_t key, void *value);

void *
    u64map_get (u64map_t *self, uint64_t key);

//  Remove and return the value, or NULL if absent.
void *
    u64map_take (u64map_t *self, uint64_t key);

size_t
    u64map_size (u64map_t *self);

//  Empties the map, keeping its capacity; each value goes to free_value
//  first unless that is NULL.
void
    u64map_clear (u64map_t *self, void (*free_value) (void *));

//  Iterate: *cursor starts at 0; returns 0 and sets key/value, or -1 at
//  the end. The map must not change during iteration.
int
    u64map_next (u64map_t *self, size_t *cursor, uint64_t *key, void **value);

#endif
