/*  partition: life cycle, configuration, the log, commit and request
    dispatch. The state table is in partition.h. */
#include "replica/partition_impl.h"
#include "replica/ballotfile.h"
#include "replica/logwriter.h"
#include "replica/mlog.h"
#include "common/key.h"
#include "common/value.h"
#include "runtime/config.h"
#include "runtime/log.h"
#include "runtime/rt.h"
#include "meta.pb-c.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const msg_kind_t partition_kind_status = { "partition.status" };
const msg_kind_t partition_kind_config = { "partition.config" };
const msg_kind_t partition_kind_lease = { "partition.lease" };
const msg_kind_t partition_kind_closed = { "partition.closed" };
const msg_kind_t partition_kind_open = { "partition.open" };
const msg_kind_t partition_kind_flush = { "partition.flush" };
const msg_kind_t partition_kind_group_check = { "partition.group_check" };
const msg_kind_t partition_kind_checked = { "partition.checked" };
const msg_kind_t partition_kind_backup = { "partition.backup" };
static const msg_kind_t s_kind_seal = { "partition.seal" };
static const msg_kind_t s_kind_tick = { "partition.tick" };
static const msg_kind_t s_kind_lead = { "partition.lead" };
static const msg_kind_t s_kind_commit = { "partition.commit" };

#define REPLAY_CHUNK (4u << 20)
#define LOG_TIMEOUT_MS 60000
#define TICK_MS 100
#define IDLE_TICK_MS 1000
#define REPORT_MS 1000
#define KEEP_COUNT 100000

static void s_replay_next (partition_t *self, uint64_t cursor);
static void s_lead_later (partition_t *self);

static const char *const s_role_names [] = { "inactive", "primary", "secondary", "learner" };

const char *
partition_role_name (int role)
{
    return role >= ROLE_INACTIVE && role <= ROLE_LEARNER ? s_role_names [role] : "?";
}

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

actor_t *
partition_lookup (partition_t *self, const char *node, const char *actor)
{
    char address [PARTITION_ADDRESS + 64];
    snprintf (address, sizeof address, "%s/%s", node, actor);
    return rt_lookup (actor_rt (self->self), address);
}

//  A report the stub has already is sent again only every REPORT_AGAIN_MS
//  (what the stub decides on a report it had to wait for, it decides
//  then): thousands of idle replicas do not each send one a second.
#define REPORT_AGAIN_MS 10000

//  The memtables change with what is applied and flushed (a flush
//  RocksDB starts on its own completes a little after the write that
//  filled it: read again REPORT_AGAIN_MS later at the latest).
static uint64_t
s_memtable_bytes (partition_t *self, int64_t now)
{
    if (!self->db)
        return 0;
    if (self->memtable.db != self->db || self->memtable.applied != self->applied
    ||  self->memtable.flushed != self->flushed || now - self->memtable.at_ms >= REPORT_AGAIN_MS) {
        self->memtable.bytes = db_memtable_bytes (self->db);
        self->memtable.db = self->db;
        self->memtable.applied = self->applied;
        self->memtable.flushed = self->flushed;
        self->memtable.at_ms = now;
    }
    return self->memtable.bytes;
}

void
partition_report (partition_t *self)
{
    int64_t now = actor_now_ms (self->self);
    self->last_report_ms = now;
    if (!self->stub)
        return;
    partition_status_t current, *status = &current;
    memset (&current, 0, sizeof current);  //  compared whole, padding too
    status->app_id = self->app_id;
    status->partition = self->partition;
    status->ballot = self->ballot;
    status->state = self->state;
    status->role = self->role;
    status->serving = self->role == ROLE_PRIMARY && self->serving;
    status->last_committed = self->applied;
    status->last_prepared = self->plist ? plist_contiguous (self->plist) : self->applied;
    status->needs_ballot = self->needs_ballot;
    status->log_failed = self->log_failed;
    status->memtable_bytes = s_memtable_bytes (self, now);
    status->nlearners = 0;
    for (size_t i = 0; i < self->npeers; i++)
        if (self->peers [i]->learner && status->nlearners < PARTITION_MAX_MEMBERS)
            snprintf (status->learners [status->nlearners++], PARTITION_ADDRESS, "%s",
                      self->peers [i]->node);
    if (!memcmp (&current, &self->reported, sizeof current)
    &&  now - self->reported_ms < REPORT_AGAIN_MS)
        return;
    partition_status_t *body;
    msg_t *msg = msg_new_local (&partition_kind_status, sizeof *body, (void **) &body);
    if (!msg)
        return;
    *body = current;
    if (actor_send (self->self, self->stub, &msg) == PG__STATUS__OK) {
        self->reported = current;
        self->reported_ms = now;
    }
}

void
partition_log_error (partition_t *self, const char *why)
{
    self->log_failed = true;
    partition_error (self, why);
}

void
partition_error (partition_t *self, const char *why)
{
    if (self->state == PARTITION_ERROR)
        return;
    log_error ("%s: %s; the replica stops", actor_name (self->self), why);
    snprintf (self->why, sizeof self->why, "%.255s", why);
    self->state = PARTITION_ERROR;
    partition_fail_waiters (self, PG__STATUS__OUTCOME_UNKNOWN, PG__STATUS__IO_ERROR, why);
    partition_drop_held (self, PG__STATUS__IO_ERROR, why);
    partition_drop_peers (self);
    partition_copy_abort (self);
    partition_report (self);
}

//  ---------------------------------------------------------------------------
//  Waiting replies

int
partition_ring_push (wring_t *ring, const waiter_t *w)
{
    if (ring->count == ring->capacity) {
        size_t capacity = ring->capacity ? ring->capacity * 2 : 64;
        waiter_t *grown = malloc (capacity * sizeof *grown);
        if (!grown)
            return -1;
        for (size_t i = 0; i < ring->count; i++)
            grown [i] = ring->items [(ring->first + i) % ring->capacity];
        free (ring->items);
        ring->items = grown;
        ring->first = 0;
        ring->capacity = capacity;
    }
    ring->items [(ring->first + ring->count++) % ring->capacity] = *w;
    return 0;
}

void
partition_wait (partition_t *self, msg_t **request_p, msg_t **reply_p, uint64_t decree)
{
    if (decree <= self->applied) {
        actor_reply (self->self, *request_p, reply_p);
        return;
    }
    waiter_t w = { decree, *request_p, *reply_p };
    if (partition_ring_push (&self->waiters, &w)) {
        msg_destroy (reply_p);
        partition_fail (self, *request_p, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    *request_p = NULL;
    *reply_p = NULL;
}

//  Sends every held reply whose decree is applied.
static void
s_release (partition_t *self)
{
    waiter_t *w;
    while ((w = partition_ring_head (&self->waiters)) && w->decree <= self->applied) {
        actor_reply (self->self, w->request, &w->reply);
        msg_destroy (&w->request);
        partition_ring_pop (&self->waiters);
    }
}

void
partition_fail_waiters (partition_t *self, int unknown, int status, const char *why)
{
    uint64_t prepared = self->plist ? plist_last (self->plist) : 0;
    waiter_t *w;
    while ((w = partition_ring_head (&self->waiters))) {
        msg_destroy (&w->reply);
        if (w->decree <= prepared)
            actor_reply_error (self->self, w->request, unknown,
                               "%s: the write was prepared but may or may not commit", why);
        else
            actor_reply_error (self->self, w->request, status, "%s", why);
        msg_destroy (&w->request);
        partition_ring_pop (&self->waiters);
    }
}

//  ---------------------------------------------------------------------------
//  The log

static int
s_logged_push (partition_t *self, logged_t entry)
{
    if (self->lcount == self->lcapacity) {
        size_t capacity = self->lcapacity ? self->lcapacity * 2 : 64;
        logged_t *grown = malloc (capacity * sizeof *grown);
        if (!grown)
            return -1;
        for (size_t i = 0; i < self->lcount; i++)
            grown [i] = self->logged [(self->lfirst + i) % self->lcapacity];
        free (self->logged);
        self->logged = grown;
        self->lfirst = 0;
        self->lcapacity = capacity;
    }
    self->logged [(self->lfirst + self->lcount++) % self->lcapacity] = entry;
    return 0;
}

int
partition_log (partition_t *self, uint64_t ballot, uint64_t decree,
               const uint8_t *bytes, size_t len, bool reset)
{
    if (self->state == PARTITION_ERROR)
        return -1;
    size_t size = mlog_record_size ((uint32_t) len);
    logwriter_append_t *append;
    msg_t *msg = msg_new_local (&logwriter_kind_append, sizeof *append + size, (void **) &append);
    if (!msg || (!reset && s_logged_push (self, (logged_t) { self->seq + 1, decree, ballot }))) {
        msg_destroy (&msg);
        partition_log_error (self, "out of memory for the log");
        return -1;
    }
    mlog_record_t record = {
        self->app_id, self->partition, reset ? 0 : ballot, decree, plist_committed (self->plist),
        partition_now (self), bytes, (uint32_t) len
    };
    append->app_id = self->app_id;
    append->partition = self->partition;
    append->decree = decree;
    append->seq = ++self->seq;
    append->reset = reset;
    append->record = (uint8_t *) (append + 1);
    append->size = size;
    mlog_record_encode (append->record, &record);
    if (actor_send (self->self, self->log, &msg) != PG__STATUS__OK) {
        partition_log_error (self, "the replica cannot reach its log");
        return -1;
    }
    return 0;
}

static void
s_on_durable (partition_t *self, logwriter_durable_t *durable)
{
    if (durable->status != PG__STATUS__OK) {
        partition_log_error (self, "the node's log failed");
        return;
    }
    while (self->lcount && self->logged [self->lfirst].seq <= durable->seq) {
        logged_t *l = &self->logged [self->lfirst];
        plist_set_durable (self->plist, l->decree, l->ballot);
        self->lfirst = (self->lfirst + 1) % self->lcapacity;
        self->lcount--;
    }
    if (self->role == ROLE_PRIMARY)
        partition_primary_advance (self);
    else
        partition_secondary_advance (self);
    if (self->role == ROLE_LEARNER)
        partition_learner_durable (self);
}

//  ---------------------------------------------------------------------------
//  Commit

static void
s_batch_op (void *ctx, int kind, const uint8_t *key, size_t key_len,
            const uint8_t *value, size_t value_len)
{
    rocksdb_writebatch_t *batch = ctx;
    if (kind == MUTATION_PUT)
        rocksdb_writebatch_put (batch, (const char *) key, key_len, (const char *) value, value_len);
    else
        rocksdb_writebatch_delete (batch, (const char *) key, key_len);
}

typedef struct {
    partition_t *self;
    uint64_t decree;
} applied_t;

static void
s_applied_op (void *ctx, int kind, const uint8_t *key, size_t key_len,
              const uint8_t *value, size_t value_len)
{
    (void) kind;
    (void) value;
    (void) value_len;
    applied_t *a = ctx;
    overlay_applied (a->self->overlay, key, key_len, a->decree);
}

//  Once in RocksDB: pending writes of the entry leave the overlay, and
//  its bytes the primary's window.
static void
s_applied_entry (void *ctx, const plist_entry_t *entry)
{
    partition_t *self = ctx;
    if (self->role != ROLE_PRIMARY)
        return;                         //  only a primary fills the overlay
    applied_t a = { self, entry->decree };
    mutation_walk (entry->bytes, entry->len, s_applied_op, &a);
    self->uncommitted_bytes -= (int64_t) entry->len;
}

//  A write RocksDB would stall: done on a pinned thread, where waiting
//  holds back no other replica and no lease (the I/O thread carries the
//  node's beacons). Commits wait for it meanwhile.
static void
s_commit_later (partition_t *self, uint64_t decree)
{
    if (decree > self->commit_target)
        self->commit_target = decree;
    if (self->commit_blocked)
        return;
    msg_t *msg = msg_new_local (&s_kind_commit, 0, NULL);
    if (!msg || actor_send (self->self, self->self, &msg) != PG__STATUS__OK) {
        partition_error (self, "cannot defer a stalled write");
        return;
    }
    self->commit_blocked = true;
}

static void
s_commit_blocking (partition_t *self, msg_t **msg_p)
{
    if (partition_offload (self, msg_p))
        return;
    self->commit_blocked = false;
    self->commit_may_block = true;
    partition_commit (self, self->commit_target);
    self->commit_may_block = false;
    if (self->role == ROLE_PRIMARY)
        partition_primary_advance (self);
}

void
partition_commit (partition_t *self, uint64_t decree)
{
    if (self->state == PARTITION_ERROR)
        return;
    if (self->commit_blocked) {
        if (decree > self->commit_target)
            self->commit_target = decree;
        return;
    }
    uint64_t durable = plist_durable (self->plist);
    if (decree > durable)
        decree = durable;
    uint64_t committed = plist_committed (self->plist);
    if (decree <= committed)
        return;
    //  Every decree up to a durable one is held (plist_durable).
    rocksdb_writebatch_t *batch = rocksdb_writebatch_create ();
    bool bad = false;
    bool writes = false;
    for (uint64_t d = committed + 1; d <= decree && !bad; d++) {
        plist_entry_t *entry = plist_get (self->plist, d);
        bad = !entry || mutation_walk (entry->bytes, entry->len, s_batch_op, batch) < 0;
        writes |= !bad && entry->len > 0;
    }
    int rc = bad ? -1 : db_write (self->db, batch, decree, self->commit_may_block);
    rocksdb_writebatch_destroy (batch);
    if (rc == DB_WOULD_BLOCK) {
        s_commit_later (self, decree);
        return;
    }
    if (rc) {
        partition_error (self, bad ? "a committed mutation does not decode"
                                   : "RocksDB refused a write");
        return;
    }
    committed = plist_commit (self->plist, decree, s_applied_entry, self);
    assert (committed == decree);
    self->applied = committed;
    self->unflushed_writes |= writes;
    s_release (self);
    if (self->role == ROLE_PRIMARY && !self->serving && committed >= self->serve_from) {
        self->serving = true;
        log_info ("%s: primary of ballot %" PRIu64 ", serving from decree %" PRIu64,
                  actor_name (self->self), self->ballot, committed);
        partition_report (self);
    }
}

//  ---------------------------------------------------------------------------
//  Roles and configuration

void
partition_set_role (partition_t *self, int role)
{
    if (self->role == role)
        return;
    log_info ("%s: %s -> %s (ballot %" PRIu64 ")", actor_name (self->self),
              partition_role_name (self->role), partition_role_name (role), self->ballot);
    if (self->role == ROLE_PRIMARY) {
        self->lease_until = 0;          //  a new lease comes with a new leadership
        partition_fail_waiters (self, PG__STATUS__OUTCOME_UNKNOWN, PG__STATUS__INVALID_STATE,
                                "the replica is no longer the primary");
        partition_drop_peers (self);
        mutation_destroy (&self->open);
        overlay_destroy (&self->overlay);
        self->overlay = overlay_new ();
        self->serving = false;
        self->uncommitted_bytes = 0;
        if (!self->overlay)
            partition_error (self, "out of memory");
    }
    if (self->role == ROLE_SECONDARY || self->role == ROLE_LEARNER)
        partition_drop_held (self, PG__STATUS__INVALID_STATE, "the replica changed role");
    if (self->role == ROLE_LEARNER)
        partition_copy_abort (self);
    self->role = role;
    partition_report (self);
}

void
partition_config_from (const Pg__PartitionConfig *pb, const char *node, int otherwise,
                       partition_config_t *out)
{
    memset (out, 0, sizeof *out);
    out->ballot = pb->ballot;
    out->max_replica_count = pb->max_replica_count;
    snprintf (out->primary, sizeof out->primary, "%s", pb->primary);
    out->role = !strcmp (pb->primary, node) ? ROLE_PRIMARY : otherwise;
    for (size_t i = 0; i < pb->n_secondaries && out->nsecondaries < PARTITION_MAX_MEMBERS; i++) {
        snprintf (out->secondaries [out->nsecondaries++], PARTITION_ADDRESS, "%s",
                  pb->secondaries [i]);
        if (!strcmp (pb->secondaries [i], node))
            out->role = ROLE_SECONDARY;
    }
}

void
partition_follow (partition_t *self, uint64_t ballot)
{
    if (ballot <= self->ballot)
        return;
    self->ballot = self->config.ballot = ballot;
    self->verified = self->plist ? plist_committed (self->plist) : 0;
    if (!self->plist)
        return;
    //  (A learner keeps its entries: within its primary's term they stay
    //  the primary's history, and the primary counts its acks; another
    //  term is what drops them: partition_learner_term.)
    if (self->role == ROLE_SECONDARY)
        partition_secondary_rebase (self);
}

void
partition_apply_config (partition_t *self, const partition_config_t *config)
{
    if (config->ballot < self->ballot)
        return;                         //  we already follow a newer one
    bool new_primary = strcmp (config->primary, self->config.primary) != 0;
    bool changed = config->ballot > self->ballot || config->role != self->role || new_primary;
    partition_follow (self, config->ballot);
    self->config = *config;
    if (self->state != PARTITION_READY)
        return;                         //  taken up when opening ends
    int old = self->role;
    if (config->role == ROLE_PRIMARY) {
        if (self->ballot > self->led_ballot) {
            s_lead_later (self);
            return;
        }
        if (old == ROLE_PRIMARY && self->ballot == self->led_ballot) {
            partition_primary_members (self);
            return;
        }
        if (!self->standalone) {
            //  We led at this ballot before a restart and may have given
            //  out decrees we no longer hold: meta must reconfigure.
            if (!self->needs_ballot)
                log_warning ("%s: made primary at ballot %" PRIu64 ", which it led before "
                             "(it restarted since): refused; meta must make a new configuration",
                             actor_name (self->self), self->ballot);
            self->needs_ballot = true;
            partition_set_role (self, ROLE_INACTIVE);
            partition_report (self);
            return;
        }
        partition_become_primary (self);
        return;
    }
    self->needs_ballot = false;
    //  A learner starts learning anew when it becomes one or follows
    //  another primary; a new ballot of the same primary changes nothing
    //  it holds (its term does: partition_learner_term).
    bool restart = config->role == ROLE_LEARNER
                && (old != ROLE_LEARNER || new_primary);
    partition_set_role (self, config->role);
    if (config->role == ROLE_LEARNER && restart)
        partition_learn (self);
    else
    if (config->role == ROLE_LEARNER)
        partition_learner_tick (self);
    if (changed)
        partition_report (self);
}

//  Leading at a ballot needs it recorded first (ballotfile.h): a synced
//  write, so on a pinned thread. Meanwhile a primary that stays primary
//  (its ballot moved) keeps serving, but seals no mutation at the new
//  ballot until it is recorded.
static void
s_lead_later (partition_t *self)
{
    self->needs_ballot = false;
    if (self->role != ROLE_PRIMARY)
        partition_set_role (self, ROLE_INACTIVE);
    if (self->lead_pending == self->ballot)
        return;
    uint64_t *ballot;
    msg_t *msg = msg_new_local (&s_kind_lead, sizeof *ballot, (void **) &ballot);
    if (!msg) {
        partition_error (self, "out of memory");
        return;
    }
    *ballot = self->ballot;
    if (actor_send (self->self, self->self, &msg) != PG__STATUS__OK) {
        partition_error (self, "cannot go on to lead");
        return;
    }
    self->lead_pending = self->ballot;
}

static void
s_lead (partition_t *self, msg_t **msg_p)
{
    uint64_t ballot = *(uint64_t *) msg_body (*msg_p);
    if (self->state != PARTITION_READY || self->config.role != ROLE_PRIMARY
    ||  self->ballot != ballot || ballot <= self->led_ballot) {
        if (self->lead_pending == ballot)
            self->lead_pending = 0;
        return;                         //  overtaken by another configuration
    }
    if (partition_offload (self, msg_p))
        return;
    self->lead_pending = 0;
    if (ballotfile_write (self->dir, ballot)) {
        partition_error (self, "cannot record the ballot it leads at");
        return;
    }
    self->led_ballot = ballot;
    if (self->role == ROLE_PRIMARY) {
        partition_primary_members (self);
        partition_seal (self);
    }
    else
        partition_become_primary (self);
}

//  ---------------------------------------------------------------------------
//  Opening: RocksDB, then the log's records past its flushed state

static void
s_opened (partition_t *self)
{
    //  What the records say was committed is; the rest stays prepared, for
    //  a new primary to settle.
    self->state = PARTITION_READY;
    self->commit_may_block = false;
    log_info ("%s: ready at decree %" PRIu64 " (%" PRIu64 " in RocksDB's files, %" PRIu64
              " prepared)", actor_name (self->self), self->applied, self->flushed,
              plist_last (self->plist));
    int role = self->config.role;
    self->role = ROLE_INACTIVE;
    partition_config_t config = self->config;
    self->ballot = 0;
    config.role = role;
    partition_apply_config (self, &config);
    partition_report (self);
}

static void
s_on_registered (actor_t *actor, msg_t **reply_p, void *arg)
{
    (void) arg;
    partition_t *self = actor_state (actor);
    if (msg_status (*reply_p) != PG__STATUS__OK) {
        log_error ("cannot register with the log: %s %s", status_name (msg_status (*reply_p)),
                   msg_error (*reply_p));
        partition_error (self, "the node's log is unavailable");
        return;
    }
    s_replay_next (self, 0);
}

static void
s_on_records (actor_t *actor, msg_t **reply_p, void *arg)
{
    (void) arg;
    partition_t *self = actor_state (actor);
    if (!msg_is (*reply_p, &logwriter_kind_records)) {
        log_error ("replay failed: %s %s", status_name (msg_status (*reply_p)), msg_error (*reply_p));
        partition_error (self, "replay of the log failed");
        return;
    }
    logwriter_records_t *chunk = msg_body (*reply_p);
    uint64_t committed = 0;
    for (size_t i = 0; i < chunk->count; i++) {
        mlog_record_t *record = &chunk->records [i];
        if (mutation_walk (record->payload, record->payload_len, NULL, NULL) < 0) {
            log_error ("%s: log record %" PRIu64 " does not decode; replay stops there",
                       actor_name (self->self), record->decree);
            break;
        }
        int rc = plist_put (self->plist, record->ballot, record->decree, record->payload,
                            record->payload_len);
        if (rc < 0) {
            partition_error (self, "out of memory replaying the log");
            return;
        }
        if (rc == PLIST_ADDED || rc == PLIST_SAME)
            plist_set_durable (self->plist, record->decree, record->ballot);
        if (record->last_committed > committed)
            committed = record->last_committed;
    }
    //  As far as the records say was committed.
    partition_commit (self, committed);
    if (self->state == PARTITION_ERROR)
        return;
    if (!chunk->done && msg_status (*reply_p) == PG__STATUS__OK && chunk->count) {
        s_replay_next (self, chunk->cursor);
        return;
    }
    s_opened (self);
}

static void
s_replay_next (partition_t *self, uint64_t cursor)
{
    logwriter_replay_t *replay;
    msg_t *msg = msg_new_local (&logwriter_kind_replay, sizeof *replay, (void **) &replay);
    if (!msg)
        return;
    replay->app_id = self->app_id;
    replay->partition = self->partition;
    replay->from_decree = self->applied;
    replay->cursor = cursor;
    replay->max_bytes = REPLAY_CHUNK;
    int rc = actor_ask (self->self, self->log, &msg, LOG_TIMEOUT_MS, s_on_records, NULL);
    if (rc != PG__STATUS__OK)
        partition_error (self, "the node's log is unavailable");
}

static void
s_open (partition_t *self)
{
    char path [4200], old [4300], error [512] = "";
    if (mkdir (self->dir, 0755) && errno != EEXIST) {
        snprintf (error, sizeof error, "cannot create %s: %s", self->dir, strerror (errno));
        partition_error (self, error);
        return;
    }
    snprintf (path, sizeof path, "%s/db", self->dir);
    snprintf (old, sizeof old, "%s/db.old", self->dir);
    struct stat st;
    if (stat (path, &st) && stat (old, &st) == 0 && rename (old, path) == 0)
        log_warning ("%s: a checkpoint install was cut short; back to the previous state", path);
    if (ballotfile_read (self->dir, &self->led_ballot)) {
        partition_error (self, "its ballot file is unreadable");
        return;
    }
    self->db = db_open (self->env, path, error, sizeof error);
    if (!self->db) {
        char why [600];
        snprintf (why, sizeof why, "RocksDB did not open: %s", error);
        partition_error (self, why);
        return;
    }
    self->applied = self->flushed = db_decree (self->db);
    self->commit_may_block = true;      //  opening is on a pinned thread
    self->plist = plist_new (self->applied, KEEP_COUNT, (size_t) self->limits.learn_keep_bytes);
    if (!self->plist) {
        partition_error (self, "out of memory");
        return;
    }
    logwriter_register_t *reg;
    msg_t *msg = msg_new_local (&logwriter_kind_register, sizeof *reg, (void **) &reg);
    if (!msg)
        return;
    reg->replica = actor_ref (self->self);
    reg->app_id = self->app_id;
    reg->partition = self->partition;
    if (actor_ask (self->self, self->log, &msg, LOG_TIMEOUT_MS, s_on_registered, NULL) != PG__STATUS__OK)
        partition_error (self, "the node's log is unavailable");
}

//  Every 100 ms while a primary or learner has work its timers drive,
//  every second otherwise (an idle node holds thousands of replicas):
//  the roles' timers; every second a report to the stub;
//  every checkpoint_ms a flush of RocksDB so the log can let go, if
//  anything but empty mutations was applied since the last: an idle
//  replica flushes only when the log asks (logwriter_kind_flush), or
//  thousands of them would each write a file per empty write.
static bool
s_busy (partition_t *self)
{
    return self->state == PARTITION_READY
        && (self->role == ROLE_LEARNER
            || (self->role == ROLE_PRIMARY && partition_primary_busy (self)));
}

//  The next tick, as the first of a new series: a tick of an older one
//  does nothing (see s_pace).
//  Idle, as often as the timers it drives allow: a group check per
//  interval, when it is due (a tick a little short of it would put it
//  off a whole tick, stretching the interval towards twice its length),
//  and a member's silence noticed well within its limit.
static int64_t
s_idle_tick_ms (partition_t *self)
{
    int64_t ms = IDLE_TICK_MS;
    if (self->limits.group_check_ms < ms)
        ms = self->limits.group_check_ms;
    if (self->limits.prepare_timeout_ms / 2 < ms)
        ms = self->limits.prepare_timeout_ms / 2;
    if (self->role == ROLE_PRIMARY) {
        int64_t due = self->last_group_check_ms + self->limits.group_check_ms
                    - actor_now_ms (self->self);
        if (due < ms)
            ms = due;
    }
    return ms > TICK_MS ? ms : TICK_MS;
}

static void
s_arm_tick (partition_t *self, bool fast)
{
    uint64_t *gen;
    msg_t *tick = msg_new_local (&s_kind_tick, sizeof *gen, (void **) &gen);
    if (!tick)
        return;                         //  armed again after the next message
    *gen = ++self->tick_gen;
    self->tick_armed = actor_send_after (self->self, fast ? TICK_MS : s_idle_tick_ms (self), &tick) != 0;
    self->tick_fast = fast;
}

//  After each message: work that the tick drives started while the next
//  tick is a second away (a write to an idle primary, a learner): it
//  comes in 100 ms instead.
static void
s_pace (partition_t *self)
{
    if (!self->tick_armed || (!self->tick_fast && s_busy (self)))
        s_arm_tick (self, true);
}

static void s_tick_work (partition_t *self);

static void
s_tick (partition_t *self, msg_t *msg)
{
    if (*(uint64_t *) msg_body (msg) != self->tick_gen)
        return;                         //  replaced by a sooner one
    self->tick_armed = false;
    s_tick_work (self);
    s_arm_tick (self, s_busy (self));
}

static void
s_tick_work (partition_t *self)
{
    if (self->state != PARTITION_READY)
        return;
    int64_t now = actor_now_ms (self->self);
    if (self->unflushed_writes && now - self->last_flush_ms >= self->limits.checkpoint_ms
    &&  !self->flush_pending) {
        msg_t *flush = msg_new_local (&partition_kind_flush, 0, NULL);
        if (flush && actor_send (self->self, self->self, &flush) == PG__STATUS__OK)
            self->flush_pending = true;
    }
    if (self->role == ROLE_PRIMARY)
        partition_primary_tick (self);
    else
    if (self->role == ROLE_LEARNER)
        partition_learner_tick (self);
    if (now - self->last_report_ms >= REPORT_MS)
        partition_report (self);
}

//  ---------------------------------------------------------------------------
//  Admission and reads shared by the handlers

int
partition_admit (partition_t *self, msg_t *request, const Pg__Route *route,
                 const ProtobufCBinaryData *hash_key, const ProtobufCBinaryData *sort_key)
{
    if (self->state != PARTITION_READY || self->role != ROLE_PRIMARY || !self->serving) {
        partition_fail (self, request, PG__STATUS__INVALID_STATE, "%s is %s%s%s",
                        actor_name (self->self),
                        self->state == PARTITION_OPENING ? "opening"
                        : self->state == PARTITION_ERROR ? "failed"
                        : self->lead_pending ? "reconciling as a new primary (recording its ballot)"
                        : self->role != ROLE_PRIMARY ? "not the primary"
                        : "reconciling as a new primary",
                        *self->why && self->state == PARTITION_ERROR ? ": " : "",
                        self->state == PARTITION_ERROR ? self->why : "");
        return -1;
    }
    if (!self->standalone && actor_now_ms (self->self) >= self->lease_until) {
        partition_fail (self, request, PG__STATUS__INVALID_STATE,
                        "%s has no lease from meta: it may no longer be the primary",
                        actor_name (self->self));
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

//  A flush blocks until RocksDB has written the memtable: off the I/O
//  thread, so the node's network does not wait for it.
static void
s_flush (partition_t *self, msg_t **msg_p)
{
    if (partition_offload (self, msg_p))
        return;
    self->flush_pending = false;
    if (self->state != PARTITION_READY || self->applied <= self->flushed)
        return;
    uint64_t applied = self->applied;
    if (db_flush (self->db))
        return;                         //  logged by db; tried again later
    self->last_flush_ms = actor_now_ms (self->self);
    self->flushed = applied;
    self->unflushed_writes = false;
    logwriter_checkpoint_t *cp;
    msg_t *msg = msg_new_local (&logwriter_kind_checkpoint, sizeof *cp, (void **) &cp);
    if (msg) {
        cp->app_id = self->app_id;
        cp->partition = self->partition;
        cp->decree = self->flushed;
        actor_send (self->self, self->log, &msg);
    }
}

bool
partition_offload (partition_t *self, msg_t **msg_p)
{
    if (!actor_move (self->self, true))
        return false;
    actor_postpone (self->self, msg_p);
    return true;
}

//  Near the I/O thread while it serves a role that answers the network,
//  and nothing it postponed to do elsewhere is still waiting.
static void
s_place (partition_t *self)
{
    bool serving = self->state == PARTITION_READY
                && (self->role == ROLE_PRIMARY || self->role == ROLE_SECONDARY);
    actor_move (self->self, !serving || actor_postponed (self->self) > 0);
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
    { &pg__prepare_request__descriptor, partition_on_prepare },
};

static void
s_handle (partition_t *self, msg_t **msg_p)
{
    actor_t *actor = self->self;
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
        partition_seal (self);
    }
    else
    if (msg_is (msg, &s_kind_tick))
        s_tick (self, msg);
    else
    if (msg_is (msg, &partition_kind_checked))
        partition_primary_checked (self, msg_body (msg));
    else
    if (msg_is (msg, &partition_kind_flush) || msg_is (msg, &logwriter_kind_flush))
        s_flush (self, msg_p);
    else
    if (msg_is (msg, &partition_kind_config))
        partition_apply_config (self, msg_body (msg));

    else
    if (msg_is (msg, &partition_kind_lease)) {
        //  Meta's configuration of the lease named us primary, and we
        //  have it (or a newer one that does too): see partition.h.
        if (self->config.role == ROLE_PRIMARY)
            self->lease_until = ((partition_lease_t *) msg_body (msg))->until_ms;
    }
    else
    if (msg_is (msg, &s_kind_lead))
        s_lead (self, msg_p);
    else
    if (msg_is (msg, &s_kind_commit))
        s_commit_blocking (self, msg_p);
    else
    if (msg_is (msg, &partition_kind_open)) {
        if (self->state == PARTITION_OPENING && !self->db && !partition_offload (self, msg_p))
            s_open (self);
    }
    else
    if (!msg_is_request (msg))
        return;
    else
    if (msg_is (msg, &pg__group_check_request__descriptor))
        partition_on_group_check (self, msg);
    else
    if (msg_is (msg, &pg__learn_request__descriptor))
        partition_on_learn (self, msg_p);
    else
    if (msg_is (msg, &pg__config_proposal__descriptor))
        partition_on_proposal (self, msg);
    else
    if (msg_is (msg, &partition_kind_backup))
        partition_on_backup (self, msg_p);
    else
        partition_fail (self, msg, PG__STATUS__INVALID_ARGUMENT, "%s does not handle %s",
                        actor_name (actor), msg_kind_name (msg));
}

static void
s_receive (actor_t *actor, msg_t **msg_p)
{
    partition_t *self = actor_state (actor);
    s_handle (self, msg_p);
    s_place (self);
    s_pace (self);
}

//  Seals at the end of this turn: the message lands behind what is queued
//  now, so writes that arrived together share a mutation.
void
partition_seal_later (partition_t *self)
{
    actor_wake (self->self, &s_kind_seal, 0, &self->seal_pending);
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
    self->app_name = strdup (a->app_name);
    self->dir = strdup (a->dir);
    self->checkpoint_dir = strdup (a->checkpoint_dir ? a->checkpoint_dir : a->dir);
    self->node = rt_node (actor_rt (actor));
    self->log = actor_ref (a->log);
    self->stub = a->stub ? actor_ref (a->stub) : NULL;
    self->meta = a->meta ? actor_ref (a->meta) : NULL;
    self->standalone = !a->stub;
    self->checks = a->checks ? actor_ref (a->checks) : NULL;
    self->env = a->env;
    self->limits = a->limits;
    //  The ballot we start from: a configuration older than it (a stale
    //  sync still in flight) must not replace it while we open.
    self->config = a->config;
    self->ballot = a->config.ballot;
    self->overlay = overlay_new ();
    self->state = PARTITION_OPENING;
    self->role = ROLE_INACTIVE;
    actor_set_state (actor, self);
    if (!self->app_name || !self->dir || !self->checkpoint_dir || !self->overlay)
        return -1;
    //  Opening blocks (RocksDB), so it runs on a pinned thread, when the
    //  stub says (partition_kind_open); it moves near the I/O thread once
    //  it serves.
    actor_move (actor, true);
    if (self->standalone) {
        msg_t *open = msg_new_local (&partition_kind_open, 0, NULL);
        actor_send (actor, actor, &open);
    }
    self->last_flush_ms = actor_now_ms (actor);
    s_arm_tick (self, false);
    return 0;
}

static void
s_fini (actor_t *actor)
{
    partition_t *self = actor_state (actor);
    if (!self)
        return;
    //  Writes not yet committed may still commit elsewhere: their outcome
    //  is unknown to the client.
    partition_fail_waiters (self, PG__STATUS__OUTCOME_UNKNOWN, PG__STATUS__SHUTDOWN,
                            "the replica is closing");
    partition_drop_held (self, PG__STATUS__SHUTDOWN, "the replica is closing");
    partition_drop_peers (self);
    partition_copy_abort (self);
    logwriter_forget_t *forget;
    msg_t *msg = msg_new_local (&logwriter_kind_forget, sizeof *forget, (void **) &forget);
    if (msg) {
        forget->app_id = self->app_id;
        forget->partition = self->partition;
        forget->remove = false;
        forget->replica = actor;
        actor_send (actor, self->log, &msg);
    }
    db_close (&self->db);
    //  The stub waits for this before it opens the replica again (RocksDB
    //  is closed now, so its lock is free).
    partition_closed_t *closed;
    msg = self->stub ? msg_new_local (&partition_kind_closed, sizeof *closed, (void **) &closed)
                     : NULL;
    if (msg) {
        closed->app_id = self->app_id;
        closed->partition = self->partition;
        actor_send (actor, self->stub, &msg);
    }
    plist_destroy (&self->plist);
    mutation_destroy (&self->open);
    overlay_destroy (&self->overlay);
    actor_unref (&self->log);
    actor_unref (&self->stub);
    actor_unref (&self->meta);
    actor_unref (&self->checks);
    free (self->waiters.items);
    free (self->held.items);
    free (self->logged);
    free (self->app_name);
    free (self->dir);
    free (self->checkpoint_dir);
    free (self);
}

static const actor_ops_t s_ops = { "partition", s_init, s_receive, s_fini };

actor_t *
partition_spawn (rt_t *rt, const partition_args_t *args)
{
    char name [64];
    partition_name (args->app_id, args->partition, name, sizeof name);
    actor_opts_t opts = { .pinned = true, .near_io = true, .mailbox_limit = 200000 };
    return actor_spawn (rt, name, &s_ops, (void *) args, &opts);
}

int
partition_limits (zconfig_t *config, partition_limits_t *out)
{
    if (config_size (config, "replica/max_write_bytes", 1 << 20, 1024, 1LL << 30,
                        &out->max_write_bytes)
        || config_int (config, "replica/max_kv_count", 10000, 1, 10000000, &out->max_kv_count)
        || config_size (config, "replica/max_kv_size", 4 << 20, 1024, 1LL << 30, &out->max_kv_size)
        || config_int (config, "replica/max_range_ms", 100, 1, 60000, &out->max_range_ms)
        || config_int (config, "replica/max_batch_keys", 1000, 1, 10000000, &out->max_batch_keys)
        || config_int (config, "replica/checkpoint_ms", 10000, 10, 3600000, &out->checkpoint_ms)
        || config_int (config, "replica/max_inflight", 64, 1, 100000, &out->max_inflight)
        || config_size (config, "replica/max_pending_bytes", 64 << 20, 1 << 20, 1LL << 40,
                        &out->max_pending_bytes)
        || config_int (config, "replica/cluster_id", 1, 1, 127, &out->cluster_id)
        || config_int (config, "replica/prepare_timeout_ms", 2000, 100, 600000,
                       &out->prepare_timeout_ms)
        || config_int (config, "replica/group_check_ms", 1000, 50, 600000, &out->group_check_ms)
        || config_int (config, "replica/empty_write_ms", 0, 0, 3600000, &out->empty_write_ms)
        || config_size (config, "replica/learn_keep_bytes", 32 << 20, 0, 1LL << 34,
                        &out->learn_keep_bytes)
        || config_size (config, "replica/learn_chunk_bytes", 1 << 20, 4096, 64 << 20,
                        &out->learn_chunk_bytes))
        return -1;
    if (out->empty_write_ms > 0 && out->empty_write_ms < 100) {
        log_error ("config: replica/empty_write_ms = %" PRId64 ": 0 (never), or at least 100",
                   out->empty_write_ms);
        return -1;
    }
    return 0;
}
