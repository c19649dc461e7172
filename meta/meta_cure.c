/*  meta_cure: PacificA's configuration manager.

    Every change of a partition's configuration is made here, on a copy,
    with ballot + 1, persisted, and only then announced. Three sources:

    - failure detection: a server silent for node_grace_ms (longer than the
      lease it was given, so it has stopped serving), one whose beacons
      arrive but who has heard no reply for that long (it has no lease
      either), one whose log failed, or one that came back as a new
      process, leaves every configuration; so does, from one partition,
      a replica that failed (ERROR) or a primary that refused to lead
      again at a ballot it led before a restart. A primary that leaves is
      replaced in the same change by the secondary whose log goes
      furthest; a partition that loses every member keeps them as
      candidates, and the first of them to come back becomes primary;
    - the primaries' requests: remove a member that stopped answering,
      upgrade a learner that caught up;
    - the operator's proposals, and the cure: where a partition has fewer
      replicas than it should, meta asks its primary to add a learner on
      another live server (one that held it before, if any).

    Levels: FREEZED does only the first (failures must be handled, or
    writes stay blocked); STEADY cures too; LIVELY is STEADY for now
    (balancing is not built). Fewer live servers than min_live_nodes acts
    as FREEZED: a meta cut off from most servers must not shuffle replicas
    onto the few it sees.
*/
#include "meta/meta_impl.h"
#include "runtime/log.h"
#include "runtime/rt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DROPS 3
#define PROPOSAL_RETRY_MS 5000
//  Upgrades that free learning slots within this long share one cure
//  sweep (a sweep walks every partition).
#define CURE_SOON_MS 20

const msg_kind_t meta_kind_cure = { "meta.cure" };

//  ---------------------------------------------------------------------------
//  Repeated string fields of owned protobuf structs

static void
s_remove (char **list, size_t *n, const char *address)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp (list [i], address)) {
            free (list [i]);
            memmove (list + i, list + i + 1, (*n - i - 1) * sizeof *list);
            (*n)--;
            return;
        }
}

static int
s_add (char ***list, size_t *n, const char *address)
{
    if (meta_in (*list, *n, address))
        return 0;
    char **grown = realloc (*list, (*n + 1) * sizeof *grown);
    char *copy = strdup (address);
    if (!grown || !copy) {
        if (grown)
            *list = grown;
        free (copy);
        return -1;
    }
    *list = grown;
    (*list) [(*n)++] = copy;
    return 0;
}

static void
s_clear (char **list, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        free (list [i]);
    *n = 0;
}

//  Remembers a node that left, newest last, at most MAX_DROPS: the cure
//  prefers them (they hold most of the data already).
static void
s_drop (Pg__PartitionConfig *p, const char *address)
{
    s_remove (p->last_drops, &p->n_last_drops, address);
    if (p->n_last_drops == MAX_DROPS)
        s_remove (p->last_drops, &p->n_last_drops, p->last_drops [0]);
    s_add (&p->last_drops, &p->n_last_drops, address);
}

//  ---------------------------------------------------------------------------
//  Liveness and choices

static bool
s_alive (meta_t *self, const char *address)
{
    node_t *node = *address ? strmap_get (self->nodes, address) : NULL;
    return node && meta_alive (self, node);
}

//  Dead: silent past the grace, or never heard of since a grace after we
//  started (servers need that long to find a restarted meta).
//  A server to take out of its partitions: not alive, and holding no
//  lease (a server whose log failed, or which hears no reply, still holds
//  the last lease it got until that runs out; a silent one's ran out
//  before the grace did).
static bool
s_dead (meta_t *self, const char *address)
{
    if (actor_now_ms (self->self) - self->start_ms <= self->node_grace_ms)
        return false;
    node_t *node = *address ? strmap_get (self->nodes, address) : NULL;
    return !node || (!meta_alive (self, node) && meta_lease_over (self, node));
}

static uint32_t
s_alive_count (meta_t *self)
{
    uint32_t alive = 0;
    size_t cursor = 0;
    const char *address;
    void *value;
    while (strmap_next (self->nodes, &cursor, &address, &value) == 0)
        alive += meta_alive (self, value);
    return alive;
}

//  The live secondary whose log goes furthest (by its last report), or
//  NULL.
static const char *
s_best_secondary (meta_t *self, const Pg__PartitionConfig *p)
{
    const char *best = NULL;
    uint64_t best_prepared = 0;
    for (size_t i = 0; i < p->n_secondaries; i++) {
        const char *node = p->secondaries [i];
        if (!s_alive (self, node))
            continue;
        report_t *r = meta_report (self, node, p->app_id, p->partition_index);
        if (r && r->state == PG__REPLICA_STATE__REPLICA_ERROR)
            continue;
        uint64_t prepared = r ? r->last_prepared : 0;
        if (!best || prepared > best_prepared) {
            best = node;
            best_prepared = prepared;
        }
    }
    return best;
}

static int
s_make_primary (Pg__PartitionConfig *p, const char *node)
{
    char *copy = strdup (node);
    if (!copy || meta_set_string (&p->primary, copy)) {
        free (copy);
        return -1;
    }
    free (copy);
    s_remove (p->secondaries, &p->n_secondaries, p->primary);
    s_clear (p->candidates, &p->n_candidates);
    return 0;
}

//  Takes the nodes `gone` says out of p; a primary taken out is replaced
//  by the best live secondary. Returns true if p changed (ballot + 1).
typedef bool (gone_fn) (meta_t *self, const Pg__PartitionConfig *p, const char *address,
                        void *ctx);

//  Partition index of the copy of app being changed, *next, made first
//  if there is none yet (a sweep that changes nothing copies nothing).
static Pg__PartitionConfig *
s_changing (const app_t *app, app_t **next, uint32_t index)
{
    if (!*next && !(*next = meta_app_clone (app)))
        return NULL;
    return meta_app_part (*next, index);
}

//  The configuration as it stands: in the copy being changed, if any.
static const Pg__PartitionConfig *
s_current (const app_t *app, app_t *const *next, uint32_t index)
{
    return (*next ? *next : app)->parts [index];
}

static bool
s_take_out (meta_t *self, const app_t *app, app_t **next, uint32_t index, gone_fn *gone, void *ctx)
{
    //  Who is gone, asked once each of the configuration as it stands.
    const Pg__PartitionConfig *now = s_current (app, next, index);
    char *members [16];
    size_t nmembers = 0;
    bool primary_gone = *now->primary && gone (self, now, now->primary, ctx);
    if (primary_gone)
        members [nmembers++] = strdup (now->primary);
    for (size_t i = 0; i < now->n_secondaries && nmembers < 16; i++)
        if (gone (self, now, now->secondaries [i], ctx))
            members [nmembers++] = strdup (now->secondaries [i]);
    if (!nmembers)
        return false;
    Pg__PartitionConfig *p = s_changing (app, next, index);
    if (!p) {
        log_error ("meta: out of memory reconfiguring %u.%u", now->app_id, now->partition_index);
        for (size_t i = 0; i < nmembers; i++)
            free (members [i]);
        return false;
    }
    if (primary_gone) {
        s_drop (p, p->primary);
        meta_set_string (&p->primary, "");
    }
    for (size_t i = primary_gone ? 1 : 0; i < nmembers; i++)
        if (members [i]) {
            s_drop (p, members [i]);
            s_remove (p->secondaries, &p->n_secondaries, members [i]);
        }
    if (!*p->primary) {
        const char *best = s_best_secondary (self, p);
        if (best)
            s_make_primary (p, best);
        else
        if (!p->n_secondaries)
            //  Every member is gone: each of them holds every committed
            //  write, so whichever comes back first may lead again.
            for (size_t i = 0; i < nmembers; i++)
                if (members [i])
                    s_add (&p->candidates, &p->n_candidates, members [i]);
    }
    for (size_t i = 0; i < nmembers; i++)
        free (members [i]);
    p->ballot++;
    log_notice ("partition %u.%u: ballot %" PRIu64 ", primary '%s', %zu secondaries",
                p->app_id, p->partition_index, p->ballot, p->primary, p->n_secondaries);
    return true;
}

//  A member whose replica of p failed, or a primary that refused to lead
//  again at p's ballot (it restarted since it led at it): out of p alone.
static bool
s_failed (meta_t *self, const Pg__PartitionConfig *p, const char *address)
{
    report_t *r = meta_report (self, address, p->app_id, p->partition_index);
    if (!r)
        return false;
    if (r->state == PG__REPLICA_STATE__REPLICA_ERROR)
        return true;
    return r->needs_ballot && r->ballot == p->ballot && !strcmp (address, p->primary);
}

static bool
s_gone_dead (meta_t *self, const Pg__PartitionConfig *p, const char *address, void *ctx)
{
    (void) ctx;
    if (s_dead (self, address))
        return true;
    if (!s_failed (self, p, address))
        return false;
    log_notice ("partition %u.%u: the replica on %s failed or cannot lead at ballot %" PRIu64
                ": it leaves the configuration", p->app_id, p->partition_index, address, p->ballot);
    return true;
}

static bool
s_gone_node (meta_t *self, const Pg__PartitionConfig *p, const char *address, void *ctx)
{
    (void) self;
    (void) p;
    return !strcmp (address, (const char *) ctx);
}

//  A partition without primary: a live secondary, or a candidate that came
//  back and reports its replica. Returns true if p changed.
static bool
s_find_primary (meta_t *self, const app_t *app, app_t **next, uint32_t index)
{
    const Pg__PartitionConfig *now = s_current (app, next, index);
    if (*now->primary)
        return false;
    const char *best = s_best_secondary (self, now);
    uint64_t best_prepared = 0;
    for (size_t i = 0; !best && i < now->n_candidates; i++) {
        const char *node = now->candidates [i];
        report_t *r = s_alive (self, node)
                    ? meta_report (self, node, now->app_id, now->partition_index) : NULL;
        if (r && r->state != PG__REPLICA_STATE__REPLICA_ERROR
        &&  (!best || r->last_prepared > best_prepared)) {
            best = node;
            best_prepared = r->last_prepared;
        }
    }
    if (!best && app->info->restoring) {
        //  Nothing was written to a table being restored: its replicas
        //  hold no data (they never opened), so any live server may lead.
        node_t *node = meta_pick_node (self, NULL);
        best = node ? node->address : NULL;
    }
    if (!best)
        return false;
    char *chosen = strdup (best);
    Pg__PartitionConfig *p = chosen ? s_changing (app, next, index) : NULL;
    if (!p || s_make_primary (p, chosen)) {
        free (chosen);
        return false;
    }
    free (chosen);
    p->ballot++;
    log_notice ("partition %u.%u: %s is primary (ballot %" PRIu64 ")", p->app_id,
                p->partition_index, p->primary, p->ballot);
    return true;
}

//  Whether a primary's report lists node among its learners.
static bool
s_reports_learner (const report_t *primary, const char *node)
{
    for (size_t k = 0; primary && k < primary->nlearners; k++)
        if (!strcmp (primary->learners [k], node))
            return true;
    return false;
}

//  Whether node may take one more learner (meta/max_learning_per_node).
static bool
s_may_learn (meta_t *self, const node_t *node)
{
    return node && node->learning < (uint64_t) self->max_learning;
}

//  The live node to add a replica of p on: one that held it recently if
//  any, else the one with the fewest replicas. NULL if none.

static const char *
s_pick_learner (meta_t *self, const Pg__PartitionConfig *p, const report_t *primary)
{
    for (size_t i = p->n_last_drops; i-- > 0;) {
        const char *node = p->last_drops [i];
        if (s_alive (self, node) && strcmp (node, p->primary)
        &&  !meta_in (p->secondaries, p->n_secondaries, node))
            return s_may_learn (self, strmap_get (self->nodes, node)) ? node : NULL;
    }
    const char *best = NULL;
    uint32_t best_count = 0;
    size_t cursor = 0;
    const char *address;
    void *value;
    while (strmap_next (self->nodes, &cursor, &address, &value) == 0) {
        node_t *node = value;
        if (!meta_alive (self, node) || !strcmp (node->address, p->primary)
        ||  meta_in (p->secondaries, p->n_secondaries, node->address)
        ||  !s_may_learn (self, node) || s_reports_learner (primary, node->address))
            continue;
        uint32_t count = node->primaries + node->secondaries;
        if (!best || count < best_count || (count == best_count && strcmp (node->address, best) < 0)) {
            best = node->address;
            best_count = count;
        }
    }
    return best;
}

static void
s_on_proposal_reply (actor_t *actor, msg_t **reply_p, void *arg)
{
    (void) arg;
    if (msg_status (*reply_p) != PG__STATUS__OK)
        log_info ("meta: a primary did not take a proposal: %s %s",
                  status_name (msg_status (*reply_p)), msg_error (*reply_p));
    (void) actor;
}

//  Asks p's primary to add a learner on node. 0 or -1.
static int
s_propose_learner (meta_t *self, const Pg__PartitionConfig *p, const char *node)
{
    char name [400];
    snprintf (name, sizeof name, "%s/r.%u.%u", p->primary, p->app_id, p->partition_index);
    actor_t *primary = rt_lookup (actor_rt (self->self), name);
    Pg__ConfigProposal *req;
    msg_t *msg = primary ? msg_new (&pg__config_proposal__descriptor, (void **) &req) : NULL;
    if (!msg) {
        actor_unref (&primary);
        return -1;
    }
    req->app_id = p->app_id;
    req->partition_index = p->partition_index;
    req->ballot = p->ballot;
    req->type = PG__CONFIG_TYPE__CT_ADD_SECONDARY;
    req->node = msg_strdup (msg, node);
    int rc = actor_ask (self->self, primary, &msg, 5000, s_on_proposal_reply, NULL);
    actor_unref (&primary);
    if (rc != PG__STATUS__OK)
        return -1;
    uint64_t id = meta_id (p->app_id, p->partition_index);
    proposal_t *proposal = u64map_get (self->proposals, id);
    if (!proposal && (proposal = calloc (1, sizeof *proposal))
    &&  u64map_put (self->proposals, id, proposal)) {
        free (proposal);
        proposal = NULL;
    }
    if (proposal) {
        snprintf (proposal->node, sizeof proposal->node, "%s", node);
        proposal->at_ms = actor_now_ms (self->self);
    }
    node_t *target = strmap_get (self->nodes, node);
    if (target)
        target->learning++;
    log_notice ("partition %u.%u: %s to learn from %s", p->app_id, p->partition_index, node,
                p->primary);
    return 0;
}

//  Adds a learner where p lacks replicas, one at a time per partition.
static void
s_cure_count (meta_t *self, const Pg__PartitionConfig *p)
{
    if (!*p->primary || 1 + p->n_secondaries >= p->max_replica_count || !s_alive (self, p->primary))
        return;
    report_t *primary = meta_report (self, p->primary, p->app_id, p->partition_index);
    if (!primary || primary->state != PG__REPLICA_STATE__REPLICA_SERVING
    ||  primary->role != PG__REPLICA_ROLE__ROLE_PRIMARY || primary->ballot != p->ballot)
        return;                         //  not settled in this configuration yet
    uint64_t id = meta_id (p->app_id, p->partition_index);
    proposal_t *proposal = u64map_get (self->proposals, id);
    int64_t now = actor_now_ms (self->self);
    if (proposal) {
        bool learning = s_reports_learner (primary, proposal->node);
        int64_t age = now - proposal->at_ms;
        if ((learning && age < self->learn_timeout_ms && s_alive (self, proposal->node))
        ||  age < PROPOSAL_RETRY_MS)
            return;
    }
    if (primary->nlearners)
        return;                         //  one at a time
    const char *node = s_pick_learner (self, p, primary);
    if (node)
        s_propose_learner (self, p, node);
}

//  ---------------------------------------------------------------------------
//  Failure detection and cure

//  Each node's learners in flight: proposed a moment ago, or reported
//  learning by their primary. A node opening hundreds of learners at once
//  would keep its primaries waiting on it past their patience (they drop
//  a learner that stays silent), so the cure hands each node at most
//  meta/max_learning_per_node at a time.
static void
s_count_learning (meta_t *self)
{
    size_t cursor = 0;
    const char *address;
    void *value;
    while (strmap_next (self->nodes, &cursor, &address, &value) == 0)
        ((node_t *) value)->learning = 0;
    int64_t now = actor_now_ms (self->self);
    uint64_t id;
    cursor = 0;
    while (u64map_next (self->proposals, &cursor, &id, &value) == 0) {
        proposal_t *proposal = value;
        node_t *node = strmap_get (self->nodes, proposal->node);
        app_t *app = u64map_get (self->apps, (uint32_t) (id >> 32));
        if (!node || !app || (uint32_t) id >= app->info->partition_count)
            continue;
        const Pg__PartitionConfig *p = app->parts [(uint32_t) id];
        report_t *primary = meta_report (self, p->primary, p->app_id, p->partition_index);
        node->learning += now - proposal->at_ms < PROPOSAL_RETRY_MS
                        || s_reports_learner (primary, proposal->node);
    }
}

//  Takes the nodes `gone` says out of every available table (and, with
//  find_primary, gives primaries to partitions without one), committing
//  each table that changed; then, with cure, restores replica counts.
//  Pushes configurations if anything changed.
static void
s_sweep (meta_t *self, gone_fn *gone, void *ctx, bool find_primary, bool cure)
{
    //  Commits replace tables in the map: walk a copy of the ids.
    size_t n = u64map_size (self->apps), count = 0, cursor = 0;
    uint64_t *ids = malloc ((n ? n : 1) * sizeof *ids), id;
    void *value;
    if (!ids) {
        log_error ("meta: out of memory checking configurations");
        return;
    }
    while (count < n && u64map_next (self->apps, &cursor, &id, &value) == 0)
        if (((app_t *) value)->info->status == PG__APP_STATUS__APP_AVAILABLE)
            ids [count++] = id;
    bool changed = false;
    if (cure)
        s_count_learning (self);
    for (size_t a = 0; a < count; a++) {
        app_t *app = u64map_get (self->apps, ids [a]), *next = NULL;
        if (!app)
            continue;
        bool touched = false;
        for (uint32_t i = 0; i < app->info->partition_count; i++) {
            touched |= s_take_out (self, app, &next, i, gone, ctx);
            if (find_primary)
                touched |= s_find_primary (self, app, &next, i);
        }
        if (!touched)
            meta_app_free (next);
        else
        if (meta_commit (self, next) == 0)
            changed = true;
        app = u64map_get (self->apps, ids [a]);
        //  A table being restored has one replica per partition, closed,
        //  until its files are in: learners come once it opens.
        for (uint32_t i = 0; cure && app && !app->info->restoring && i < app->info->partition_count; i++)
            s_cure_count (self, app->parts [i]);
    }
    free (ids);
    if (changed)
        meta_push (self);
}

//  The learners proposed to a node that died or restarted: the process
//  that was to learn is gone, and a proposal still counted would hold its
//  partition and one of the node's learning slots for PROPOSAL_RETRY_MS.
static void
s_forget_proposals (meta_t *self, const char *address)
{
    size_t n = u64map_size (self->proposals), count = 0, cursor = 0;
    uint64_t *ids = malloc ((n ? n : 1) * sizeof *ids), id;
    void *value;
    if (!ids)
        return;                         //  they expire by themselves
    while (count < n && u64map_next (self->proposals, &cursor, &id, &value) == 0)
        if (!strcmp (((proposal_t *) value)->node, address))
            ids [count++] = id;
    for (size_t i = 0; i < count; i++)
        free (u64map_take (self->proposals, ids [i]));
    free (ids);
}

void
meta_cure_restarted (meta_t *self, node_t *node)
{
    s_forget_proposals (self, node->address);
    s_sweep (self, s_gone_node, node->address, false, false);
}

void
meta_cure_tick (meta_t *self)
{
    size_t cursor = 0;
    const char *address;
    void *value;
    while (strmap_next (self->nodes, &cursor, &address, &value) == 0) {
        node_t *node = value;
        if (node->alive && !meta_heard (self, node)) {
            node->alive = false;
            log_warning ("replica server %s missed its beacons for %" PRId64 " ms: dead",
                         node->address, self->node_grace_ms);
            s_forget_proposals (self, node->address);
        }
    }
    meta_cure_run (self);
}

void
meta_cure_run (meta_t *self)
{
    bool frozen = s_alive_count (self) < (uint32_t) self->min_live_nodes;
    s_sweep (self, s_gone_dead, NULL, true, !frozen && self->level != PG__META_LEVEL__LEVEL_FREEZED);
}

//  ---------------------------------------------------------------------------
//  Requests

static void
s_reply_config (meta_t *self, msg_t *request, const Pg__PartitionConfig *p)
{
    Pg__UpdateConfigReply *body;
    msg_t *reply = msg_new (&pg__update_config_reply__descriptor, (void **) &body);
    if (reply && !(body->config = msg_copy_body (reply, &p->base)))
        msg_destroy (&reply);
    if (!reply) {
        actor_reply_error (self->self, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    actor_reply (self->self, request, &reply);
}

//  Commits next and answers with partition index's configuration.
static void
s_commit_reply (meta_t *self, msg_t *request, app_t *next, uint32_t index)
{
    uint32_t app_id = next->info->app_id;
    if (meta_commit (self, next)) {
        actor_reply_error (self->self, request, PG__STATUS__IO_ERROR,
                           "meta could not persist the change");
        return;
    }
    app_t *app = u64map_get (self->apps, app_id);
    s_reply_config (self, request, app->parts [index]);
    meta_push (self);
}

void
meta_on_update_config (meta_t *self, msg_t *request)
{
    Pg__UpdateConfigRequest *req = msg_body (request);
    app_t *app = u64map_get (self->apps, req->app_id);
    if (!app || app->info->status != PG__APP_STATUS__APP_AVAILABLE
    ||  req->partition_index >= app->info->partition_count) {
        actor_reply_error (self->self, request, PG__STATUS__APP_NOT_EXIST,
                           "no partition %u.%u", req->app_id, req->partition_index);
        return;
    }
    Pg__PartitionConfig *p = app->parts [req->partition_index];
    if (msg_from_other (request, p->primary)) {
        actor_reply_error (self->self, request, PG__STATUS__INVALID_STATE,
                           "%s is not the primary of %u.%u", request->from_node, req->app_id,
                           req->partition_index);
        return;
    }
    if (req->ballot != p->ballot) {
        actor_reply_error (self->self, request, PG__STATUS__STALE_BALLOT,
                           "partition %u.%u is at ballot %" PRIu64 ", not %" PRIu64,
                           req->app_id, req->partition_index, p->ballot, req->ballot);
        return;
    }
    app_t *next = meta_app_clone (app);
    if (!next) {
        actor_reply_error (self->self, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    Pg__PartitionConfig *q = meta_app_part (next, req->partition_index);
    if (!q) {
        meta_app_free (next);
        actor_reply_error (self->self, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    bool member = !strcmp (q->primary, req->node) || meta_in (q->secondaries, q->n_secondaries, req->node);
    if (req->type == PG__CONFIG_TYPE__CT_UPGRADE_TO_SECONDARY) {
        if (member || !s_alive (self, req->node) || 1 + q->n_secondaries >= q->max_replica_count) {
            meta_app_free (next);
            actor_reply_error (self->self, request, PG__STATUS__INVALID_STATE,
                               "%s cannot become a secondary of %u.%u (a member already, not "
                               "alive, or the partition has its replicas)",
                               req->node, req->app_id, req->partition_index);
            return;
        }
        s_add (&q->secondaries, &q->n_secondaries, req->node);
        s_remove (q->last_drops, &q->n_last_drops, req->node);
        free (u64map_take (self->proposals, meta_id (req->app_id, req->partition_index)));
    }
    else
    if (req->type == PG__CONFIG_TYPE__CT_REMOVE) {
        if (!meta_in (q->secondaries, q->n_secondaries, req->node)) {
            meta_app_free (next);
            actor_reply_error (self->self, request, PG__STATUS__INVALID_STATE,
                               "%s is not a secondary of %u.%u", req->node, req->app_id,
                               req->partition_index);
            return;
        }
        s_drop (q, req->node);
        s_remove (q->secondaries, &q->n_secondaries, req->node);
    }
    else {
        meta_app_free (next);
        actor_reply_error (self->self, request, PG__STATUS__INVALID_ARGUMENT,
                           "a primary may ask UPGRADE_TO_SECONDARY or REMOVE only");
        return;
    }
    q->ballot++;
    log_notice ("partition %u.%u: %s %s at the primary's request (ballot %" PRIu64 ")",
                req->app_id, req->partition_index,
                req->type == PG__CONFIG_TYPE__CT_REMOVE ? "removed" : "upgraded", req->node,
                q->ballot);
    s_commit_reply (self, request, next, req->partition_index);
    if (req->type == PG__CONFIG_TYPE__CT_UPGRADE_TO_SECONDARY)
        actor_wake (self->self, &meta_kind_cure, CURE_SOON_MS, &self->cure_pending);
}

void
meta_on_propose (meta_t *self, msg_t *request)
{
    Pg__ProposeRequest *req = msg_body (request);
    app_t *app = strmap_get (self->names, req->app_name);
    if (!app || req->partition_index >= app->info->partition_count) {
        actor_reply_error (self->self, request, PG__STATUS__APP_NOT_EXIST, "no partition %.200s.%u",
                           req->app_name, req->partition_index);
        return;
    }
    if (!strchr (req->node, ':') || strlen (req->node) >= 256) {
        actor_reply_error (self->self, request, PG__STATUS__INVALID_ARGUMENT,
                           "node '%.100s': give a server address, host:port", req->node);
        return;
    }
    app_t *next = meta_app_clone (app);
    if (!next) {
        actor_reply_error (self->self, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    Pg__PartitionConfig *q = meta_app_part (next, req->partition_index);
    if (!q) {
        meta_app_free (next);
        actor_reply_error (self->self, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    const char *node = req->node;
    bool secondary = meta_in (q->secondaries, q->n_secondaries, node);
    bool primary = !strcmp (q->primary, node);
    const char *refusal = NULL;
    char old [256];
    snprintf (old, sizeof old, "%s", q->primary);
    switch (req->type) {
        case PG__CONFIG_TYPE__CT_ASSIGN_PRIMARY:
            if (*q->primary)
                refusal = "the partition has a primary: use UPGRADE_TO_PRIMARY";
            else
            if (!s_alive (self, node))
                refusal = "the node is not alive";
            else
            if (!req->force && !secondary && !meta_in (q->candidates, q->n_candidates, node))
                refusal = "the node is neither a secondary nor a candidate; it may lack "
                          "committed writes (force to assign it anyway)";
            else
                s_make_primary (q, node);
            break;
        case PG__CONFIG_TYPE__CT_UPGRADE_TO_PRIMARY:
            if (!secondary || !s_alive (self, node))
                refusal = "only a live secondary can become primary";
            else {
                s_make_primary (q, node);
                if (*old && s_alive (self, old))
                    s_add (&q->secondaries, &q->n_secondaries, old);
            }
            break;
        case PG__CONFIG_TYPE__CT_DOWNGRADE_TO_SECONDARY: {
            const char *best = primary ? s_best_secondary (self, q) : NULL;
            if (!best)
                refusal = "the node is not the primary, or no live secondary can take over";
            else {
                char chosen [256];
                snprintf (chosen, sizeof chosen, "%s", best);
                s_make_primary (q, chosen);
                s_add (&q->secondaries, &q->n_secondaries, old);
            }
            break;
        }
        case PG__CONFIG_TYPE__CT_ADD_SECONDARY:
            if (primary || secondary || !s_alive (self, node) || !*q->primary)
                refusal = "the node must be alive and not a member, and the partition needs a primary";
            else
            if (s_propose_learner (self, q, node))
                refusal = "the primary cannot be reached";
            meta_app_free (next);
            if (refusal)
                actor_reply_error (self->self, request, PG__STATUS__INVALID_STATE, "%s", refusal);
            else
                s_reply_config (self, request, app->parts [req->partition_index]);
            return;
        case PG__CONFIG_TYPE__CT_REMOVE:
            if (primary && !req->force)
                refusal = "the node is the primary: downgrade it first (or force)";
            else
            if (primary && !s_dead (self, node))
                //  It may hold a lease and serve reads while another
                //  primary, which needs nothing from it, takes writes.
                refusal = "the node is a live primary: downgrade it first (force removes "
                          "a primary only once meta sees it dead and without a lease)";
            else
            if (!primary && !secondary)
                refusal = "the node is not a member";
            else {
                s_drop (q, node);
                if (primary) {
                    meta_set_string (&q->primary, "");
                    const char *best = s_best_secondary (self, q);
                    if (best) {
                        char chosen [256];
                        snprintf (chosen, sizeof chosen, "%s", best);
                        s_make_primary (q, chosen);
                    }
                }
                else
                    s_remove (q->secondaries, &q->n_secondaries, node);
            }
            break;
        default:
            refusal = "unknown proposal type";
    }
    if (refusal) {
        meta_app_free (next);
        actor_reply_error (self->self, request, PG__STATUS__INVALID_STATE, "%s", refusal);
        return;
    }
    q->ballot++;
    log_notice ("partition %s.%u: operator's proposal %d on %s: ballot %" PRIu64 ", primary '%s'",
                req->app_name, req->partition_index, req->type, node, q->ballot, q->primary);
    s_commit_reply (self, request, next, req->partition_index);
}

static void
s_level_reply (meta_t *self, msg_t *request)
{
    Pg__MetaLevelReply *body;
    msg_t *reply = msg_new (&pg__meta_level_reply__descriptor, (void **) &body);
    if (!reply) {
        actor_reply_error (self->self, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    body->level = self->level;
    body->alive_nodes = s_alive_count (self);
    body->min_live_nodes = (uint32_t) self->min_live_nodes;
    body->frozen = body->alive_nodes < body->min_live_nodes;
    actor_reply (self->self, request, &reply);
}

void
meta_on_set_level (meta_t *self, msg_t *request)
{
    Pg__SetMetaLevelRequest *req = msg_body (request);
    if (req->level != PG__META_LEVEL__LEVEL_STEADY && req->level != PG__META_LEVEL__LEVEL_FREEZED
    &&  req->level != PG__META_LEVEL__LEVEL_LIVELY) {
        actor_reply_error (self->self, request, PG__STATUS__INVALID_ARGUMENT,
                           "meta level %d: steady (0), freezed (1) or lively (2)", req->level);
        return;
    }
    if (metastore_set_level (self->store, req->level)) {
        actor_reply_error (self->self, request, PG__STATUS__IO_ERROR, "meta could not persist the level");
        return;
    }
    log_notice ("meta level set to %d", req->level);
    self->level = req->level;
    s_level_reply (self, request);
}

void
meta_on_get_level (meta_t *self, msg_t *request)
{
    s_level_reply (self, request);
}
