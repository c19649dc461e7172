/*  actor: see actor.h.

    Life of an actor, and who holds references:
    - actor_spawn: the caller's handle (1) and the registry (1).
    - scheduled: whoever unparks the mailbox takes one for the run queue;
      the worker drops it when it parks the mailbox after a turn. A message
      in the mailbox therefore always has a reference behind it.
    - timers, messages' `from`, and other actors' handles: one each.
    - STOP: fail pending asks (callbacks get SHUTDOWN), fini, mark DEAD,
      leave the registry. Later messages are drained and dropped; requests
      among them get NO_ACTOR. The memory goes with the last reference.

    Mailbox bound: a send finds the depth (mailbox.count) at or over the
    limit and returns BUSY without queueing. Replies, timers and STOP are
    exempt: they answer work the actor itself started, and refusing them
    could deadlock two actors that ask each other.

    Muting slows senders before that (Pony's backpressure): an actor that
    sends to a receiver deeper than half its limit is, after its turn, left
    unscheduled (muted) and recorded on the receiver, which reschedules its
    muted senders once it is below a quarter of its limit. An actor that is
    overloaded itself is never muted: it keeps running and draining, so two
    actors cannot mute each other for good. Threads outside the runtime and
    the transport cannot be muted; they get BUSY at the limit.
*/
#include "runtime/actor_impl.h"
#include "runtime/hash.h"
#include "runtime/log.h"
#include "runtime/rt_impl.h"
#include "runtime/transport.h"

#include <assert.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const msg_kind_t actor_kind_empty = { "rt.empty" };
static const msg_kind_t s_kind_stop = { "rt.stop" };
static const msg_kind_t s_kind_sweep = { "rt.sweep" };

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
} stop_waiter_t;

typedef struct {
    actor_reply_fn *cb;
    void *arg;
} pending_t;

//  --------------------------------------------------------------------------
//  References and lifetime

actor_t *
actor_ref (actor_t *self)
{
    atomic_fetch_add_explicit (&self->refs, 1, memory_order_relaxed);
    return self;
}

static void
s_free (actor_t *self)
{
    if (self->kind == ACTOR_LOCAL) {
        if (self->home)
            sched_unpin (self->home);
        u64map_destroy (&self->pending);
        u64map_destroy (&self->timers);
        dheap_fini (&self->deadlines);
    }
    free (self->name);
    free (self->node);
    free (self->address);
    free (self);
}

void
actor_unref (actor_t **self_p)
{
    actor_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    //  acq_rel: the last owner must see every other owner's writes.
    if (atomic_fetch_sub_explicit (&self->refs, 1, memory_order_acq_rel) == 1)
        s_free (self);
}

static actor_t *
s_alloc (rt_t *rt, int kind)
{
    //  Aligned: the mailbox keeps producers and consumer on separate lines.
    actor_t *self = aligned_alloc (64, (sizeof (actor_t) + 63) & ~(size_t) 63);
    if (!self)
        return NULL;
    memset (self, 0, sizeof *self);
    mpscq_init (&self->mailbox, false);
    atomic_init (&self->refs, 1);
    atomic_init (&self->life, LIFE_ALIVE);
    self->kind = kind;
    self->rt = rt;
    return self;
}

actor_t *
actor_proxy_new (rt_t *rt, const char *node, const char *name)
{
    actor_t *self = s_alloc (rt, ACTOR_REMOTE);
    if (!self)
        return NULL;
    self->node = strdup (node);
    self->name = strdup (name);
    self->address = malloc (strlen (node) + strlen (name) + 2);
    if (!self->node || !self->name || !self->address) {
        s_free (self);
        return NULL;
    }
    sprintf (self->address, "%s/%s", node, name);
    return self;
}

//  --------------------------------------------------------------------------
//  Pushing into a mailbox

int
actor_push (actor_t *self, msg_t *msg, bool bypass)
{
    if (atomic_load_explicit (&self->life, memory_order_acquire) == LIFE_DEAD)
        return PG__STATUS__NO_ACTOR;
    int64_t depth = atomic_fetch_add_explicit (&self->mailbox.count, 1,
                                               memory_order_relaxed);
    if (!bypass && depth >= self->limit) {
        atomic_fetch_sub_explicit (&self->mailbox.count, 1, memory_order_relaxed);
        atomic_fetch_add_explicit (&self->rejected, 1, memory_order_relaxed);
        return PG__STATUS__BUSY;
    }
    if (mpscq_push (&self->mailbox, &msg->node)) {
        //  We unparked it: we alone schedule it, with a reference for the
        //  run queue. Our caller holds one, so the count cannot be zero.
        actor_ref (self);
        sched_schedule (self->rt->sched, self);
    }
    return PG__STATUS__OK;
}

static inline void
s_count_sent (actor_t *self)
{
    //  Only the actor's own turn writes this; a relaxed load+store is a
    //  plain add, and introspection reads it without tearing.
    if (self)
        atomic_store_explicit (&self->sent,
            atomic_load_explicit (&self->sent, memory_order_relaxed) + 1,
            memory_order_relaxed);
}

static int
s_send_remote (rt_t *rt, const char *node, const char *to_actor,
               actor_t *from, msg_t **msg_p)
{
    if (!rt->transport) {
        msg_destroy (msg_p);
        return PG__STATUS__SHUTDOWN;
    }
    return transport_send (rt->transport, node, to_actor,
                           from ? from->name : "", msg_p);
}

//  Sends msg to `to` (local or remote). Consumes msg.
static int
s_send (actor_t *self, actor_t *to, msg_t *msg)
{
    s_count_sent (self);
    if (to->kind == ACTOR_REMOTE)
        return s_send_remote (to->rt, to->node, to->name, self, &msg);
    bool bypass = (msg->flags & (MSG_REPLY | MSG_F_BYPASS)) != 0;
    int rc = actor_push (to, msg, bypass);
    if (rc != PG__STATUS__OK)
        msg_destroy (&msg);
    else
    if (self && self != to && !self->mute_on
    &&  atomic_load_explicit (&to->mailbox.count, memory_order_relaxed) >= ACTOR_OVERLOADED (to))
        self->mute_on = actor_ref (to);
    return rc;
}

//  Lets every sender muted on self go, if self is relieved (or dying).
static void
s_unmute_senders (actor_t *self, bool force)
{
    if (!atomic_load_explicit (&self->muters, memory_order_relaxed))
        return;
    if (!force && atomic_load_explicit (&self->mailbox.count, memory_order_relaxed)
                  >= ACTOR_RELIEVED (self))
        return;
    mute_t *list = atomic_exchange_explicit (&self->muters, NULL, memory_order_acq_rel);
    while (list) {
        mute_t *next = list->next;
        int expected = 1;
        //  Whoever clears the flag reschedules: the sender itself (if it
        //  saw us relieved right after muting) or us, never both.
        if (atomic_compare_exchange_strong (&list->sender->muted, &expected, 0))
            sched_schedule (self->rt->sched, list->sender);     //  its own run-queue ref
        actor_unref (&list->sender);
        free (list);
        list = next;
    }
}

//  After self's turn: mute it on the overloaded receiver it sent to.
//  Returns true if self is now muted (it must not be parked or requeued:
//  its run-queue reference waits with the receiver).
static bool
s_mute (actor_t *self)
{
    actor_t *to = self->mute_on;
    self->mute_on = NULL;
    bool muted = false;
    if (!self->dying
    &&  atomic_load_explicit (&self->mailbox.count, memory_order_relaxed) < ACTOR_OVERLOADED (self)
    &&  atomic_load_explicit (&to->life, memory_order_acquire) == LIFE_ALIVE
    &&  atomic_load_explicit (&to->mailbox.count, memory_order_relaxed) >= ACTOR_RELIEVED (to)) {
        mute_t *record = malloc (sizeof *record);
        if (record) {
            record->sender = actor_ref (self);
            atomic_store (&self->muted, 1);
            mute_t *top = atomic_load_explicit (&to->muters, memory_order_relaxed);
            do
                record->next = top;
            while (!atomic_compare_exchange_weak_explicit (&to->muters, &top, record,
                                                           memory_order_release,
                                                           memory_order_relaxed));
            muted = true;
            //  The receiver may have drained (or died) before our record
            //  landed and will not look again: check once more ourselves.
            if (atomic_load_explicit (&to->mailbox.count, memory_order_relaxed) < ACTOR_RELIEVED (to)
            ||  atomic_load_explicit (&to->life, memory_order_acquire) != LIFE_ALIVE) {
                int expected = 1;
                if (atomic_compare_exchange_strong (&self->muted, &expected, 0))
                    muted = false;
            }
        }
    }
    actor_unref (&to);
    return muted;
}

int
actor_send (actor_t *self, actor_t *to, msg_t **msg_p)
{
    msg_t *msg = *msg_p;
    *msg_p = NULL;
    if (!msg)
        return PG__STATUS__INVALID_ARGUMENT;
    if (!to) {
        msg_destroy (&msg);
        return PG__STATUS__NO_ACTOR;
    }
    return s_send (self, to, msg);
}

//  --------------------------------------------------------------------------
//  Requests and replies

static msg_t *
s_status_msg (int status, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static msg_t *
s_status_msg (int status, const char *format, ...)
{
    msg_t *msg = msg_new_local (&actor_kind_empty, 0, NULL);
    if (!msg)
        return NULL;
    msg->status = (uint16_t) status;
    char text [256];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    msg->error = msg_strdup (msg, text);
    return msg;
}

static void
s_arm_sweep (actor_t *self, int64_t due)
{
    if (self->sweep_due && self->sweep_due <= due)
        return;
    msg_t *msg = msg_new_local (&s_kind_sweep, 0, NULL);
    if (!msg)
        return;                 //  the next ask or sweep re-arms
    msg->flags |= MSG_F_BYPASS;
    msg->deadline_ns = due;
    msg->from = actor_ref (self);
    sched_add_timer (self->rt->sched, msg);
    self->sweep_due = due;
}

int
actor_ask (actor_t *self, actor_t *to, msg_t **req_p, int64_t timeout_ms,
           actor_reply_fn *cb, void *arg)
{
    msg_t *req = *req_p;
    *req_p = NULL;
    if (!self || !req || !to || !cb || timeout_ms <= 0) {
        log_error ("actor_ask: needs an actor, a request, a target, a callback "
                   "and a positive timeout");
        msg_destroy (&req);
        return PG__STATUS__INVALID_ARGUMENT;
    }
    if (self->dying) {
        msg_destroy (&req);
        return PG__STATUS__SHUTDOWN;
    }
    pending_t *pending = malloc (sizeof *pending);
    uint64_t corr = self->next_corr++;
    if (corr == 0)
        corr = self->next_corr++;
    int64_t deadline = rtclock_mono_ns (&self->rt->clock) + timeout_ms * 1000000;
    if (!pending
    ||  u64map_put (self->pending, corr, pending)
    ||  dheap_push (&self->deadlines, deadline, corr)) {
        u64map_take (self->pending, corr);
        free (pending);
        msg_destroy (&req);
        log_error ("actor_ask: out of memory");
        return PG__STATUS__INTERNAL;
    }
    pending->cb = cb;
    pending->arg = arg;
    req->flags |= MSG_REQUEST;
    req->corr = corr;
    req->deadline_ns = deadline;
    if (to->kind == ACTOR_LOCAL)
        req->from = actor_ref (self);
    int rc = s_send (self, to, req);
    if (rc != PG__STATUS__OK) {
        free (u64map_take (self->pending, corr));
        return rc;              //  its deadline entry is skipped by the sweep
    }
    s_arm_sweep (self, deadline);
    return PG__STATUS__OK;
}

static bool
s_is_pending (uint64_t corr, void *ctx)
{
    return u64map_get (ctx, corr) != NULL;
}

//  Time out every ask whose deadline passed; re-arm for the next one.
static void
s_sweep (actor_t *self)
{
    int64_t now = rtclock_mono_ns (&self->rt->clock);
    const dheap_item_t *top;
    dheap_item_t item;
    while ((top = dheap_peek (&self->deadlines)) && top->due <= now) {
        dheap_pop (&self->deadlines, &item);
        pending_t *pending = u64map_take (self->pending, item.value);
        if (!pending)
            continue;           //  answered already
        msg_t *reply = s_status_msg (PG__STATUS__TIMEOUT, "no reply before the deadline");
        if (reply) {
            reply->flags |= MSG_REPLY;
            reply->corr = item.value;
            pending->cb (self, &reply, pending->arg);
            msg_destroy (&reply);
        }
        else
            log_error ("ask %llu timed out and no memory to say so",
                       (unsigned long long) item.value);
        free (pending);
    }
    if (self->sweep_due && self->sweep_due <= now)
        self->sweep_due = 0;
    //  Entries of answered asks linger until their deadline; drop them in
    //  one pass when they outnumber live ones, so memory tracks live asks.
    if (self->deadlines.size > 2 * u64map_size (self->pending) + 1024)
        dheap_filter (&self->deadlines, s_is_pending, self->pending);
    if ((top = dheap_peek (&self->deadlines)))
        s_arm_sweep (self, top->due);
}

static void
s_on_reply (actor_t *self, msg_t *msg)
{
    pending_t *pending = u64map_take (self->pending, msg->corr);
    if (!pending) {
        RT_COUNT (self->rt, late_replies);
        msg_destroy (&msg);
        return;
    }
    if ((msg->flags & MSG_F_PACKED) && msg_unpack (msg)) {
        RT_COUNT (self->rt, dropped_bad);
        msg->flags &= (uint16_t) ~MSG_F_PACKED;
        msg->kind = &actor_kind_empty;
        msg->body = NULL;
        msg_set_status (msg, PG__STATUS__BAD_MESSAGE, "reply payload does not decode");
    }
    pending->cb (self, &msg, pending->arg);
    free (pending);
    msg_destroy (&msg);
}

int
actor_reply (actor_t *self, msg_t *request, msg_t **reply_p)
{
    msg_t *reply = *reply_p;
    *reply_p = NULL;
    if (!reply)
        return PG__STATUS__INVALID_ARGUMENT;
    if (!self || !request || !msg_is_request (request)) {
        log_error ("actor_reply: not a request");
        msg_destroy (&reply);
        return PG__STATUS__INVALID_ARGUMENT;
    }
    reply->flags = (uint16_t) ((reply->flags & ~MSG_REQUEST) | MSG_REPLY);
    reply->corr = request->corr;
    if (request->from)
        return s_send (self, request->from, reply);
    if (request->from_node && request->from_actor) {
        s_count_sent (self);
        return s_send_remote (self->rt, request->from_node, request->from_actor,
                              self, &reply);
    }
    msg_destroy (&reply);
    return PG__STATUS__NO_ACTOR;
}

int
actor_reply_error (actor_t *self, msg_t *request, int status, const char *format, ...)
{
    msg_t *reply = msg_new_local (&actor_kind_empty, 0, NULL);
    if (!reply)
        return PG__STATUS__INTERNAL;
    char text [512];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    msg_set_status (reply, status, "%s", text);
    return actor_reply (self, request, &reply);
}

actor_t *
actor_sender (actor_t *self, msg_t *msg)
{
    if (msg->from)
        return actor_ref (msg->from);
    if (msg->from_node && msg->from_actor)
        return actor_proxy_new (self->rt, msg->from_node, msg->from_actor);
    return NULL;
}

//  --------------------------------------------------------------------------
//  Timers, time, randomness

bool
actor_wake (actor_t *self, const msg_kind_t *kind, int64_t delay_ms, bool *pending)
{
    if (*pending)
        return true;
    msg_t *msg = msg_new_local (kind, 0, NULL);
    if (msg)
        *pending = delay_ms > 0 ? actor_send_after (self, delay_ms, &msg) != 0
                                : actor_send (self, self, &msg) == PG__STATUS__OK;
    return *pending;
}

uint64_t
actor_send_after (actor_t *self, int64_t delay_ms, msg_t **msg_p)
{
    msg_t *msg = *msg_p;
    *msg_p = NULL;
    if (!self || !msg || delay_ms < 0) {
        msg_destroy (&msg);
        return 0;
    }
    uint64_t id = ++self->next_timer;
    if (u64map_put (self->timers, id, (void *) 1)) {
        msg_destroy (&msg);
        return 0;
    }
    msg->flags |= MSG_F_TIMER | MSG_F_BYPASS;
    msg->corr = id;
    msg->deadline_ns = rtclock_mono_ns (&self->rt->clock) + delay_ms * 1000000;
    if (msg->from)
        actor_unref (&msg->from);
    msg->from = actor_ref (self);
    sched_add_timer (self->rt->sched, msg);
    return id;
}

void
actor_cancel (actor_t *self, uint64_t timer_id)
{
    //  The message stays in its heap and is dropped on delivery.
    u64map_take (self->timers, timer_id);
}

int64_t
actor_now_ms (actor_t *self)
{
    return rtclock_mono_ms (&self->rt->clock);
}

int64_t
actor_wall_ms (actor_t *self)
{
    return rtclock_wall_ms (&self->rt->clock);
}

rtrand_t *
actor_random (actor_t *self)
{
    return &self->rand;
}

//  --------------------------------------------------------------------------
//  Spawn, stop, run

actor_t *
actor_spawn (rt_t *rt, const char *name, const actor_ops_t *ops, void *args,
             const actor_opts_t *opts)
{
    if (!name || !registry_valid_name (name, strlen (name))) {
        log_error ("spawn: invalid actor name '%s' (1..128 of A-Z a-z 0-9 . _ : -)",
                   name ? name : "(null)");
        return NULL;
    }
    if (!ops || !ops->receive) {
        log_error ("spawn %s: no receive function", name);
        return NULL;
    }
    if (atomic_load (&rt->stopping)) {
        log_warning ("spawn %s: runtime is stopping", name);
        return NULL;
    }
    actor_t *self = s_alloc (rt, ACTOR_LOCAL);
    if (!self)
        return NULL;
    self->name = strdup (name);
    self->ops = ops;
    self->limit = opts && opts->mailbox_limit > 0 ? opts->mailbox_limit : rt->mailbox_limit;
    self->pending = u64map_new ();
    self->timers = u64map_new ();
    dheap_init (&self->deadlines);
    rtrand_seed (&self->rand, rt->seed ^ hash_bytes (name, strlen (name)));
    //  Correlation ids start at random so a late reply meant for an earlier
    //  actor of the same name does not match one of ours.
    self->next_corr = rtrand_next (&self->rand);
    if (!self->name || !self->pending || !self->timers) {
        s_free (self);
        return NULL;
    }
    if (opts && (opts->pinned || opts->near_io)) {
        bool alone;
        self->home = sched_pinned_thread (rt->sched, opts->exclusive, opts->near_io, &alone);
        self->near_io = opts->near_io;
        if (!self->home) {
            log_error ("spawn %s: pinned actor, but runtime/pinned_threads is 0", name);
            s_free (self);
            return NULL;
        }
        if (opts->exclusive && !alone)
            log_warning ("spawn %s: no free pinned thread; it shares one "
                         "(raise runtime/pinned_threads)", name);
    }
    if (registry_add (rt->registry, self)) {
        log_error ("spawn %s: an actor of that name exists", name);
        s_free (self);
        return NULL;
    }
    //  The mailbox starts active (not parked): messages that arrive during
    //  init queue up without scheduling the actor.
    actor_t *caller = sched_current ();
    sched_set_current (self);
    log_set_context (rt->node, self->name);
    int rc = ops->init ? ops->init (self, args) : 0;
    sched_set_current (caller);
    log_set_context (rt->node, caller ? caller->name : NULL);
    if (rc) {
        log_warning ("spawn %s: init refused", name);
        self->dying = true;
        atomic_store_explicit (&self->life, LIFE_DEAD, memory_order_release);
        registry_remove (rt->registry, self);
    }
    if (!mpscq_park (&self->mailbox)) {
        actor_ref (self);
        sched_schedule (rt->sched, self);
    }
    if (rc)
        actor_unref (&self);
    return self;
}

static void
s_signal_waiter (msg_t *stop)
{
    stop_waiter_t *waiter = stop->body ? *(stop_waiter_t **) stop->body : NULL;
    if (waiter) {
        pthread_mutex_lock (&waiter->lock);
        waiter->done = true;
        pthread_cond_signal (&waiter->cond);
        pthread_mutex_unlock (&waiter->lock);
    }
}

static void
s_die (actor_t *self)
{
    self->dying = true;
    //  Every pending ask gets its one callback, while state still exists.
    for (;;) {
        size_t cursor = 0;
        uint64_t corr;
        void *value;
        if (u64map_next (self->pending, &cursor, &corr, &value))
            break;
        pending_t *pending = u64map_take (self->pending, corr);
        msg_t *reply = s_status_msg (PG__STATUS__SHUTDOWN, "actor %s stopped", self->name);
        if (reply) {
            reply->flags |= MSG_REPLY;
            reply->corr = corr;
            pending->cb (self, &reply, pending->arg);
            msg_destroy (&reply);
        }
        free (pending);
    }
    if (self->ops->fini)
        self->ops->fini (self);
    self->state = NULL;
    if (self->mute_on)
        actor_unref (&self->mute_on);
    dheap_fini (&self->deadlines);
    atomic_store_explicit (&self->life, LIFE_DEAD, memory_order_release);
    s_unmute_senders (self, true);
    registry_remove (self->rt->registry, self);
}

//  A message for a dead actor: requests learn so, STOPs are acknowledged.
static void
s_reject (actor_t *self, msg_t *msg)
{
    if (msg_is (msg, &s_kind_stop))
        s_signal_waiter (msg);
    else
    if (msg_is_request (msg))
        actor_reply_error (self, msg, PG__STATUS__NO_ACTOR, "actor %s stopped", self->name);
    msg_destroy (&msg);
}

static void
s_deliver (actor_t *self, msg_t *msg)
{
    if (msg->flags & MSG_F_POSTPONED)
        self->postponed--;
    if (msg->kind == &s_kind_stop) {
        s_die (self);
        s_signal_waiter (msg);
        msg_destroy (&msg);
        return;
    }
    if (msg->kind == &s_kind_sweep) {
        msg_destroy (&msg);
        s_sweep (self);
        return;
    }
    if (msg->flags & MSG_F_TIMER) {
        if (!u64map_take (self->timers, msg->corr)) {
            msg_destroy (&msg);         //  cancelled
            return;
        }
        msg->flags &= (uint16_t) ~(MSG_F_TIMER | MSG_F_BYPASS);
        msg->corr = 0;
    }
    if (msg->flags & MSG_REPLY) {
        s_on_reply (self, msg);
        return;
    }
    if ((msg->flags & MSG_REQUEST) && msg->deadline_ns
    &&  msg->deadline_ns < rtclock_mono_ns (&self->rt->clock)) {
        //  The caller has given up: doing the work would only add load.
        RT_COUNT (self->rt, expired);
        msg_destroy (&msg);
        return;
    }
    if ((msg->flags & MSG_F_PACKED) && msg_unpack (msg)) {
        RT_COUNT (self->rt, dropped_bad);
        static _Thread_local log_limit_t limit;
        uint32_t suppressed;
        if (log_limit_allow (&limit, 5, &suppressed))
            log_warning ("dropped a %s from %s/%s: payload does not decode (%u more suppressed)",
                         msg_kind_name (msg), msg->from_node ? msg->from_node : "-",
                         msg->from_actor ? msg->from_actor : "-", suppressed);
        if (msg_is_request (msg))
            actor_reply_error (self, msg, PG__STATUS__BAD_MESSAGE,
                               "%s payload does not decode (malformed, or it would take "
                               "more than %zu bytes unpacked)", msg_kind_name (msg),
                               msg_unpack_cap (msg->packed_len));
        msg_destroy (&msg);
        return;
    }
    self->ops->receive (self, &msg);
    msg_destroy (&msg);
}

void
actor_run (actor_t *self, worker_t *w)
{
    rt_t *rt = self->rt;
    sched_set_current (self);
    log_set_context (rt->node, self->name);
    int batch = sched_batch (rt->sched);
    int n = 0;
    mpscq_node_t *node;
    while (n < batch && (node = mpscq_pop (&self->mailbox))) {
        n++;
        msg_t *msg = (msg_t *) node;
        if (atomic_load_explicit (&self->life, memory_order_relaxed) == LIFE_DEAD)
            s_reject (self, msg);
        else {
            s_deliver (self, msg);
            if (self->exiting && !self->dying)
                s_die (self);
            if (self->mute_on)
                break;          //  it overloads someone: end the turn now
            if (self->home && self->home != w)
                break;          //  it moved: the rest runs on its new thread
        }
    }
    atomic_fetch_sub_explicit (&self->mailbox.count, n, memory_order_relaxed);
    atomic_store_explicit (&self->received,
        atomic_load_explicit (&self->received, memory_order_relaxed) + (uint64_t) n,
        memory_order_relaxed);
    sched_set_current (NULL);
    log_set_context (rt->node, NULL);
    s_unmute_senders (self, atomic_load_explicit (&self->life, memory_order_relaxed) == LIFE_DEAD);
    if (self->mute_on && s_mute (self))
        return;                         //  muted: the receiver reschedules us
    if (mpscq_park (&self->mailbox))
        actor_unref (&self);            //  the run queue's reference
    else
        sched_requeue (w, self);
}

bool
actor_move (actor_t *self, bool blocking)
{
    assert (sched_current () == self);
    //  Only between the host and a pinned thread: a move from one pinned
    //  thread to a less loaded one would be answered by a move back.
    worker_t *host = sched_host (self->rt->sched);
    if (!self->near_io || !host || (self->home == host) != blocking)
        return false;
    bool alone;
    worker_t *to = sched_pinned_thread (self->rt->sched, false, !blocking, &alone);
    if (!to)
        return false;                   //  no pinned thread: block where it is
    sched_unpin (self->home);
    self->home = to;
    return true;
}

void
actor_postpone (actor_t *self, msg_t **msg_p)
{
    assert (sched_current () == self);
    msg_t *msg = *msg_p;
    *msg_p = NULL;
    msg->flags |= MSG_F_POSTPONED;
    //  Our own mailbox, not parked while we run: this cannot schedule us.
    if (actor_push (self, msg, true) != PG__STATUS__OK)
        msg_destroy (&msg);
    else
        self->postponed++;
}

int
actor_postponed (actor_t *self)
{
    assert (sched_current () == self);
    return self->postponed;
}

void
actor_stop (actor_t **self_p)
{
    actor_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    if (self->kind == ACTOR_REMOTE) {
        actor_unref (&self);
        return;
    }
    if (sched_current () == self) {
        self->exiting = true;
        actor_unref (&self);
        return;
    }
    //  Outside the runtime's threads we may block until fini has run;
    //  inside, blocking a worker could deadlock, so the stop is async.
    bool wait = !sched_is_own_thread (self->rt->sched);
    stop_waiter_t waiter;
    stop_waiter_t *waiter_p = NULL;
    if (wait) {
        pthread_mutex_init (&waiter.lock, NULL);
        pthread_cond_init (&waiter.cond, NULL);
        waiter.done = false;
        waiter_p = &waiter;
    }
    stop_waiter_t **body;
    msg_t *stop = msg_new_local (&s_kind_stop, sizeof waiter_p, (void **) &body);
    if (!stop) {
        log_error ("stop %s: out of memory", self->name);
        actor_unref (&self);
        return;
    }
    *body = waiter_p;
    stop->flags |= MSG_F_BYPASS;
    //  STOP goes in even after death: s_reject then acknowledges it.
    atomic_fetch_add_explicit (&self->mailbox.count, 1, memory_order_relaxed);
    if (mpscq_push (&self->mailbox, &stop->node)) {
        actor_ref (self);
        sched_schedule (self->rt->sched, self);
    }
    if (wait) {
        pthread_mutex_lock (&waiter.lock);
        while (!waiter.done)
            pthread_cond_wait (&waiter.cond, &waiter.lock);
        pthread_mutex_unlock (&waiter.lock);
        pthread_mutex_destroy (&waiter.lock);
        pthread_cond_destroy (&waiter.cond);
    }
    actor_unref (&self);
}

void
actor_exit (actor_t *self)
{
    self->exiting = true;
}

//  --------------------------------------------------------------------------
//  Accessors

void
actor_set_state (actor_t *self, void *state)
{
    self->state = state;
}

void *
actor_state (actor_t *self)
{
    return self->state;
}

const char *
actor_name (actor_t *self)
{
    return self->kind == ACTOR_REMOTE ? self->address : self->name;
}

rt_t *
actor_rt (actor_t *self)
{
    return self->rt;
}

bool
actor_is_remote (actor_t *self)
{
    return self->kind == ACTOR_REMOTE;
}

void
actor_info (actor_t *self, actor_info_t *info)
{
    info->name = actor_name (self);
    info->kind = self->ops ? self->ops->kind : "remote";
    info->mailbox_depth = atomic_load_explicit (&self->mailbox.count, memory_order_relaxed);
    info->received = atomic_load_explicit (&self->received, memory_order_relaxed);
    info->sent = atomic_load_explicit (&self->sent, memory_order_relaxed);
    info->busy_rejects = atomic_load_explicit (&self->rejected, memory_order_relaxed);
    info->pinned = self->home != NULL;
    sched_thread_label (self->home, info->thread, sizeof info->thread);
}
