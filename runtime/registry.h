/*  registry: this node's actors by name.

    A mutex guards the map: spawn, stop and lookups by name are rare next to
    sends, which go through references. The transport's I/O thread keeps
    its own cache of references and re-validates it when `gen` (bumped on
    every removal) changes.
*/
#ifndef RUNTIME_REGISTRY_H
#define RUNTIME_REGISTRY_H

#include "runtime/actor.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct registry_t registry_t;

registry_t *
    registry_new (void);

void
    registry_destroy (registry_t **self_p);

//  True if name is 1..128 bytes of [A-Za-z0-9._:-].
bool
    registry_valid_name (const char *name, size_t len);

//  Adds actor under its name, taking a reference. -1 if the name is taken.
int
    registry_add (registry_t *self, actor_t *actor);

//  Removes actor (if it is the one registered under its name) and drops
//  the registry's reference.
void
    registry_remove (registry_t *self, actor_t *actor);

//  A new reference to the actor named name[0..len), or NULL.
actor_t *
    registry_get (registry_t *self, const char *name, size_t len);

uint64_t
    registry_gen (registry_t *self);

size_t
    registry_size (registry_t *self);

//  New references to every actor, in a malloc'd array the caller frees
//  (after unref'ing each). Returns the count, or 0 with *actors NULL.
size_t
    registry_snapshot (registry_t *self, actor_t ***actors);

#endif
