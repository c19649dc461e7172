/*  groupcheck: see groupcheck.h. */
#include "replica/groupcheck.h"
#include "replica/partition.h"
#include "runtime/log.h"
#include "runtime/strmap.h"
#include "replica.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  How long a batch (each way) may take: well under the silence after
//  which a primary reports a member (replica/prepare_timeout_ms). A
//  replica gets a shorter time to answer its check: one that is busy (on
//  a pinned thread, opening or learning) must not hold back the answers
//  of the others, which would make them all look silent.
#define BATCH_TIMEOUT_MS 1500
#define REPLICA_TIMEOUT_MS 800

typedef struct {
    partition_group_check_t *checks;
    size_t count;
    size_t capacity;
} queue_t;

static const msg_kind_t s_kind_drain = { "checks.drain" };

typedef struct {
    strmap_t *queues;                   //  node -> queue_t
    bool drain_pending;
} groupcheck_t;

//  The replica r.<app>.<partition> here, or NULL. A reference.
static actor_t *
s_replica (actor_t *actor, uint64_t id)
{
    char name [64];
    partition_name ((uint32_t) (id >> 32), (uint32_t) id, name, sizeof name);
    return rt_lookup (actor_rt (actor), name);
}

static void
s_destroy (groupcheck_t *self)
{
    if (!self)
        return;
    size_t cursor = 0;
    const char *node;
    void *value;
    while (self->queues && strmap_next (self->queues, &cursor, &node, &value) == 0) {
        free (((queue_t *) value)->checks);
        free (value);
    }
    strmap_destroy (&self->queues);
    free (self);
}

//  Queues a check for its node, sent at the next drain. Out of memory, the
//  check is lost, as one lost on the network.
static void
s_queue (actor_t *actor, groupcheck_t *self, const partition_group_check_t *check)
{
    queue_t *queue = strmap_get (self->queues, check->node);
    if (!queue) {
        if (!(queue = calloc (1, sizeof *queue)) || strmap_put (self->queues, check->node, queue)) {
            free (queue);
            return;
        }
    }
    if (queue->count == queue->capacity) {
        size_t capacity = queue->capacity ? queue->capacity * 2 : 64;
        partition_group_check_t *grown = realloc (queue->checks, capacity * sizeof *grown);
        if (!grown)
            return;
        queue->checks = grown;
        queue->capacity = capacity;
    }
    queue->checks [queue->count++] = *check;
    actor_wake (actor, &s_kind_drain, GROUPCHECK_BATCH_MS, &self->drain_pending);
}

//  A failed batch is silence, as lost checks would be.
static void
s_on_batch_reply (actor_t *actor, msg_t **reply_p, void *arg)
{
    (void) arg;
    msg_t *reply = *reply_p;
    Pg__GroupCheckBatchReply *body = msg_body (reply);
    if (msg_status (reply) != PG__STATUS__OK || !msg_is (reply, &pg__group_check_batch_reply__descriptor)
    ||  !reply->from_node || body->n_ids != body->n_statuses)
        return;
    for (size_t i = 0; i < body->n_ids; i++) {
        if (body->statuses [i] != PG__STATUS__OK)
            continue;
        actor_t *primary = s_replica (actor, body->ids [i]);
        partition_checked_t *checked;
        msg_t *msg = primary ? msg_new_local (&partition_kind_checked, sizeof *checked,
                                              (void **) &checked) : NULL;
        if (msg) {
            snprintf (checked->node, sizeof checked->node, "%s", reply->from_node);
            actor_send (actor, primary, &msg);
        }
        actor_unref (&primary);
    }
}

//  The fields a check carries between servers and to the replica (its
//  `primary` is set apart, on the way in).
static void
s_copy_check (Pg__GroupCheckRequest *to, const Pg__GroupCheckRequest *from)
{
    to->app_id = from->app_id;
    to->partition_index = from->partition_index;
    to->ballot = from->ballot;
    to->term = from->term;
    to->last_committed = from->last_committed;
    to->committed_ballot = from->committed_ballot;
}

static msg_t *
s_batch (const queue_t *queue)
{
    Pg__GroupCheckBatch *batch;
    msg_t *msg = msg_new_sized (&pg__group_check_batch__descriptor,
                                queue->count * (sizeof (Pg__GroupCheckRequest) + sizeof (void *)),
                                (void **) &batch);
    if (!msg || !(batch->checks = msg_alloc (msg, queue->count * sizeof *batch->checks))) {
        msg_destroy (&msg);
        return NULL;
    }
    for (size_t i = 0; i < queue->count; i++) {
        Pg__GroupCheckRequest *req = msg_alloc (msg, sizeof *req);
        if (!req) {
            msg_destroy (&msg);
            return NULL;
        }
        pg__group_check_request__init (req);
        s_copy_check (req, &queue->checks [i].check);
        batch->checks [batch->n_checks++] = req;
    }
    return msg;
}

static void
s_drain (actor_t *actor, groupcheck_t *self)
{
    size_t cursor = 0;
    const char *node;
    void *value;
    while (strmap_next (self->queues, &cursor, &node, &value) == 0) {
        queue_t *queue = value;
        if (!queue->count)
            continue;
        msg_t *msg = s_batch (queue);
        queue->count = 0;
        char address [PARTITION_ADDRESS + 16];
        snprintf (address, sizeof address, "%s/checks", node);
        actor_t *peer = msg ? rt_lookup (actor_rt (actor), address) : NULL;
        if (peer)
            actor_ask (actor, peer, &msg, BATCH_TIMEOUT_MS, s_on_batch_reply, NULL);
        msg_destroy (&msg);
        actor_unref (&peer);
    }
}

//  ---------------------------------------------------------------------------
//  The peer's side

typedef struct gather_t gather_t;

typedef struct {
    gather_t *gather;
    size_t index;
} slot_t;

struct gather_t {
    msg_t *request;
    msg_t *reply;
    Pg__GroupCheckBatchReply *body;
    slot_t *slots;
    size_t pending;
};

static void
s_gather_end (actor_t *actor, gather_t *gather)
{
    actor_reply (actor, gather->request, &gather->reply);
    msg_destroy (&gather->request);
    free (gather->slots);
    free (gather);
}

static void
s_on_answer (actor_t *actor, msg_t **reply_p, void *arg)
{
    slot_t *slot = arg;
    gather_t *gather = slot->gather;
    gather->body->statuses [slot->index] = (uint32_t) msg_status (*reply_p);
    if (--gather->pending == 0)
        s_gather_end (actor, gather);
}

static void
s_answer (actor_t *actor, msg_t **request_p)
{
    msg_t *request = *request_p;
    Pg__GroupCheckBatch *batch = msg_body (request);
    size_t n = batch->n_checks;
    //  The sender is every check's primary, as the replicas check: one
    //  that does not say who it is could pass for anyone.
    if (!request->from_node || !*request->from_node) {
        actor_reply_error (actor, request, PG__STATUS__INVALID_ARGUMENT,
                           "a group check batch comes from a replica server");
        return;
    }
    gather_t *gather = calloc (1, sizeof *gather);
    Pg__GroupCheckBatchReply *body = NULL;
    msg_t *reply = msg_new_sized (&pg__group_check_batch_reply__descriptor,
                                  n * (sizeof (uint64_t) + sizeof (uint32_t)), (void **) &body);
    if (!gather || !reply || !(gather->slots = calloc (n + 1, sizeof *gather->slots))
    ||  (n && (!(body->ids = msg_alloc (reply, n * sizeof *body->ids))
               || !(body->statuses = msg_alloc (reply, n * sizeof *body->statuses))))) {
        free (gather ? gather->slots : NULL);
        free (gather);
        msg_destroy (&reply);
        actor_reply_error (actor, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    *request_p = NULL;
    gather->request = request;
    gather->reply = reply;
    gather->body = body;
    body->n_ids = body->n_statuses = n;
    gather->pending = 1;                //  held until every check is out
    for (size_t i = 0; i < n; i++) {
        const Pg__GroupCheckRequest *check = batch->checks [i];
        uint64_t id = (uint64_t) check->app_id << 32 | check->partition_index;
        body->ids [i] = id;
        body->statuses [i] = PG__STATUS__NO_ACTOR;
        actor_t *replica = s_replica (actor, id);
        Pg__GroupCheckRequest *req;
        msg_t *msg = replica ? msg_new (&pg__group_check_request__descriptor, (void **) &req) : NULL;
        if (!msg)
            continue;
        s_copy_check (req, check);
        //  The replica takes it only if this is its primary.
        req->primary = msg_strdup (msg, request->from_node);
        gather->slots [i] = (slot_t) { gather, i };
        if (req->primary
        &&  actor_ask (actor, replica, &msg, REPLICA_TIMEOUT_MS, s_on_answer, &gather->slots [i])
            == PG__STATUS__OK)
            gather->pending++;
        msg_destroy (&msg);
        actor_unref (&replica);
    }
    if (--gather->pending == 0)
        s_gather_end (actor, gather);
}

//  ---------------------------------------------------------------------------

static int
s_init (actor_t *actor, void *args)
{
    (void) args;
    groupcheck_t *self = calloc (1, sizeof *self);
    if (!self || !(self->queues = strmap_new ())) {
        free (self);
        return -1;
    }
    actor_set_state (actor, self);
    return 0;
}

static void
s_receive (actor_t *actor, msg_t **msg_p)
{
    groupcheck_t *self = actor_state (actor);
    msg_t *msg = *msg_p;
    if (msg_is (msg, &partition_kind_group_check))
        s_queue (actor, self, msg_body (msg));
    else
    if (msg_is (msg, &s_kind_drain)) {
        self->drain_pending = false;
        s_drain (actor, self);
    }
    else
    if (msg_is (msg, &pg__group_check_batch__descriptor) && msg_is_request (msg))
        s_answer (actor, msg_p);
    else
    if (msg_is_request (msg))
        actor_reply_error (actor, msg, PG__STATUS__INVALID_ARGUMENT, "checks does not handle %s",
                           msg_kind_name (msg));
}

static void
s_fini (actor_t *actor)
{
    s_destroy (actor_state (actor));
    actor_set_state (actor, NULL);
}

static const actor_ops_t s_ops = { "groupcheck", s_init, s_receive, s_fini };

actor_t *
groupcheck_spawn (rt_t *rt)
{
    //  Every primary here sends to it: no bound below the log's.
    actor_opts_t opts = { .near_io = true, .mailbox_limit = 1000000 };
    return actor_spawn (rt, "checks", &s_ops, NULL, &opts);
}
