/*  stub: see stub.h. */
#include "config.h"
#include "replica/stub.h"
#include "replica/db.h"
#include "actors/filesrv.h"
#include "replica/fetcher.h"
#include "replica/uploader.h"
#include "replica/groupcheck.h"
#include "replica/logwriter.h"
#include "replica/partition.h"
#include "common/rmtree.h"
#include "common/wiretypes.h"
#include "runtime/config.h"
#include "runtime/fault.h"
#include "runtime/log.h"
#include "runtime/rt.h"
#include "runtime/u64map.h"
#include "meta.pb-c.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const msg_kind_t s_kind_tick = { "stub.tick" };
static const msg_kind_t s_kind_beacon = { "stub.beacon" };
static const msg_kind_t s_kind_reopen = { "stub.reopen" };

#define CLOSING_WAIT_MS 10000
#define FULL_SYNC_MS 30000
//  server_info's walk of the disk: thousands of replica directories take
//  well under a second, answered within a client's usual deadline; one
//  walk serves every request for DU_FRESH_MS.
#define DU_TIMEOUT_MS 5000
#define DU_FRESH_MS 10000

typedef struct {
    actor_t *actor;
    uint32_t partition_count;
    //  As the replica last reported it (ballot and role as we last told
    //  it, until it reports again).
    partition_status_t status;
    bool assigned;                      //  meta's last sync names this node
    bool seen;                          //  in the assignment being applied
    bool leads;                         //  meta's last sync makes it primary
    bool open_granted;                  //  told to open, and counted in nopening until it is
    int64_t flush_asked_ms;             //  when the budget last asked it to flush
    bool dirty;                         //  its report changed since the last beacon
    int64_t lease_sent;                 //  the lease it was last told
} replica_t;

typedef struct {
    actor_t *self;
    char *data_dir;
    char *replica_dir;
    actor_t *meta;
    actor_t *log;
    actor_t *files;
    actor_t *uploader;                  //  "backup": this server's part of backups
    actor_t *fetcher;                   //  "restore": and of restores
    db_env_t *env;
    logwriter_config_t log_config;
    char *log_dir;
    partition_limits_t limits;
    int64_t beacon_ms;
    int64_t gc_delay_ms;
    uint64_t incarnation;               //  this process's life: a restart is a new one
    int64_t start_ms;
    int64_t lease_until;
    int64_t last_reply_ms;              //  the last beacon reply (or the start)
    bool log_failed;                    //  a replica reported the node's log failed
    char *meta_node;                    //  meta's address: pushes come from there only
    char *checkpoint_dir;
    u64map_t *unassigned;               //  dir id -> first seen unassigned (ms)
    u64map_t *restoring;                //  replica id -> 1: named here, not opened (restore)
    uint64_t config_version;
    bool beacon_in_flight;
    bool beacon_now_pending;            //  a beacon is queued to go at once
    bool synced;                        //  a full assignment arrived once
    int64_t last_full_ms;               //  when the last full one did
    bool retry_sync;                    //  a replica failed to open: resync
    u64map_t *replicas;                 //  id -> replica_t
    u64map_t *closing;                  //  id -> closing_t: stopped, fini not yet run
    bool reopen_scheduled;
    //  Replicas waiting to open (ids, first in first out; an id whose
    //  replica is gone or already told is skipped), and how many open now.
    uint64_t *open_queue;
    size_t open_head, open_tail, open_capacity;
    int64_t open_concurrency;
    int64_t nopening;
    int64_t write_budget;               //  memtable bytes of all replicas together
    uint64_t memtable_bytes;            //  of all replicas, as last reported
    //  Beacons carry the reports that changed (see BeaconRequest).
    uint64_t reports_seq;               //  of the last beacon sent
    bool reports_full;                  //  the next one lists every replica
    uint64_t *closed;                   //  ids closed since the last beacon
    size_t nclosed, closed_capacity;
    actor_t *checks;                    //  batches group checks per server
    struct {                            //  server_info's disk figures (see s_info_walk)
        bool known, walking;
        uint64_t replica_bytes, log_bytes;
        uint32_t replica_dirs;
        int64_t at_ms;
        struct info_wait_t *waiting;
    } du;
} stub_t;

//  A replica being closed, and what to open in its place once it has.
typedef struct {
    bool closed;                        //  its fini ran (its name may still be taken)
    int64_t since_ms;                   //  when it was stopped
    bool named;                         //  in the sync being applied
    bool reopen;
    uint32_t partition_count;
    char app_name [160];
    partition_config_t config;
} closing_t;

static inline uint64_t
s_id (uint32_t app_id, uint32_t partition)
{
    return (uint64_t) app_id << 32 | partition;
}

//  Meta must hear that the replica is gone; if the id cannot be kept (out
//  of memory), the next beacon lists every replica instead.
static void
s_report_closed (stub_t *self, uint64_t id)
{
    if (self->reports_full)
        return;
    if (self->nclosed == self->closed_capacity) {
        size_t capacity = self->closed_capacity ? self->closed_capacity * 2 : 64;
        uint64_t *grown = realloc (self->closed, capacity * sizeof *grown);
        if (!grown) {
            self->reports_full = true;
            return;
        }
        self->closed = grown;
        self->closed_capacity = capacity;
    }
    self->closed [self->nclosed++] = id;
}

static void
s_replica_dir (stub_t *self, uint32_t app_id, uint32_t partition, char *out, size_t size)
{
    snprintf (out, size, "%s/%u.%u", self->replica_dir, app_id, partition);
}

//  ---------------------------------------------------------------------------
//  Applying assignments

//  Stopping an actor from another one is asynchronous: the replica stays
//  in `closing` until its fini says so, and an open of it meanwhile waits
//  for that (its RocksDB lock and its name are still taken).
static void
s_close (stub_t *self, replica_t *r)
{
    log_info ("closing replica %u.%u", r->status.app_id, r->status.partition);
    uint64_t id = s_id (r->status.app_id, r->status.partition);
    closing_t *closing = calloc (1, sizeof *closing);
    if (closing)
        closing->since_ms = actor_now_ms (self->self);
    if (closing && u64map_put (self->closing, id, closing))
        free (closing);
    if (r->open_granted)
        self->nopening--;
    self->memtable_bytes -= r->status.memtable_bytes;
    s_report_closed (self, id);
    actor_stop (&r->actor);
    u64map_take (self->replicas, id);
    free (r);
}

static void
s_send_config (stub_t *self, replica_t *r, const partition_config_t *config)
{
    partition_config_t *body;
    msg_t *msg = msg_new_local (&partition_kind_config, sizeof *body, (void **) &body);
    if (!msg)
        return;
    *body = *config;
    actor_send (self->self, r->actor, &msg);
}

//  The node's lease, to a replica meta's last sync makes primary (and
//  only after that sync's configuration went to it: see partition.h).
static void
s_lease_until (stub_t *self, replica_t *r, int64_t until_ms)
{
    partition_lease_t *body;
    msg_t *msg = msg_new_local (&partition_kind_lease, sizeof *body, (void **) &body);
    if (!msg)
        return;
    body->until_ms = until_ms;
    if (actor_send (self->self, r->actor, &msg) == PG__STATUS__OK)
        r->lease_sent = until_ms;
}

static void
s_send_lease (stub_t *self, replica_t *r)
{
    if (r->leads && self->lease_until)
        s_lease_until (self, r, self->lease_until);
}

//  If the replica is still closing, remembers to open it (with this
//  configuration) once it has, and says so.
static bool
s_open_later (stub_t *self, uint32_t app_id, uint32_t partition, uint32_t partition_count,
              const char *app_name, const partition_config_t *config)
{
    closing_t *closing = u64map_get (self->closing, s_id (app_id, partition));
    if (!closing)
        return false;
    closing->reopen = true;
    closing->named = true;
    closing->partition_count = partition_count;
    snprintf (closing->app_name, sizeof closing->app_name, "%s", app_name);
    closing->config = *config;
    return true;
}

//  Every replica here stops serving at once (a lease that ended long ago),
//  and none gets a lease again: the node's log failed, so a primary that
//  has not appended since (and is not in ERROR) must not answer reads.
static void
s_revoke_leases (stub_t *self)
{
    self->lease_until = 0;
    size_t cursor = 0;
    uint64_t id;
    void *value;
    while (u64map_next (self->replicas, &cursor, &id, &value) == 0)
        s_lease_until (self, value, 0);
}

//  ---------------------------------------------------------------------------
//  Opening, a bounded number at a time

static int
s_open_enqueue (stub_t *self, uint64_t id)
{
    if (self->open_tail == self->open_capacity) {
        //  Reuse the consumed front before growing.
        size_t live = self->open_tail - self->open_head;
        if (self->open_head > 0 && live < self->open_capacity / 2) {
            memmove (self->open_queue, self->open_queue + self->open_head, live * sizeof (uint64_t));
            self->open_head = 0;
            self->open_tail = live;
        }
        else {
            size_t capacity = self->open_capacity ? self->open_capacity * 2 : 256;
            uint64_t *grown = realloc (self->open_queue, capacity * sizeof *grown);
            if (!grown)
                return -1;
            self->open_queue = grown;
            self->open_capacity = capacity;
        }
    }
    self->open_queue [self->open_tail++] = id;
    return 0;
}

//  Tells waiting replicas to open while fewer than open_concurrency do.
static void
s_open_grant (stub_t *self)
{
    while (self->nopening < self->open_concurrency && self->open_head < self->open_tail) {
        uint64_t id = self->open_queue [self->open_head++];
        replica_t *r = u64map_get (self->replicas, id);
        if (!r || !r->actor || r->open_granted || r->status.state != PARTITION_OPENING)
            continue;
        msg_t *msg = msg_new_local (&partition_kind_open, 0, NULL);
        if (!msg || actor_send (self->self, r->actor, &msg) != PG__STATUS__OK) {
            log_error ("replica %u.%u: cannot tell it to open; it is closed and asked for again",
                       r->status.app_id, r->status.partition);
            s_close (self, r);
            self->retry_sync = true;
            continue;
        }
        r->open_granted = true;
        self->nopening++;
    }
    if (self->open_head == self->open_tail)
        self->open_head = self->open_tail = 0;
}

static replica_t *
s_open (stub_t *self, uint32_t app_id, uint32_t partition, uint32_t partition_count,
        const char *app_name, const partition_config_t *config)
{
    char dir [4200];
    s_replica_dir (self, app_id, partition, dir, sizeof dir);
    partition_args_t args = {
        app_id, partition, partition_count, app_name, dir, self->log, self->self, self->meta,
        self->checks, self->env, self->checkpoint_dir, self->limits, *config
    };
    replica_t *r = calloc (1, sizeof *r);
    if (!r)
        return NULL;
    r->actor = partition_spawn (actor_rt (self->self), &args);
    if (!r->actor || u64map_put (self->replicas, s_id (app_id, partition), r)) {
        //  Most likely the replica's previous actor is still closing (a
        //  drop then a recall): ask meta for everything again next beacon.
        log_warning ("cannot open replica %u.%u yet; retrying at the next beacon", app_id, partition);
        actor_stop (&r->actor);
        free (r);
        self->retry_sync = true;
        return NULL;
    }
    r->status.app_id = app_id;
    r->status.partition = partition;
    r->status.ballot = config->ballot;
    r->partition_count = partition_count;
    r->status.state = PARTITION_OPENING;
    r->status.role = config->role;
    r->seen = true;
    r->dirty = true;
    if (s_open_enqueue (self, s_id (app_id, partition))) {
        log_error ("replica %u.%u: out of memory queueing it to open", app_id, partition);
        s_close (self, r);
        self->retry_sync = true;
        return NULL;
    }
    log_info ("opening replica %u.%u of %s as %s (ballot %" PRIu64 ")", app_id, partition,
              app_name, partition_role_name (config->role), config->ballot);
    return r;
}

//  Deletes the data of tables meta no longer has (not merely dropped), and
//  tells the log which replicas it still serves data for.
static void
s_collect (stub_t *self, const Pg__BeaconReply *sync)
{
    u64map_t *known = u64map_new ();
    for (size_t i = 0; known && i < sync->n_known_apps; i++)
        u64map_put (known, sync->known_apps [i], (void *) 1);
    DIR *d = known ? opendir (self->replica_dir) : NULL;
    uint64_t *keep = NULL;
    size_t nkeep = 0, capacity = 0;
    struct dirent *entry;
    while (d && (entry = readdir (d))) {
        unsigned app_id, partition;
        char tail;
        if (sscanf (entry->d_name, "%u.%u%c", &app_id, &partition, &tail) != 2)
            continue;
        uint64_t id = s_id (app_id, partition);
        if (u64map_get (known, app_id) && !u64map_get (self->replicas, id)
        &&  !u64map_get (self->restoring, id)) {
            //  A replica of a live table meta no longer places here: keep
            //  its data a while (meta may want it back as a learner).
            int64_t now = actor_now_ms (self->self);
            int64_t since = (int64_t) (intptr_t) u64map_get (self->unassigned, id);
            if (!since)
                u64map_put (self->unassigned, id, (void *) (intptr_t) now);
            else
            if (now - since >= self->gc_delay_ms) {
                u64map_take (self->unassigned, id);
                char dir [4200];
                s_replica_dir (self, app_id, partition, dir, sizeof dir);
                log_notice ("replica %u.%u unassigned for %" PRId64 " s: deleting %s", app_id,
                            partition, (now - since) / 1000, dir);
                rmtree (dir);
                continue;
            }
        }
        else
            u64map_take (self->unassigned, id);
        if (!u64map_get (known, app_id)) {
            char dir [4200];
            s_replica_dir (self, app_id, partition, dir, sizeof dir);
            log_notice ("table %u is gone from meta: deleting replica data %s", app_id, dir);
            rmtree (dir);
            continue;
        }
        if (nkeep == capacity) {
            capacity = capacity ? capacity * 2 : 64;
            uint64_t *grown = realloc (keep, capacity * sizeof *keep);
            if (!grown)
                break;
            keep = grown;
        }
        keep [nkeep++] = s_id (app_id, partition);
    }
    if (d)
        closedir (d);
    u64map_destroy (&known);
    if (!d)
        return;
    logwriter_keep_t *body;
    msg_t *msg = msg_new_local (&logwriter_kind_keep, sizeof *body + nkeep * sizeof *keep,
                                (void **) &body);
    if (msg) {
        body->count = nkeep;
        body->ids = (uint64_t *) (body + 1);
        if (nkeep)
            memcpy (body->ids, keep, nkeep * sizeof *keep);
        actor_send (self->self, self->log, &msg);
    }
    free (keep);
}

//  Whether meta's configuration has this node hold a replica: a member,
//  or a candidate of a partition that lost every member.
static bool
s_named (const Pg__PartitionConfig *p, const char *node)
{
    if (!strcmp (p->primary, node))
        return true;
    for (size_t i = 0; i < p->n_secondaries; i++)
        if (!strcmp (p->secondaries [i], node))
            return true;
    for (size_t i = 0; !*p->primary && i < p->n_candidates; i++)
        if (!strcmp (p->candidates [i], node))
            return true;
    return false;
}

//  One assignment that names this node: the replica gets its
//  configuration (opened if it is not open), and the lease if primary.
static void
s_assign (stub_t *self, const Pg__Assignment *a, const char *node)
{
    uint64_t id = s_id (a->config->app_id, a->config->partition_index);
    if (a->restoring) {
        //  Its files are being downloaded into its directory ("backup"
        //  does it, asked by meta): it opens once meta says they are in.
        u64map_put (self->restoring, id, (void *) 1);
        return;
    }
    u64map_take (self->restoring, id);
    partition_config_t config;
    partition_config_from (a->config, node, ROLE_INACTIVE, &config);
    replica_t *r = u64map_get (self->replicas, s_id (a->config->app_id, a->config->partition_index));
    if (r && r->partition_count != a->partition_count) {
        s_close (self, r);              //  reopened below with the new count
        r = NULL;
    }
    if (r) {
        r->seen = true;
        r->status.ballot = a->config->ballot;
        r->dirty = true;                //  meta forgot its report: see meta_commit
        s_send_config (self, r, &config);
    }
    else
    if (!s_open_later (self, a->config->app_id, a->config->partition_index,
                       a->partition_count, a->app_name, &config))
        r = s_open (self, a->config->app_id, a->config->partition_index, a->partition_count,
                    a->app_name, &config);
    if (r) {
        r->assigned = true;
        r->leads = config.role == ROLE_PRIMARY;
        s_send_lease (self, r);
    }
}

//  A sync of changes: each changed partition that names this node is
//  assigned; one that does not (or whose table is gone) is closed here,
//  unless it is learning from a primary of a table that still exists.
static void
s_apply_changes (stub_t *self, const Pg__BeaconReply *sync, const char *node)
{
    for (size_t i = 0; i < sync->n_assignments; i++) {
        const Pg__Assignment *a = sync->assignments [i];
        if (!a->config || a->partition_count == 0)
            continue;
        uint64_t id = s_id (a->config->app_id, a->config->partition_index);
        if (!a->gone && s_named (a->config, node)) {
            s_assign (self, a, node);
            continue;
        }
        u64map_take (self->restoring, id);
        replica_t *r = u64map_get (self->replicas, id);
        if (r && (a->gone || r->status.role != ROLE_LEARNER))
            s_close (self, r);
        else
        if (r) {
            r->assigned = false;
            r->leads = false;
            r->dirty = true;
        }
        closing_t *closing = u64map_get (self->closing, id);
        if (closing && (a->gone || closing->config.role != ROLE_LEARNER))
            closing->reopen = false;
    }
}

static void
s_apply (stub_t *self, const Pg__BeaconReply *sync)
{
    //  Fault point: a sync that takes long to apply (a node opening
    //  thousands of replicas), which holds any window between a lease and
    //  the configuration it comes with open.
    if (sync->full)
        fault_sleep_ms (fault_delay_ms ("stub.apply_delay_ms"));
    if (sync->config_version < self->config_version) {
        //  Older than one we applied (a push delivered late, say after a
        //  reconnect): the newer one stands.
        return;
    }
    const char *node = rt_node (actor_rt (self->self));
    if (!sync->full) {
        //  Changes since base_version: they make any version from there
        //  on current. Before it (a sync lost on the way), they are not
        //  enough: the next beacon says where we are and gets the rest.
        if (!self->synced || sync->base_version > self->config_version)
            return;
        s_apply_changes (self, sync, node);
        self->config_version = self->retry_sync ? 0 : sync->config_version;
        self->retry_sync = false;
        return;
    }
    size_t cursor = 0;
    uint64_t id;
    void *value;
    while (u64map_next (self->replicas, &cursor, &id, &value) == 0) {
        replica_t *r = value;
        r->seen = r->assigned = false;
        r->leads = false;
    }
    cursor = 0;
    while (u64map_next (self->closing, &cursor, &id, &value) == 0)
        ((closing_t *) value)->named = false;
    //  The whole set: what is being restored here is in it too.
    for (cursor = 0; u64map_next (self->restoring, &cursor, &id, &value) == 0; cursor = 0)
        u64map_take (self->restoring, id);
    for (size_t i = 0; i < sync->n_assignments; i++) {
        const Pg__Assignment *a = sync->assignments [i];
        if (a->config && a->partition_count > 0)
            s_assign (self, a, node);
    }
    //  Replicas meta does not name: closed, unless they are learning (a
    //  primary added them; meta names them once they are members).
    //  (Collected first: closing changes the map under the cursor.)
    size_t nclose = 0;
    replica_t **close = malloc ((u64map_size (self->replicas) + 1) * sizeof *close);
    cursor = 0;
    while (close && u64map_next (self->replicas, &cursor, &id, &value) == 0) {
        replica_t *r = value;
        if (!r->seen && r->status.role != ROLE_LEARNER)
            close [nclose++] = r;
    }
    for (size_t i = 0; i < nclose; i++)
        s_close (self, close [i]);
    free (close);
    //  A replica waiting to reopen that this sync no longer names stays
    //  closed (unless a primary asked for it as a learner).
    cursor = 0;
    while (u64map_next (self->closing, &cursor, &id, &value) == 0) {
        closing_t *closing = value;
        if (closing->reopen && !closing->named && closing->config.role != ROLE_LEARNER)
            closing->reopen = false;
    }
    self->config_version = self->retry_sync ? 0 : sync->config_version;
    self->retry_sync = false;
    self->synced = true;
    self->last_full_ms = actor_now_ms (self->self);
    //  It may drop a replica whose report meta forgot without naming it
    //  in a change (a learner's, say): meta hears all of them again.
    self->reports_full = true;
    s_collect (self, sync);
}

//  A primary asks us to learn a replica from it.
static void
s_on_add_learner (stub_t *self, msg_t *request)
{
    Pg__AddLearnerRequest *req = msg_body (request);
    if (msg_from_other (request, req->primary)) {
        actor_reply_error (self->self, request, PG__STATUS__INVALID_ARGUMENT,
                           "AddLearner from %s naming %.100s as the primary: refused",
                           request->from_node, req->primary);
        return;
    }
    if (!strchr (req->primary, ':') || strlen (req->primary) >= PARTITION_ADDRESS
    ||  req->partition_count == 0 || req->partition_index >= req->partition_count
    ||  !*req->app_name || strlen (req->app_name) > 128) {
        actor_reply_error (self->self, request, PG__STATUS__INVALID_ARGUMENT,
                           "AddLearner: bad primary, partition or table name");
        return;
    }
    partition_config_t config = { 0 };
    config.ballot = req->ballot;
    config.role = ROLE_LEARNER;
    snprintf (config.primary, sizeof config.primary, "%s", req->primary);
    replica_t *r = u64map_get (self->replicas, s_id (req->app_id, req->partition_index));
    if (r && r->assigned && (r->status.role == ROLE_PRIMARY || r->status.role == ROLE_SECONDARY)) {
        actor_reply_error (self->self, request, PG__STATUS__INVALID_STATE,
                           "replica %u.%u is a member here already", req->app_id,
                           req->partition_index);
        return;
    }
    if (r && r->partition_count != req->partition_count) {
        s_close (self, r);
        r = NULL;
    }
    if (r) {
        r->status.role = ROLE_LEARNER;
        s_send_config (self, r, &config);
    }
    else
    if (s_open_later (self, req->app_id, req->partition_index, req->partition_count,
                      req->app_name, &config))
        ;                               //  opens (and learns) once the old one closed
    else
    if (!(r = s_open (self, req->app_id, req->partition_index, req->partition_count,
                      req->app_name, &config))) {
        actor_reply_error (self->self, request, PG__STATUS__BUSY,
                           "replica %u.%u cannot open yet", req->app_id, req->partition_index);
        return;
    }
    msg_t *reply = msg_new_local (&actor_kind_empty, 0, NULL);
    actor_reply (self->self, request, &reply);
}

//  Opens what waited for a replica to close, once its name is free too
//  (the runtime frees it just after fini: a few microseconds later).
static void
s_reopen (stub_t *self)
{
    //  The ones free to open, collected first: opening changes the map.
    size_t nready = 0, cursor = 0;
    uint64_t *ready = malloc ((u64map_size (self->closing) + 1) * sizeof *ready), id;
    bool waiting = !ready;              //  out of memory: try again shortly
    void *value;
    int64_t now = actor_now_ms (self->self);
    while (ready && u64map_next (self->closing, &cursor, &id, &value) == 0) {
        closing_t *closing = value;
        //  Its "closed" could not be sent (out of memory): after a while,
        //  its name being free says the same.
        if (!closing->closed && now - closing->since_ms < CLOSING_WAIT_MS)
            continue;
        char name [64];
        partition_name ((uint32_t) (id >> 32), (uint32_t) id, name, sizeof name);
        actor_t *old = rt_lookup (actor_rt (self->self), name);
        if (old) {
            actor_unref (&old);
            waiting |= closing->closed;         //  freed within microseconds
            continue;
        }
        ready [nready++] = id;
    }
    for (size_t i = 0; i < nready; i++) {
        closing_t *closing = u64map_take (self->closing, ready [i]);
        if (closing && closing->reopen && !u64map_get (self->replicas, ready [i])) {
            replica_t *r = s_open (self, (uint32_t) (ready [i] >> 32), (uint32_t) ready [i],
                                   closing->partition_count, closing->app_name, &closing->config);
            if (r) {
                r->assigned = closing->config.role != ROLE_LEARNER;
                r->leads = closing->config.role == ROLE_PRIMARY;
            }
        }
        free (closing);
    }
    free (ready);
    if (waiting)
        actor_wake (self->self, &s_kind_reopen, 5, &self->reopen_scheduled);
}

//  ---------------------------------------------------------------------------
//  Beacons

static void s_beacon_now (stub_t *self);

static void
s_on_beacon_reply (actor_t *actor, msg_t **reply_p, void *arg)
{
    //  When the beacon this answers left: the lease runs from there.
    int64_t sent_ms = (int64_t) (intptr_t) arg;
    stub_t *self = actor_state (actor);
    self->beacon_in_flight = false;
    if (msg_status (*reply_p) != PG__STATUS__OK || !msg_is (*reply_p, &pg__beacon_reply__descriptor)) {
        static _Thread_local log_limit_t limit;
        uint32_t suppressed;
        if (!log_limit_allow (&limit, 1, &suppressed))
            ;
        else
        if (msg_status (*reply_p) == PG__STATUS__INVALID_ARGUMENT)
            log_error ("meta refuses this server's beacons: %s", msg_error (*reply_p));
        else
            log_warning ("beacon to meta failed: %s %s", status_name (msg_status (*reply_p)),
                         msg_error (*reply_p));
        return;
    }
    Pg__BeaconReply *reply = msg_body (*reply_p);
    self->last_reply_ms = actor_now_ms (actor);
    //  Counted from when the beacon left: meta counts its grace from when
    //  it arrived, so our lease always ends first. Configurations first:
    //  a replica this reply demotes must hear that before any lease.
    if (reply->lease_ms > 0 && !self->log_failed && sent_ms + reply->lease_ms > self->lease_until)
        self->lease_until = sent_ms + reply->lease_ms;
    s_apply (self, reply);
    if (reply->reports_wanted && !self->reports_full) {
        self->reports_full = true;
        s_beacon_now (self);
    }
    //  A primary hears of its lease again once less than two and a half
    //  beacon intervals of what it knows are left: a message per primary
    //  per beacon would cost an idle node with thousands of them more than
    //  everything else it does, and one lost reply still leaves it time.
    //  (Meta grants at least two intervals, so at the longest beacons this
    //  is every reply.)
    int64_t now = actor_now_ms (actor);
    size_t cursor = 0;
    uint64_t id;
    void *value;
    while (reply->lease_ms > 0 && u64map_next (self->replicas, &cursor, &id, &value) == 0) {
        replica_t *r = value;
        if (r->lease_sent < self->lease_until && r->lease_sent - now < self->beacon_ms * 5 / 2)
            s_send_lease (self, r);
    }
    s_open_grant (self);
}

//  RocksDB has no memtable budget shared by instances in its C API, so
//  the node keeps one here: when the replicas' memtables (as last
//  reported, at most a second old) add up to more than the budget, the
//  largest are asked to flush until what is left is under three quarters
//  of it. A replica asked is not asked again for two seconds (its flush
//  and next report take that long at most, usually far less).
#define FLUSH_AGAIN_MS 2000

typedef struct {
    uint64_t bytes;
    replica_t *r;
} sized_t;

static int
s_larger_first (const void *a, const void *b)
{
    uint64_t x = ((const sized_t *) a)->bytes, y = ((const sized_t *) b)->bytes;
    return x < y ? 1 : x > y ? -1 : 0;
}

static void
s_keep_budget (stub_t *self)
{
    uint64_t total = self->memtable_bytes;
    if (total <= (uint64_t) self->write_budget)
        return;
    sized_t *all = malloc ((u64map_size (self->replicas) + 1) * sizeof *all);
    if (!all)
        return;
    size_t n = 0, cursor = 0;
    uint64_t id;
    void *value;
    int64_t now = actor_now_ms (self->self);
    while (u64map_next (self->replicas, &cursor, &id, &value) == 0) {
        replica_t *r = value;
        if (r->status.memtable_bytes && now - r->flush_asked_ms >= FLUSH_AGAIN_MS)
            all [n++] = (sized_t) { r->status.memtable_bytes, r };
    }
    qsort (all, n, sizeof *all, s_larger_first);
    uint64_t target = (uint64_t) self->write_budget / 4 * 3;
    size_t asked = 0;
    for (size_t i = 0; i < n && total > target; i++) {
        msg_t *msg = msg_new_local (&partition_kind_flush, 0, NULL);
        if (!msg || actor_send (self->self, all [i].r->actor, &msg) != PG__STATUS__OK)
            continue;
        all [i].r->flush_asked_ms = now;
        total -= all [i].bytes;
        asked++;
    }
    free (all);
    if (asked)
        log_info ("memtables over replica/write_budget: %zu replicas asked to flush", asked);
}

static void
s_beacon (stub_t *self)
{
    if (self->beacon_in_flight)
        return;
    Pg__BeaconRequest *req;
    bool full = self->reports_full;
    size_t n = 0, cursor = 0;
    uint64_t id;
    void *value;
    while (!full && u64map_next (self->replicas, &cursor, &id, &value) == 0)
        n += ((replica_t *) value)->dirty;
    if (full)
        n = u64map_size (self->replicas);
    msg_t *msg = msg_new_sized (&pg__beacon_request__descriptor,
                                n * (sizeof (Pg__ReplicaReport) + sizeof (void *)) + 64,
                                (void **) &req);
    if (!msg)
        return;
    req->node = msg_strdup (msg, rt_node (actor_rt (self->self)));
    //  Syncs carry changes only; now and then the whole set, which also
    //  lists the tables meta knows (the data of others is deleted).
    req->config_version = actor_now_ms (self->self) - self->last_full_ms >= FULL_SYNC_MS
                        ? 0 : self->config_version;
    req->incarnation = self->incarnation;
    req->start_ms = self->start_ms;
    req->reply_age_ms = actor_now_ms (self->self) - self->last_reply_ms;
    req->log_failed = self->log_failed;
    req->beacon_ms = self->beacon_ms;
    req->reports_seq = ++self->reports_seq;
    req->reports_full = full;
    if (!full && self->nclosed) {
        req->closed = msg_alloc (msg, self->nclosed * sizeof *req->closed);
        if (req->closed) {
            memcpy (req->closed, self->closed, self->nclosed * sizeof *req->closed);
            req->n_closed = self->nclosed;
        }
    }
    req->replicas = n ? msg_alloc (msg, n * sizeof *req->replicas) : NULL;
    cursor = 0;
    while (req->replicas && req->n_replicas < n
    &&     u64map_next (self->replicas, &cursor, &id, &value) == 0) {
        replica_t *r = value;
        if (!full && !r->dirty)
            continue;
        Pg__ReplicaReport *report = msg_alloc (msg, sizeof *report);
        if (!report)
            break;
        r->dirty = false;               //  one meta misses, it asks for all again
        pg__replica_report__init (report);
        report->app_id = r->status.app_id;
        report->partition_index = r->status.partition;
        report->ballot = r->status.ballot;
        report->state = r->status.state == PARTITION_ERROR ? PG__REPLICA_STATE__REPLICA_ERROR
                      : r->status.state == PARTITION_READY && (r->status.role != ROLE_PRIMARY || r->status.serving)
                      ? PG__REPLICA_STATE__REPLICA_SERVING : PG__REPLICA_STATE__REPLICA_OPENING;
        report->role = r->status.role;
        report->last_committed_decree = r->status.last_committed;
        report->last_prepared_decree = r->status.last_prepared;
        report->needs_ballot = r->status.needs_ballot;
        report->learners = r->status.nlearners ? msg_alloc (msg, r->status.nlearners * sizeof (char *)) : NULL;
        for (size_t k = 0; report->learners && k < r->status.nlearners; k++)
            report->learners [report->n_learners++] = msg_strdup (msg, r->status.learners [k]);
        req->replicas [req->n_replicas++] = report;
    }
    //  Short of memory for the list, or for sending it: meta misses
    //  changes, and the next beacon lists everything. A whole list that is
    //  not whole would make meta forget the rest: not sent.
    bool complete = req->n_replicas == n && req->n_closed == (full ? 0 : self->nclosed);
    if (full && !complete) {
        msg_destroy (&msg);
        return;
    }
    int64_t now = actor_now_ms (self->self);
    if (actor_ask (self->self, self->meta, &msg, self->beacon_ms * 2, s_on_beacon_reply,
                   (void *) (intptr_t) now) == PG__STATUS__OK)
        self->beacon_in_flight = true;
    else
        complete = false;
    self->reports_full = !complete;
    self->nclosed = 0;
}

//  A beacon at once, not at the next tick: meta routes clients, or needs
//  our reports, only once it hears. Once for all asked in one turn.
static void
s_beacon_now (stub_t *self)
{
    self->beacon_in_flight = false;
    actor_wake (self->self, &s_kind_beacon, 0, &self->beacon_now_pending);
}

//  Every beacon_ms: the memtable budget, replicas waiting to reopen, a
//  beacon (the one timer series: s_init starts it).
static void
s_tick (stub_t *self)
{
    msg_t *tick = msg_new_local (&s_kind_tick, 0, NULL);
    actor_send_after (self->self, self->beacon_ms, &tick);
    s_keep_budget (self);
    if (u64map_size (self->closing))
        s_reopen (self);
    s_beacon (self);
}

//  ---------------------------------------------------------------------------
//  server_info: counts and memory from here, disk from "files" (a walk
//  that blocks)

//  Resident bytes of this process; 0 where /proc does not tell.
static uint64_t
s_rss_bytes (void)
{
    FILE *f = fopen ("/proc/self/statm", "r");
    unsigned long long size = 0, resident = 0;
    int n = f ? fscanf (f, "%llu %llu", &size, &resident) : 0;
    if (f)
        fclose (f);
    long page = sysconf (_SC_PAGESIZE);
    return n == 2 && page > 0 ? (uint64_t) resident * (uint64_t) page : 0;
}

//  A server_info request waiting for the walk, with its answer.
typedef struct info_wait_t {
    msg_t *request;
    msg_t *reply;
    struct info_wait_t *next;
} info_wait_t;

//  Answers every waiting request, with the disk figures if known.
static void
s_info_answer (stub_t *self)
{
    info_wait_t *wait;
    while ((wait = self->du.waiting)) {
        self->du.waiting = wait->next;
        Pg__ServerInfoReply *body = msg_body (wait->reply);
        if (self->du.known) {
            body->disk_known = true;
            body->replica_disk_bytes = self->du.replica_bytes;
            body->replica_dirs = self->du.replica_dirs;
            body->log_disk_bytes = self->du.log_bytes;
        }
        actor_reply (self->self, wait->request, &wait->reply);
        msg_destroy (&wait->request);
        free (wait);
    }
}

static void
s_on_du (actor_t *actor, msg_t **reply_p, void *arg)
{
    (void) arg;
    stub_t *self = actor_state (actor);
    const filesrv_du_t *du = msg_body (*reply_p);
    self->du.walking = false;
    self->du.known = msg_status (*reply_p) == PG__STATUS__OK && msg_is (*reply_p, &filesrv_kind_du)
                  && du->status == 0;
    if (self->du.known) {
        self->du.replica_bytes = du->bytes [0];
        self->du.replica_dirs = (uint32_t) du->children [0];
        self->du.log_bytes = du->bytes [1];
        self->du.at_ms = actor_now_ms (actor);
    }
    s_info_answer (self);
}

//  Walks the disk for the waiting requests, unless a walk is on its way
//  or a recent one will do: a client asking in a loop must not keep
//  "files", which also serves learners, walking.
static void
s_info_walk (stub_t *self)
{
    if (self->du.walking)
        return;
    if (self->du.known && actor_now_ms (self->self) - self->du.at_ms < DU_FRESH_MS) {
        s_info_answer (self);
        return;
    }
    filesrv_du_t *du;
    msg_t *ask = msg_new_local (&filesrv_kind_du, sizeof *du, (void **) &du);
    if (ask) {
        memset (du, 0, sizeof *du);
        snprintf (du->paths [0], sizeof du->paths [0], "%s", self->replica_dir);
        snprintf (du->paths [1], sizeof du->paths [1], "%s", self->log_dir);
    }
    if (ask && actor_ask (self->self, self->files, &ask, DU_TIMEOUT_MS, s_on_du, NULL)
               == PG__STATUS__OK) {
        self->du.walking = true;
        return;
    }
    msg_destroy (&ask);
    self->du.known = false;
    s_info_answer (self);               //  without the disk figures
}

static void
s_on_server_info (stub_t *self, msg_t **msg_p)
{
    Pg__ServerInfoReply *body;
    msg_t *reply = msg_new (&pg__server_info_reply__descriptor, (void **) &body);
    info_wait_t *wait = calloc (1, sizeof *wait);
    if (!reply || !wait) {
        msg_destroy (&reply);
        free (wait);
        actor_reply_error (self->self, *msg_p, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    body->node = msg_strdup (reply, rt_node (actor_rt (self->self)));
    body->version = msg_strdup (reply, PACKAGE_VERSION);
    body->start_ms = self->start_ms;
    size_t cursor = 0;
    uint64_t id;
    void *value;
    while (u64map_next (self->replicas, &cursor, &id, &value) == 0) {
        const partition_status_t *s = &((replica_t *) value)->status;
        body->replicas++;
        uint32_t *count = s->state == PARTITION_OPENING ? &body->opening
                        : s->state == PARTITION_ERROR ? &body->failed
                        : s->role == ROLE_PRIMARY ? &body->primaries
                        : s->role == ROLE_SECONDARY ? &body->secondaries
                        : s->role == ROLE_LEARNER ? &body->learners
                        : &body->inactive;
        (*count)++;
    }
    body->rss_bytes = s_rss_bytes ();
    body->memtable_bytes = self->memtable_bytes;
    body->write_budget_bytes = (uint64_t) self->write_budget;
    db_cache_stats_t cache;
    db_env_cache_stats (self->env, &cache);
    body->block_cache_bytes = cache.usage;
    body->block_cache_pinned_bytes = cache.pinned;
    body->block_cache_capacity = cache.capacity;
    wait->request = *msg_p;
    *msg_p = NULL;
    wait->reply = reply;
    wait->next = self->du.waiting;
    self->du.waiting = wait;
    s_info_walk (self);
}

//  ---------------------------------------------------------------------------

static void
s_receive (actor_t *actor, msg_t **msg_p)
{
    stub_t *self = actor_state (actor);
    msg_t *msg = *msg_p;
    if (msg_is (msg, &s_kind_tick))
        s_tick (self);
    else
    if (msg_is (msg, &s_kind_beacon)) {
        self->beacon_now_pending = false;
        s_beacon (self);
    }
    else
    if (msg_is (msg, &partition_kind_status)) {
        partition_status_t *status = msg_body (msg);
        replica_t *r = u64map_get (self->replicas, s_id (status->app_id, status->partition));
        if (r && r->actor) {
            bool serving = !r->status.serving && status->serving;
            bool role = r->status.role != status->role;
            //  Reports are zeroed whole before they are filled (see
            //  partition_report): compared whole, memtables apart (meta
            //  does not hear of them).
            partition_status_t seen = *status;
            seen.memtable_bytes = r->status.memtable_bytes;
            r->dirty |= memcmp (&seen, &r->status, sizeof seen) != 0;
            self->memtable_bytes += status->memtable_bytes - r->status.memtable_bytes;
            r->status = *status;
            if (r->open_granted && status->state != PARTITION_OPENING) {
                r->open_granted = false;
                self->nopening--;
                s_open_grant (self);
            }
            if (status->log_failed && !self->log_failed) {
                log_error ("the node's log failed: every replica here stops; meta moves them "
                           "elsewhere; restart the server once its disk is sound");
                self->log_failed = true;
                s_revoke_leases (self);
            }
            if (r->status.role == ROLE_INACTIVE && !r->assigned && self->synced)
                s_close (self, r);      //  a learner that gave up
            else
            if (serving || role || status->needs_ballot || status->log_failed)
                s_beacon_now (self);
        }
    }
    else
    if (msg_is (msg, &partition_kind_closed)) {
        partition_closed_t *closed = msg_body (msg);
        closing_t *closing = u64map_get (self->closing, s_id (closed->app_id, closed->partition));
        if (closing)
            closing->closed = true;
        s_reopen (self);
        s_open_grant (self);
    }
    else
    if (msg_is (msg, &s_kind_reopen)) {
        self->reopen_scheduled = false;
        s_reopen (self);
        s_open_grant (self);
    }
    else
    if (msg_is (msg, &pg__beacon_reply__descriptor)) {
        //  Pushed by meta after a change: only meta's, and only for this
        //  process (one for the process that ran here before is stale).
        Pg__BeaconReply *push = msg_body (msg);
        if (msg_from_other (msg, self->meta_node)
        ||  (push->incarnation && push->incarnation != self->incarnation))
            log_info ("a configuration push from %s for incarnation %" PRIx64 " ignored",
                      msg->from_node ? msg->from_node : "here", push->incarnation);
        else
            s_apply (self, push);
        s_open_grant (self);
    }
    else
    if (msg_is (msg, &pg__add_learner_request__descriptor) && msg_is_request (msg)) {
        s_on_add_learner (self, msg);
        s_open_grant (self);
    }
    else
    if (msg_is (msg, &pg__server_info_query__descriptor) && msg_is_request (msg))
        s_on_server_info (self, msg_p);
    else
    if (msg_is_request (msg))
        actor_reply_error (actor, msg, PG__STATUS__INVALID_ARGUMENT, "stub does not handle %s",
                           msg_kind_name (msg));
}

//  ---------------------------------------------------------------------------

typedef struct {
    zconfig_t *config;
} stub_args_t;

static void s_fini (actor_t *actor);

static int
s_mkdir (const char *path)
{
    if (mkdir (path, 0755) && errno != EEXIST) {
        log_error ("cannot create %s: %s", path, strerror (errno));
        return -1;
    }
    return 0;
}

static int
s_init (actor_t *actor, void *args)
{
    zconfig_t *config = ((stub_args_t *) args)->config;
    stub_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    self->self = actor;
    actor_set_state (actor, self);
    db_env_config_t db_config;
    const char *meta = config_str (config, "meta/servers", "");
    const char *data_dir = config_str (config, "node/data_dir", ".");
    char path [4200];
    if (!*meta) {
        log_error ("config: meta/servers is required for the replica role");
        goto failed;
    }
    int64_t gc_delay_s;
    if (stub_beacon_ms (config, &self->beacon_ms)
    ||  config_int (config, "replica/gc_delay_s", 3600, 0, 365LL * 86400, &gc_delay_s)
    ||  db_env_config (config, &db_config)
    ||  config_int (config, "replica/open_concurrency", 4, 1, 1024, &self->open_concurrency)
    ||  logwriter_config (config, &self->log_config)
    ||  partition_limits (config, &self->limits)
    ||  wiretypes_register ())
        goto failed;
    self->data_dir = strdup (data_dir);
    snprintf (path, sizeof path, "%s/replica", data_dir);
    self->replica_dir = strdup (path);
    snprintf (path, sizeof path, "%s/log", data_dir);
    self->log_dir = strdup (path);
    snprintf (path, sizeof path, "%s/checkpoints", data_dir);
    self->checkpoint_dir = strdup (path);
    self->gc_delay_ms = gc_delay_s * 1000;
    self->write_budget = db_config.write_budget;
    self->incarnation = (rtrand_next (actor_random (actor)) ^ (uint64_t) actor_wall_ms (actor)) | 1;
    self->start_ms = actor_wall_ms (actor);
    self->last_reply_ms = actor_now_ms (actor);
    self->reports_full = true;
    self->replicas = u64map_new ();
    self->closing = u64map_new ();
    self->unassigned = u64map_new ();
    self->restoring = u64map_new ();
    if (!self->data_dir || !self->replica_dir || !self->log_dir || !self->replicas || !self->closing
    ||  !self->checkpoint_dir || !self->unassigned || !self->restoring
    ||  s_mkdir (self->data_dir) || s_mkdir (self->replica_dir))
        goto failed;
    //  Only the first meta server for now; the client library takes a list.
    char address [400];
    snprintf (address, sizeof address, "%.*s/meta", (int) strcspn (meta, ","), meta);
    self->meta_node = strndup (meta, strcspn (meta, ","));
    self->meta = rt_lookup (actor_rt (actor), address);
    self->env = db_env_new (&db_config, rt_clock (actor_rt (actor)));
    self->log_config.dir = self->log_dir;
    self->log = logwriter_spawn (actor_rt (actor), &self->log_config);
    self->files = filesrv_spawn (actor_rt (actor), self->checkpoint_dir, 3600 * 1000);
    snprintf (path, sizeof path, "%s/backup", data_dir);
    if (self->meta_node) {
        self->uploader = uploader_spawn (actor_rt (actor), config, path, self->meta_node);
        self->fetcher = fetcher_spawn (actor_rt (actor), self->replica_dir, self->meta_node);
    }
    self->checks = groupcheck_spawn (actor_rt (actor));
    if (!self->meta || !self->meta_node || !self->env || !self->log || !self->files
    ||  !self->checks || !self->uploader || !self->fetcher) {
        log_error ("replica role: cannot start (meta address %s)", address);
        goto failed;
    }
    msg_t *tick = msg_new_local (&s_kind_tick, 0, NULL);
    actor_send (actor, actor, &tick);
    return 0;
failed:
    s_fini (actor);
    return -1;
}

static void
s_fini (actor_t *actor)
{
    stub_t *self = actor_state (actor);
    if (!self)
        return;
    size_t cursor = 0;
    uint64_t id;
    void *value;
    //  Partitions first (they flush into RocksDB and leave the log), then
    //  the log. Stopping from inside an actor is asynchronous: whatever is
    //  still closing when the runtime shuts down, rt_destroy waits for.
    while (self->replicas && u64map_next (self->replicas, &cursor, &id, &value) == 0) {
        replica_t *r = value;
        actor_stop (&r->actor);
            free (r);
    }
    u64map_destroy (&self->replicas);
    cursor = 0;
    while (self->closing && u64map_next (self->closing, &cursor, &id, &value) == 0)
        free (value);
    u64map_destroy (&self->closing);
    u64map_destroy (&self->unassigned);
    u64map_destroy (&self->restoring);
    free (self->open_queue);
    free (self->closed);
    actor_stop (&self->checks);
    actor_stop (&self->log);
    actor_stop (&self->files);
    actor_stop (&self->uploader);
    actor_stop (&self->fetcher);
    free (self->checkpoint_dir);
    free (self->meta_node);
    actor_unref (&self->meta);
    //  Partitions still closing hold their own references to it.
    db_env_destroy (&self->env);
    free (self->data_dir);
    free (self->replica_dir);
    free (self->log_dir);
    actor_set_state (actor, NULL);
    free (self);
}

static const actor_ops_t s_ops = { "stub", s_init, s_receive, s_fini };

int
stub_beacon_ms (zconfig_t *config, int64_t *beacon_ms)
{
    return config_int (config, "replica/beacon_ms", 500, 50, 60000, beacon_ms);
}

actor_t *
stub_spawn (rt_t *rt, zconfig_t *config)
{
    stub_args_t args = { config };
    return actor_spawn (rt, "stub", &s_ops, &args, NULL);
}
