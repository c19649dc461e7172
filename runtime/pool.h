/*  pool: size-class allocator for messages and wire buffers.

    Each thread keeps a small free list per size class; surplus moves to a
    global lock-free stack in batches, which is where a thread that only
    allocates (a producer) picks up what a thread that only frees (its
    consumer) gave back. In the steady state an allocation is a pop from a
    thread-local list: no malloc, no lock, no atomic.

    Sizes above POOL_MAX_BLOCK go straight to malloc. The caller passes the
    same size to pool_free that it passed to pool_alloc.
*/
#ifndef RUNTIME_POOL_H
#define RUNTIME_POOL_H

#include <stddef.h>

#define POOL_MAX_BLOCK 16384

//  Returns a block of at least size bytes, 16-byte aligned, or NULL if the
//  system is out of memory.
void *
    pool_alloc (size_t size);

//  Frees a block from pool_alloc(size). NULL is ignored.
void
    pool_free (void *block, size_t size);

//  The usable size of a block obtained with pool_alloc(size).
size_t
    pool_block_size (size_t size);

//  Returns this thread's cached blocks to the global lists. Called
//  automatically at thread exit; callable by hand (tests).
void
    pool_thread_flush (void);

//  Bytes held in global free lists (for tests and introspection).
size_t
    pool_global_bytes (void);

#endif
