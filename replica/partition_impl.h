/*  partition_impl: the partition actor's state and the functions its files
    share. partition.c: life cycle, configuration, the log, commit and
    dispatch; partition_read.c and partition_write.c: the data requests;
    partition_primary.c: prepares, acks, reconciliation, group checks and
    serving learners; partition_secondary.c: prepares and group checks as
    a member; partition_learner.c: catching up. */
#ifndef REPLICA_PARTITION_IMPL_H
#define REPLICA_PARTITION_IMPL_H

#include "replica/mutation.h"
#include "replica/overlay.h"
#include "replica/partition.h"
#include "replica/plist.h"
#include "data.pb-c.h"
#include "replica.pb-c.h"

#include <rocksdb/c.h>
#include <stdio.h>

//  A reply held until the decree it depends on is committed and applied.
typedef struct {
    uint64_t decree;
    msg_t *request;
    msg_t *reply;
} waiter_t;

//  A ring of waiters in decree order.
typedef struct {
    waiter_t *items;
    size_t first;
    size_t count;
    size_t capacity;
} wring_t;

//  Appends to a ring. 0, or -1 if out of memory.
int
    partition_ring_push (wring_t *ring, const waiter_t *w);

//  The oldest waiter, or NULL; and taking it off.
static inline waiter_t *
partition_ring_head (wring_t *ring)
{
    return ring->count ? &ring->items [ring->first] : NULL;
}

static inline void
partition_ring_pop (wring_t *ring)
{
    ring->first = (ring->first + 1) % ring->capacity;
    ring->count--;
}

//  An append to the log not yet durable.
typedef struct {
    uint64_t seq;
    uint64_t decree;
    uint64_t ballot;
} logged_t;

//  Another replica of the partition, as the primary sees it.
typedef struct {
    uint64_t id;                        //  tags our asks' callbacks
    char node [PARTITION_ADDRESS];
    actor_t *actor;                     //  "<node>/r.<app>.<partition>"
    bool learner;                       //  not yet a member
    bool counts;                        //  its acks hold commits back (members; a
                                        //  learner once it holds all we gave out)
    uint64_t sent;                      //  prepared to it up to here
    uint64_t acked;                     //  durable there, all decrees <= this
    int64_t last_ok_ms;                 //  its last good answer
    int64_t waiting_since_ms;           //  prepares outstanding, no ack progress since (0: none)
    bool stalled;                       //  an error: resend from acked at the tick
    int64_t request_ms;                 //  when we last asked meta about it
    int asked;                          //  0, or CT_REMOVE / CT_UPGRADE_TO_SECONDARY
    bool upgrade_refused;               //  meta said no to its upgrade at our ballot
} peer_t;

//  A learner copying a checkpoint from its primary.
typedef struct {
    char name [128];
    uint64_t decree;
    size_t nfiles;
    char (*files) [128];
    uint64_t *sizes;
    size_t index;                       //  file being copied
    uint64_t offset;
    FILE *out;
    actor_t *files_actor;               //  "<primary>/files"
} copy_t;

typedef struct {
    actor_t *self;
    uint32_t app_id;
    uint32_t partition;
    uint32_t partition_count;
    char *app_name;
    char *dir;
    char *checkpoint_dir;
    const char *node;                   //  our own address
    actor_t *log;
    actor_t *stub;
    actor_t *meta;
    db_env_t *env;
    partition_limits_t limits;
    int state;                          //  PARTITION_*
    char why [256];                     //  why not serving, for replies
    //  Configuration
    int role;                           //  ROLE_*
    uint64_t ballot;
    partition_config_t config;
    bool standalone;                    //  no stub: a lease forever
    int64_t lease_until;
    uint64_t led_ballot;                //  the highest ballot recorded as led (ballotfile)
    uint64_t lead_pending;              //  a ballot being recorded, or 0
    bool needs_ballot;                  //  refused to lead again at a ballot it led
    bool log_failed;                    //  the error came from the node's log
    //  Data
    db_t *db;
    plist_t *plist;
    uint64_t applied;                   //  committed and in RocksDB
    uint64_t flushed;                   //  in RocksDB's files (log may drop <=)
    actor_t *checks;                    //  the server's group check batcher, or NULL
    bool unflushed_writes;              //  applied since, other than empty mutations
    uint64_t tick_gen;                  //  of the tick series running
    bool tick_fast;                     //  its ticks are TICK_MS apart
    bool tick_armed;                    //  its next tick is on the way
    uint64_t seq;                       //  appends to the log so far
    bool commit_blocked;                //  a stalled write waits for a pinned thread
    bool commit_may_block;              //  on that thread: RocksDB may hold it
    uint64_t commit_target;             //  commit this far once it may block
    logged_t *logged;                   //  a ring of appends awaiting durability
    size_t lfirst, lcount, lcapacity;
    //  Primary
    bool serving;                       //  reconciled
    uint64_t serve_from;                //  serving once this decree commits
    mutation_t *open;                   //  being filled this turn
    bool seal_pending;
    int64_t uncommitted_bytes;
    wring_t waiters;
    overlay_t *overlay;
    peer_t *peers [2 * PARTITION_MAX_MEMBERS];
    size_t npeers;
    bool untracked;                     //  a member could not be made a peer: no commits
    uint64_t next_peer_id;
    int64_t last_prepare_ms;
    int64_t last_group_check_ms;
    uint64_t checked_ballot;            //  the ballot the last group check carried
    uint64_t checkpoint_decree;         //  the last checkpoint made for learners
    char checkpoint_name [128];
    //  Secondary and learner
    wring_t held;                       //  prepare replies waiting for the log
    uint64_t primary_committed;         //  the commit point heard from the primary
    uint64_t verified;                  //  secondary: our log is the primary's up to here
    uint64_t term;                      //  primary: the ballot it last became primary at
    uint64_t learn_term;                //  learner: the primary's term its entries came from
    uint64_t learn_signature;
    bool learning;                      //  a learn ask is in flight
    int learn_refusals;                 //  in a row: the primary dropped us
    int64_t learn_retry_ms;
    bool learn_await_durable;           //  told DONE: ask again once our log is durable
    copy_t *copy;
    //  Counters
    uint64_t writes;
    uint64_t reads;
    int64_t last_flush_ms;
    bool flush_pending;                 //  a flush message is on its way
    int64_t last_report_ms;
    partition_status_t reported;        //  the last report the stub got
    int64_t reported_ms;
    //  The memtable size last read, and what it was read at: RocksDB's
    //  property costs more than the rest of an idle replica's second.
    struct {
        uint64_t bytes;
        const db_t *db;
        uint64_t applied, flushed;
        int64_t at_ms;
    } memtable;
} partition_t;

//  A user value read for a request: where its bytes are and what holds them.
typedef struct {
    bool exists;                        //  present and not expired
    const uint8_t *user;
    size_t user_len;
    uint32_t expire_ts;
    rocksdb_pinnableslice_t *slice;     //  NULL if from the overlay
} value_ref_t;

//  ---------------------------------------------------------------------------
//  partition.c

//  Checks that a request may run here: primary, serving, lease, route, key
//  placement. If not, replies (INVALID_STATE, INVALID_ARGUMENT) and
//  returns -1.
int
    partition_admit (partition_t *self, msg_t *request, const Pg__Route *route,
                     const ProtobufCBinaryData *hash_key, const ProtobufCBinaryData *sort_key);

//  The stored key of (hash_key, sort_key), in the message's arena.
uint8_t *
    partition_key (msg_t *arena, const ProtobufCBinaryData *hash_key,
                   const uint8_t *sort_key, size_t sort_key_len, size_t *len);

//  Reads a value as applied (latest = false) or including accepted writes
//  (latest = true). 0 (ref filled; exists false if absent) or -1 (error).
int
    partition_read (partition_t *self, const uint8_t *key, size_t len, bool latest,
                    value_ref_t *ref);

void
    partition_release (value_ref_t *ref);

//  Replies with an error status and message.
void
    partition_fail (partition_t *self, msg_t *request, int status, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));

int64_t
    partition_now (partition_t *self);

//  Tells the stub where we are.
void
    partition_report (partition_t *self);

//  Stops serving for good: the log or RocksDB failed.
void
    partition_error (partition_t *self, const char *why);

//  The same, because the node's log failed (the stub tells meta: the
//  whole node is unusable until it restarts).
void
    partition_log_error (partition_t *self, const char *why);

//  Appends an entry to the log under ballot (reset: a reset marker of
//  decree, no payload). Durability comes back as partition_on_durable.
//  0, or -1 (the replica is in ERROR).
int
    partition_log (partition_t *self, uint64_t ballot, uint64_t decree,
                   const uint8_t *bytes, size_t len, bool reset);

//  Commits and applies everything up to decree (never past a hole or
//  what is not durable here), releasing the replies that waited for it.
void
    partition_commit (partition_t *self, uint64_t decree);

//  Holds *reply_p until `decree` is applied, then sends it; takes the
//  request (*request_p NULL) and the reply.
void
    partition_wait (partition_t *self, msg_t **request_p, msg_t **reply_p, uint64_t decree);

//  Fails every held reply: `unknown` for decrees already prepared (they
//  may yet commit elsewhere), `status` for the rest.
void
    partition_fail_waiters (partition_t *self, int unknown, int status, const char *why);

//  The node address of a remote actor name, "<node>/<actor>".
actor_t *
    partition_lookup (partition_t *self, const char *node, const char *actor);

//  Takes a configuration from meta (older ballots are ignored).
void
    partition_apply_config (partition_t *self, const partition_config_t *config);

//  Follows a newer ballot (from meta, or a primary that heard of it
//  first): what was verified against the old primary's log no longer is.
//  (The lease goes when the replica stops being primary: partition_set_role.)
void
    partition_follow (partition_t *self, uint64_t ballot);

//  Sets the role (reporting it); leaving PRIMARY fails its waiters.
void
    partition_set_role (partition_t *self, int role);

//  Seals the open mutation at the end of this turn.
//  For a handler about to block for long (a flush, a checkpoint): moves
//  the partition off the I/O thread and puts msg back, to be handled again
//  there. True if it did (the handler returns); false if it may block here.
bool
    partition_offload (partition_t *self, msg_t **msg_p);

void
    partition_seal_later (partition_t *self);

//  ---------------------------------------------------------------------------
//  partition_write.c and partition_read.c

//  Adds a put (value = user bytes, stored with a header) or a delete
//  (value NULL) to the open mutation. 0, or -1 (no memory), which may
//  leave the op half added: the handler takes the open mutation and the
//  overlay back to where its request began (partition_write.c).
int
    partition_put (partition_t *self, const uint8_t *key, size_t key_len,
                   const uint8_t *value, size_t value_len, uint32_t expire_ts);

int
    partition_del (partition_t *self, const uint8_t *key, size_t key_len);

//  Before a write: replies (and returns -1) if the write cannot be taken
//  now: too big, too much pending, too few members.
int
    partition_write_admit (partition_t *self, msg_t *request, size_t bytes);

//  The decree a reply must wait for: the open mutation's if it has
//  writes, else the last one given out.
uint64_t
    partition_observed (partition_t *self);

//  The decree the open mutation will get.
static inline uint64_t
partition_next_decree (partition_t *self)
{
    return plist_last (self->plist) + 1;
}

//  Request handlers: take ownership when they keep the request.
void partition_on_get (partition_t *self, msg_t **msg_p);
void partition_on_ttl (partition_t *self, msg_t **msg_p);
void partition_on_multi_get (partition_t *self, msg_t **msg_p);
void partition_on_sortkey_count (partition_t *self, msg_t **msg_p);
void partition_on_scan (partition_t *self, msg_t **msg_p);
void partition_on_batch_get (partition_t *self, msg_t **msg_p);
void partition_on_set (partition_t *self, msg_t **msg_p);
void partition_on_multi_set (partition_t *self, msg_t **msg_p);
void partition_on_del (partition_t *self, msg_t **msg_p);
void partition_on_multi_del (partition_t *self, msg_t **msg_p);
void partition_on_incr (partition_t *self, msg_t **msg_p);
void partition_on_check_and_set (partition_t *self, msg_t **msg_p);
void partition_on_check_and_mutate (partition_t *self, msg_t **msg_p);

//  ---------------------------------------------------------------------------
//  partition_primary.c

//  Seals the open mutation: its decree, the log, prepares.
void
    partition_seal (partition_t *self);

//  Meta made us primary of this ballot: reconcile, then serve.
void
    partition_become_primary (partition_t *self);

//  Our configuration changed while primary: members in and out.
void
    partition_primary_members (partition_t *self);

//  Drops every peer (leaving the primary role).
void
    partition_drop_peers (partition_t *self);

//  The log made more durable: commit what every member has.
void
    partition_primary_advance (partition_t *self);

void
    partition_primary_tick (partition_t *self);

//  A peer answered a group check that went through the stub.
void
    partition_primary_checked (partition_t *self, const partition_checked_t *checked);

//  Whether the primary has work its tick drives (resends, learners, a
//  commit or reconciliation in progress): then it ticks often.
bool
    partition_primary_busy (partition_t *self);

void
    partition_on_proposal (partition_t *self, msg_t *request);

void
    partition_on_learn (partition_t *self, msg_t **msg_p);

//  ---------------------------------------------------------------------------
//  partition_secondary.c

void
    partition_on_prepare (partition_t *self, msg_t **msg_p);

void
    partition_on_group_check (partition_t *self, msg_t *request);

//  The log made more durable: answer held prepares, apply.
void
    partition_secondary_advance (partition_t *self);

//  A learner hears its primary's term: entries learned in another term are
//  not this one's history (the primary was deposed and led again) and go.
void
    partition_learner_term (partition_t *self, uint64_t term);

//  How far our log is known to be the current primary's (a learner's:
//  as far as it is contiguous).
uint64_t
    partition_verified (partition_t *self);

//  After a new ballot: held prepares are answered now with the first
//  decree not verified against the primary, which sends again from there
//  (verified again at once), rather than waiting for its prepare timeout.
void
    partition_secondary_rebase (partition_t *self);

//  Answers every held prepare with status (leaving the role).
void
    partition_drop_held (partition_t *self, int status, const char *why);

//  ---------------------------------------------------------------------------
//  partition_learner.c

//  Starts (or restarts) learning from the configured primary.
void
    partition_learn (partition_t *self);

void
    partition_learner_tick (partition_t *self);
//  The learner's log became durable further.
void
    partition_learner_durable (partition_t *self);

//  partition_kind_backup: a checkpoint of this primary for a backup.
void
    partition_on_backup (partition_t *self, msg_t **msg_p);

//  Abandons a checkpoint copy in progress.
void
    partition_copy_abort (partition_t *self);

#endif
