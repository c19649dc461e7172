/*  plist: see plist.h. Entries sit in a hash map by decree: a learner's
    list can span a wide range of decrees with few entries in it. */
#include "replica/plist.h"
#include "runtime/u64map.h"

#include <stdlib.h>
#include <string.h>

//  The ballots of committed decrees, as runs (a decree from which on they
//  were all of one ballot): kept for longer than the entries themselves, so
//  a primary can name the ballot before any decree it sends.
#define RUNS_MAX 64

typedef struct {
    uint64_t first;                     //  decree the run starts at
    uint64_t ballot;
} run_t;

struct plist_t {
    run_t runs [RUNS_MAX];              //  a ring, oldest at runs_first
    size_t runs_first;
    size_t runs_count;
    u64map_t *entries;                  //  decree -> plist_entry_t
    uint64_t committed;
    uint64_t last;                      //  highest held, >= committed
    uint64_t first_kept;                //  committed entries kept: [first_kept, committed]
    uint64_t contiguous;                //  cache: held or committed up to here
    uint64_t durable;                   //  cache: ... and durable
    uint64_t low_ballot;                //  <= every uncommitted entry's ballot
    size_t keep_count;
    size_t keep_bytes;
    size_t kept_bytes;                  //  of the committed entries kept
    size_t bytes;                       //  of all entries
};

plist_t *
plist_new (uint64_t committed, size_t keep_count, size_t keep_bytes)
{
    plist_t *self = calloc (1, sizeof *self);
    if (!self || !(self->entries = u64map_new ())) {
        free (self);
        return NULL;
    }
    self->committed = self->last = self->contiguous = self->durable = committed;
    self->first_kept = committed + 1;
    self->low_ballot = UINT64_MAX;
    self->keep_count = keep_count;
    self->keep_bytes = keep_bytes;
    return self;
}

static void
s_free (plist_entry_t *entry)
{
    free (entry->bytes);
    free (entry);
}

void
plist_destroy (plist_t **self_p)
{
    plist_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    size_t cursor = 0;
    uint64_t decree;
    void *value;
    while (u64map_next (self->entries, &cursor, &decree, &value) == 0)
        s_free (value);
    u64map_destroy (&self->entries);
    free (self);
}

static void
s_remove (plist_t *self, uint64_t decree)
{
    plist_entry_t *entry = u64map_take (self->entries, decree);
    if (!entry)
        return;
    self->bytes -= entry->len;
    if (decree <= self->committed)
        self->kept_bytes -= entry->len;
    s_free (entry);
}

//  After entries above the commit point went away: the caches may point
//  past a hole now.
static void
s_recount (plist_t *self)
{
    self->last = self->committed;
    self->low_ballot = UINT64_MAX;
    size_t cursor = 0;
    uint64_t decree;
    void *value;
    while (u64map_next (self->entries, &cursor, &decree, &value) == 0) {
        if (decree <= self->committed)
            continue;
        if (decree > self->last)
            self->last = decree;
        plist_entry_t *entry = value;
        if (entry->ballot < self->low_ballot)
            self->low_ballot = entry->ballot;
    }
    self->contiguous = self->durable = self->committed;
}

//  Removes every entry `doomed` says so of, in rounds of a fixed batch (the
//  map cannot change under its cursor), then recounts the caches.
typedef bool (doomed_fn) (const plist_t *self, uint64_t decree, const plist_entry_t *entry,
                          uint64_t arg1, uint64_t arg2);

static void
s_remove_if (plist_t *self, doomed_fn *doomed, uint64_t arg1, uint64_t arg2)
{
    for (bool more = true; more;) {
        uint64_t batch [64];
        size_t n = 0;
        size_t cursor = 0;
        uint64_t d;
        void *value;
        while (n < 64 && u64map_next (self->entries, &cursor, &d, &value) == 0)
            if (doomed (self, d, value, arg1, arg2))
                batch [n++] = d;
        more = n == 64;
        for (size_t i = 0; i < n; i++)
            s_remove (self, batch [i]);
    }
    s_recount (self);
}

static bool
s_older_above (const plist_t *self, uint64_t d, const plist_entry_t *entry, uint64_t decree,
               uint64_t ballot)
{
    return d > decree && d > self->committed && entry->ballot < ballot;
}

static bool
s_above (const plist_t *self, uint64_t d, const plist_entry_t *entry, uint64_t decree,
         uint64_t unused)
{
    (void) entry;
    (void) unused;
    return d > decree && d > self->committed;
}

static bool
s_at_or_below (const plist_t *self, uint64_t d, const plist_entry_t *entry, uint64_t decree,
               uint64_t unused)
{
    (void) self;
    (void) entry;
    (void) unused;
    return d <= decree;
}

//  Drops uncommitted entries above decree with a ballot older than ballot.
static void
s_discard_older (plist_t *self, uint64_t decree, uint64_t ballot)
{
    if (ballot > self->low_ballot)      //  else nothing older is held
        s_remove_if (self, s_older_above, decree, ballot);
}

static int
s_insert (plist_t *self, uint64_t ballot, uint64_t decree, uint8_t *bytes, size_t len)
{
    plist_entry_t *entry = malloc (sizeof *entry);
    if (!entry || u64map_put (self->entries, decree, entry)) {
        free (entry);
        return -1;
    }
    *entry = (plist_entry_t) { decree, ballot, bytes, len, false };
    self->bytes += len;
    if (decree > self->last)
        self->last = decree;
    if (ballot < self->low_ballot)
        self->low_ballot = ballot;
    return 0;
}

int
plist_put (plist_t *self, uint64_t ballot, uint64_t decree, const uint8_t *bytes, size_t len)
{
    if (decree <= self->committed) {
        //  The entry is final, but the rule still holds: the primary of
        //  `ballot` sent this decree, so what an older primary left above
        //  it is not in the history (log replay after a flush past it meets
        //  exactly this).
        s_discard_older (self, decree, ballot);
        return PLIST_COMMITTED;
    }
    plist_entry_t *old = u64map_get (self->entries, decree);
    if (old && old->ballot > ballot)
        return PLIST_OUTDATED;
    if (old && old->ballot == ballot)
        return PLIST_SAME;
    uint8_t *copy = malloc (len ? len : 1);
    if (!copy)
        return -1;
    if (len)
        memcpy (copy, bytes, len);
    if (old) {
        s_remove (self, decree);
        //  The replaced entry may have been counted contiguous or durable.
        if (self->contiguous >= decree)
            self->contiguous = decree - 1;
        if (self->durable >= decree)
            self->durable = decree - 1;
    }
    s_discard_older (self, decree, ballot);
    if (s_insert (self, ballot, decree, copy, len)) {
        free (copy);
        return -1;
    }
    if (self->durable >= decree)
        self->durable = decree - 1;
    return PLIST_ADDED;
}

uint64_t
plist_append (plist_t *self, uint64_t ballot, uint8_t *bytes, size_t len)
{
    uint64_t decree = self->last + 1;
    if (s_insert (self, ballot, decree, bytes, len)) {
        free (bytes);
        return 0;
    }
    return decree;
}

plist_entry_t *
plist_get (plist_t *self, uint64_t decree)
{
    return u64map_get (self->entries, decree);
}

uint64_t
plist_committed (plist_t *self)
{
    return self->committed;
}

uint64_t
plist_last (plist_t *self)
{
    return self->last;
}

uint64_t
plist_contiguous (plist_t *self)
{
    if (self->contiguous < self->committed)
        self->contiguous = self->committed;
    while (self->contiguous < self->last && u64map_get (self->entries, self->contiguous + 1))
        self->contiguous++;
    return self->contiguous;
}

uint64_t
plist_durable (plist_t *self)
{
    if (self->durable < self->committed)
        self->durable = self->committed;
    plist_entry_t *entry;
    while (self->durable < self->last
       &&  (entry = u64map_get (self->entries, self->durable + 1)) && entry->durable)
        self->durable++;
    return self->durable;
}

uint64_t
plist_first (plist_t *self)
{
    return self->first_kept <= self->committed ? self->first_kept : self->committed + 1;
}

void
plist_set_durable (plist_t *self, uint64_t decree, uint64_t ballot)
{
    plist_entry_t *entry = u64map_get (self->entries, decree);
    if (entry && entry->ballot == ballot)
        entry->durable = true;
}

//  Lets go of the oldest committed entries past the keep limits.
static void
s_prune (plist_t *self)
{
    while (self->first_kept <= self->committed) {
        size_t kept = (size_t) (self->committed - self->first_kept + 1);
        if (kept <= self->keep_count && self->kept_bytes <= self->keep_bytes)
            break;
        s_remove (self, self->first_kept);
        self->first_kept++;
    }
}

static void
s_run_note (plist_t *self, uint64_t decree, uint64_t ballot)
{
    if (self->runs_count) {
        run_t *last = &self->runs [(self->runs_first + self->runs_count - 1) % RUNS_MAX];
        if (last->ballot == ballot)
            return;
    }
    if (self->runs_count == RUNS_MAX) {
        self->runs_first = (self->runs_first + 1) % RUNS_MAX;
        self->runs_count--;
    }
    self->runs [(self->runs_first + self->runs_count++) % RUNS_MAX] = (run_t) { decree, ballot };
}

uint64_t
plist_ballot (plist_t *self, uint64_t decree)
{
    plist_entry_t *entry = u64map_get (self->entries, decree);
    if (entry)
        return entry->ballot;
    if (decree > self->committed || !self->runs_count
    ||  decree < self->runs [self->runs_first].first)
        return 0;
    for (size_t i = self->runs_count; i-- > 0;) {
        run_t *run = &self->runs [(self->runs_first + i) % RUNS_MAX];
        if (decree >= run->first)
            return run->ballot;
    }
    return 0;
}

uint64_t
plist_commit (plist_t *self, uint64_t decree, plist_fn *fn, void *ctx)
{
    uint64_t limit = plist_contiguous (self);
    if (decree > limit)
        decree = limit;
    while (self->committed < decree) {
        plist_entry_t *entry = u64map_get (self->entries, self->committed + 1);
        s_run_note (self, entry->decree, entry->ballot);
        if (fn)
            fn (ctx, entry);
        if (self->first_kept > self->committed)
            self->first_kept = self->committed + 1;
        self->committed++;
        self->kept_bytes += entry->len;
    }
    s_prune (self);
    return self->committed;
}

void
plist_truncate (plist_t *self, uint64_t decree)
{
    s_remove_if (self, s_above, decree, 0);
}

void
plist_restamp (plist_t *self, uint64_t ballot)
{
    size_t cursor = 0;
    uint64_t decree;
    void *value;
    while (u64map_next (self->entries, &cursor, &decree, &value) == 0)
        if (decree > self->committed) {
            plist_entry_t *entry = value;
            entry->ballot = ballot;
            entry->durable = false;
        }
    self->durable = self->committed;
    self->low_ballot = ballot;
}

void
plist_reset (plist_t *self, uint64_t decree)
{
    self->runs_count = 0;               //  what came before the checkpoint is unknown
    //  Entries between the new and the old commit point count as
    //  uncommitted again; the kept ones below go.
    self->committed = 0;                //  so removals do not touch kept_bytes
    self->kept_bytes = 0;
    s_remove_if (self, s_at_or_below, decree, 0);
    self->committed = decree;
    self->first_kept = decree + 1;
    s_recount (self);
}

size_t
plist_size (plist_t *self)
{
    return u64map_size (self->entries);
}

size_t
plist_bytes (plist_t *self)
{
    return self->bytes;
}
