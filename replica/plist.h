/*  plist: a replica's prepare list, the decrees it holds above its commit
    point (and the last few below it, for learners).

    PacificA's rules for what a replica keeps live here, so the primary,
    secondaries, learners and log replay all apply the same ones:

    - A decree at or below the commit point never changes.
    - For one decree, the entry of the higher ballot wins; an equal ballot
      is the same entry again (a primary gives a decree out once per
      ballot).
    - Taking an entry of ballot b at decree d discards every uncommitted
      entry above d of a ballot older than b: the primary of ballot b sends
      its decrees in order, so what an older primary left above d is not in
      the new history. This holds for a committed d too (replay meets it).

    Entries may have holes (a learner buffers prepares beyond what it has
    learned); the commit point only moves over a contiguous run.
*/
#ifndef REPLICA_PLIST_H
#define REPLICA_PLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct plist_t plist_t;

typedef struct {
    uint64_t decree;
    uint64_t ballot;
    uint8_t *bytes;                     //  the mutation (owned by the list)
    size_t len;
    bool durable;                       //  this entry's record is durable in our log
} plist_entry_t;

//  What plist_put did.
enum {
    PLIST_ADDED,                        //  new entry (or replaced an older ballot's)
    PLIST_SAME,                         //  the same decree and ballot was there
    PLIST_COMMITTED,                    //  at or below the commit point: nothing to do
    PLIST_OUTDATED                      //  a newer ballot's entry is there: ignored
};

//  An empty list committed up to `committed`, keeping up to keep_count
//  committed entries or keep_bytes of them for learners.
plist_t *
    plist_new (uint64_t committed, size_t keep_count, size_t keep_bytes);

void
    plist_destroy (plist_t **self_p);

//  Adds an entry under the rules above, copying the bytes. Returns a
//  PLIST_ value, or -1 if out of memory (nothing changed).
int
    plist_put (plist_t *self, uint64_t ballot, uint64_t decree, const uint8_t *bytes, size_t len);

//  The primary's append: the next decree (plist_last + 1), taking over
//  bytes (malloc'd). Returns the decree, or 0 if out of memory (bytes
//  freed).
uint64_t
    plist_append (plist_t *self, uint64_t ballot, uint8_t *bytes, size_t len);

//  The entry at decree, or NULL.
plist_entry_t *
    plist_get (plist_t *self, uint64_t decree);

//  The ballot of decree's entry: held, or committed since the list was made
//  (the ballots of the last 64 changes of ballot among committed decrees
//  are kept even after their entries go). 0 if unknown.
uint64_t
    plist_ballot (plist_t *self, uint64_t decree);

uint64_t
    plist_committed (plist_t *self);

//  The highest decree held (the commit point if none above it).
uint64_t
    plist_last (plist_t *self);

//  The highest d such that every decree up to d is committed or held.
uint64_t
    plist_contiguous (plist_t *self);

//  The highest d such that every decree up to d is committed or held with
//  its record durable.
uint64_t
    plist_durable (plist_t *self);

//  The lowest decree whose entry is still held (kept committed entries
//  included), or plist_committed + 1 if none.
uint64_t
    plist_first (plist_t *self);

//  Marks decree's entry durable if it is still the one of `ballot`.
void
    plist_set_durable (plist_t *self, uint64_t decree, uint64_t ballot);

//  Moves the commit point up to `decree`, but never past a hole; calls fn
//  for each newly committed entry in order. Returns the new commit point.
typedef void (plist_fn) (void *ctx, const plist_entry_t *entry);
uint64_t
    plist_commit (plist_t *self, uint64_t decree, plist_fn *fn, void *ctx);

//  Drops every uncommitted entry above decree.
void
    plist_truncate (plist_t *self, uint64_t decree);

//  Gives every uncommitted entry the ballot, not durable (a new primary
//  logs them again under its ballot before committing them).
void
    plist_restamp (plist_t *self, uint64_t ballot);

//  Drops everything at or below decree and makes it the commit point
//  (a learner installing a checkpoint of that decree). Entries above stay.
void
    plist_reset (plist_t *self, uint64_t decree);

//  Entries held, and their bytes (committed ones kept for learners too).
size_t
    plist_size (plist_t *self);

size_t
    plist_bytes (plist_t *self);

#endif
