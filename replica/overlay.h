/*  overlay: writes a partition has accepted but not yet applied.

    Read-modify-write requests (incr, check_and_set, check_and_mutate) must
    see every write accepted before them, including those still waiting
    for the log; plain reads must not (a value is visible only once it is
    durable, or a crash could take back something a reader saw). So RMW
    requests read through this overlay first and RocksDB second. An entry
    lives until the mutation that made it is applied.
*/
#ifndef REPLICA_OVERLAY_H
#define REPLICA_OVERLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct overlay_t overlay_t;

overlay_t *
    overlay_new (void);

void
    overlay_destroy (overlay_t **self_p);

//  Records that the stored key now holds value (value NULL: deleted), as
//  of decree. Copies both. 0 or -1 (no memory).
int
    overlay_put (overlay_t *self, const uint8_t *key, size_t key_len,
                 const uint8_t *value, size_t value_len, uint64_t decree);

//  1 and the pending value (NULL value for a pending delete), or 0 if the
//  key has nothing pending. The pointer is valid until the next change.
int
    overlay_get (overlay_t *self, const uint8_t *key, size_t key_len,
                 const uint8_t **value, size_t *value_len);

//  All or nothing for one request: puts after overlay_begin are kept by
//  overlay_commit or undone, in reverse order, by overlay_rollback (which
//  cannot fail: the keys are back to the entries, or the absence, they
//  had at overlay_begin). One level, within one turn of the partition.
void
    overlay_begin (overlay_t *self);

void
    overlay_commit (overlay_t *self);

void
    overlay_rollback (overlay_t *self);

//  Drops the key's entry if it was made by `decree` (a later write keeps
//  it). Called as each mutation is applied.
void
    overlay_applied (overlay_t *self, const uint8_t *key, size_t key_len, uint64_t decree);

size_t
    overlay_size (overlay_t *self);

#endif
