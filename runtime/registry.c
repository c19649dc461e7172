/*  registry: see registry.h. */
#include "runtime/registry.h"
#include "runtime/strmap.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct registry_t {
    pthread_mutex_t lock;
    strmap_t *map;                  //  name -> actor_t * (a reference)
    _Atomic uint64_t gen;
};

registry_t *
registry_new (void)
{
    registry_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->map = strmap_new ();
    if (!self->map) {
        free (self);
        return NULL;
    }
    pthread_mutex_init (&self->lock, NULL);
    return self;
}

void
registry_destroy (registry_t **self_p)
{
    registry_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    size_t cursor = 0;
    const char *name;
    void *value;
    while (strmap_next (self->map, &cursor, &name, &value) == 0) {
        actor_t *actor = value;
        actor_unref (&actor);
    }
    strmap_destroy (&self->map);
    pthread_mutex_destroy (&self->lock);
    free (self);
}

bool
registry_valid_name (const char *name, size_t len)
{
    if (len == 0 || len > 128)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name [i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
               || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == ':';
        if (!ok)
            return false;
    }
    return true;
}

int
registry_add (registry_t *self, actor_t *actor)
{
    int rc = -1;
    pthread_mutex_lock (&self->lock);
    if (!strmap_get (self->map, actor_name (actor))
    &&  strmap_put (self->map, actor_name (actor), actor) == 0) {
        actor_ref (actor);
        rc = 0;
    }
    pthread_mutex_unlock (&self->lock);
    return rc;
}

void
registry_remove (registry_t *self, actor_t *actor)
{
    actor_t *removed = NULL;
    pthread_mutex_lock (&self->lock);
    if (strmap_get (self->map, actor_name (actor)) == actor) {
        removed = strmap_take (self->map, actor_name (actor));
        atomic_fetch_add (&self->gen, 1);
    }
    pthread_mutex_unlock (&self->lock);
    if (removed)
        actor_unref (&removed);
}

actor_t *
registry_get (registry_t *self, const char *name, size_t len)
{
    pthread_mutex_lock (&self->lock);
    actor_t *actor = strmap_getn (self->map, name, len);
    if (actor)
        actor_ref (actor);
    pthread_mutex_unlock (&self->lock);
    return actor;
}

uint64_t
registry_gen (registry_t *self)
{
    return atomic_load (&self->gen);
}

size_t
registry_size (registry_t *self)
{
    pthread_mutex_lock (&self->lock);
    size_t size = strmap_size (self->map);
    pthread_mutex_unlock (&self->lock);
    return size;
}

size_t
registry_snapshot (registry_t *self, actor_t ***actors)
{
    *actors = NULL;
    pthread_mutex_lock (&self->lock);
    size_t size = strmap_size (self->map), n = 0;
    actor_t **list = size ? malloc (size * sizeof *list) : NULL;
    if (list) {
        size_t cursor = 0;
        const char *name;
        void *value;
        while (strmap_next (self->map, &cursor, &name, &value) == 0)
            list [n++] = actor_ref (value);
    }
    pthread_mutex_unlock (&self->lock);
    *actors = list;
    return n;
}
