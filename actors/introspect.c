/*  introspect: see introspect.h. */
#include "actors/introspect.h"
#include "runtime/log.h"
#include "rt.pb-c.h"

#include <string.h>

typedef struct {
    msg_t *reply;
    Pg__ActorsReply *body;
    size_t capacity;
} collect_t;

static void
s_collect (actor_t *actor, void *ctx)
{
    collect_t *c = ctx;
    if (c->body->n_actors == c->capacity)
        return;
    actor_info_t info;
    actor_info (actor, &info);
    Pg__ActorInfo *item = msg_alloc (c->reply, sizeof *item);
    if (!item)
        return;
    pg__actor_info__init (item);
    item->name = msg_strdup (c->reply, info.name);
    item->kind = msg_strdup (c->reply, info.kind ? info.kind : "");
    item->mailbox_depth = info.mailbox_depth > 0 ? (uint64_t) info.mailbox_depth : 0;
    item->received = info.received;
    item->sent = info.sent;
    item->busy_rejects = info.busy_rejects;
    item->pinned = info.pinned;
    item->thread = msg_strdup (c->reply, info.thread);
    if (item->name && item->kind && item->thread)
        c->body->actors [c->body->n_actors++] = item;
}

static void
s_receive (actor_t *self, msg_t **msg_p)
{
    msg_t *msg = *msg_p;
    if (!msg_is (msg, &pg__actors_query__descriptor) || !msg_is_request (msg))
        return;
    rt_t *rt = actor_rt (self);
    collect_t c = { 0 };
    c.reply = msg_new (&pg__actors_reply__descriptor, (void **) &c.body);
    if (!c.reply) {
        actor_reply_error (self, msg, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    //  Room for the actors alive now; ones spawned meanwhile are skipped.
    c.capacity = 4096;
    c.body->actors = msg_alloc (c.reply, c.capacity * sizeof (Pg__ActorInfo *));
    c.body->node = msg_strdup (c.reply, rt_node (rt));
    if (!c.body->actors || !c.body->node) {
        msg_destroy (&c.reply);
        actor_reply_error (self, msg, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    rt_foreach_actor (rt, s_collect, &c);
    rt_stats_t stats;
    rt_stats (rt, &stats);
    c.body->frames_in = stats.frames_in;
    c.body->frames_out = stats.frames_out;
    c.body->dropped_bad = stats.dropped_bad;
    c.body->dropped_no_actor = stats.dropped_no_actor;
    c.body->dropped_too_large = stats.dropped_too_large;
    c.body->dropped_busy = stats.dropped_busy;
    actor_reply (self, msg, &c.reply);
}

static const actor_ops_t s_ops = { "introspect", NULL, s_receive, NULL };

actor_t *
introspect_spawn (rt_t *rt)
{
    return actor_spawn (rt, "node", &s_ops, NULL, NULL);
}
