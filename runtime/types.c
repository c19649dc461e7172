/*  types: see types.h. */
#include "runtime/types.h"
#include "runtime/hash.h"
#include "runtime/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define CAPACITY 4096             //  power of two; far above our type count

typedef struct {
    uint32_t id;
    _Atomic(const ProtobufCMessageDescriptor *) desc;
} slot_t;

static slot_t s_table [CAPACITY];
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;

//  Recently used descriptor -> id, per thread, so a sender does not hash
//  the type name on every remote send.
static _Thread_local struct {
    const ProtobufCMessageDescriptor *desc;
    uint32_t id;
} t_cache [64];

static uint32_t
s_hash_name (const char *name)
{
    uint64_t h = hash_bytes (name, strlen (name));
    uint32_t id = (uint32_t) (h ^ (h >> 32));
    return id ? id : 1;           //  0 is never a type id
}

uint32_t
types_id (const ProtobufCMessageDescriptor *desc)
{
    size_t i = ((uintptr_t) desc >> 4) & 63;
    if (t_cache [i].desc == desc)
        return t_cache [i].id;
    uint32_t id = s_hash_name (desc->name);
    t_cache [i].desc = desc;
    t_cache [i].id = id;
    return id;
}

int
types_register (const ProtobufCMessageDescriptor *desc)
{
    uint32_t id = s_hash_name (desc->name);
    int rc = -1;
    pthread_mutex_lock (&s_lock);
    for (size_t n = 0, i = id & (CAPACITY - 1); n < CAPACITY; n++, i = (i + 1) & (CAPACITY - 1)) {
        const ProtobufCMessageDescriptor *cur =
            atomic_load_explicit (&s_table [i].desc, memory_order_relaxed);
        if (!cur) {
            s_table [i].id = id;
            //  Publish id before desc: readers load desc with acquire.
            atomic_store_explicit (&s_table [i].desc, desc, memory_order_release);
            rc = 0;
            break;
        }
        if (s_table [i].id == id) {
            if (cur == desc || !strcmp (cur->name, desc->name))
                rc = 0;
            else
                log_error ("types: %s and %s share wire id %08x; rename one",
                           cur->name, desc->name, id);
            break;
        }
    }
    pthread_mutex_unlock (&s_lock);
    return rc;
}

const ProtobufCMessageDescriptor *
types_find (uint32_t id)
{
    for (size_t n = 0, i = id & (CAPACITY - 1); n < CAPACITY; n++, i = (i + 1) & (CAPACITY - 1)) {
        const ProtobufCMessageDescriptor *desc =
            atomic_load_explicit (&s_table [i].desc, memory_order_acquire);
        if (!desc)
            return NULL;
        if (s_table [i].id == id)
            return desc;
    }
    return NULL;
}

const ProtobufCMessageDescriptor *
types_find_name (const char *name)
{
    const ProtobufCMessageDescriptor *desc = types_find (s_hash_name (name));
    return desc && !strcmp (desc->name, name) ? desc : NULL;
}
