/*  logwriter: see logwriter.h. */
#include "replica/logwriter.h"
#include "runtime/config.h"
#include "runtime/log.h"
#include "runtime/rt.h"
#include "runtime/u64map.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

const msg_kind_t logwriter_kind_register = { "log.register" };
const msg_kind_t logwriter_kind_replay = { "log.replay" };
const msg_kind_t logwriter_kind_records = { "log.records" };
const msg_kind_t logwriter_kind_append = { "log.append" };
const msg_kind_t logwriter_kind_durable = { "log.durable" };
const msg_kind_t logwriter_kind_checkpoint = { "log.checkpoint" };
const msg_kind_t logwriter_kind_forget = { "log.forget" };
const msg_kind_t logwriter_kind_keep = { "log.keep" };
const msg_kind_t logwriter_kind_flush = { "log.flush" };
static const msg_kind_t s_kind_sync = { "log.sync" };
static const msg_kind_t s_kind_spare = { "log.spare" };
static const msg_kind_t s_kind_spare_step = { "log.spare.step" };

//  A spare is written a chunk at a time, a pause between two: each sync of
//  a chunk holds the disk, and the log's own syncs wait behind it.
#define SPARE_CHUNK (256u << 10)
#define SPARE_PAUSE_MS 2

typedef struct {
    uint64_t decree;
    mlog_loc_t loc;
} entry_t;

//  One replica's view of the log.
typedef struct {
    uint64_t id;
    actor_t *replica;                   //  registered partition, or NULL
    entry_t *entries;                   //  records it may still need, in order
    size_t first;                       //  entries before this are dropped
    size_t count;
    uint64_t base;                      //  replay cursor of entries [first] (1-based)
    size_t capacity;
    uint64_t durable;                   //  flushed in its RocksDB
    uint64_t round_seq;                 //  highest append seq this round
    bool touched;                       //  appended this round
    int64_t flush_asked_ms;             //  when it was last asked to flush
    bool removed;                       //  its records hold nothing back
} rep_t;

typedef struct {
    uint64_t seq;
    u64map_t *max_decree;               //  replica id -> max decree here (+1)
} seginfo_t;

typedef struct {
    mlog_t *log;
    logwriter_config_t config;
    u64map_t *reps;                     //  id -> rep_t
    seginfo_t *segments;                //  ascending seq
    size_t nsegments;
    size_t seg_capacity;
    rep_t **touched;                    //  reps appended to this round
    size_t ntouched;
    size_t touched_capacity;
    bool sync_pending;
    bool broken;                        //  a write or sync failed
    actor_t *spare;                     //  prepares spare segments, or NULL
    bool spare_asked;                   //  a request is out
    int64_t flush_checked_ms;           //  the last look for replicas to flush
    uint64_t rounds;
    uint64_t appended;
} writer_t;

//  ---------------------------------------------------------------------------
//  Bookkeeping

static rep_t *
s_rep (writer_t *self, uint64_t id, bool create)
{
    rep_t *rep = u64map_get (self->reps, id);
    if (rep || !create)
        return rep;
    rep = calloc (1, sizeof *rep);
    if (!rep || u64map_put (self->reps, id, rep)) {
        free (rep);
        return NULL;
    }
    rep->id = id;
    rep->base = 1;
    return rep;
}

static seginfo_t *
s_seginfo (writer_t *self, uint64_t seq)
{
    if (self->nsegments && self->segments [self->nsegments - 1].seq == seq)
        return &self->segments [self->nsegments - 1];
    for (size_t i = 0; i < self->nsegments; i++)
        if (self->segments [i].seq == seq)
            return &self->segments [i];
    if (self->nsegments == self->seg_capacity) {
        size_t capacity = self->seg_capacity ? self->seg_capacity * 2 : 16;
        seginfo_t *grown = realloc (self->segments, capacity * sizeof *grown);
        if (!grown)
            return NULL;
        self->segments = grown;
        self->seg_capacity = capacity;
    }
    seginfo_t *info = &self->segments [self->nsegments];
    info->seq = seq;
    info->max_decree = u64map_new ();
    if (!info->max_decree)
        return NULL;
    self->nsegments++;
    return info;
}

//  Records that rep has decree at loc.
static int
s_index (writer_t *self, rep_t *rep, uint64_t decree, mlog_loc_t loc)
{
    if (decree <= rep->durable)
        return 0;                       //  already flushed: never needed
    if (rep->first + rep->count == rep->capacity) {
        if (rep->first > rep->capacity / 2) {
            memmove (rep->entries, rep->entries + rep->first, rep->count * sizeof (entry_t));
            rep->first = 0;
        }
        else {
            size_t capacity = rep->capacity ? rep->capacity * 2 : 64;
            entry_t *grown = realloc (rep->entries, capacity * sizeof *grown);
            if (!grown)
                return -1;
            rep->entries = grown;
            rep->capacity = capacity;
        }
    }
    rep->entries [rep->first + rep->count++] = (entry_t) { decree, loc };
    seginfo_t *info = s_seginfo (self, loc.segment);
    if (!info)
        return -1;
    //  Stored +1 so that decree 0 is not mistaken for "absent".
    uintptr_t known = (uintptr_t) u64map_get (info->max_decree, rep->id);
    if (decree + 1 > known)
        u64map_put (info->max_decree, rep->id, (void *) (uintptr_t) (decree + 1));
    return 0;
}

//  A reset marker: the replica's state is a checkpoint of decree, so none
//  of its earlier records are needed or replayed.
static void
s_reset (rep_t *rep, uint64_t decree)
{
    rep->base += rep->count;
    rep->first = rep->count = 0;
    rep->durable = decree;
}

static void
s_scan_record (void *ctx, const mlog_record_t *record, mlog_loc_t loc)
{
    writer_t *self = ctx;
    rep_t *rep = s_rep (self, logwriter_id (record->app_id, record->partition), true);
    if (rep && record->ballot == 0)
        s_reset (rep, record->decree);
    else
    if (!rep || s_index (self, rep, record->decree, loc))
        log_error ("log: out of memory indexing the log");
}

//  Deletes every segment (but the current) that no replica needs.
static void
s_collect (writer_t *self)
{
    uint64_t current = mlog_current_segment (self->log);
    size_t kept = 0;
    for (size_t i = 0; i < self->nsegments; i++) {
        seginfo_t *info = &self->segments [i];
        bool needed = info->seq == current;
        size_t cursor = 0;
        uint64_t id;
        void *value;
        while (!needed && u64map_next (info->max_decree, &cursor, &id, &value) == 0) {
            rep_t *rep = u64map_get (self->reps, id);
            uint64_t max_decree = (uint64_t) (uintptr_t) value - 1;
            if (rep && !rep->removed && rep->durable < max_decree)
                needed = true;
        }
        if (!needed && mlog_remove_segment (self->log, info->seq) == 0) {
            log_info ("log: segment %016" PRIx64 " no longer needed; removed", info->seq);
            u64map_destroy (&info->max_decree);
            continue;
        }
        self->segments [kept++] = *info;
    }
    self->nsegments = kept;
}

static void
s_drop_entries (rep_t *rep)
{
    while (rep->count && rep->entries [rep->first].decree <= rep->durable) {
        rep->first++;
        rep->count--;
        rep->base++;
    }
    if (!rep->count)
        rep->first = 0;
}

static void
s_forget (writer_t *self, rep_t *rep, bool remove)
{
    actor_unref (&rep->replica);
    if (remove) {
        rep->removed = true;
        rep->base += rep->count;
        rep->count = rep->first = 0;
    }
}

//  ---------------------------------------------------------------------------
//  Handlers

static void
s_touch (writer_t *self, rep_t *rep, uint64_t seq)
{
    if (seq > rep->round_seq)
        rep->round_seq = seq;
    if (rep->touched)
        return;
    if (self->ntouched == self->touched_capacity) {
        size_t capacity = self->touched_capacity ? self->touched_capacity * 2 : 64;
        rep_t **grown = realloc (self->touched, capacity * sizeof *grown);
        if (!grown)
            return;
        self->touched = grown;
        self->touched_capacity = capacity;
    }
    rep->touched = true;
    self->touched [self->ntouched++] = rep;
}

static void
s_notify (actor_t *self_actor, rep_t *rep, uint64_t seq, int status)
{
    if (!rep->replica)
        return;
    logwriter_durable_t *body;
    msg_t *msg = msg_new_local (&logwriter_kind_durable, sizeof *body, (void **) &body);
    if (!msg)
        return;
    body->seq = seq;
    body->status = status;
    actor_send (self_actor, rep->replica, &msg);
}

static void
s_on_append (actor_t *self_actor, writer_t *self, logwriter_append_t *append)
{
    rep_t *rep = s_rep (self, logwriter_id (append->app_id, append->partition), true);
    if (!rep)
        return;
    mlog_loc_t loc;
    bool reset = append->reset;
    if (self->broken || mlog_append (self->log, append->record, append->size, &loc)
    ||  (!reset && s_index (self, rep, append->decree, loc))) {
        self->broken = true;
        s_notify (self_actor, rep, append->seq, PG__STATUS__IO_ERROR);
        return;
    }
    if (reset)
        s_reset (rep, append->decree);
    self->appended++;
    s_touch (self, rep, append->seq);
    if (!self->sync_pending) {
        self->sync_pending = true;
        msg_t *sync = msg_new_local (&s_kind_sync, 0, NULL);
        if (self->config.fsync_policy == LOGWRITER_FSYNC_GROUP && self->config.group_ms > 0)
            actor_send_after (self_actor, self->config.group_ms, &sync);
        else
            actor_send (self_actor, self_actor, &sync);
    }
}

//  ---------------------------------------------------------------------------
//  Spare segments: zero-filling 64 MB takes a while, so a helper on
//  another pinned thread writes them, and the writer never waits for one.

typedef struct {
    char *dir;
    uint64_t bytes;
    mlog_spare_t *spare;                //  being written
    msg_t *request;                     //  answered when it is done
} spare_t;

static void
s_spare_done (actor_t *self_actor, spare_t *self, int rc)
{
    mlog_spare_destroy (&self->spare);
    msg_t *reply = msg_new_local (&actor_kind_empty, 0, NULL);
    if (reply && rc)
        msg_set_status (reply, PG__STATUS__IO_ERROR, "no spare segment");
    actor_reply (self_actor, self->request, &reply);
    msg_destroy (&self->request);
}

static int
s_spare_init (actor_t *self_actor, void *args)
{
    const logwriter_config_t *config = args;
    spare_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    self->dir = strdup (config->dir);
    self->bytes = (uint64_t) config->segment_bytes;
    actor_set_state (self_actor, self);
    return self->dir ? 0 : -1;
}

static void
s_spare_receive (actor_t *self_actor, msg_t **msg_p)
{
    spare_t *self = actor_state (self_actor);
    if (msg_is (*msg_p, &s_kind_spare) && msg_is_request (*msg_p) && !self->request) {
        self->request = *msg_p;
        *msg_p = NULL;
        self->spare = mlog_spare_new (self->dir, self->bytes);
        if (!self->spare) {
            s_spare_done (self_actor, self, -1);
            return;
        }
    }
    else
    if (!msg_is (*msg_p, &s_kind_spare_step) || !self->spare)
        return;
    int rc = mlog_spare_step (self->spare, SPARE_CHUNK);
    if (rc != 1) {
        s_spare_done (self_actor, self, rc);
        return;
    }
    msg_t *step = msg_new_local (&s_kind_spare_step, 0, NULL);
    actor_send_after (self_actor, SPARE_PAUSE_MS, &step);
}

static void
s_spare_fini (actor_t *self_actor)
{
    spare_t *self = actor_state (self_actor);
    if (self) {
        mlog_spare_destroy (&self->spare);
        msg_destroy (&self->request);
        free (self->dir);
    }
    free (self);
}

static const actor_ops_t s_spare_ops = { "logspare", s_spare_init, s_spare_receive, s_spare_fini };

static void s_want_spare (actor_t *self_actor, writer_t *self);

//  A fresh log's first segment grows as written: it moves on to the
//  spare as soon as there is one, not 64 MB later.
static void
s_on_spare (actor_t *self_actor, msg_t **reply_p, void *arg)
{
    (void) arg;
    writer_t *self = actor_state (self_actor);
    self->spare_asked = false;          //  failures are logged by the helper
    if (msg_status (*reply_p) == PG__STATUS__OK && !self->broken && mlog_use_spare (self->log)) {
        log_error ("log: cannot start a new segment; the log refuses writes from now on");
        self->broken = true;
    }
    s_want_spare (self_actor, self);
}

static void
s_want_spare (actor_t *self_actor, writer_t *self)
{
    if (!self->spare || self->spare_asked || !mlog_wants_spare (self->log))
        return;
    msg_t *msg = msg_new_local (&s_kind_spare, 0, NULL);
    if (msg && actor_ask (self_actor, self->spare, &msg, 600000, s_on_spare, NULL) == PG__STATUS__OK)
        self->spare_asked = true;
}

//  A replica that writes little, or only its primary's empty writes,
//  flushes rarely on its own (see partition.c), and the segments holding
//  its records stay. While the log holds more than flush_segments
//  segments, the replicas holding the older ones are asked to flush, at
//  most FLUSH_ASKS a second (an idle server's thousands of replicas all
//  hold every segment: asked at once, their flushes would keep the pinned
//  threads busy for seconds), and each at most once per FLUSH_AGAIN_MS.
#define FLUSH_ASKS 64
#define FLUSH_AGAIN_MS 10000

static void
s_ask_flushes (actor_t *self_actor, writer_t *self)
{
    int64_t now = actor_now_ms (self_actor);
    if ((size_t) self->config.flush_segments >= self->nsegments || now - self->flush_checked_ms < 1000)
        return;
    self->flush_checked_ms = now;
    uint64_t current = mlog_current_segment (self->log);
    size_t asked = 0;
    for (size_t i = 0; i + (size_t) self->config.flush_segments < self->nsegments && asked < FLUSH_ASKS; i++) {
        seginfo_t *info = &self->segments [i];
        size_t cursor = 0;
        uint64_t id;
        void *value;
        while (info->seq != current && asked < FLUSH_ASKS
           &&  u64map_next (info->max_decree, &cursor, &id, &value) == 0) {
            rep_t *rep = u64map_get (self->reps, id);
            if (!rep || rep->removed || !rep->replica
            ||  (rep->flush_asked_ms && now - rep->flush_asked_ms < FLUSH_AGAIN_MS)
            ||  rep->durable >= (uint64_t) (uintptr_t) value - 1)
                continue;
            msg_t *msg = msg_new_local (&logwriter_kind_flush, 0, NULL);
            if (msg && actor_send (self_actor, rep->replica, &msg) == PG__STATUS__OK) {
                rep->flush_asked_ms = now;
                asked++;
            }
        }
    }
    if (asked)
        log_info ("log: %zu segments kept; %zu replicas holding the oldest asked to flush",
                  self->nsegments, asked);
}

static void
s_on_sync (actor_t *self_actor, writer_t *self)
{
    self->sync_pending = false;
    bool durable = self->config.fsync_policy != LOGWRITER_FSYNC_OFF;
    int status = PG__STATUS__OK;
    if (self->broken || mlog_sync (self->log, durable)) {
        if (!self->broken)
            log_error ("log: sync failed; the log refuses writes from now on");
        self->broken = true;
        status = PG__STATUS__IO_ERROR;
    }
    self->rounds++;
    for (size_t i = 0; i < self->ntouched; i++) {
        rep_t *rep = self->touched [i];
        s_notify (self_actor, rep, rep->round_seq, status);
        rep->touched = false;
        rep->round_seq = 0;
    }
    self->ntouched = 0;
    s_want_spare (self_actor, self);
    s_ask_flushes (self_actor, self);
}

//  The index positions (from rep->first) of the records a replay sends:
//  in log order from a cursor, or the latest record per decree.
typedef struct {
    size_t *positions;
    size_t count;
    size_t bytes;
} pick_t;

static int
s_pick_in_order (rep_t *rep, const logwriter_replay_t *replay, pick_t *pick, size_t start)
{
    while (start + pick->count < rep->count
       &&  (pick->count == 0 || pick->bytes + rep->entries [rep->first + start + pick->count].loc.size
                                <= replay->max_bytes)) {
        pick->bytes += rep->entries [rep->first + start + pick->count].loc.size;
        pick->count++;
    }
    pick->positions = malloc ((pick->count ? pick->count : 1) * sizeof *pick->positions);
    if (!pick->positions)
        return -1;
    for (size_t i = 0; i < pick->count; i++)
        pick->positions [i] = start + i;
    return 0;
}

//  A learner asks for at most this many decrees at a time.
#define LATEST_MAX 4096

static int
s_pick_latest (rep_t *rep, const logwriter_replay_t *replay, pick_t *pick)
{
    uint64_t from = replay->from_decree + 1;
    uint64_t to = replay->to_decree;
    if (to >= from + LATEST_MAX)
        to = from + LATEST_MAX - 1;
    size_t span = to >= from ? (size_t) (to - from + 1) : 0;
    //  The last position of each decree in [from, to]: later records of a
    //  decree replace earlier ones (0 = none; positions stored + 1).
    size_t *last = calloc (span ? span : 1, sizeof *last);
    pick->positions = malloc ((span ? span : 1) * sizeof *pick->positions);
    if (!last || !pick->positions) {
        free (last);
        return -1;
    }
    for (size_t i = 0; i < rep->count; i++) {
        uint64_t decree = rep->entries [rep->first + i].decree;
        if (decree >= from && decree <= to)
            last [decree - from] = i + 1;
    }
    for (size_t k = 0; k < span && last [k]; k++) {
        size_t size = rep->entries [rep->first + last [k] - 1].loc.size;
        if (pick->count && pick->bytes + size > replay->max_bytes)
            break;
        pick->positions [pick->count++] = last [k] - 1;
        pick->bytes += size;
    }
    free (last);
    return 0;
}

static void
s_on_replay (actor_t *self_actor, writer_t *self, msg_t *request)
{
    logwriter_replay_t *replay = msg_body (request);
    rep_t *rep = s_rep (self, logwriter_id (replay->app_id, replay->partition), false);
    size_t start = 0;
    if (rep && replay->cursor && !replay->latest) {
        if (replay->cursor < rep->base) {
            actor_reply_error (self_actor, request, PG__STATUS__IO_ERROR,
                               "records of replica %u.%u from cursor %" PRIu64 " were let go",
                               replay->app_id, replay->partition, replay->cursor);
            return;
        }
        start = replay->cursor - rep->base;
        if (start > rep->count)
            start = rep->count;
    }
    else
    if (rep)
        while (start < rep->count && rep->entries [rep->first + start].decree <= replay->from_decree)
            start++;
    pick_t pick = { NULL, 0, 0 };
    if (rep && (replay->latest ? s_pick_latest (rep, replay, &pick)
                               : s_pick_in_order (rep, replay, &pick, start))) {
        actor_reply_error (self_actor, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    size_t count = pick.count;
    logwriter_records_t *body;
    msg_t *reply = msg_new_local (&logwriter_kind_records, sizeof *body + count * sizeof (mlog_record_t)
                                  + pick.bytes, (void **) &body);
    if (!reply) {
        free (pick.positions);
        actor_reply_error (self_actor, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    body->records = (mlog_record_t *) (body + 1);
    uint8_t *buffer = (uint8_t *) (body->records + count);
    for (size_t i = 0; i < count; i++) {
        entry_t *entry = &rep->entries [rep->first + pick.positions [i]];
        if (mlog_read (self->log, entry->loc, buffer, &body->records [i])) {
            log_error ("log: record %" PRIu64 " of replica %u.%u unreadable at segment %016"
                       PRIx64 " offset %" PRIu64 "; replay stops before it",
                       entry->decree, replay->app_id, replay->partition,
                       entry->loc.segment, entry->loc.offset);
            msg_set_status (reply, PG__STATUS__IO_ERROR, "record %" PRIu64 " unreadable",
                            entry->decree);
            count = i;
            break;
        }
        buffer += entry->loc.size;
    }
    free (pick.positions);
    body->count = count;
    if (replay->latest) {
        body->cursor = 0;
        body->done = !count || body->records [count - 1].decree >= replay->to_decree
                  || msg_status (reply) != PG__STATUS__OK;
    }
    else {
        body->cursor = rep ? rep->base + start + count : 1;
        body->done = !rep || start + count >= rep->count || msg_status (reply) != PG__STATUS__OK;
    }
    actor_reply (self_actor, request, &reply);
}

static void
s_on_register (actor_t *self_actor, writer_t *self, msg_t *request)
{
    logwriter_register_t *reg = msg_body (request);
    rep_t *rep = s_rep (self, logwriter_id (reg->app_id, reg->partition), true);
    if (!rep) {
        actor_unref (&reg->replica);
        actor_reply_error (self_actor, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    actor_unref (&rep->replica);
    rep->replica = reg->replica;            //  the reference is ours now
    reg->replica = NULL;
    rep->removed = false;
    msg_t *reply = msg_new_local (&actor_kind_empty, 0, NULL);
    if (self->broken)
        msg_set_status (reply, PG__STATUS__IO_ERROR, "the node's log failed");
    actor_reply (self_actor, request, &reply);
}

static void
s_receive (actor_t *self_actor, msg_t **msg_p)
{
    writer_t *self = actor_state (self_actor);
    msg_t *msg = *msg_p;
    if (msg_is (msg, &logwriter_kind_append))
        s_on_append (self_actor, self, msg_body (msg));
    else
    if (msg_is (msg, &s_kind_sync))
        s_on_sync (self_actor, self);
    else
    if (msg_is (msg, &logwriter_kind_replay) && msg_is_request (msg))
        s_on_replay (self_actor, self, msg);
    else
    if (msg_is (msg, &logwriter_kind_register) && msg_is_request (msg))
        s_on_register (self_actor, self, msg);
    else
    if (msg_is (msg, &logwriter_kind_checkpoint)) {
        logwriter_checkpoint_t *cp = msg_body (msg);
        rep_t *rep = s_rep (self, logwriter_id (cp->app_id, cp->partition), false);
        if (rep && cp->decree > rep->durable) {
            rep->durable = cp->decree;
            s_drop_entries (rep);
            s_collect (self);
        }
    }
    else
    if (msg_is (msg, &logwriter_kind_forget)) {
        logwriter_forget_t *forget = msg_body (msg);
        rep_t *rep = s_rep (self, logwriter_id (forget->app_id, forget->partition), false);
        if (rep && forget->replica && rep->replica && forget->replica != rep->replica)
            rep = NULL;                 //  a newer actor of the replica registered since
        if (rep) {
            s_forget (self, rep, forget->remove);
            if (forget->remove)
                s_collect (self);
        }
    }
    else
    if (msg_is (msg, &logwriter_kind_keep)) {
        logwriter_keep_t *keep = msg_body (msg);
        u64map_t *wanted = u64map_new ();
        for (size_t i = 0; wanted && i < keep->count; i++)
            u64map_put (wanted, keep->ids [i], (void *) 1);
        size_t cursor = 0;
        uint64_t id;
        void *value;
        while (wanted && u64map_next (self->reps, &cursor, &id, &value) == 0)
            if (!u64map_get (wanted, id) && !((rep_t *) value)->removed)
                s_forget (self, value, true);
        u64map_destroy (&wanted);
        s_collect (self);
    }
    else
    if (msg_is_request (msg))
        actor_reply_error (self_actor, msg, PG__STATUS__INVALID_ARGUMENT,
                           "log writer: unexpected %s", msg_kind_name (msg));
}

//  ---------------------------------------------------------------------------
//  Life cycle

static int
s_init (actor_t *self_actor, void *args)
{
    const logwriter_config_t *config = args;
    writer_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    self->config = *config;
    self->reps = u64map_new ();
    if (!self->reps) {
        free (self);
        return -1;
    }
    mlog_stats_t stats;
    self->log = mlog_open (config->dir, (uint64_t) config->segment_bytes, s_scan_record, self, &stats);
    if (!self->log) {
        u64map_destroy (&self->reps);
        free (self);
        return -1;
    }
    log_notice ("log: %s: %" PRIu64 " segments, %" PRIu64 " records, %" PRIu64
                " torn bytes truncated, %" PRIu64 " corrupt bytes skipped",
                config->dir, stats.segments, stats.records, stats.torn_bytes, stats.corrupt_bytes);
    actor_set_state (self_actor, self);
    //  Without the helper every segment simply grows as it is written.
    self->spare = actor_spawn (actor_rt (self_actor), "log.spare", &s_spare_ops, (void *) config,
                               &(actor_opts_t) { .pinned = true });
    if (!self->spare)
        log_warning ("log: no helper for spare segments; segments grow as written");
    s_want_spare (self_actor, self);
    return 0;
}

static void
s_fini (actor_t *self_actor)
{
    writer_t *self = actor_state (self_actor);
    if (self->ntouched)
        s_on_sync (self_actor, self);       //  acknowledge what is in flight
    mlog_close (&self->log);
    actor_stop (&self->spare);
    size_t cursor = 0;
    uint64_t id;
    void *value;
    while (u64map_next (self->reps, &cursor, &id, &value) == 0) {
        rep_t *rep = value;
        actor_unref (&rep->replica);
        free (rep->entries);
        free (rep);
    }
    u64map_destroy (&self->reps);
    for (size_t i = 0; i < self->nsegments; i++)
        u64map_destroy (&self->segments [i].max_decree);
    free (self->segments);
    free (self->touched);
    free (self);
}

static const actor_ops_t s_ops = { "logwriter", s_init, s_receive, s_fini };

int
logwriter_config (zconfig_t *config, logwriter_config_t *out)
{
    static const char *const policies [] = { "always", "group", "off", NULL };
    int64_t segment_bytes, group_ms;
    int policy;
    if (config_size (config, "log/segment_bytes", 64 << 20, 64 << 10, 1LL << 34, &segment_bytes)
    ||  config_enum (config, "log/fsync", "always", policies, &policy)
    ||  config_int (config, "log/group_ms", 2, 0, 1000, &group_ms)
    ||  config_int (config, "log/flush_segments", 4, 1, 100000, &out->flush_segments))
        return -1;
    out->segment_bytes = segment_bytes;
    out->fsync_policy = policy;
    out->group_ms = group_ms;
    return 0;
}

actor_t *
logwriter_spawn (rt_t *rt, const logwriter_config_t *config)
{
    actor_opts_t opts = { .pinned = true, .exclusive = true, .mailbox_limit = 1000000 };
    return actor_spawn (rt, "log", &s_ops, (void *) config, &opts);
}
