/*  mutation: one decree's worth of writes, in the one form the log,
    prepares and learners all carry: the wire bytes of a pg.Mutation
    (repeated MutationOp { kind, key, value }).

    The primary builds it in place as writes arrive (no struct per op, no
    pack step), secondaries and replay walk it without unpacking. The bytes
    are plain protobuf, so any protobuf decoder reads them too.
*/
#ifndef REPLICA_MUTATION_H
#define REPLICA_MUTATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *bytes;
    size_t len;
    size_t capacity;
    size_t nops;
} mutation_t;

enum { MUTATION_PUT = 0, MUTATION_DEL = 1 };   //  pg.MutationOp.Kind

//  An empty mutation. NULL if out of memory.
mutation_t *
    mutation_new (void);

void
    mutation_destroy (mutation_t **self_p);

//  Hands the bytes over (the caller frees them) and leaves self empty.
uint8_t *
    mutation_take (mutation_t *self, size_t *len);

//  Appends a put of value_len bytes and returns where the caller writes
//  them (valid until the next append), or NULL if out of memory.
uint8_t *
    mutation_put (mutation_t *self, const uint8_t *key, size_t key_len, size_t value_len);

//  Appends a delete. 0, or -1 if out of memory.
int
    mutation_del (mutation_t *self, const uint8_t *key, size_t key_len);

//  Takes the mutation back to an earlier len and nops (read from it
//  before some appends): drops the ops appended since. Cannot fail.
void
    mutation_truncate (mutation_t *self, size_t len, size_t nops);

typedef void (mutation_fn) (void *ctx, int kind, const uint8_t *key, size_t key_len,
                            const uint8_t *value, size_t value_len);

//  Checks the bytes (they came from disk or the network) and, only if all
//  of them are well formed, calls fn (if not NULL) for each op in order.
//  Returns the number of ops, or -1 if malformed (fn never called).
long
    mutation_walk (const uint8_t *bytes, size_t len, mutation_fn *fn, void *ctx);

#endif
