/*  partition_secondary: PacificA as a member (and a learner) receiving
    prepares and group checks.

    A secondary takes decree d from the primary of ballot b only if what
    it holds just below d is what that primary holds there: d - 1 is
    committed here, or held here (with no hole below it) under the ballot
    the primary names in prev_ballot. Every entry in any log was made by
    the primary of its ballot on top of that primary's log, so an entry of
    the same (decree, ballot) in two logs means the same history up to
    it (Raft's log matching); taking d then leaves our log equal to the
    primary's up to d. `verified` is how far that is known to hold for the
    current primary: acknowledgements ("durable up to D") and commits
    never go past it, so the primary never counts, and we never apply,
    an entry of another history that sits at the same decree. A prepare
    whose predecessor does not match is not taken; the reply says which
    decree to send again from (verified + 1).

    A learner keeps prepares beyond a hole (learning fills it): all it
    holds comes from its primary in one term of its primary (entries of
    another term go: partition_learner_term), by prepares or learning, so
    it counts as verified as far as it is contiguous. Answers come once our log
    holds the decrees durably, cumulative, so one lost answer costs
    nothing. What the primary says is committed is applied as far as it
    is verified and durable here.
*/
#include "replica/partition_impl.h"
#include "runtime/log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

uint64_t
partition_verified (partition_t *self)
{
    if (self->role == ROLE_LEARNER)
        return plist_contiguous (self->plist);
    uint64_t committed = plist_committed (self->plist);
    return self->verified > committed ? self->verified : committed;
}

//  How far we acknowledge: durable, and the primary's history.
static uint64_t
s_acked (partition_t *self)
{
    uint64_t durable = plist_durable (self->plist), verified = partition_verified (self);
    return durable < verified ? durable : verified;
}

//  Applies what the primary said is committed, as far as we hold it.
static void
s_apply (partition_t *self)
{
    uint64_t verified = partition_verified (self);
    partition_commit (self, self->primary_committed < verified ? self->primary_committed
                                                               : verified);
}

static msg_t *
s_prepare_reply (partition_t *self, uint64_t expected)
{
    Pg__PrepareReply *body;
    msg_t *reply = msg_new (&pg__prepare_reply__descriptor, (void **) &body);
    if (reply) {
        body->ballot = self->ballot;
        body->durable = s_acked (self);
        body->expected = expected;
    }
    return reply;
}

static void
s_answer (partition_t *self, msg_t *request, uint64_t expected)
{
    msg_t *reply = s_prepare_reply (self, expected);
    if (reply)
        actor_reply (self->self, request, &reply);
}

void
partition_drop_held (partition_t *self, int status, const char *why)
{
    waiter_t *w;
    while ((w = partition_ring_head (&self->held))) {
        actor_reply_error (self->self, w->request, status, "%s", why);
        msg_destroy (&w->request);
        partition_ring_pop (&self->held);
    }
}

void
partition_secondary_rebase (partition_t *self)
{
    waiter_t *w;
    while ((w = partition_ring_head (&self->held))) {
        s_answer (self, w->request, partition_verified (self) + 1);
        msg_destroy (&w->request);
        partition_ring_pop (&self->held);
    }
}

void
partition_secondary_advance (partition_t *self)
{
    uint64_t acked = s_acked (self);
    waiter_t *w;
    while ((w = partition_ring_head (&self->held)) && w->decree <= acked) {
        s_answer (self, w->request, 0);
        msg_destroy (&w->request);
        partition_ring_pop (&self->held);
    }
    s_apply (self);
}

//  Checks the ballot of a message from the primary. 0 if we follow it,
//  -1 if refused (replied).
static int
s_check_ballot (partition_t *self, msg_t *request, const char *sender, uint64_t ballot)
{
    //  Only the primary meta named sends these (a client, or a server that
    //  is not it, could otherwise make us follow any ballot it likes).
    if (sender && strcmp (sender, self->config.primary)) {
        partition_fail (self, request, PG__STATUS__INVALID_STATE,
                        "%s follows the primary %s, not %s", actor_name (self->self),
                        *self->config.primary ? self->config.primary : "(none)", sender);
        return -1;
    }
    if (self->state != PARTITION_READY) {
        partition_fail (self, request, PG__STATUS__INVALID_STATE, "%s is %s",
                        actor_name (self->self),
                        self->state == PARTITION_OPENING ? "opening" : "failed");
        return -1;
    }
    if (ballot < self->ballot) {
        partition_fail (self, request, PG__STATUS__STALE_BALLOT,
                        "ballot %" PRIu64 " is older than %s's %" PRIu64, ballot,
                        actor_name (self->self), self->ballot);
        return -1;
    }
    if (self->role != ROLE_SECONDARY && self->role != ROLE_LEARNER) {
        partition_fail (self, request, PG__STATUS__INVALID_STATE,
                        "%s is not a secondary or learner here (ballot %" PRIu64 ")",
                        actor_name (self->self), self->ballot);
        return -1;
    }
    if (ballot > self->ballot) {
        //  The primary follows a newer configuration than we have heard of;
        //  meta made it, and it keeps us in our role (or the primary would
        //  not send to us). Meta's sync brings the rest.
        partition_follow (self, ballot);
    }
    return 0;
}

//  Whether decree's predecessor here is the primary's (see the top).
static bool
s_predecessor_matches (partition_t *self, uint64_t decree, uint64_t prev_ballot)
{
    uint64_t prev = decree - 1;
    if (prev <= partition_verified (self))
        return true;
    plist_entry_t *entry = plist_get (self->plist, prev);
    return entry && prev_ballot && entry->ballot == prev_ballot
        && prev <= plist_contiguous (self->plist);
}

void
partition_on_prepare (partition_t *self, msg_t **msg_p)
{
    msg_t *request = *msg_p;
    Pg__PrepareRequest *req = msg_body (request);
    if (s_check_ballot (self, request, request->from_node, req->ballot))
        return;
    partition_learner_term (self, req->term);
    if (req->decree == 0
    ||  mutation_walk (req->mutation.data, req->mutation.len, NULL, NULL) < 0) {
        partition_fail (self, request, PG__STATUS__BAD_MESSAGE,
                        "prepare of decree %" PRIu64 ": the mutation does not decode", req->decree);
        return;
    }
    bool secondary = self->role == ROLE_SECONDARY;
    if (secondary && req->decree > plist_committed (self->plist)
    &&  !s_predecessor_matches (self, req->decree, req->prev_ballot)) {
        s_answer (self, request, partition_verified (self) + 1);
        return;
    }
    int rc = plist_put (self->plist, req->ballot, req->decree, req->mutation.data, req->mutation.len);
    if (rc < 0) {
        partition_fail (self, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    if (rc == PLIST_ADDED
    &&  partition_log (self, req->ballot, req->decree, req->mutation.data, req->mutation.len, false)) {
        partition_fail (self, request, PG__STATUS__IO_ERROR, "the replica's log failed");
        return;
    }
    if (req->last_committed > self->primary_committed)
        self->primary_committed = req->last_committed;
    if (rc == PLIST_OUTDATED && req->decree > req->last_committed) {
        partition_fail (self, request, PG__STATUS__STALE_BALLOT,
                        "decree %" PRIu64 " holds a newer ballot's entry", req->decree);
        return;
    }
    //  Taken (or a newer primary's copy of the same committed entry, which
    //  a commit makes final): our log is the primary's up to here.
    if (secondary && req->decree > self->verified)
        self->verified = req->decree;
    if (rc == PLIST_COMMITTED || req->decree <= s_acked (self))
        s_answer (self, request, 0);
    else {
        waiter_t w = { req->decree, request, NULL };
        if (partition_ring_push (&self->held, &w)) {
            partition_fail (self, request, PG__STATUS__INTERNAL, "out of memory");
            return;
        }
        *msg_p = NULL;
    }
    s_apply (self);
}

void
partition_on_group_check (partition_t *self, msg_t *request)
{
    Pg__GroupCheckRequest *req = msg_body (request);
    //  From the primary's server, or from our "checks", which sets `primary`
    //  to the server that sent the batch it came in.
    const char *sender = request->from_node ? request->from_node
                       : *req->primary ? req->primary : NULL;
    if (s_check_ballot (self, request, sender, req->ballot))
        return;
    partition_learner_term (self, req->term);
    if (req->last_committed > self->primary_committed)
        self->primary_committed = req->last_committed;
    //  The primary's commit point with its ballot is a predecessor check
    //  too: an idle partition catches up without a prepare.
    if (self->role == ROLE_SECONDARY && req->last_committed > partition_verified (self)
    &&  s_predecessor_matches (self, req->last_committed + 1, req->committed_ballot))
        self->verified = req->last_committed;
    s_apply (self);
    Pg__GroupCheckReply *body;
    msg_t *reply = msg_new (&pg__group_check_reply__descriptor, (void **) &body);
    if (!reply)
        return;
    body->ballot = self->ballot;
    body->role = self->role;
    body->last_committed = self->applied;
    body->last_prepared = plist_contiguous (self->plist);
    actor_reply (self->self, request, &reply);
}
