/*  partition_secondary: PacificA as a member (and a learner) receiving
    prepares and group checks.

    A prepare is answered once our log holds it durably, with how far the
    log holds every decree (cumulative), so one lost answer costs nothing.
    A secondary takes decrees in order and says which one it misses; a
    learner keeps prepares beyond a hole, since learning fills it. What
    the primary says is committed is applied as far as our log holds it.
*/
#include "replica/partition_impl.h"
#include "runtime/log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static msg_t *
s_prepare_reply (partition_t *self, uint64_t expected)
{
    Pg__PrepareReply *body;
    msg_t *reply = msg_new (&pg__prepare_reply__descriptor, (void **) &body);
    if (reply) {
        body->ballot = self->ballot;
        body->durable = plist_durable (self->plist);
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
partition_secondary_advance (partition_t *self)
{
    uint64_t durable = plist_durable (self->plist);
    waiter_t *w;
    while ((w = partition_ring_head (&self->held)) && w->decree <= durable) {
        s_answer (self, w->request, 0);
        msg_destroy (&w->request);
        partition_ring_pop (&self->held);
    }
    partition_commit (self, self->primary_committed);
}

//  Checks the ballot of a message from the primary. 0 if we follow it,
//  -1 if refused (replied).
static int
s_check_ballot (partition_t *self, msg_t *request, uint64_t ballot)
{
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
        self->ballot = self->config.ballot = ballot;
    }
    return 0;
}

void
partition_on_prepare (partition_t *self, msg_t **msg_p)
{
    msg_t *request = *msg_p;
    Pg__PrepareRequest *req = msg_body (request);
    if (s_check_ballot (self, request, req->ballot))
        return;
    if (req->decree == 0
    ||  mutation_walk (req->mutation.data, req->mutation.len, NULL, NULL) < 0) {
        partition_fail (self, request, PG__STATUS__BAD_MESSAGE,
                        "prepare of decree %" PRIu64 ": the mutation does not decode", req->decree);
        return;
    }
    uint64_t contiguous = plist_contiguous (self->plist);
    if (self->role == ROLE_SECONDARY && req->decree > contiguous + 1) {
        s_answer (self, request, contiguous + 1);
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
    if (rc == PLIST_OUTDATED) {
        partition_fail (self, request, PG__STATUS__STALE_BALLOT,
                        "decree %" PRIu64 " holds a newer ballot's entry", req->decree);
        return;
    }
    if (rc == PLIST_COMMITTED || req->decree <= plist_durable (self->plist))
        s_answer (self, request, 0);
    else {
        waiter_t w = { req->decree, request, NULL };
        if (partition_ring_push (&self->held, &w)) {
            partition_fail (self, request, PG__STATUS__INTERNAL, "out of memory");
            return;
        }
        *msg_p = NULL;
    }
    partition_commit (self, self->primary_committed);
}

void
partition_on_group_check (partition_t *self, msg_t *request)
{
    Pg__GroupCheckRequest *req = msg_body (request);
    if (s_check_ballot (self, request, req->ballot))
        return;
    if (req->last_committed > self->primary_committed)
        self->primary_committed = req->last_committed;
    partition_commit (self, self->primary_committed);
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
