/*  meta: see meta.h.

    In memory, a table is its pg.AppInfo and one pg.PartitionConfig per
    partition, each an owned protobuf struct (malloc'd fields, freed with
    protobuf-c's free_unpacked). A change is made on copies, written to the
    store, and only then swapped in and announced: if the write fails the
    old configuration stands and the caller gets IO_ERROR.
*/
#include "meta/meta.h"
#include "meta/meta_impl.h"
#include "meta/metastore.h"
#include "common/wiretypes.h"
#include "runtime/config.h"
#include "runtime/fault.h"
#include "runtime/log.h"
#include "runtime/registry.h"
#include "runtime/rt.h"
#include "backup.pb-c.h"
#include "meta.pb-c.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_PARTITIONS 1024
#define MAX_REPLICAS 5
#define TICK_MS 250

static const msg_kind_t s_kind_tick = { "meta.tick" };

//  ---------------------------------------------------------------------------
//  Owned protobuf structs

void *
meta_copy (const ProtobufCMessage *source)
{
    size_t len = protobuf_c_message_get_packed_size (source);
    uint8_t *bytes = malloc (len ? len : 1);
    if (!bytes)
        return NULL;
    protobuf_c_message_pack (source, bytes);
    void *copy = protobuf_c_message_unpack (source->descriptor, NULL, len, bytes);
    free (bytes);
    return copy;
}

int
meta_set_string (char **field, const char *value)
{
    char *copy = strdup (value);
    if (!copy)
        return -1;
    if (*field && *field != protobuf_c_empty_string)
        free (*field);
    *field = copy;
    return 0;
}

void
meta_app_free (app_t *app)
{
    if (!app)
        return;
    for (uint32_t i = 0; app->parts && i < app->info->partition_count; i++)
        if (app->parts [i] && (!app->mine || app->mine [i]))
            pg__partition_config__free_unpacked (app->parts [i], NULL);
    free (app->parts);
    free (app->versions);
    free (app->mine);
    if (app->info)
        pg__app_info__free_unpacked (app->info, NULL);
    free (app);
}

app_t *
meta_app_clone (const app_t *app)
{
    uint32_t n = app->info->partition_count;
    app_t *copy = calloc (1, sizeof *copy);
    if (!copy)
        return NULL;
    copy->parts = malloc (n * sizeof *copy->parts);
    copy->versions = malloc (n * sizeof *copy->versions);
    copy->mine = calloc (n, 1);
    if (!copy->parts || !copy->versions || !copy->mine
    ||  !(copy->info = meta_copy (&app->info->base))) {
        free (copy->parts);
        copy->parts = NULL;
        meta_app_free (copy);
        return NULL;
    }
    memcpy (copy->parts, app->parts, n * sizeof *copy->parts);
    memcpy (copy->versions, app->versions, n * sizeof *copy->versions);
    return copy;
}

Pg__PartitionConfig *
meta_app_part (app_t *next, uint32_t i)
{
    if (next->mine && !next->mine [i]) {
        Pg__PartitionConfig *own = meta_copy (&next->parts [i]->base);
        if (!own)
            return NULL;
        next->parts [i] = own;
        next->mine [i] = 1;
    }
    return next->parts [i];
}

//  Adds (+1) or takes away (-1) p's roles from its nodes' counts.
static void
s_count (meta_t *self, const Pg__PartitionConfig *p, int sign)
{
    node_t *node = *p->primary ? strmap_get (self->nodes, p->primary) : NULL;
    if (node)
        node->primaries += (uint32_t) sign;
    for (size_t k = 0; k < p->n_secondaries; k++)
        if ((node = strmap_get (self->nodes, p->secondaries [k])))
            node->secondaries += (uint32_t) sign;
}

static void s_forget_reports (meta_t *self, uint32_t app_id, uint32_t from, uint32_t to);

//  Persists `next` (a changed copy of the table at its id) and puts it in
//  place of the old one. Returns 0, or -1 with the old one unchanged.
int
meta_commit (meta_t *self, app_t *next)
{
    uint32_t n = next->info->partition_count;
    app_t *old = u64map_get (self->apps, next->info->app_id);
    //  Everything is new to the servers when the table is, or when its
    //  status or partition count changed.
    bool whole = !next->mine || !old || old->info->status != next->info->status
              || old->info->partition_count != n;
    Pg__PartitionConfig **changed = malloc ((n ? n : 1) * sizeof *changed);
    if (!next->versions)
        next->versions = calloc (n ? n : 1, sizeof *next->versions);
    if (!changed || !next->versions) {
        log_error ("meta: out of memory committing table %u", next->info->app_id);
        free (changed);
        meta_app_free (next);
        return -1;
    }
    size_t nchanged = 0;
    for (uint32_t i = 0; i < n; i++)
        if (!next->mine || next->mine [i])
            changed [nchanged++] = next->parts [i];
    int rc = metastore_save (self->store, next->info, changed, nchanged, self->next_app_id);
    free (changed);
    if (rc) {
        meta_app_free (next);
        return -1;
    }
    bool was = old && old->info->status == PG__APP_STATUS__APP_AVAILABLE;
    bool is = next->info->status == PG__APP_STATUS__APP_AVAILABLE;
    if (was && strmap_get (self->names, old->info->name) == old)
        strmap_take (self->names, old->info->name);
    u64map_put (self->apps, next->info->app_id, next);
    if (is)
        strmap_put (self->names, next->info->name, next);
    self->config_version++;
    uint32_t old_n = old ? old->info->partition_count : 0;
    for (uint32_t i = 0; was && i < old_n; i++)
        if (whole || (i < n && next->mine [i]))
            s_count (self, old->parts [i], -1);
    for (uint32_t i = 0; i < n; i++) {
        if (!whole && !next->mine [i])
            continue;
        if (is)
            s_count (self, next->parts [i], +1);
        next->versions [i] = self->config_version;
        //  What servers said about what changed predates the change: a
        //  partition counts as served again only on reports made after it.
        if (!whole && old->parts [i]->ballot != next->parts [i]->ballot)
            s_forget_reports (self, next->info->app_id, i, i + 1);
    }
    if (whole)
        s_forget_reports (self, next->info->app_id, 0, n > old_n ? n : old_n);
    //  The old table gives up the partitions the new one replaced; the
    //  others now belong to the new one.
    if (old) {
        for (uint32_t i = 0; i < old->info->partition_count; i++)
            if (!next->mine || i >= n || next->mine [i])
                pg__partition_config__free_unpacked (old->parts [i], NULL);
        free (old->parts);
        old->parts = NULL;
        meta_app_free (old);
    }
    free (next->mine);
    next->mine = NULL;
    return 0;
}

//  ---------------------------------------------------------------------------
//  Nodes

node_t *
meta_node (meta_t *self, const char *address)
{
    node_t *node = strmap_get (self->nodes, address);
    if (node)
        return node;
    node = calloc (1, sizeof *node);
    char stub [400];
    snprintf (stub, sizeof stub, "%s/stub", address);
    if (!node || !(node->address = strdup (address)) || !(node->reports = u64map_new ())
    ||  !(node->stub = rt_lookup (actor_rt (self->self), stub))
    ||  strmap_put (self->nodes, address, node)) {
        if (node) {
            actor_unref (&node->stub);
            u64map_destroy (&node->reports);
            free (node->address);
            free (node);
        }
        return NULL;
    }
    //  Counted from scratch once; meta_commit keeps the counts from here.
    size_t cursor = 0;
    uint64_t id;
    void *value;
    while (u64map_next (self->apps, &cursor, &id, &value) == 0) {
        app_t *app = value;
        if (app->info->status != PG__APP_STATUS__APP_AVAILABLE)
            continue;
        for (uint32_t i = 0; i < app->info->partition_count; i++) {
            Pg__PartitionConfig *p = app->parts [i];
            node->primaries += !strcmp (p->primary, address);
            node->secondaries += meta_in (p->secondaries, p->n_secondaries, address);
        }
    }
    return node;
}

//  Forgets every node's reports of partitions [from, to) of a table.
static void
s_forget_reports (meta_t *self, uint32_t app_id, uint32_t from, uint32_t to)
{
    size_t cursor = 0;
    const char *address;
    void *value;
    while (strmap_next (self->nodes, &cursor, &address, &value) == 0) {
        node_t *node = value;
        for (uint32_t i = from; u64map_size (node->reports) && i < to; i++)
            free (u64map_take (node->reports, meta_id (app_id, i)));
    }
}

bool
meta_heard (meta_t *self, node_t *node)
{
    return node->last_beacon_ms
        && actor_now_ms (self->self) - node->last_beacon_ms <= self->node_grace_ms;
}

int
meta_node_status (meta_t *self, node_t *node)
{
    if (!meta_heard (self, node))
        return PG__NODE_STATUS__NODE_UNALIVE;
    if (node->log_failed)
        return PG__NODE_STATUS__NODE_LOG_FAILED;
    //  Its lease ran from a beacon older than its last reply, and the
    //  lease is shorter than the grace: past the grace it has none.
    if (node->reply_age_ms > self->node_grace_ms)
        return PG__NODE_STATUS__NODE_UNREACHABLE;
    return PG__NODE_STATUS__NODE_ALIVE;
}

bool
meta_alive (meta_t *self, node_t *node)
{
    return meta_node_status (self, node) == PG__NODE_STATUS__NODE_ALIVE;
}

bool
meta_in (char **list, size_t n, const char *address)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp (list [i], address))
            return true;
    return false;
}

//  The live node with the fewest primaries (then fewest replicas); ties by
//  address, so placement is deterministic for a given state.
node_t *
meta_pick_node (meta_t *self, uint32_t *extra_primaries)
{
    node_t *best = NULL;
    uint32_t best_p = 0, best_r = 0;
    size_t cursor = 0, index = 0;
    const char *address;
    void *value;
    while (strmap_next (self->nodes, &cursor, &address, &value) == 0) {
        node_t *node = value;
        index++;
        if (!meta_alive (self, node))
            continue;
        uint32_t p = node->primaries, s = node->secondaries;
        p += extra_primaries ? extra_primaries [index - 1] : 0;
        if (!best || p < best_p || (p == best_p && p + s < best_r)
        ||  (p == best_p && p + s == best_r && strcmp (node->address, best->address) < 0)) {
            best = node;
            best_p = p;
            best_r = p + s;
        }
    }
    return best;
}

static size_t
s_node_index (meta_t *self, node_t *target)
{
    size_t cursor = 0, index = 0;
    const char *address;
    void *value;
    while (strmap_next (self->nodes, &cursor, &address, &value) == 0) {
        if (value == target)
            return index;
        index++;
    }
    return 0;
}

//  ---------------------------------------------------------------------------
//  Config sync

//  Members, and the candidates of a partition that lost them all (opened
//  inactive, so they report how far their logs go).
static bool
s_assigned (const Pg__PartitionConfig *p, const char *address)
{
    return !strcmp (p->primary, address) || meta_in (p->secondaries, p->n_secondaries, address)
        || (!*p->primary && meta_in (p->candidates, p->n_candidates, address));
}

actor_t *
meta_target (meta_t *self, const char *name)
{
    //  A name, never an address: a request must not point meta at an
    //  actor on another node.
    if (!name || !registry_valid_name (name, strlen (name)) || strchr (name, '/'))
        return NULL;
    return rt_lookup (actor_rt (self->self), name);
}

actor_t *
meta_actor_at (meta_t *self, const char *node, const char *name)
{
    char address [512];
    snprintf (address, sizeof address, "%s/%s", node, name);
    return rt_lookup (actor_rt (self->self), address);
}

report_t *
meta_report (meta_t *self, const char *address, uint32_t app_id, uint32_t partition)
{
    node_t *node = *address ? strmap_get (self->nodes, address) : NULL;
    return node ? u64map_get (node->reports, meta_id (app_id, partition)) : NULL;
}

static Pg__Assignment *
s_assignment (msg_t *reply, const app_t *app, uint32_t i)
{
    Pg__Assignment *a = msg_alloc (reply, sizeof *a);
    if (!a)
        return NULL;
    pg__assignment__init (a);
    a->config = msg_copy_body (reply, &app->parts [i]->base);
    a->app_name = msg_strdup (reply, app->info->name);
    a->partition_count = app->info->partition_count;
    a->gone = app->info->status != PG__APP_STATUS__APP_AVAILABLE;
    a->restoring = app->info->restoring;
    return a->config && a->app_name ? a : NULL;
}

//  A sync for a node that applied `base`: what changed since (every
//  partition changed after it, whoever it names: the node closes what
//  no longer names it), or, when base is not from this meta's epoch, the
//  node's whole set of assignments and every table meta knows.
static bool
s_full_sync (meta_t *self, uint64_t base)
{
    return base == 0 || base >> 32 != self->config_version >> 32 || base > self->config_version;
}

static msg_t *
s_sync_reply (meta_t *self, node_t *node, uint64_t base)
{
    Pg__BeaconReply *body;
    msg_t *reply = msg_new (&pg__beacon_reply__descriptor, (void **) &body);
    if (!reply)
        return NULL;
    const char *address = node->address;
    bool full = s_full_sync (self, base);
    body->config_version = self->config_version;
    body->base_version = full ? 0 : base;
    body->full = full;
    body->incarnation = node->incarnation;
    node->sent_version = self->config_version;
    if (!full && base == self->config_version)
        return reply;                   //  nothing changed
    size_t napps = u64map_size (self->apps), n = 0, capacity = 16;
    body->known_apps = full && napps ? msg_alloc (reply, napps * sizeof (uint32_t)) : NULL;
    Pg__Assignment **list = msg_alloc (reply, capacity * sizeof *list);
    size_t cursor = 0;
    uint64_t id;
    void *value;
    while (list && u64map_next (self->apps, &cursor, &id, &value) == 0) {
        app_t *app = value;
        if (body->known_apps)
            body->known_apps [body->n_known_apps++] = app->info->app_id;
        if (full && app->info->status != PG__APP_STATUS__APP_AVAILABLE)
            continue;
        for (uint32_t i = 0; i < app->info->partition_count; i++) {
            if (full ? !s_assigned (app->parts [i], address) : app->versions [i] <= base)
                continue;
            if (n == capacity) {
                Pg__Assignment **grown = msg_alloc (reply, 2 * capacity * sizeof *grown);
                if (!grown) {
                    msg_destroy (&reply);
                    return NULL;
                }
                memcpy (grown, list, n * sizeof *list);
                list = grown;
                capacity *= 2;
            }
            if (!(list [n++] = s_assignment (reply, app, i))) {
                msg_destroy (&reply);
                return NULL;
            }
        }
    }
    if (!list) {
        msg_destroy (&reply);
        return NULL;
    }
    body->assignments = list;
    body->n_assignments = n;
    return reply;
}

static const msg_kind_t s_kind_push = { "meta.push" };

void
meta_push (meta_t *self)
{
    actor_wake (self->self, &s_kind_push, 0, &self->push_pending);
}

//  Each node heard from gets what changed since the last sync sent to it
//  (the connection keeps order; one lost is made up by the next beacon,
//  which says what the node applied).
static void
s_push (meta_t *self)
{
    self->push_pending = false;
    size_t cursor = 0;
    const char *address;
    void *value;
    //  Nodes sent the same version (as a rule, all of them) get the same
    //  changes: built once, packed for each with its incarnation.
    msg_t *changes = NULL;
    uint64_t changes_base = 0;
    while (strmap_next (self->nodes, &cursor, &address, &value) == 0) {
        node_t *node = value;
        uint64_t base = node->sent_version;
        if (!meta_heard (self, node) || base == self->config_version)
            continue;
        msg_t *sync;
        if (s_full_sync (self, base))
            sync = s_sync_reply (self, node, base);
        else {
            if (!changes || changes_base != base) {
                msg_destroy (&changes);
                changes = s_sync_reply (self, node, base);
                changes_base = base;
            }
            Pg__BeaconReply *body = changes ? msg_body (changes) : NULL;
            if (body) {
                body->incarnation = node->incarnation;
                node->sent_version = self->config_version;
            }
            sync = body ? msg_new_packing (&body->base) : NULL;
        }
        if (sync)
            actor_send (self->self, node->stub, &sync);
    }
    msg_destroy (&changes);
}

//  ---------------------------------------------------------------------------
//  Requests

bool
meta_valid_name (const char *name, size_t max)
{
    size_t len = strlen (name);
    if (len == 0 || len > max)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name [i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

//  The checks of a new table's name and shape: NULL, or why not (with the
//  status in *status).
static const char *
s_check_new (meta_t *self, const char *name, uint32_t pc, uint32_t rc, int *status, char *why,
             size_t size)
{
    *status = PG__STATUS__INVALID_ARGUMENT;
    if (!meta_valid_name (name, 128))
        snprintf (why, size, "table name '%.200s': 1..128 of A-Z a-z 0-9 _ . -", name);
    else
    if (pc == 0 || pc > MAX_PARTITIONS || (pc & (pc - 1)))
        snprintf (why, size, "partition count %u: a power of two from 1 to %d", pc, MAX_PARTITIONS);
    else
    if (rc < 1 || rc > MAX_REPLICAS)
        snprintf (why, size, "replica count %u: from 1 to %d", rc, MAX_REPLICAS);
    else
    if (strmap_get (self->names, name)) {
        *status = PG__STATUS__APP_EXIST;
        snprintf (why, size, "table %s exists", name);
    }
    else
        return NULL;
    return why;
}

int
meta_create_app (meta_t *self, const Pg__AppInfo *shape, uint32_t *app_id, int *status,
                 char *why, size_t why_size)
{
    uint32_t pc = shape->partition_count;
    if (s_check_new (self, shape->name, pc, shape->replica_count, status, why, why_size))
        return -1;
    *status = PG__STATUS__INTERNAL;
    snprintf (why, why_size, "out of memory");
    uint32_t *extra = calloc (strmap_size (self->nodes) + 1, sizeof *extra);
    app_t *app = calloc (1, sizeof *app);
    if (!extra || !app || !(app->info = meta_copy (&shape->base))
    ||  !(app->parts = calloc (pc, sizeof *app->parts))) {
        free (extra);
        meta_app_free (app);
        return -1;
    }
    app->info->app_id = self->next_app_id;
    app->info->status = PG__APP_STATUS__APP_AVAILABLE;
    app->info->create_ms = actor_wall_ms (self->self);
    app->info->drop_ms = app->info->expire_ms = 0;
    //  Primaries first, each on the live node with the fewest; secondaries
    //  are added by the cure once replication runs.
    int rc = 0;
    for (uint32_t i = 0; i < pc && rc == 0; i++) {
        node_t *node = meta_pick_node (self, extra);
        if (!node) {
            free (extra);
            meta_app_free (app);
            *status = PG__STATUS__NOT_ENOUGH_MEMBER;
            snprintf (why, why_size, "no live replica server to place partitions on");
            return -1;
        }
        extra [s_node_index (self, node)]++;
        Pg__PartitionConfig *p = malloc (sizeof *p);
        if (!p) {
            rc = -1;
            break;
        }
        pg__partition_config__init (p);
        app->parts [i] = p;
        p->app_id = app->info->app_id;
        p->partition_index = i;
        p->ballot = 1;
        p->max_replica_count = shape->replica_count;
        rc = meta_set_string (&p->primary, node->address);
    }
    free (extra);
    if (rc) {
        meta_app_free (app);
        return -1;
    }
    self->next_app_id++;
    if (meta_commit (self, app)) {
        self->next_app_id--;
        *status = PG__STATUS__IO_ERROR;
        snprintf (why, why_size, "meta could not persist the table");
        return -1;
    }
    *app_id = self->next_app_id - 1;
    log_notice ("created table %s (id %u, %u partitions, %u replicas%s)", shape->name, *app_id,
                pc, shape->replica_count, shape->restoring ? ", restoring" : "");
    meta_push (self);
    return 0;
}

static void
s_on_create (meta_t *self, msg_t *request)
{
    Pg__CreateAppRequest *req = msg_body (request);
    Pg__AppInfo shape = PG__APP_INFO__INIT;
    shape.name = req->name;
    shape.partition_count = req->partition_count;
    shape.replica_count = req->replica_count;
    Pg__AppInfo__EnvsEntry *entries = calloc (req->n_envs + 1, sizeof *entries);
    Pg__AppInfo__EnvsEntry **envs = calloc (req->n_envs + 1, sizeof *envs);
    for (size_t i = 0; entries && envs && i < req->n_envs; i++) {
        pg__app_info__envs_entry__init (&entries [i]);
        entries [i].key = req->envs [i]->key;
        entries [i].value = req->envs [i]->value;
        envs [i] = &entries [i];
    }
    shape.n_envs = req->n_envs;
    shape.envs = envs;
    uint32_t app_id;
    int status = PG__STATUS__INTERNAL;
    char why [300] = "out of memory";
    int rc = entries && envs ? meta_create_app (self, &shape, &app_id, &status, why, sizeof why) : -1;
    free (entries);
    free (envs);
    if (rc) {
        actor_reply_error (self->self, request, status, "%s", why);
        return;
    }
    Pg__CreateAppReply *body;
    msg_t *reply = msg_new (&pg__create_app_reply__descriptor, (void **) &body);
    if (reply) {
        body->app_id = app_id;
        actor_reply (self->self, request, &reply);
    }
}

int
meta_drop_app (meta_t *self, const app_t *app, int64_t hold_seconds)
{
    app_t *next = meta_app_clone (app);
    if (!next)
        return -1;
    next->info->status = PG__APP_STATUS__APP_DROPPED;
    next->info->drop_ms = actor_wall_ms (self->self);
    next->info->expire_ms = next->info->drop_ms + hold_seconds * 1000;
    if (meta_commit (self, next))
        return -1;
    meta_push (self);
    return 0;
}

static void
s_on_drop (meta_t *self, msg_t *request)
{
    Pg__DropAppRequest *req = msg_body (request);
    app_t *app = strmap_get (self->names, req->name);
    if (!app) {
        actor_reply_error (self->self, request, PG__STATUS__APP_NOT_EXIST, "no table %.200s",
                           req->name);
        return;
    }
    int64_t hold = req->hold_seconds > 0 ? req->hold_seconds : self->hold_seconds;
    uint32_t app_id = app->info->app_id;
    if (meta_drop_app (self, app, hold)) {
        actor_reply_error (self->self, request, PG__STATUS__IO_ERROR, "meta could not persist the drop");
        return;
    }
    app = u64map_get (self->apps, app_id);
    log_notice ("dropped table %s (id %u): recallable for %" PRId64 " s", req->name, app_id, hold);
    Pg__DropAppReply *body;
    msg_t *reply = msg_new (&pg__drop_app_reply__descriptor, (void **) &body);
    if (reply) {
        body->app_id = app_id;
        body->expire_ms = app ? app->info->expire_ms : 0;
    }
    actor_reply (self->self, request, &reply);
}

static void
s_on_recall (meta_t *self, msg_t *request)
{
    Pg__RecallAppRequest *req = msg_body (request);
    app_t *app = u64map_get (self->apps, req->app_id);
    if (app && app->info->restoring) {
        actor_reply_error (self->self, request, PG__STATUS__INVALID_STATE,
                           "table %u was a restore that did not finish: restore it again", req->app_id);
        return;
    }
    if (!app || app->info->status != PG__APP_STATUS__APP_DROPPED) {
        actor_reply_error (self->self, request, PG__STATUS__APP_NOT_EXIST,
                           "no dropped table with id %u", req->app_id);
        return;
    }
    const char *name = *req->new_name ? req->new_name : app->info->name;
    if (!meta_valid_name (name, 128)) {
        actor_reply_error (self->self, request, PG__STATUS__INVALID_ARGUMENT,
                           "table name '%.200s': 1..128 of A-Z a-z 0-9 _ . -", name);
        return;
    }
    if (strmap_get (self->names, name)) {
        actor_reply_error (self->self, request, PG__STATUS__APP_EXIST,
                           "a table named %s exists: recall under another name", name);
        return;
    }
    app_t *next = meta_app_clone (app);
    if (!next || meta_set_string (&next->info->name, name)) {
        meta_app_free (next);
        actor_reply_error (self->self, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    next->info->status = PG__APP_STATUS__APP_AVAILABLE;
    next->info->drop_ms = next->info->expire_ms = 0;
    if (meta_commit (self, next)) {
        actor_reply_error (self->self, request, PG__STATUS__IO_ERROR, "meta could not persist the recall");
        return;
    }
    log_notice ("recalled table %u as %s", req->app_id, name);
    Pg__RecallAppReply *body;
    msg_t *reply = msg_new (&pg__recall_app_reply__descriptor, (void **) &body);
    if (reply)
        body->app = msg_copy_body (reply, &next->info->base);
    actor_reply (self->self, request, &reply);
    meta_push (self);
}

static void
s_on_list (meta_t *self, msg_t *request)
{
    Pg__ListAppsRequest *req = msg_body (request);
    Pg__ListAppsReply *body;
    msg_t *reply = msg_new (&pg__list_apps_reply__descriptor, (void **) &body);
    size_t n = u64map_size (self->apps);
    body->apps = n ? msg_alloc (reply, n * sizeof *body->apps) : NULL;
    size_t cursor = 0;
    uint64_t id;
    void *value;
    while (body->apps && u64map_next (self->apps, &cursor, &id, &value) == 0) {
        app_t *app = value;
        if (app->info->status == PG__APP_STATUS__APP_DROPPED && !req->include_dropped)
            continue;
        body->apps [body->n_apps++] = msg_copy_body (reply, &app->info->base);
    }
    actor_reply (self->self, request, &reply);
}

static void
s_on_query (meta_t *self, msg_t *request)
{
    Pg__QueryConfigRequest *req = msg_body (request);
    app_t *app = strmap_get (self->names, req->app_name);
    if (!app) {
        actor_reply_error (self->self, request, PG__STATUS__APP_NOT_EXIST, "no table %.200s",
                           req->app_name);
        return;
    }
    Pg__QueryConfigReply *body;
    msg_t *reply = msg_new (&pg__query_config_reply__descriptor, (void **) &body);
    uint32_t pc = app->info->partition_count;
    body->app = msg_copy_body (reply, &app->info->base);
    body->partitions = msg_alloc (reply, pc * sizeof *body->partitions);
    body->serving = msg_alloc (reply, pc * sizeof *body->serving);
    if (!body->app || !body->partitions || !body->serving) {
        msg_destroy (&reply);
        actor_reply_error (self->self, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    for (uint32_t i = 0; i < pc; i++) {
        Pg__PartitionConfig *p = app->parts [i];
        body->partitions [i] = msg_copy_body (reply, &p->base);
        node_t *node = *p->primary ? strmap_get (self->nodes, p->primary) : NULL;
        report_t *report = node ? u64map_get (node->reports, meta_id (p->app_id, i)) : NULL;
        if (report && report->state == PG__REPLICA_STATE__REPLICA_SERVING && meta_alive (self, node)) {
            body->serving [body->n_serving++] = i;
            body->partitions [i]->last_committed_decree = report->last_committed;
        }
    }
    body->n_partitions = pc;
    actor_reply (self->self, request, &reply);
}

static void
s_on_nodes (meta_t *self, msg_t *request)
{
    Pg__ListNodesReply *body;
    msg_t *reply = msg_new (&pg__list_nodes_reply__descriptor, (void **) &body);
    size_t n = strmap_size (self->nodes);
    body->nodes = n ? msg_alloc (reply, n * sizeof *body->nodes) : NULL;
    size_t cursor = 0;
    const char *address;
    void *value;
    int64_t now = actor_now_ms (self->self);
    while (body->nodes && strmap_next (self->nodes, &cursor, &address, &value) == 0) {
        node_t *node = value;
        Pg__NodeInfo *info = msg_alloc (reply, sizeof *info);
        if (!info)
            break;
        pg__node_info__init (info);
        info->address = msg_strdup (reply, node->address);
        info->status = meta_node_status (self, node);
        info->last_beacon_ms_ago = node->last_beacon_ms ? now - node->last_beacon_ms : -1;
        info->primary_count = node->primaries;
        info->secondary_count = node->secondaries;
        info->start_ms = node->start_ms;
        body->nodes [body->n_nodes++] = info;
    }
    actor_reply (self->self, request, &reply);
}

//  The fault points meta.drop_replies_to_port N (the server listening on
//  port N) and meta.drop_replies_to_ip N (the server at IPv4 address N, as
//  a 32-bit number, for servers that share a port on their own addresses).
static bool
s_replies_lost (const char *address)
{
    int64_t arg;
    const char *colon = strrchr (address, ':');
    if (!colon)
        return false;
    if (fault_on ("meta.drop_replies_to_port", &arg) && strtoll (colon + 1, NULL, 10) == arg)
        return true;
    char host [64];
    struct in_addr ip;
    snprintf (host, sizeof host, "%.*s", (int) (colon - address), address);
    return fault_on ("meta.drop_replies_to_ip", &arg) && inet_pton (AF_INET, host, &ip) == 1
        && (int64_t) ntohl (ip.s_addr) == arg;
}

//  A beacon's reports: the node's whole list, or the changes since its
//  previous beacon. Returns true if they could not be applied (changes on
//  top of a beacon we missed): the node is asked for its whole list, and
//  what we knew stands until then.
static bool
s_take_reports (node_t *node, const Pg__BeaconRequest *req)
{
    if (req->reports_full) {
        if (req->reports_seq && req->reports_seq <= node->reports_seq)
            return false;               //  overtaken by one we applied
        u64map_clear (node->reports, free);
    }
    else
    if (req->reports_seq != node->reports_seq + 1 || !node->reports_seq)
        return true;
    node->reports_seq = req->reports_seq;
    for (size_t i = 0; i < req->n_closed; i++)
        free (u64map_take (node->reports, req->closed [i]));
    for (size_t i = 0; i < req->n_replicas; i++) {
        Pg__ReplicaReport *r = req->replicas [i];
        uint64_t id = meta_id (r->app_id, r->partition_index);
        report_t *report = u64map_get (node->reports, id);
        if (!report && (report = calloc (1, sizeof *report))
        &&  u64map_put (node->reports, id, report)) {
            free (report);
            report = NULL;
        }
        if (!report) {
            node->reports_seq = 0;      //  out of memory: ask for all of them
            return true;
        }
        report->state = r->state;
        report->role = r->role;
        report->ballot = r->ballot;
        report->last_committed = r->last_committed_decree;
        report->last_prepared = r->last_prepared_decree;
        report->needs_ballot = r->needs_ballot;
        report->nlearners = 0;
        for (size_t k = 0; k < r->n_learners && k < META_MAX_LEARNERS; k++)
            snprintf (report->learners [report->nlearners++], sizeof report->learners [0], "%s",
                      r->learners [k]);
    }
    return false;
}

static void
s_on_beacon (meta_t *self, msg_t *request)
{
    Pg__BeaconRequest *req = msg_body (request);
    if (!*req->node || !strchr (req->node, ':')) {
        actor_reply_error (self->self, request, PG__STATUS__INVALID_ARGUMENT,
                           "beacon without a server address");
        return;
    }
    char why [400];
    if (meta_beacon_fits (req->beacon_ms, self->lease_ms, why, sizeof why)) {
        actor_reply_error (self->self, request, PG__STATUS__INVALID_ARGUMENT, "%s", why);
        return;
    }
    if (msg_from_other (request, req->node)) {
        actor_reply_error (self->self, request, PG__STATUS__INVALID_ARGUMENT,
                           "beacon from %s naming itself %.100s: refused", request->from_node,
                           req->node);
        return;
    }
    node_t *node = meta_node (self, req->node);
    if (!node) {
        actor_reply_error (self->self, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    if (req->incarnation && node->incarnation != req->incarnation) {
        //  A new process at that address (or the first we hear of). Known
        //  across our own restarts: the store keeps the last incarnation.
        if (node->incarnation) {
            log_notice ("replica server %s restarted", node->address);
            meta_cure_restarted (self, node);
        }
        Pg__NodeRecord record = PG__NODE_RECORD__INIT;
        record.address = node->address;
        record.incarnation = req->incarnation;
        record.start_ms = req->start_ms;
        if (metastore_save_node (self->store, &record)) {
            actor_reply_error (self->self, request, PG__STATUS__IO_ERROR,
                               "meta could not persist the server's incarnation");
            return;
        }
        node->incarnation = req->incarnation;
        node->reports_seq = 0;          //  its beacons count from 1 again
    }
    if (req->log_failed && !node->log_failed)
        log_warning ("replica server %s says its log failed: it leaves every configuration",
                     node->address);
    if (req->reply_age_ms > self->node_grace_ms && node->reply_age_ms <= self->node_grace_ms)
        log_warning ("replica server %s has heard no reply for %" PRId64 " ms (its beacons "
                     "arrive, our replies do not): it has no lease, and leaves every "
                     "configuration", node->address, req->reply_age_ms);
    node->log_failed = req->log_failed;
    node->reply_age_ms = req->reply_age_ms;
    if (!node->alive)
        log_notice ("replica server %s is alive", node->address);
    node->alive = true;
    node->last_beacon_ms = actor_now_ms (self->self);
    node->start_ms = req->start_ms;
    bool wanted = s_take_reports (node, req);
    msg_t *reply = s_sync_reply (self, node, req->config_version);
    if (reply)
        ((Pg__BeaconReply *) msg_body (reply))->reports_wanted = wanted;
    //  Fault point: replies to one server are lost (a path back to it
    //  that drops them, such as a full queue), while its beacons arrive.
    if (reply && fault_enabled () && s_replies_lost (node->address)) {
        msg_destroy (&reply);
        return;
    }
    if (reply) {
        //  No lease for a server that cannot serve (its log failed, or it
        //  hears no reply): the one it may hold runs out, and only then is
        //  it taken out of its partitions (meta_lease_over).
        if (meta_alive (self, node)) {
            ((Pg__BeaconReply *) msg_body (reply))->lease_ms = self->lease_ms;
            node->lease_granted_ms = actor_now_ms (self->self);
        }
        actor_reply (self->self, request, &reply);
    }
}

bool
meta_lease_over (meta_t *self, node_t *node)
{
    return actor_now_ms (self->self) - node->lease_granted_ms > self->lease_ms;
}

//  Once a second: forget tables past their hold, notice dead servers.
static void
s_tick (meta_t *self)
{
    msg_t *tick = msg_new_local (&s_kind_tick, 0, NULL);
    actor_send_after (self->self, TICK_MS, &tick);
    int64_t wall = actor_wall_ms (self->self);
    bool changed = false;
    for (bool again = true; again;) {
        again = false;
        size_t cursor = 0;
        uint64_t id;
        void *value;
        while (u64map_next (self->apps, &cursor, &id, &value) == 0) {
            app_t *app = value;
            if (app->info->status != PG__APP_STATUS__APP_DROPPED || app->info->expire_ms > wall)
                continue;
            if (metastore_remove (self->store, app->info->app_id, app->info->partition_count))
                break;                  //  try again next tick
            log_notice ("table %s (id %u) passed its hold: forgotten", app->info->name,
                        app->info->app_id);
            u64map_take (self->apps, id);
            meta_app_free (app);
            changed = again = true;
            break;                      //  the map changed under the cursor
        }
    }
    meta_cure_tick (self);
    meta_backup_tick (self);
    meta_restore_tick (self);
    meta_policy_tick (self);
    if (changed) {
        self->config_version++;
        meta_push (self);
    }
}

static void
s_receive (actor_t *actor, msg_t **msg_p)
{
    meta_t *self = actor_state (actor);
    msg_t *msg = *msg_p;
    if (msg_is (msg, &s_kind_tick)) {
        s_tick (self);
        return;
    }
    if (msg_is (msg, &s_kind_push)) {
        s_push (self);
        return;
    }
    if (msg_is (msg, &meta_kind_cure)) {
        self->cure_pending = false;
        meta_cure_run (self);
        return;
    }
    if (msg_is (msg, &pg__job_news__descriptor)) {
        const Pg__JobNews *news = msg_body (msg);
        if (news->backup_id)
            meta_backup_poll_now (self, news->backup_id);
        if (news->restore_id)
            meta_restore_poll_now (self, news->restore_id);
        return;
    }
    if (!msg_is_request (msg))
        return;
    if (msg_is (msg, &pg__beacon_request__descriptor))
        s_on_beacon (self, msg);
    else
    if (msg_is (msg, &pg__query_config_request__descriptor))
        s_on_query (self, msg);
    else
    if (msg_is (msg, &pg__create_app_request__descriptor))
        s_on_create (self, msg);
    else
    if (msg_is (msg, &pg__drop_app_request__descriptor))
        s_on_drop (self, msg);
    else
    if (msg_is (msg, &pg__recall_app_request__descriptor))
        s_on_recall (self, msg);
    else
    if (msg_is (msg, &pg__list_apps_request__descriptor))
        s_on_list (self, msg);
    else
    if (msg_is (msg, &pg__list_nodes_request__descriptor))
        s_on_nodes (self, msg);
    else
    if (msg_is (msg, &pg__update_config_request__descriptor))
        meta_on_update_config (self, msg);
    else
    if (msg_is (msg, &pg__propose_request__descriptor))
        meta_on_propose (self, msg);
    else
    if (msg_is (msg, &pg__set_meta_level_request__descriptor))
        meta_on_set_level (self, msg);
    else
    if (msg_is (msg, &pg__get_meta_level_request__descriptor))
        meta_on_get_level (self, msg);
    else
    if (msg_is (msg, &pg__backup_request__descriptor))
        meta_on_backup (self, msg);
    else
    if (msg_is (msg, &pg__query_backup_request__descriptor))
        meta_on_query_backup (self, msg);
    else
    if (msg_is (msg, &pg__cancel_backup_request__descriptor))
        meta_on_cancel_backup (self, msg);
    else
    if (msg_is (msg, &pg__restore_request__descriptor))
        meta_on_restore (self, msg_p);
    else
    if (msg_is (msg, &pg__query_restore_request__descriptor))
        meta_on_query_restore (self, msg);
    else
    if (msg_is (msg, &pg__add_backup_policy_request__descriptor))
        meta_on_add_policy (self, msg);
    else
    if (msg_is (msg, &pg__list_backup_policy_request__descriptor))
        meta_on_list_policy (self, msg);
    else
    if (msg_is (msg, &pg__modify_backup_policy_request__descriptor))
        meta_on_modify_policy (self, msg);
    else
    if (msg_is (msg, &pg__enable_backup_policy_request__descriptor))
        meta_on_enable_policy (self, msg);
    else
        actor_reply_error (actor, msg, PG__STATUS__INVALID_ARGUMENT, "meta does not handle %s",
                           msg_kind_name (msg));
}

//  ---------------------------------------------------------------------------

static void
s_load (void *ctx, const Pg__AppInfo *info, Pg__PartitionConfig **parts, size_t count)
{
    meta_t *self = ctx;
    app_t *app = calloc (1, sizeof *app);
    if (!app || !(app->info = meta_copy (&info->base)) || !(app->parts = calloc (count, sizeof *app->parts))
    ||  !(app->versions = calloc (count ? count : 1, sizeof *app->versions))) {
        meta_app_free (app);
        return;
    }
    for (size_t i = 0; i < count; i++)
        if (!(app->parts [i] = meta_copy (&parts [i]->base))) {
            meta_app_free (app);
            return;
        }
    u64map_put (self->apps, info->app_id, app);
    if (info->status == PG__APP_STATUS__APP_AVAILABLE)
        strmap_put (self->names, info->name, app);
}

typedef struct {
    const char *dir;
    int64_t hold_seconds;
    int64_t node_grace_ms;
    int64_t lease_ms;
    int64_t min_live_nodes;
    int64_t learn_timeout_ms;
    int64_t max_learning;
} meta_args_t;

static void s_fini (actor_t *actor);

static void
s_load_node (void *ctx, const Pg__NodeRecord *record)
{
    meta_t *self = ctx;
    node_t *node = meta_node (self, record->address);
    if (node) {
        node->incarnation = record->incarnation;
        node->start_ms = record->start_ms;
    }
}

static int
s_init (actor_t *actor, void *args)
{
    meta_args_t *a = args;
    meta_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    self->self = actor;
    self->hold_seconds = a->hold_seconds;
    self->node_grace_ms = a->node_grace_ms;
    self->lease_ms = a->lease_ms;
    self->min_live_nodes = a->min_live_nodes;
    self->learn_timeout_ms = a->learn_timeout_ms;
    self->max_learning = a->max_learning;
    self->start_ms = actor_now_ms (actor);
    self->proposals = u64map_new ();
    self->apps = u64map_new ();
    self->names = strmap_new ();
    self->nodes = strmap_new ();
    actor_set_state (actor, self);
    if (!self->apps || !self->names || !self->nodes || !self->proposals
    ||  !(self->store = metastore_open (a->dir))
    ||  metastore_load (self->store, s_load, self, &self->next_app_id)) {
        s_fini (actor);
        return -1;
    }
    self->level = metastore_level (self->store, PG__META_LEVEL__LEVEL_STEADY);
    //  Versions must only grow, across our restarts too (a replica server
    //  ignores a sync older than one it applied), whatever the clock
    //  says: a persisted epoch above every earlier run's.
    uint64_t epoch;
    if (metastore_load_nodes (self->store, s_load_node, self)
    ||  meta_backup_load (self)
    ||  meta_restore_load (self)
    ||  meta_policy_load (self)
    ||  metastore_next_epoch (self->store, &epoch)) {
        s_fini (actor);
        return -1;
    }
    self->config_version = epoch << 32;
    log_notice ("meta: %zu tables and %zu servers loaded, next table id %u, epoch %" PRIu64,
                u64map_size (self->apps), strmap_size (self->nodes), self->next_app_id, epoch);
    msg_t *tick = msg_new_local (&s_kind_tick, 0, NULL);
    actor_send_after (actor, TICK_MS, &tick);
    return 0;
}

static void
s_fini (actor_t *actor)
{
    meta_t *self = actor_state (actor);
    if (!self)
        return;
    size_t cursor = 0;
    uint64_t id;
    void *value;
    while (self->apps && u64map_next (self->apps, &cursor, &id, &value) == 0)
        meta_app_free (value);
    u64map_destroy (&self->apps);
    strmap_destroy (&self->names);
    const char *address;
    cursor = 0;
    while (self->nodes && strmap_next (self->nodes, &cursor, &address, &value) == 0) {
        node_t *node = value;
        size_t c2 = 0;
        void *report;
        while (u64map_next (node->reports, &c2, &id, &report) == 0)
            free (report);
        u64map_destroy (&node->reports);
        actor_unref (&node->stub);
        free (node->address);
        free (node);
    }
    strmap_destroy (&self->nodes);
    cursor = 0;
    while (self->proposals && u64map_next (self->proposals, &cursor, &id, &value) == 0)
        free (value);
    u64map_destroy (&self->proposals);
    meta_backup_free (self);
    meta_restore_free (self);
    meta_policy_free (self);
    metastore_close (&self->store);
    free (self);
    actor_set_state (actor, NULL);
}

static const actor_ops_t s_ops = { "meta", s_init, s_receive, s_fini };

int
meta_timing (zconfig_t *config, int64_t *node_grace_ms, int64_t *lease_ms)
{
    if (config_int (config, "meta/node_grace_ms", 3000, 100, 3600000, node_grace_ms)
    ||  config_int (config, "meta/lease_ms", *node_grace_ms * 2 / 3, 50, 3600000, lease_ms))
        return -1;
    //  A server must stop serving before meta hands its partitions on,
    //  with room for scheduling and clocks that do not tick alike.
    int64_t margin = *lease_ms / 10 > 100 ? *lease_ms / 10 : 100;
    if (*node_grace_ms - *lease_ms < margin) {
        log_error ("config: meta/lease_ms = %" PRId64 " leaves meta/node_grace_ms = %" PRId64
                   " too little margin: a primary's lease must end at least %" PRId64 " ms "
                   "before meta hands its partitions on; lower meta/lease_ms to %" PRId64
                   " or less, or raise meta/node_grace_ms", *lease_ms, *node_grace_ms, margin,
                   *node_grace_ms - margin);
        return -1;
    }
    return 0;
}

int
meta_beacon_fits (int64_t beacon_ms, int64_t lease_ms, char *why, size_t size)
{
    if (beacon_ms <= 0 || beacon_ms * 2 <= lease_ms)
        return 0;
    snprintf (why, size, "replica/beacon_ms = %" PRId64 " is too long for meta/lease_ms = %" PRId64
              ": a lease must span two beacons, or one lost beacon lapses it; set "
              "replica/beacon_ms to %" PRId64 " or less (or raise meta/lease_ms)",
              beacon_ms, lease_ms, lease_ms / 2);
    return -1;
}

actor_t *
meta_spawn (rt_t *rt, zconfig_t *config)
{
    meta_args_t args;
    if (config_int (config, "meta/hold_seconds", 7 * 86400, 0, 100LL * 365 * 86400, &args.hold_seconds)
    ||  meta_timing (config, &args.node_grace_ms, &args.lease_ms)
    ||  config_int (config, "meta/min_live_nodes", 1, 1, 10000, &args.min_live_nodes)
    ||  config_int (config, "meta/learn_timeout_ms", 30000, 1000, 3600000, &args.learn_timeout_ms)
    ||  config_int (config, "meta/max_learning_per_node", 8, 1, 100000, &args.max_learning)
    ||  wiretypes_register ())
        return NULL;
    const char *data_dir = config_str (config, "node/data_dir", ".");
    char dir [4200];
    snprintf (dir, sizeof dir, "%s/meta", data_dir);
    if (mkdir (data_dir, 0755) && errno != EEXIST) {
        log_error ("meta: cannot create %s: %s", data_dir, strerror (errno));
        return NULL;
    }
    args.dir = dir;
    actor_opts_t opts = { .pinned = true, .mailbox_limit = 100000 };
    return actor_spawn (rt, "meta", &s_ops, &args, &opts);
}
