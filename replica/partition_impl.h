/*  partition_impl: the partition actor's state and the functions its three
    files share (partition.c: life cycle and write pipeline;
    partition_read.c: reads; partition_write.c: writes). */
#ifndef REPLICA_PARTITION_IMPL_H
#define REPLICA_PARTITION_IMPL_H

#include "replica/overlay.h"
#include "replica/partition.h"
#include "data.pb-c.h"

#include <rocksdb/c.h>

//  One mutation: the puts and deletes of the writes accepted in one turn.
typedef struct {
    int kind;                           //  PG__MUTATION_OP__KIND__PUT / DEL
    size_t key;                         //  offsets into the mutation's bytes
    size_t key_len;
    size_t value;
    size_t value_len;
} mop_t;

typedef struct mutation_t {
    struct mutation_t *next;
    uint64_t decree;
    mop_t *ops;
    size_t nops;
    size_t ops_capacity;
    uint8_t *bytes;
    size_t len;
    size_t capacity;
} mutation_t;

//  A reply held until the mutation it depends on is applied.
typedef struct {
    uint64_t decree;
    msg_t *request;
    msg_t *reply;
} waiter_t;

typedef struct {
    actor_t *self;
    uint32_t app_id;
    uint32_t partition;
    uint32_t partition_count;
    uint64_t ballot;
    char *app_name;
    char *dir;
    actor_t *log;
    actor_t *stub;
    db_env_t *env;
    partition_limits_t limits;
    int state;
    char why [256];                     //  why not serving, for replies
    db_t *db;
    uint64_t applied;                   //  committed and in RocksDB
    uint64_t flushed;                   //  in RocksDB's files (log may drop <=)
    uint64_t last_decree;               //  the last one given out
    mutation_t *open;                   //  being filled this turn
    bool seal_pending;
    mutation_t *sealed;                 //  in the log, not yet applied
    mutation_t *sealed_tail;
    int64_t inflight;
    int64_t pending_bytes;
    waiter_t *waiters;                  //  a ring, in decree order
    size_t wfirst;
    size_t wcount;
    size_t wcapacity;
    overlay_t *overlay;
    uint64_t writes;
    uint64_t reads;
    int64_t last_flush_ms;
} partition_t;

//  A user value read for a request: where its bytes are and what holds them.
typedef struct {
    bool exists;                        //  present and not expired
    const uint8_t *user;
    size_t user_len;
    uint32_t expire_ts;
    rocksdb_pinnableslice_t *slice;     //  NULL if from the overlay
} value_ref_t;

//  Checks that a request may run here: state, route, key placement. If
//  not, replies (INVALID_STATE, INVALID_ARGUMENT) and returns -1.
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

//  Adds a put (value = user bytes, stored with a header) or a delete
//  (value NULL) to the open mutation. 0, or -1 (no memory).
int
    partition_put (partition_t *self, const uint8_t *key, size_t key_len,
                   const uint8_t *value, size_t value_len, uint32_t expire_ts);

int
    partition_del (partition_t *self, const uint8_t *key, size_t key_len);

//  Before a write: replies BUSY (and returns -1) if too much is pending.
int
    partition_write_admit (partition_t *self, msg_t *request, size_t bytes);

//  The decree a reply must wait for: the open mutation's if it has
//  writes, else the last sealed one, else nothing (applied).
uint64_t
    partition_observed (partition_t *self);

//  The decree the open mutation will get.
static inline uint64_t
partition_next_decree (partition_t *self)
{
    return self->last_decree + 1;
}

//  Holds *reply_p until `decree` is applied, then sends it; takes the
//  request (*request_p NULL) and the reply. Replies at once if already
//  applied.
void
    partition_wait (partition_t *self, msg_t **request_p, msg_t **reply_p, uint64_t decree);

//  Replies with an error status and message.
void
    partition_fail (partition_t *self, msg_t *request, int status, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));

int64_t
    partition_now (partition_t *self);

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

#endif
