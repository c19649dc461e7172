/*  pool: see pool.h.

    Classes are powers of two from 128 bytes to 16 KiB. A thread cache holds
    up to 2 * batch blocks per class; past that it hands one batch (a linked
    list of blocks) to the class's global stack.

    The global stack is a Treiber stack of batches. Push is a lock-free CAS
    loop (safe against ABA: it never reads a node it does not own). Pops are
    serialised by a mutex, which makes their CAS safe against ABA too (only
    a popper can remove the top, so it cannot vanish and come back between
    our read and our CAS). The mutex is taken once per batch, i.e. once per
    hundreds of allocations, never per message. Blocks beyond
    POOL_GLOBAL_CAP bytes per class go back to free().
*/
#include "runtime/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#define MIN_SHIFT 7                        //  128 bytes
#define MAX_SHIFT 14                       //  16 KiB
#define NCLASSES (MAX_SHIFT - MIN_SHIFT + 1)
#define BATCH_BYTES (32 * 1024)
#define POOL_GLOBAL_CAP (64u * 1024 * 1024)

typedef struct block_t {
    struct block_t *next;                  //  next block in this batch
    struct block_t *next_batch;            //  first block only: next batch
    size_t count;                          //  first block only: batch length
} block_t;

typedef struct {
    block_t *head;
    size_t count;
} cache_t;

typedef struct {
    _Atomic(block_t *) top;
    atomic_size_t bytes;
    pthread_mutex_t pop_lock;
} global_t;

#define GLOBAL_INIT { NULL, 0, PTHREAD_MUTEX_INITIALIZER }
static global_t s_global [NCLASSES] = {
    GLOBAL_INIT, GLOBAL_INIT, GLOBAL_INIT, GLOBAL_INIT,
    GLOBAL_INIT, GLOBAL_INIT, GLOBAL_INIT, GLOBAL_INIT
};
static _Thread_local cache_t t_cache [NCLASSES];
static _Thread_local int t_registered;
static pthread_key_t s_key;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static inline int
class_of (size_t size)
{
    if (size <= ((size_t) 1 << MIN_SHIFT))
        return 0;
    int shift = 64 - __builtin_clzll ((unsigned long long) (size - 1));
    return shift - MIN_SHIFT;
}

static inline size_t
class_size (int cls)
{
    return (size_t) 1 << (cls + MIN_SHIFT);
}

static inline size_t
batch_len (int cls)
{
    size_t n = BATCH_BYTES / class_size (cls);
    return n < 4 ? 4 : n;
}

static void
s_global_push (int cls, block_t *batch, size_t count)
{
    global_t *g = &s_global [cls];
    batch->count = count;
    block_t *top = atomic_load_explicit (&g->top, memory_order_relaxed);
    do
        batch->next_batch = top;
    while (!atomic_compare_exchange_weak_explicit (&g->top, &top, batch,
                                                   memory_order_release,
                                                   memory_order_relaxed));
    atomic_fetch_add_explicit (&g->bytes, count * class_size (cls),
                               memory_order_relaxed);
}

static block_t *
s_global_pop (int cls, size_t *count)
{
    global_t *g = &s_global [cls];
    if (atomic_load_explicit (&g->top, memory_order_relaxed) == NULL)
        return NULL;
    pthread_mutex_lock (&g->pop_lock);
    block_t *top = atomic_load_explicit (&g->top, memory_order_acquire);
    while (top && !atomic_compare_exchange_weak_explicit (&g->top, &top, top->next_batch,
                                                          memory_order_acquire,
                                                          memory_order_acquire))
        ;
    pthread_mutex_unlock (&g->pop_lock);
    if (!top)
        return NULL;
    *count = top->count;
    atomic_fetch_sub_explicit (&g->bytes, top->count * class_size (cls),
                               memory_order_relaxed);
    return top;
}

static void
s_thread_exit (void *arg)
{
    (void) arg;
    pool_thread_flush ();
    //  Other thread-exit destructors may still free blocks (a library's
    //  thread-local cleanup, run after ours): the next free registers the
    //  thread again, so this runs again (POSIX repeats the destructors while
    //  values are set, up to PTHREAD_DESTRUCTOR_ITERATIONS times) instead
    //  of leaving those blocks in a cache nobody will ever flush.
    t_registered = 0;
}

static void
s_make_key (void)
{
    pthread_key_create (&s_key, s_thread_exit);
}

static void
s_register_thread (void)
{
    pthread_once (&s_once, s_make_key);
    //  Any non-NULL value makes the destructor run at thread exit.
    pthread_setspecific (s_key, &t_registered);
    t_registered = 1;
}

void *
pool_alloc (size_t size)
{
    if (size > POOL_MAX_BLOCK)
        return malloc (size);
    int cls = class_of (size);
    cache_t *cache = &t_cache [cls];
    if (!cache->head) {
        size_t count = 0;
        block_t *batch = s_global_pop (cls, &count);
        if (!batch)
            return aligned_alloc (16, class_size (cls));
        if (!t_registered)
            s_register_thread ();
        cache->head = batch;
        cache->count = count;
    }
    block_t *block = cache->head;
    cache->head = block->next;
    cache->count--;
    return block;
}

void
pool_free (void *ptr, size_t size)
{
    if (!ptr)
        return;
    if (size > POOL_MAX_BLOCK) {
        free (ptr);
        return;
    }
    int cls = class_of (size);
    cache_t *cache = &t_cache [cls];
    if (!t_registered)
        s_register_thread ();
    block_t *block = ptr;
    block->next = cache->head;
    cache->head = block;
    cache->count++;
    size_t batch = batch_len (cls);
    if (cache->count >= 2 * batch) {
        //  Detach the first `batch` blocks as one batch.
        block_t *first = cache->head;
        block_t *last = first;
        for (size_t i = 1; i < batch; i++)
            last = last->next;
        cache->head = last->next;
        cache->count -= batch;
        last->next = NULL;
        if (atomic_load_explicit (&s_global [cls].bytes, memory_order_relaxed)
            >= POOL_GLOBAL_CAP) {
            while (first) {
                block_t *next = first->next;
                free (first);
                first = next;
            }
        }
        else
            s_global_push (cls, first, batch);
    }
}

size_t
pool_block_size (size_t size)
{
    return size > POOL_MAX_BLOCK ? size : class_size (class_of (size));
}

void
pool_thread_flush (void)
{
    for (int cls = 0; cls < NCLASSES; cls++) {
        cache_t *cache = &t_cache [cls];
        if (cache->head)
            s_global_push (cls, cache->head, cache->count);
        cache->head = NULL;
        cache->count = 0;
    }
}

size_t
pool_global_bytes (void)
{
    size_t total = 0;
    for (int cls = 0; cls < NCLASSES; cls++)
        total += atomic_load_explicit (&s_global [cls].bytes, memory_order_relaxed);
    return total;
}
