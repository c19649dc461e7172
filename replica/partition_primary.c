/*  partition_primary: PacificA as the primary.

    Each member and learner is a peer with a window: decrees are prepared
    to it in order (sent) and it answers with how far its log is durable
    and ours (acked, cumulative). A decree commits once our own log and
    every counting peer's hold it. Members count; a learner starts to count
    once it holds every decree we gave out (learning fills whatever holes
    its prepares left, wherever they are), and only once its log holds
    everything we committed, durably, do we ask meta to make it a member:
    so a member never lacks a committed decree, even between meta's change
    and our hearing of it. An error stalls a counting peer until the next
    tick, which resends from what it acked; a member that holds prepares
    back for prepare_timeout_ms, or answers nothing (no prepare, no group
    check) for MISSED_CHECKS group checks, is reported to meta, which
    removes it (a new ballot) so the others can go on; a counting learner
    silent for prepare_timeout_ms stops counting.
*/
#include "replica/partition_impl.h"
#include "replica/learn.h"
#include "replica/logwriter.h"
#include "common/rmtree.h"
#include "runtime/log.h"
#include "runtime/rt.h"
#include "meta.pb-c.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define META_TIMEOUT_MS 5000
#define META_RETRY_MS 1000
#define LEARNER_TIMEOUT_FACTOR 10
#define MAX_LEARN_ENTRIES 4096
//  An idle member is judged by its group checks: one lost check (queued
//  under a ballot that changed before it left, dropped on the way) must
//  not cost it its place, and a learning round to get it back.
#define MISSED_CHECKS 3

//  ---------------------------------------------------------------------------
//  Peers

static peer_t *
s_peer_find (partition_t *self, const char *node)
{
    for (size_t i = 0; i < self->npeers; i++)
        if (!strcmp (self->peers [i]->node, node))
            return self->peers [i];
    return NULL;
}

static peer_t *
s_peer_by_id (partition_t *self, uint64_t id)
{
    for (size_t i = 0; i < self->npeers; i++)
        if (self->peers [i]->id == id)
            return self->peers [i];
    return NULL;
}

static peer_t *
s_peer_add (partition_t *self, const char *node, bool learner)
{
    if (self->npeers == sizeof self->peers / sizeof self->peers [0])
        return NULL;
    peer_t *peer = calloc (1, sizeof *peer);
    if (!peer)
        return NULL;
    //  A node whose address does not resolve stays a peer that never
    //  answers: a member still holds commits back, and is reported to meta
    //  once silent, rather than left out of the commit rule.
    char name [64];
    partition_name (self->app_id, self->partition, name, sizeof name);
    peer->actor = partition_lookup (self, node, name);
    peer->id = ++self->next_peer_id;
    snprintf (peer->node, sizeof peer->node, "%s", node);
    peer->learner = learner;
    peer->counts = !learner;
    peer->sent = plist_committed (self->plist);
    peer->last_ok_ms = actor_now_ms (self->self);
    self->peers [self->npeers++] = peer;
    return peer;
}

static void
s_peer_remove (partition_t *self, peer_t *peer)
{
    for (size_t i = 0; i < self->npeers; i++)
        if (self->peers [i] == peer) {
            self->peers [i] = self->peers [--self->npeers];
            break;
        }
    actor_unref (&peer->actor);
    free (peer);
}

void
partition_drop_peers (partition_t *self)
{
    while (self->npeers)
        s_peer_remove (self, self->peers [0]);
}

static bool
s_is_secondary (partition_t *self, const char *node)
{
    for (size_t i = 0; i < self->config.nsecondaries; i++)
        if (!strcmp (self->config.secondaries [i], node))
            return true;
    return false;
}

//  ---------------------------------------------------------------------------
//  Asking meta

static void
s_on_update_reply (actor_t *actor, msg_t **reply_p, void *arg)
{
    partition_t *self = actor_state (actor);
    peer_t *peer = s_peer_by_id (self, (uint64_t) (uintptr_t) arg);
    int status = msg_status (*reply_p);
    if (status != PG__STATUS__OK || !msg_is (*reply_p, &pg__update_config_reply__descriptor)) {
        //  Asked again a second later (peer->asked stays): meta refuses
        //  with reason while it sees things otherwise (a learner it does
        //  not think alive, a ballot it moved past), and is told at most
        //  once a second meanwhile. A refusal at our ballot proves meta
        //  did not upgrade the learner (any change moves the ballot): only
        //  then may it stop counting (see the tick).
        if (peer && peer->learner && status == PG__STATUS__INVALID_STATE)
            peer->upgrade_refused = true;
        if (status != PG__STATUS__SHUTDOWN)
            log_info ("%s: meta did not change the configuration: %s %s", actor_name (actor),
                      status_name (status), msg_error (*reply_p));
        return;
    }
    Pg__UpdateConfigReply *body = msg_body (*reply_p);
    if (!body->config)
        return;
    partition_config_t config;
    partition_config_from (body->config, self->node, ROLE_INACTIVE, &config);
    partition_apply_config (self, &config);
}

static void
s_ask_meta (partition_t *self, peer_t *peer, int type)
{
    int64_t now = actor_now_ms (self->self);
    if (!self->meta || (peer->asked == type && now - peer->request_ms < META_RETRY_MS))
        return;
    Pg__UpdateConfigRequest *req;
    msg_t *msg = msg_new (&pg__update_config_request__descriptor, (void **) &req);
    if (!msg)
        return;
    req->app_id = self->app_id;
    req->partition_index = self->partition;
    req->ballot = self->ballot;
    req->type = type;
    req->node = msg_strdup (msg, peer->node);
    if (peer->asked != type)
        log_notice ("%s: asking meta to %s %s (ballot %" PRIu64 ")", actor_name (self->self),
                    type == PG__CONFIG_TYPE__CT_REMOVE ? "remove" : "upgrade", peer->node,
                    self->ballot);
    if (actor_ask (self->self, self->meta, &msg, META_TIMEOUT_MS, s_on_update_reply,
                   (void *) (uintptr_t) peer->id) == PG__STATUS__OK) {
        peer->asked = type;
        peer->request_ms = now;
        peer->upgrade_refused = false;  //  this ask may yet be taken
    }
}

//  ---------------------------------------------------------------------------
//  Prepares

static void s_on_prepare_reply (actor_t *actor, msg_t **reply_p, void *arg);
static void s_group_check (partition_t *self);

//  A counting learner whose log holds, durably, everything we committed:
//  ask meta to make it a member.
static void
s_maybe_upgrade (partition_t *self, peer_t *peer)
{
    if (peer->learner && peer->counts && peer->acked >= plist_committed (self->plist))
        s_ask_meta (self, peer, PG__CONFIG_TYPE__CT_UPGRADE_TO_SECONDARY);
}

//  Prepares decree to peer. -1 if the decree is no longer held.
static int
s_send_prepare (partition_t *self, peer_t *peer, uint64_t decree)
{
    plist_entry_t *entry = plist_get (self->plist, decree);
    if (!entry)
        return -1;
    Pg__PrepareRequest *req;
    msg_t *msg = msg_new_sized (&pg__prepare_request__descriptor, entry->len + 16, (void **) &req);
    if (!msg)
        return 0;
    req->app_id = self->app_id;
    req->partition_index = self->partition;
    req->ballot = self->ballot;
    req->decree = decree;
    req->prev_ballot = plist_ballot (self->plist, decree - 1);
    req->term = self->term;
    req->last_committed = plist_committed (self->plist);
    req->mutation.len = entry->len;
    req->mutation.data = entry->len ? msg_memdup (msg, entry->bytes, entry->len) : NULL;
    if (entry->len && !req->mutation.data) {
        msg_destroy (&msg);
        return 0;
    }
    int rc = peer->actor ? actor_ask (self->self, peer->actor, &msg, self->limits.prepare_timeout_ms,
                                      s_on_prepare_reply, (void *) (uintptr_t) peer->id)
                         : PG__STATUS__NO_ACTOR;
    msg_destroy (&msg);
    if (rc != PG__STATUS__OK)
        peer->stalled = true;
    else {
        peer->sent = decree;
        if (!peer->waiting_since_ms)
            peer->waiting_since_ms = actor_now_ms (self->self);
    }
    return 0;
}

//  Sends the peer every decree it has not been sent.
static void
s_pump (partition_t *self, peer_t *peer)
{
    uint64_t last = plist_last (self->plist);
    while (!peer->stalled && peer->sent < last) {
        if (s_send_prepare (self, peer, peer->sent + 1)) {
            //  We no longer hold what it misses: a member must go, a
            //  learner has to learn it (and stops counting meanwhile).
            if (!peer->learner)
                s_ask_meta (self, peer, PG__CONFIG_TYPE__CT_REMOVE);
            else {
                peer->sent = plist_committed (self->plist);
                peer->counts = false;
            }
            peer->stalled = true;
        }
    }
}

static void
s_pump_all (partition_t *self)
{
    for (size_t i = 0; i < self->npeers; i++)
        s_pump (self, self->peers [i]);
}

static void
s_on_prepare_reply (actor_t *actor, msg_t **reply_p, void *arg)
{
    partition_t *self = actor_state (actor);
    peer_t *peer = s_peer_by_id (self, (uint64_t) (uintptr_t) arg);
    if (!peer || self->role != ROLE_PRIMARY)
        return;
    int status = msg_status (*reply_p);
    if (status == PG__STATUS__OK && msg_is (*reply_p, &pg__prepare_reply__descriptor)) {
        Pg__PrepareReply *body = msg_body (*reply_p);
        if (body->ballot > self->ballot) {
            peer->stalled = true;       //  a newer configuration: meta tells us soon
            return;
        }
        int64_t now = actor_now_ms (actor);
        peer->last_ok_ms = now;
        //  Progress restarts the wait; nothing left unacked ends it (a
        //  resend of decrees it had acked set it without moving acked).
        if (body->durable > peer->acked) {
            peer->acked = body->durable;
            peer->waiting_since_ms = now;
        }
        if (peer->acked >= peer->sent)
            peer->waiting_since_ms = 0;
        if (body->expected && body->expected <= peer->sent) {
            //  It misses a decree, or holds another history's entry
            //  before it (it was behind when we took over, or a prepare
            //  was lost): send again from there.
            peer->sent = body->expected - 1;
            s_pump (self, peer);
        }
        s_maybe_upgrade (self, peer);
        partition_primary_advance (self);
        return;
    }
    //  Learners not yet counting catch up by learning; counting peers are
    //  resent from what they acked at the next tick, and removed if they
    //  stay silent.
    if (peer->counts) {
        peer->stalled = true;
        if (status == PG__STATUS__STALE_BALLOT)
            log_info ("%s: %s follows a newer ballot than %" PRIu64, actor_name (actor),
                      peer->node, self->ballot);
    }
}

void
partition_primary_advance (partition_t *self)
{
    if (self->untracked)
        return;
    uint64_t commit = plist_durable (self->plist);
    for (size_t i = 0; i < self->npeers; i++)
        if (self->peers [i]->counts && self->peers [i]->acked < commit)
            commit = self->peers [i]->acked;
    partition_commit (self, commit);
    //  A full window held the open mutation back: send it now.
    if (self->open && self->open->nops && !self->seal_pending)
        partition_seal (self);
}

//  Gives the bytes a decree, logs and prepares them. 0 or -1.
static int
s_append (partition_t *self, uint8_t *bytes, size_t len)
{
    uint64_t decree = plist_append (self->plist, self->ballot, bytes, len);
    if (!decree) {
        partition_error (self, "out of memory for a mutation");
        return -1;
    }
    plist_entry_t *entry = plist_get (self->plist, decree);
    self->uncommitted_bytes += (int64_t) len;
    self->last_prepare_ms = actor_now_ms (self->self);
    if (partition_log (self, self->ballot, decree, entry->bytes, entry->len, false))
        return -1;
    s_pump_all (self);
    return 0;
}

static int
s_append_empty (partition_t *self)
{
    uint8_t *bytes = malloc (1);
    if (!bytes) {
        partition_error (self, "out of memory for a mutation");
        return -1;
    }
    return s_append (self, bytes, 0);
}

void
partition_seal (partition_t *self)
{
    mutation_t *m = self->open;
    if (!m || !m->nops || self->role != ROLE_PRIMARY || !self->serving)
        return;
    if (self->ballot > self->led_ballot)
        return;                         //  sealed once the ballot is recorded
    if ((int64_t) (plist_last (self->plist) - plist_committed (self->plist)) >= self->limits.max_inflight)
        return;                         //  sealed when a commit frees the window
    size_t len;
    uint8_t *bytes = mutation_take (m, &len);
    if (!bytes) {
        partition_error (self, "out of memory for a mutation");
        return;
    }
    s_append (self, bytes, len);
}

//  ---------------------------------------------------------------------------
//  Becoming primary, members changing

void
partition_primary_members (partition_t *self)
{
    for (size_t i = 0; i < self->config.nsecondaries; i++) {
        const char *node = self->config.secondaries [i];
        if (!strcmp (node, self->node))
            continue;
        peer_t *peer = s_peer_find (self, node);
        if (peer) {
            if (peer->learner) {
                log_info ("%s: %s is a secondary now", actor_name (self->self), node);
                //  A member's silence is timed from here: as a learner it
                //  may have been busy (copying, applying) for longer than
                //  a member may be silent, and just answered everything.
                peer->last_ok_ms = actor_now_ms (self->self);
            }
            peer->learner = false;
            peer->counts = true;
            peer->asked = 0;
        }
        else
        if (!s_peer_add (self, node, false)) {
            //  A member we do not track would be left out of the commit
            //  rule: nothing commits until it is tracked (tried each tick).
            log_error ("%s: cannot track secondary %s: commits wait", actor_name (self->self),
                       node);
            self->untracked = true;
            return;
        }
    }
    self->untracked = false;
    for (size_t i = 0; i < self->npeers;) {
        peer_t *peer = self->peers [i];
        if (!peer->learner && !s_is_secondary (self, peer->node)) {
            log_info ("%s: %s is no longer a member", actor_name (self->self), peer->node);
            s_peer_remove (self, peer);
        }
        else
            i++;
    }
    s_pump_all (self);
    partition_primary_advance (self);
    partition_report (self);
    //  A new configuration is checked at once: members hear of the ballot
    //  now rather than a check interval later, and checks queued under
    //  the old one (refused as stale) do not leave them looking silent.
    if (self->checked_ballot != self->ballot) {
        self->checked_ballot = self->ballot;
        self->last_group_check_ms = actor_now_ms (self->self);
        s_group_check (self);
    }
}

void
partition_become_primary (partition_t *self)
{
    partition_set_role (self, ROLE_PRIMARY);
    self->serving = false;
    self->term = self->ballot;          //  reconciliation may change our log: a new term
    //  Reconciliation: what lies past a hole was never acknowledged (a
    //  commit needs every decree below it); the rest is prepared again
    //  under our ballot, so a member that holds an older primary's version
    //  of a decree takes ours.
    plist_truncate (self->plist, plist_contiguous (self->plist));
    plist_restamp (self->plist, self->ballot);
    uint64_t committed = plist_committed (self->plist), last = plist_last (self->plist);
    self->uncommitted_bytes = 0;
    for (uint64_t d = committed + 1; d <= last; d++) {
        plist_entry_t *entry = plist_get (self->plist, d);
        self->uncommitted_bytes += (int64_t) entry->len;
        if (partition_log (self, self->ballot, d, entry->bytes, entry->len, false))
            return;
    }
    log_notice ("%s: primary of ballot %" PRIu64 ": reconciling decrees %" PRIu64 "..%" PRIu64,
                actor_name (self->self), self->ballot, committed + 1, last + 1);
    //  An empty mutation of our own: once it commits, everything before it
    //  has, and we serve.
    if (s_append_empty (self))
        return;
    self->serve_from = plist_last (self->plist);
    partition_primary_members (self);
}

//  ---------------------------------------------------------------------------
//  The tick: resends, silent members, group checks, empty writes

void
partition_primary_checked (partition_t *self, const partition_checked_t *checked)
{
    peer_t *peer = s_peer_find (self, checked->node);
    if (peer && self->role == ROLE_PRIMARY)
        peer->last_ok_ms = actor_now_ms (self->self);
}

//  The checks go through the node's actor "checks", which sends those of
//  all its primaries for one server together (see groupcheck.h).
static void
s_group_check (partition_t *self)
{
    uint64_t committed = plist_committed (self->plist);
    for (size_t i = 0; self->checks && i < self->npeers; i++) {
        partition_group_check_t *body;
        msg_t *msg = msg_new_local (&partition_kind_group_check, sizeof *body, (void **) &body);
        if (!msg)
            return;
        snprintf (body->node, sizeof body->node, "%s", self->peers [i]->node);
        Pg__GroupCheckRequest *check = &body->check;
        pg__group_check_request__init (check);
        check->app_id = self->app_id;
        check->partition_index = self->partition;
        check->ballot = self->ballot;
        check->term = self->term;
        check->last_committed = committed;
        check->committed_ballot = plist_ballot (self->plist, committed);
        actor_send (self->self, self->checks, &msg);
    }
}

void
partition_primary_tick (partition_t *self)
{
    int64_t now = actor_now_ms (self->self);
    if (self->untracked)
        partition_primary_members (self);
    //  A member that answers nothing is silent past MISSED_CHECKS checks
    //  (at least the prepare timeout).
    int64_t quiet_limit = MISSED_CHECKS * self->limits.group_check_ms;
    if (quiet_limit < self->limits.prepare_timeout_ms)
        quiet_limit = self->limits.prepare_timeout_ms;
    for (size_t i = 0; i < self->npeers;) {
        peer_t *peer = self->peers [i];
        //  Silent: no answer, or answers that acknowledge nothing new while
        //  prepares wait (a peer that replies but cannot take them).
        int64_t quiet = now - peer->last_ok_ms;
        if (peer->acked >= peer->sent)
            peer->waiting_since_ms = 0; //  resent from what it acked: nothing waits
        int64_t held = peer->waiting_since_ms ? now - peer->waiting_since_ms : 0;
        int64_t silent = held > quiet ? held : quiet;
        //  A counting learner holds commits back like a member: silent
        //  that long, it is dropped (it is no member meta could remove),
        //  unless we asked meta to upgrade it and meta did not say no: it
        //  may be a member already, and a member must hold every commit.
        int64_t limit = peer->counts ? self->limits.prepare_timeout_ms
                                     : LEARNER_TIMEOUT_FACTOR * self->limits.prepare_timeout_ms;
        bool upgrading = peer->asked == PG__CONFIG_TYPE__CT_UPGRADE_TO_SECONDARY
                      && !peer->upgrade_refused;
        if (peer->learner && silent > limit && !upgrading) {
            log_warning ("%s: learner %s silent for %" PRId64 " ms: dropped",
                         actor_name (self->self), peer->node, silent);
            s_peer_remove (self, peer);
            partition_report (self);
            partition_primary_advance (self);
            continue;
        }
        if (!peer->learner && (held > self->limits.prepare_timeout_ms || quiet > quiet_limit))
            s_ask_meta (self, peer, PG__CONFIG_TYPE__CT_REMOVE);
        if (peer->stalled) {
            //  Resend from what it acked, or from our commit point: below
            //  that it holds everything (a commit needed it), and if not
            //  it says which decree it misses.
            peer->stalled = false;
            if (peer->counts) {
                uint64_t committed = plist_committed (self->plist);
                peer->sent = peer->acked > committed ? peer->acked : committed;
            }
            s_pump (self, peer);
        }
        s_maybe_upgrade (self, peer);
        i++;
    }
    if (now - self->last_group_check_ms >= self->limits.group_check_ms) {
        self->last_group_check_ms = now;
        s_group_check (self);
    }
    if (self->limits.empty_write_ms && self->serving && self->ballot <= self->led_ballot
    &&  now - self->last_prepare_ms >= self->limits.empty_write_ms
    &&  (!self->open || !self->open->nops)
    &&  plist_last (self->plist) == plist_committed (self->plist))
        s_append_empty (self);
}

bool
partition_primary_busy (partition_t *self)
{
    if (!self->serving || self->untracked || plist_last (self->plist) != plist_committed (self->plist)
    ||  (self->open && self->open->nops))
        return true;
    for (size_t i = 0; i < self->npeers; i++) {
        peer_t *peer = self->peers [i];
        if (peer->learner || peer->stalled || peer->waiting_since_ms || peer->asked)
            return true;
    }
    return false;
}

//  ---------------------------------------------------------------------------
//  Learners

static void
s_on_add_learner_reply (actor_t *actor, msg_t **reply_p, void *arg)
{
    partition_t *self = actor_state (actor);
    peer_t *peer = s_peer_by_id (self, (uint64_t) (uintptr_t) arg);
    if (peer && peer->learner && msg_status (*reply_p) != PG__STATUS__OK) {
        log_warning ("%s: %s could not start learning: %s %s", actor_name (actor), peer->node,
                     status_name (msg_status (*reply_p)), msg_error (*reply_p));
        s_peer_remove (self, peer);
        partition_report (self);
    }
}

void
partition_on_proposal (partition_t *self, msg_t *request)
{
    Pg__ConfigProposal *req = msg_body (request);
    //  From meta only ("<meta node>/meta").
    const char *meta = self->meta ? actor_name (self->meta) : NULL;
    if (request->from_node && (!meta || strncmp (meta, request->from_node, strlen (request->from_node))
                               || meta [strlen (request->from_node)] != '/')) {
        partition_fail (self, request, PG__STATUS__INVALID_STATE,
                        "%s takes proposals from meta only, not %s", actor_name (self->self),
                        request->from_node);
        return;
    }
    if (self->role != ROLE_PRIMARY || self->state != PARTITION_READY) {
        partition_fail (self, request, PG__STATUS__INVALID_STATE, "%s is not the primary",
                        actor_name (self->self));
        return;
    }
    if (req->ballot != self->ballot) {
        partition_fail (self, request, PG__STATUS__STALE_BALLOT,
                        "proposal for ballot %" PRIu64 "; %s is at %" PRIu64,
                        req->ballot, actor_name (self->self), self->ballot);
        return;
    }
    if (req->type != PG__CONFIG_TYPE__CT_ADD_SECONDARY || !strchr (req->node, ':')) {
        partition_fail (self, request, PG__STATUS__INVALID_ARGUMENT,
                        "a primary takes only ADD_SECONDARY proposals naming a node");
        return;
    }
    if (!strcmp (req->node, self->node) || s_peer_find (self, req->node)) {
        msg_t *reply = msg_new_local (&actor_kind_empty, 0, NULL);
        actor_reply (self->self, request, &reply);
        return;
    }
    peer_t *peer = s_peer_add (self, req->node, true);
    actor_t *stub = peer ? partition_lookup (self, req->node, "stub") : NULL;
    Pg__AddLearnerRequest *add;
    msg_t *msg = stub ? msg_new (&pg__add_learner_request__descriptor, (void **) &add) : NULL;
    if (!msg) {
        if (peer)
            s_peer_remove (self, peer);
        actor_unref (&stub);
        partition_fail (self, request, PG__STATUS__INTERNAL, "cannot add a learner");
        return;
    }
    //  Prepares reach it from the next decree on; learning fills the rest.
    peer->sent = plist_last (self->plist);
    add->app_id = self->app_id;
    add->partition_index = self->partition;
    add->partition_count = self->partition_count;
    add->app_name = msg_strdup (msg, self->app_name);
    add->ballot = self->ballot;
    add->primary = msg_strdup (msg, self->node);
    actor_ask (self->self, stub, &msg, META_TIMEOUT_MS, s_on_add_learner_reply,
               (void *) (uintptr_t) peer->id);
    actor_unref (&stub);
    log_notice ("%s: %s learns from decree %" PRIu64 " on", actor_name (self->self), req->node,
                peer->sent + 1);
    msg_t *reply = msg_new_local (&actor_kind_empty, 0, NULL);
    actor_reply (self->self, request, &reply);
    partition_report (self);
}

static msg_t *
s_learn_reply (partition_t *self, int type, size_t entries)
{
    Pg__LearnReply *body;
    msg_t *reply = msg_new (&pg__learn_reply__descriptor, (void **) &body);
    if (!reply)
        return NULL;
    body->type = type;
    body->ballot = self->ballot;
    body->term = self->term;
    body->last_committed = plist_committed (self->plist);
    if (entries && !(body->entries = msg_alloc (reply, entries * sizeof *body->entries)))
        msg_destroy (&reply);
    return reply;
}

static int
s_add_entry (msg_t *reply, uint64_t decree, uint64_t ballot, const uint8_t *bytes, size_t len)
{
    Pg__LearnReply *body = msg_body (reply);
    Pg__LearnEntry *e = msg_alloc (reply, sizeof *e);
    if (!e)
        return -1;
    pg__learn_entry__init (e);
    e->decree = decree;
    e->ballot = ballot;
    e->mutation.len = len;
    e->mutation.data = len ? msg_memdup (reply, bytes, len) : NULL;
    if (len && !e->mutation.data)
        return -1;
    body->entries [body->n_entries++] = e;
    return 0;
}

//  From the log: the records of decrees from..committed, in log order.
typedef struct {
    uint64_t peer;
    uint64_t from;
    msg_t *request;
} log_learn_t;

static void s_learn_checkpoint (partition_t *self, msg_t **msg_p);

static void
s_on_log_records (actor_t *actor, msg_t **reply_p, void *arg)
{
    partition_t *self = actor_state (actor);
    log_learn_t *ll = arg;
    msg_t *request = ll->request;
    uint64_t from = ll->from;
    free (ll);
    if (msg_status (*reply_p) == PG__STATUS__SHUTDOWN || self->role != ROLE_PRIMARY) {
        partition_fail (self, request, PG__STATUS__INVALID_STATE, "no longer the primary");
        msg_destroy (&request);
        return;
    }
    if (!msg_is (*reply_p, &logwriter_kind_records) || msg_status (*reply_p) != PG__STATUS__OK) {
        s_learn_checkpoint (self, &request);     //  the log let go meanwhile
        msg_destroy (&request);
        return;
    }
    logwriter_records_t *chunk = msg_body (*reply_p);
    uint64_t committed = plist_committed (self->plist);
    msg_t *reply = s_learn_reply (self, PG__LEARN_TYPE__LEARN_MUTATIONS, chunk->count);
    size_t taken = 0;
    for (size_t i = 0; reply && i < chunk->count; i++) {
        mlog_record_t *r = &chunk->records [i];
        if (r->decree < from || r->decree > committed)
            continue;
        if (s_add_entry (reply, r->decree, r->ballot, r->payload, r->payload_len))
            msg_destroy (&reply);
        else
            taken++;
    }
    if (!reply) {
        partition_fail (self, request, PG__STATUS__INTERNAL, "out of memory");
        msg_destroy (&request);
        return;
    }
    if (!taken) {
        msg_destroy (&reply);
        s_learn_checkpoint (self, &request);
    }
    else
        actor_reply (self->self, request, &reply);
    msg_destroy (&request);
}

//  Makes (or reuses) a checkpoint of RocksDB for learners and answers
//  with its files.
static void
s_learn_checkpoint (partition_t *self, msg_t **msg_p)
{
    msg_t *request = *msg_p;
    char path [4400];
    if (!self->checkpoint_decree || self->checkpoint_decree + 1 < plist_first (self->plist)) {
        if (partition_offload (self, msg_p))
            return;                     //  a checkpoint flushes: not on the I/O thread
        //  The last one is older than what memory covers: make a new one.
        char name [128];
        snprintf (name, sizeof name, "%u.%u.%" PRIu64, self->app_id, self->partition, self->applied);
        snprintf (path, sizeof path, "%s/%s", self->checkpoint_dir, name);
        if (*self->checkpoint_name && strcmp (self->checkpoint_name, name)) {
            char old [4400];
            snprintf (old, sizeof old, "%s/%s", self->checkpoint_dir, self->checkpoint_name);
            rmtree (old);
        }
        struct stat st;
        if (stat (path, &st) != 0 && db_checkpoint (self->db, path)) {
            partition_fail (self, request, PG__STATUS__IO_ERROR, "cannot make a checkpoint");
            return;
        }
        self->checkpoint_decree = self->applied;
        snprintf (self->checkpoint_name, sizeof self->checkpoint_name, "%s", name);
        log_notice ("%s: checkpoint %s at decree %" PRIu64 " for learners",
                    actor_name (self->self), name, self->applied);
    }
    snprintf (path, sizeof path, "%s/%s", self->checkpoint_dir, self->checkpoint_name);
    DIR *dir = opendir (path);
    msg_t *reply = dir ? s_learn_reply (self, PG__LEARN_TYPE__LEARN_CHECKPOINT, 0) : NULL;
    if (!reply) {
        if (dir)
            closedir (dir);
        self->checkpoint_decree = 0;
        partition_fail (self, request, PG__STATUS__IO_ERROR, "cannot read checkpoint %s", path);
        return;
    }
    Pg__LearnReply *body = msg_body (reply);
    body->checkpoint = msg_strdup (reply, self->checkpoint_name);
    body->checkpoint_decree = self->checkpoint_decree;
    size_t capacity = 0;
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        char file [4900];
        struct stat st;
        snprintf (file, sizeof file, "%s/%s", path, entry->d_name);
        if (entry->d_name [0] == '.' || stat (file, &st) || !S_ISREG (st.st_mode))
            continue;
        if (body->n_files == capacity) {
            capacity = capacity ? capacity * 2 : 16;
            Pg__CheckpointFile **grown = msg_alloc (reply, capacity * sizeof *grown);
            if (!grown)
                break;
            if (body->n_files)
                memcpy (grown, body->files, body->n_files * sizeof *grown);
            body->files = grown;
        }
        Pg__CheckpointFile *f = msg_alloc (reply, sizeof *f);
        if (!f)
            break;
        pg__checkpoint_file__init (f);
        f->name = msg_strdup (reply, entry->d_name);
        f->size = (uint64_t) st.st_size;
        body->files [body->n_files++] = f;
    }
    closedir (dir);
    actor_reply (self->self, request, &reply);
}

//  A checkpoint for a backup: only the serving primary makes one, so a
//  backup holds what clients were told is written, at the decree it says.
void
partition_on_backup (partition_t *self, msg_t **msg_p)
{
    msg_t *request = *msg_p;
    const partition_backup_t *ask = msg_body (request);
    partition_backup_t *answer;
    msg_t *reply = msg_new_local (&partition_kind_backup, sizeof *answer, (void **) &answer);
    if (!reply)
        return;
    if (self->state != PARTITION_READY || self->role != ROLE_PRIMARY || !self->serving) {
        answer->status = PG__STATUS__INVALID_STATE;
        snprintf (answer->error, sizeof answer->error, "not the serving primary");
    }
    else {
        if (partition_offload (self, msg_p)) {
            msg_destroy (&reply);
            return;                     //  a checkpoint flushes: not on the I/O thread
        }
        if (db_checkpoint (self->db, ask->path)) {
            answer->status = PG__STATUS__IO_ERROR;
            snprintf (answer->error, sizeof answer->error, "cannot make a checkpoint");
        }
        else {
            answer->decree = self->applied;
            log_notice ("%s: checkpoint at decree %" PRIu64 " for a backup",
                        actor_name (self->self), self->applied);
        }
    }
    actor_reply (self->self, request, &reply);
}

void
partition_on_learn (partition_t *self, msg_t **msg_p)
{
    msg_t *request = *msg_p;
    Pg__LearnRequest *req = msg_body (request);
    if (self->role != ROLE_PRIMARY || !self->serving) {
        partition_fail (self, request, PG__STATUS__INVALID_STATE, "%s is not a serving primary",
                        actor_name (self->self));
        return;
    }
    if (req->ballot > self->ballot) {
        partition_fail (self, request, PG__STATUS__STALE_BALLOT,
                        "the learner has ballot %" PRIu64 ", we %" PRIu64, req->ballot, self->ballot);
        return;
    }
    peer_t *peer = s_peer_find (self, req->learner);
    if (!peer || !peer->learner || msg_from_other (request, req->learner)) {
        partition_fail (self, request, PG__STATUS__INVALID_STATE, "%s is not learning from %s",
                        req->learner, actor_name (self->self));
        return;
    }
    peer->last_ok_ms = actor_now_ms (self->self);
    uint64_t from = req->from_decree;
    uint64_t last = plist_last (self->plist);
    if ((req->term && req->term != self->term) || from > last + 1) {
        //  What it holds is our log as it was in another of our terms, or
        //  decrees we never gave out: it drops it and learns again from its
        //  commit point, and what it acknowledged counts no more.
        peer->counts = false;
        peer->acked = 0;
        peer->sent = plist_last (self->plist);
        msg_t *reply = s_learn_reply (self, PG__LEARN_TYPE__LEARN_RESTART, 0);
        actor_reply (self->self, request, &reply);
        return;
    }
    //  Everything up to its durable decree is ours (all a learner holds in
    //  our term came from us), durably: as good as a prepare's ack.
    if (req->durable_decree > peer->acked && req->durable_decree <= last)
        peer->acked = req->durable_decree;
    int source = learn_source (from, last, plist_first (self->plist), self->flushed + 1);
    if (source == LEARN_FROM_DONE) {
        if (!peer->counts)
            log_info ("%s: learner %s holds every decree up to %" PRIu64 "; it counts from now",
                      actor_name (self->self), peer->node, last);
        peer->counts = true;
        msg_t *reply = s_learn_reply (self, PG__LEARN_TYPE__LEARN_DONE, 0);
        actor_reply (self->self, request, &reply);
        s_maybe_upgrade (self, peer);
        partition_primary_advance (self);
        return;
    }
    if (source == LEARN_FROM_MEMORY) {
        size_t count = 0, bytes = 0;
        for (uint64_t d = from; d <= last && count < MAX_LEARN_ENTRIES
                             && bytes < (size_t) self->limits.learn_chunk_bytes; d++) {
            plist_entry_t *e = plist_get (self->plist, d);
            bytes += e ? e->len : 0;
            count++;
        }
        msg_t *reply = s_learn_reply (self, PG__LEARN_TYPE__LEARN_MUTATIONS, count);
        for (uint64_t d = from; reply && d < from + count; d++) {
            plist_entry_t *e = plist_get (self->plist, d);
            if (e && s_add_entry (reply, d, e->ballot, e->bytes, e->len))
                msg_destroy (&reply);
        }
        if (!reply)
            partition_fail (self, request, PG__STATUS__INTERNAL, "out of memory");
        else
            actor_reply (self->self, request, &reply);
        return;
    }
    if (source == LEARN_FROM_LOG) {
        log_learn_t *ll = calloc (1, sizeof *ll);
        logwriter_replay_t *replay;
        msg_t *msg = ll ? msg_new_local (&logwriter_kind_replay, sizeof *replay, (void **) &replay)
                        : NULL;
        if (msg) {
            replay->app_id = self->app_id;
            replay->partition = self->partition;
            replay->from_decree = from - 1;
            replay->max_bytes = (size_t) self->limits.learn_chunk_bytes;
            replay->latest = true;
            replay->to_decree = plist_committed (self->plist);
            ll->from = from;
            ll->request = request;
            if (actor_ask (self->self, self->log, &msg, META_TIMEOUT_MS, s_on_log_records, ll)
                == PG__STATUS__OK) {
                *msg_p = NULL;          //  answered when the log replies
                return;
            }
        }
        free (ll);
        msg_destroy (&msg);
    }
    s_learn_checkpoint (self, msg_p);
}
