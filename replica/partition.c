/*  partition: life cycle, the write pipeline and request dispatch. The
    state table is in partition.h; reads are in partition_read.c, writes in
    partition_write.c. */
#include "replica/partition_impl.h"
#include "replica/logwriter.h"
#include "replica/mlog.h"
#include "common/key.h"
#include "common/value.h"
#include "runtime/config.h"
#include "runtime/log.h"
#include "runtime/rt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const msg_kind_t partition_kind_status = { "partition.status" };
static const msg_kind_t s_kind_open = { "partition.open" };
static const msg_kind_t s_kind_seal = { "partition.seal" };
static const msg_kind_t s_kind_tick = { "partition.tick" };

#define REPLAY_CHUNK (4u << 20)
#define LOG_TIMEOUT_MS 60000

static void s_seal (partition_t *self);
static void s_replay_next (partition_t *self);

void
partition_name (uint32_t app_id, uint32_t partition, char *out, size_t size)
{
    snprintf (out, size, "r.%u.%u", app_id, partition);
}

int64_t
partition_now (partition_t *self)
{
    return actor_wall_ms (self->self);
}

void
partition_fail (partition_t *self, msg_t *request, int status, const char *format, ...)
{
    char text [512];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    actor_reply_error (self->self, request, status, "%s", text);
}

static void
s_report (partition_t *self)
{
    if (!self->stub)
        return;
    partition_status_t *status;
    msg_t *msg = msg_new_local (&partition_kind_status, sizeof *status, (void **) &status);
    if (!msg)
        return;
    status->app_id = self->app_id;
    status->partition = self->partition;
    status->ballot = self->ballot;
    status->state = self->state;
    status->last_committed = self->applied;
    actor_send (self->self, self->stub, &msg);
}

static void
s_set_state (partition_t *self, int state, const char *why)
{
    if (why)
        snprintf (self->why, sizeof self->why, "%.255s", why);
    if (self->state == state)
        return;
    self->state = state;
    s_report (self);
}

//  ---------------------------------------------------------------------------
//  Mutations

static mutation_t *
s_mutation_new (void)
{
    mutation_t *m = calloc (1, sizeof *m);
    if (!m)
        return NULL;
    m->ops_capacity = 8;
    m->capacity = 256;
    m->ops = malloc (m->ops_capacity * sizeof *m->ops);
    m->bytes = malloc (m->capacity);
    if (!m->ops || !m->bytes) {
        free (m->ops);
        free (m->bytes);
        free (m);
        return NULL;
    }
    return m;
}

static void
s_mutation_free (mutation_t *m)
{
    free (m->ops);
    free (m->bytes);
    free (m);
}

static int
s_mutation_reserve (mutation_t *m, size_t bytes)
{
    if (m->nops == m->ops_capacity) {
        mop_t *ops = realloc (m->ops, 2 * m->ops_capacity * sizeof *ops);
        if (!ops)
            return -1;
        m->ops = ops;
        m->ops_capacity *= 2;
    }
    if (m->len + bytes > m->capacity) {
        size_t capacity = m->capacity * 2 > m->len + bytes ? m->capacity * 2 : m->len + bytes;
        uint8_t *grown = realloc (m->bytes, capacity);
        if (!grown)
            return -1;
        m->bytes = grown;
        m->capacity = capacity;
    }
    return 0;
}

static int
s_open_mutation (partition_t *self)
{
    if (!self->open && !(self->open = s_mutation_new ()))
        return -1;
    if (!self->seal_pending) {
        //  Seal at the end of this turn: the message lands behind what is
        //  queued now, so writes that arrived together share a mutation.
        msg_t *seal = msg_new_local (&s_kind_seal, 0, NULL);
        if (seal && actor_send (self->self, self->self, &seal) == PG__STATUS__OK)
            self->seal_pending = true;
    }
    return 0;
}

int
partition_put (partition_t *self, const uint8_t *key, size_t key_len,
               const uint8_t *value, size_t value_len, uint32_t expire_ts)
{
    if (s_open_mutation (self))
        return -1;
    mutation_t *m = self->open;
    size_t stored = VALUE_HEADER + value_len;
    if (s_mutation_reserve (m, key_len + stored))
        return -1;
    mop_t *op = &m->ops [m->nops++];
    op->kind = PG__MUTATION_OP__KIND__PUT;
    op->key = m->len;
    op->key_len = key_len;
    memcpy (m->bytes + m->len, key, key_len);
    m->len += key_len;
    op->value = m->len;
    op->value_len = stored;
    //  Write time in microseconds, cluster id, delete flag 0.
    uint64_t timetag = (uint64_t) partition_now (self) * 1000 << 8
                     | (uint64_t) (self->limits.cluster_id & 0x7F) << 1;
    value_header (m->bytes + m->len, expire_ts, timetag);
    if (value_len)
        memcpy (m->bytes + m->len + VALUE_HEADER, value, value_len);
    m->len += stored;
    self->pending_bytes += (int64_t) (key_len + stored);
    return overlay_put (self->overlay, key, key_len, m->bytes + op->value, stored,
                        partition_next_decree (self));
}

int
partition_del (partition_t *self, const uint8_t *key, size_t key_len)
{
    if (s_open_mutation (self))
        return -1;
    mutation_t *m = self->open;
    if (s_mutation_reserve (m, key_len))
        return -1;
    mop_t *op = &m->ops [m->nops++];
    op->kind = PG__MUTATION_OP__KIND__DEL;
    op->key = m->len;
    op->key_len = key_len;
    op->value = op->value_len = 0;
    memcpy (m->bytes + m->len, key, key_len);
    m->len += key_len;
    self->pending_bytes += (int64_t) key_len;
    return overlay_put (self->overlay, key, key_len, NULL, 0, partition_next_decree (self));
}

//  Seals the open mutation: gives it its decree and sends it to the log.
static void
s_seal (partition_t *self)
{
    mutation_t *m = self->open;
    if (!m || !m->nops || self->state != PARTITION_SERVING)
        return;
    if (self->inflight >= self->limits.max_inflight)
        return;                         //  resealed when a slot frees
    self->open = NULL;
    m->decree = ++self->last_decree;
    //  The log payload: the mutation as a pg.Mutation.
    Pg__MutationOp *ops = calloc (m->nops, sizeof *ops);
    Pg__MutationOp **refs = calloc (m->nops, sizeof *refs);
    Pg__Mutation mutation = PG__MUTATION__INIT;
    logwriter_append_t *append;
    msg_t *msg = NULL;
    if (ops && refs) {
        for (size_t i = 0; i < m->nops; i++) {
            pg__mutation_op__init (&ops [i]);
            ops [i].kind = m->ops [i].kind;
            ops [i].key = (ProtobufCBinaryData) { m->ops [i].key_len, m->bytes + m->ops [i].key };
            ops [i].value = (ProtobufCBinaryData) { m->ops [i].value_len,
                                                    m->bytes + m->ops [i].value };
            refs [i] = &ops [i];
        }
        mutation.n_ops = m->nops;
        mutation.ops = refs;
        size_t payload = pg__mutation__get_packed_size (&mutation);
        size_t size = mlog_record_size ((uint32_t) payload);
        msg = msg_new_local (&logwriter_kind_append, sizeof *append + size, (void **) &append);
        if (msg) {
            uint8_t *packed = malloc (payload ? payload : 1);
            if (packed) {
                pg__mutation__pack (&mutation, packed);
                mlog_record_t record = {
                    self->app_id, self->partition, self->ballot, m->decree, self->applied,
                    partition_now (self), packed, (uint32_t) payload
                };
                append->app_id = self->app_id;
                append->partition = self->partition;
                append->decree = m->decree;
                append->record = (uint8_t *) (append + 1);
                append->size = size;
                mlog_record_encode (append->record, &record);
                free (packed);
            }
            else
                msg_destroy (&msg);
        }
    }
    free (ops);
    free (refs);
    if (self->sealed_tail)
        self->sealed_tail->next = m;
    else
        self->sealed = m;
    self->sealed_tail = m;
    self->inflight++;
    int rc = msg ? actor_send (self->self, self->log, &msg) : PG__STATUS__INTERNAL;
    if (rc != PG__STATUS__OK) {
        log_error ("cannot send decree %" PRIu64 " to the log: %s", m->decree, status_name (rc));
        s_set_state (self, PARTITION_ERROR, "the replica cannot reach its log");
    }
}

//  ---------------------------------------------------------------------------
//  Waiting replies

void
partition_wait (partition_t *self, msg_t **request_p, msg_t **reply_p, uint64_t decree)
{
    if (decree <= self->applied) {
        actor_reply (self->self, *request_p, reply_p);
        return;
    }
    if (self->wcount == self->wcapacity) {
        size_t capacity = self->wcapacity ? self->wcapacity * 2 : 64;
        waiter_t *grown = malloc (capacity * sizeof *grown);
        if (!grown) {
            msg_destroy (reply_p);
            partition_fail (self, *request_p, PG__STATUS__INTERNAL, "out of memory");
            return;
        }
        for (size_t i = 0; i < self->wcount; i++)
            grown [i] = self->waiters [(self->wfirst + i) % self->wcapacity];
        free (self->waiters);
        self->waiters = grown;
        self->wfirst = 0;
        self->wcapacity = capacity;
    }
    waiter_t *w = &self->waiters [(self->wfirst + self->wcount++) % self->wcapacity];
    w->decree = decree;
    w->request = *request_p;
    w->reply = *reply_p;
    *request_p = NULL;
    *reply_p = NULL;
}

//  Sends every held reply whose decree is applied; with a status, fails all.
static void
s_release (partition_t *self, int status, const char *why)
{
    while (self->wcount) {
        waiter_t *w = &self->waiters [self->wfirst];
        if (status == PG__STATUS__OK && w->decree > self->applied)
            break;
        if (status != PG__STATUS__OK) {
            msg_destroy (&w->reply);
            actor_reply_error (self->self, w->request, status, "%s", why);
        }
        else
            actor_reply (self->self, w->request, &w->reply);
        msg_destroy (&w->request);
        self->wfirst = (self->wfirst + 1) % self->wcapacity;
        self->wcount--;
    }
}

uint64_t
partition_observed (partition_t *self)
{
    if (self->open && self->open->nops)
        return partition_next_decree (self);
    return self->last_decree;
}

int
partition_write_admit (partition_t *self, msg_t *request, size_t bytes)
{
    if ((int64_t) bytes > self->limits.max_write_bytes) {
        partition_fail (self, request, PG__STATUS__INVALID_ARGUMENT,
                        "write of %zu bytes exceeds replica/max_write_bytes (%" PRId64 ")",
                        bytes, self->limits.max_write_bytes);
        return -1;
    }
    if (self->pending_bytes + (int64_t) bytes > self->limits.max_pending_bytes) {
        partition_fail (self, request, PG__STATUS__BUSY,
                        "%s has %" PRId64 " bytes of writes waiting for its log",
                        actor_name (self->self), self->pending_bytes);
        return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------------
//  Applying what the log made durable

//  Applies sealed mutations up to `durable` in one RocksDB batch.
static void
s_apply (partition_t *self, uint64_t durable)
{
    if (!self->sealed || self->sealed->decree > durable)
        return;
    rocksdb_writebatch_t *batch = rocksdb_writebatch_create ();
    uint64_t last = self->applied;
    for (mutation_t *m = self->sealed; m && m->decree <= durable; m = m->next) {
        for (size_t i = 0; i < m->nops; i++) {
            mop_t *op = &m->ops [i];
            if (op->kind == PG__MUTATION_OP__KIND__PUT)
                rocksdb_writebatch_put (batch, (const char *) m->bytes + op->key, op->key_len,
                                        (const char *) m->bytes + op->value, op->value_len);
            else
                rocksdb_writebatch_delete (batch, (const char *) m->bytes + op->key, op->key_len);
        }
        last = m->decree;
    }
    int rc = db_write (self->db, batch, last);
    rocksdb_writebatch_destroy (batch);
    if (rc) {
        s_set_state (self, PARTITION_ERROR, "RocksDB refused a write");
        s_release (self, PG__STATUS__IO_ERROR, "the replica's storage failed");
        return;
    }
    while (self->sealed && self->sealed->decree <= last) {
        mutation_t *m = self->sealed;
        self->sealed = m->next;
        for (size_t i = 0; i < m->nops; i++) {
            overlay_applied (self->overlay, m->bytes + m->ops [i].key, m->ops [i].key_len, m->decree);
            self->pending_bytes -= (int64_t) (m->ops [i].key_len + m->ops [i].value_len);
        }
        s_mutation_free (m);
        self->inflight--;
    }
    if (!self->sealed)
        self->sealed_tail = NULL;
    self->applied = last;
    s_release (self, PG__STATUS__OK, NULL);
}

static void
s_on_durable (partition_t *self, logwriter_durable_t *durable)
{
    if (durable->status != PG__STATUS__OK) {
        log_error ("the log failed (%s): writes refused from now on", status_name (durable->status));
        s_set_state (self, PARTITION_ERROR, "the node's log failed");
        s_release (self, PG__STATUS__IO_ERROR, "the node's log failed");
        return;
    }
    s_apply (self, durable->decree);
    //  A full pipeline held the open mutation back: send it now.
    if (self->open && self->open->nops && !self->seal_pending)
        s_seal (self);
}

//  ---------------------------------------------------------------------------
//  Opening: RocksDB, then the log's records past its flushed state

static void
s_on_registered (actor_t *actor, msg_t **reply_p, void *arg)
{
    (void) arg;
    partition_t *self = actor_state (actor);
    if (msg_status (*reply_p) != PG__STATUS__OK) {
        log_error ("cannot register with the log: %s %s", status_name (msg_status (*reply_p)),
                   msg_error (*reply_p));
        s_set_state (self, PARTITION_ERROR, "the node's log is unavailable");
        return;
    }
    s_replay_next (self);
}

static void
s_on_records (actor_t *actor, msg_t **reply_p, void *arg)
{
    (void) arg;
    partition_t *self = actor_state (actor);
    if (!msg_is (*reply_p, &logwriter_kind_records)) {
        log_error ("replay failed: %s %s", status_name (msg_status (*reply_p)), msg_error (*reply_p));
        s_set_state (self, PARTITION_ERROR, "replay of the log failed");
        return;
    }
    logwriter_records_t *chunk = msg_body (*reply_p);
    rocksdb_writebatch_t *batch = rocksdb_writebatch_create ();
    uint64_t last = self->applied;
    bool gap = false;
    for (size_t i = 0; i < chunk->count && !gap; i++) {
        mlog_record_t *record = &chunk->records [i];
        if (record->decree <= last)
            continue;                   //  already applied
        if (record->decree != last + 1) {
            log_error ("log has no record for decree %" PRIu64 " (next found: %" PRIu64 "): "
                       "later writes cannot be replayed", last + 1, record->decree);
            gap = true;
            break;
        }
        Pg__Mutation *mutation = pg__mutation__unpack (NULL, record->payload_len, record->payload);
        if (!mutation) {
            log_error ("log record %" PRIu64 " does not decode", record->decree);
            gap = true;
            break;
        }
        for (size_t k = 0; k < mutation->n_ops; k++) {
            Pg__MutationOp *op = mutation->ops [k];
            if (op->kind == PG__MUTATION_OP__KIND__PUT)
                rocksdb_writebatch_put (batch, (const char *) op->key.data, op->key.len,
                                        (const char *) op->value.data, op->value.len);
            else
                rocksdb_writebatch_delete (batch, (const char *) op->key.data, op->key.len);
        }
        pg__mutation__free_unpacked (mutation, NULL);
        last = record->decree;
    }
    int rc = last > self->applied ? db_write (self->db, batch, last) : 0;
    rocksdb_writebatch_destroy (batch);
    if (rc) {
        s_set_state (self, PARTITION_ERROR, "RocksDB refused replayed writes");
        return;
    }
    self->applied = self->last_decree = last;
    if (!chunk->done && !gap && msg_status (*reply_p) == PG__STATUS__OK) {
        s_replay_next (self);
        return;
    }
    log_info ("serving: decree %" PRIu64 " (%" PRIu64 " in RocksDB's files)", self->applied,
              self->flushed);
    s_set_state (self, PARTITION_SERVING, NULL);
}

static void
s_replay_next (partition_t *self)
{
    logwriter_replay_t *replay;
    msg_t *msg = msg_new_local (&logwriter_kind_replay, sizeof *replay, (void **) &replay);
    if (!msg)
        return;
    replay->app_id = self->app_id;
    replay->partition = self->partition;
    replay->from_decree = self->applied;
    replay->max_bytes = REPLAY_CHUNK;
    int rc = actor_ask (self->self, self->log, &msg, LOG_TIMEOUT_MS, s_on_records, NULL);
    if (rc != PG__STATUS__OK)
        s_set_state (self, PARTITION_ERROR, "the node's log is unavailable");
}

static void
s_open (partition_t *self)
{
    char path [4200], error [512] = "";
    if (mkdir (self->dir, 0755) && errno != EEXIST) {
        snprintf (error, sizeof error, "cannot create %s: %s", self->dir, strerror (errno));
        log_error ("%s", error);
        s_set_state (self, PARTITION_ERROR, error);
        return;
    }
    snprintf (path, sizeof path, "%s/db", self->dir);
    self->db = db_open (self->env, path, error, sizeof error);
    if (!self->db) {
        char why [600];
        snprintf (why, sizeof why, "RocksDB did not open: %s", error);
        s_set_state (self, PARTITION_ERROR, why);
        return;
    }
    self->applied = self->flushed = self->last_decree = db_decree (self->db);
    logwriter_register_t *reg;
    msg_t *msg = msg_new_local (&logwriter_kind_register, sizeof *reg, (void **) &reg);
    if (!msg)
        return;
    reg->replica = actor_ref (self->self);
    reg->app_id = self->app_id;
    reg->partition = self->partition;
    if (actor_ask (self->self, self->log, &msg, LOG_TIMEOUT_MS, s_on_registered, NULL) != PG__STATUS__OK)
        s_set_state (self, PARTITION_ERROR, "the node's log is unavailable");
}

//  Every second: reports to the stub; every checkpoint_ms, flushes RocksDB
//  so the log can let go of what it holds.
static int64_t
s_tick_ms (partition_t *self)
{
    return self->limits.checkpoint_ms < 1000 ? self->limits.checkpoint_ms : 1000;
}

static void
s_tick (partition_t *self)
{
    msg_t *tick = msg_new_local (&s_kind_tick, 0, NULL);
    actor_send_after (self->self, s_tick_ms (self), &tick);
    int64_t now = actor_now_ms (self->self);
    if (self->state == PARTITION_SERVING && self->applied > self->flushed
    &&  now - self->last_flush_ms >= self->limits.checkpoint_ms
    &&  db_flush (self->db) == 0) {
        self->last_flush_ms = now;
        self->flushed = self->applied;
        logwriter_checkpoint_t *cp;
        msg_t *msg = msg_new_local (&logwriter_kind_checkpoint, sizeof *cp, (void **) &cp);
        if (msg) {
            cp->app_id = self->app_id;
            cp->partition = self->partition;
            cp->decree = self->flushed;
            actor_send (self->self, self->log, &msg);
        }
    }
    s_report (self);
}

//  ---------------------------------------------------------------------------
//  Admission and reads shared by the handlers

int
partition_admit (partition_t *self, msg_t *request, const Pg__Route *route,
                 const ProtobufCBinaryData *hash_key, const ProtobufCBinaryData *sort_key)
{
    if (self->state != PARTITION_SERVING) {
        partition_fail (self, request, PG__STATUS__INVALID_STATE, "%s is %s%s%s",
                        actor_name (self->self),
                        self->state == PARTITION_OPENING ? "opening" : "not serving",
                        *self->why ? ": " : "", self->why);
        return -1;
    }
    if (!route || route->app_id != self->app_id || route->partition_index != self->partition
    ||  route->partition_count != self->partition_count) {
        partition_fail (self, request, PG__STATUS__INVALID_STATE,
                        "%s serves partition %u of %u of table %u; the request was routed "
                        "for partition %u of %u of table %u: refresh the routing",
                        actor_name (self->self), self->partition, self->partition_count,
                        self->app_id, route ? route->partition_index : 0,
                        route ? route->partition_count : 0, route ? route->app_id : 0);
        return -1;
    }
    if (hash_key) {
        if (hash_key->len > KEY_MAX_HASH_KEY) {
            partition_fail (self, request, PG__STATUS__INVALID_ARGUMENT,
                            "hash key of %zu bytes: at most %d", hash_key->len, KEY_MAX_HASH_KEY);
            return -1;
        }
        uint64_t hash = key_hash (hash_key->data, hash_key->len,
                                  sort_key ? sort_key->data : NULL, sort_key ? sort_key->len : 0);
        if (key_partition (hash, self->partition_count) != self->partition) {
            partition_fail (self, request, PG__STATUS__INVALID_STATE,
                            "key belongs to partition %u, not %u: refresh the routing",
                            key_partition (hash, self->partition_count), self->partition);
            return -1;
        }
    }
    return 0;
}

uint8_t *
partition_key (msg_t *arena, const ProtobufCBinaryData *hash_key,
               const uint8_t *sort_key, size_t sort_key_len, size_t *len)
{
    *len = key_size (hash_key->len, sort_key_len);
    uint8_t *key = msg_alloc (arena, *len);
    if (key)
        key_encode (key, hash_key->data, hash_key->len, sort_key, sort_key_len);
    return key;
}

int
partition_read (partition_t *self, const uint8_t *key, size_t len, bool latest, value_ref_t *ref)
{
    memset (ref, 0, sizeof *ref);
    const uint8_t *stored = NULL;
    size_t stored_len = 0;
    int found = 0;
    if (latest)
        found = overlay_get (self->overlay, key, len, &stored, &stored_len);
    if (found && !stored)
        return 0;                       //  a pending delete
    if (!found) {
        found = db_get (self->db, key, len, &ref->slice);
        if (found < 0)
            return -1;
        if (!found)
            return 0;
        stored = (const uint8_t *) rocksdb_pinnableslice_value (ref->slice, &stored_len);
    }
    uint64_t timetag;
    if (value_decode (stored, stored_len, &ref->expire_ts, &timetag, &ref->user, &ref->user_len)) {
        log_error ("a stored value of %zu bytes has no valid header; treated as absent", stored_len);
        partition_release (ref);
        return 0;
    }
    if (value_expired (ref->expire_ts, partition_now (self))) {
        partition_release (ref);
        return 0;
    }
    ref->exists = true;
    return 0;
}

void
partition_release (value_ref_t *ref)
{
    if (ref->slice)
        rocksdb_pinnableslice_destroy (ref->slice);
    memset (ref, 0, sizeof *ref);
}

//  ---------------------------------------------------------------------------
//  The actor

typedef void (handler_fn) (partition_t *self, msg_t **msg_p);

static const struct {
    const ProtobufCMessageDescriptor *desc;
    handler_fn *fn;
} s_handlers [] = {
    { &pg__get_request__descriptor, partition_on_get },
    { &pg__set_request__descriptor, partition_on_set },
    { &pg__del_request__descriptor, partition_on_del },
    { &pg__multi_get_request__descriptor, partition_on_multi_get },
    { &pg__multi_set_request__descriptor, partition_on_multi_set },
    { &pg__multi_del_request__descriptor, partition_on_multi_del },
    { &pg__ttl_request__descriptor, partition_on_ttl },
    { &pg__incr_request__descriptor, partition_on_incr },
    { &pg__check_and_set_request__descriptor, partition_on_check_and_set },
    { &pg__check_and_mutate_request__descriptor, partition_on_check_and_mutate },
    { &pg__sortkey_count_request__descriptor, partition_on_sortkey_count },
    { &pg__scan_request__descriptor, partition_on_scan },
    { &pg__batch_get_request__descriptor, partition_on_batch_get },
};

static void
s_receive (actor_t *actor, msg_t **msg_p)
{
    partition_t *self = actor_state (actor);
    msg_t *msg = *msg_p;
    for (size_t i = 0; i < sizeof s_handlers / sizeof s_handlers [0]; i++)
        if (msg_is (msg, s_handlers [i].desc)) {
            if (msg_is_request (msg))
                s_handlers [i].fn (self, msg_p);
            return;
        }
    if (msg_is (msg, &logwriter_kind_durable))
        s_on_durable (self, msg_body (msg));
    else
    if (msg_is (msg, &s_kind_seal)) {
        self->seal_pending = false;
        s_seal (self);
    }
    else
    if (msg_is (msg, &s_kind_tick))
        s_tick (self);
    else
    if (msg_is (msg, &s_kind_open))
        s_open (self);
    else
    if (msg_is_request (msg))
        partition_fail (self, msg, PG__STATUS__INVALID_ARGUMENT, "%s does not handle %s",
                        actor_name (actor), msg_kind_name (msg));
}

static int
s_init (actor_t *actor, void *args)
{
    const partition_args_t *a = args;
    partition_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    self->self = actor;
    self->app_id = a->app_id;
    self->partition = a->partition;
    self->partition_count = a->partition_count;
    self->ballot = a->ballot;
    self->app_name = strdup (a->app_name);
    self->dir = strdup (a->dir);
    self->log = actor_ref (a->log);
    self->stub = a->stub ? actor_ref (a->stub) : NULL;
    self->env = a->env;
    self->limits = a->limits;
    self->overlay = overlay_new ();
    self->state = PARTITION_OPENING;
    actor_set_state (actor, self);
    if (!self->app_name || !self->dir || !self->overlay)
        return -1;
    //  Opening blocks (RocksDB), so it is the first message, on our thread.
    msg_t *open = msg_new_local (&s_kind_open, 0, NULL);
    msg_t *tick = msg_new_local (&s_kind_tick, 0, NULL);
    actor_send (actor, actor, &open);
    self->last_flush_ms = actor_now_ms (actor);
    actor_send_after (actor, s_tick_ms (self), &tick);
    return 0;
}

static void
s_fini (actor_t *actor)
{
    partition_t *self = actor_state (actor);
    if (!self)
        return;
    //  Writes not yet durable may still become so: their outcome is unknown
    //  to the client, which is what SHUTDOWN says.
    s_release (self, PG__STATUS__SHUTDOWN, "the replica is closing");
    logwriter_forget_t *forget;
    msg_t *msg = msg_new_local (&logwriter_kind_forget, sizeof *forget, (void **) &forget);
    if (msg) {
        forget->app_id = self->app_id;
        forget->partition = self->partition;
        forget->remove = false;
        actor_send (actor, self->log, &msg);
    }
    db_close (&self->db);
    while (self->sealed) {
        mutation_t *m = self->sealed;
        self->sealed = m->next;
        s_mutation_free (m);
    }
    if (self->open)
        s_mutation_free (self->open);
    overlay_destroy (&self->overlay);
    actor_unref (&self->log);
    actor_unref (&self->stub);
    free (self->waiters);
    free (self->app_name);
    free (self->dir);
    free (self);
}

static const actor_ops_t s_ops = { "partition", s_init, s_receive, s_fini };

actor_t *
partition_spawn (rt_t *rt, const partition_args_t *args)
{
    char name [64];
    partition_name (args->app_id, args->partition, name, sizeof name);
    actor_opts_t opts = { .pinned = true };
    return actor_spawn (rt, name, &s_ops, (void *) args, &opts);
}

int
partition_limits (zconfig_t *config, partition_limits_t *out)
{
    return config_size (config, "replica/max_write_bytes", 1 << 20, 1024, 1LL << 30,
                        &out->max_write_bytes)
        || config_int (config, "replica/max_kv_count", 10000, 1, 10000000, &out->max_kv_count)
        || config_size (config, "replica/max_kv_size", 4 << 20, 1024, 1LL << 30, &out->max_kv_size)
        || config_int (config, "replica/max_range_ms", 100, 1, 60000, &out->max_range_ms)
        || config_int (config, "replica/checkpoint_ms", 10000, 10, 3600000, &out->checkpoint_ms)
        || config_int (config, "replica/max_inflight", 64, 1, 100000, &out->max_inflight)
        || config_size (config, "replica/max_pending_bytes", 64 << 20, 1 << 20, 1LL << 40,
                        &out->max_pending_bytes)
        || config_int (config, "replica/cluster_id", 1, 1, 127, &out->cluster_id) ? -1 : 0;
}
