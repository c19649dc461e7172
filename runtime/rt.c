/*  rt: see rt.h.

    Start: the transport binds first (the node's name comes from the bound
    port), then the scheduler starts, then the I/O thread, then the
    runtime's own actor ("rt.caller", for rt_call). Programs that serve
    add the introspection actor "node" (actors/introspect.h).

    Stop: refuse new spawns; stop every actor (each fini runs while the
    network still works); stop the transport (flush, close); stop the
    threads (dead actors drain their mailboxes); free.
*/
#include "runtime/rt_impl.h"
#include "runtime/config.h"
#include "runtime/log.h"
#include "runtime/transport.h"
#include "runtime/types.h"
#include "rt.pb-c.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  ---------------------------------------------------------------------------
//  rt_call: a hidden actor asks on behalf of threads outside the runtime.

typedef struct {
    _Atomic int refs;               //  the waiting thread and the ask
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    int status;
    msg_t *reply;
} call_t;

typedef struct {
    actor_t *to;
    msg_t *req;
    int64_t timeout_ms;
    call_t *call;
} call_req_t;

static const msg_kind_t s_kind_call = { "rt.call" };

static void
s_call_unref (call_t *call)
{
    if (atomic_fetch_sub (&call->refs, 1) == 1) {
        msg_destroy (&call->reply);
        pthread_mutex_destroy (&call->lock);
        pthread_cond_destroy (&call->cond);
        free (call);
    }
}

static void
s_call_complete (call_t *call, int status, msg_t **reply_p)
{
    pthread_mutex_lock (&call->lock);
    call->status = status;
    if (reply_p) {
        call->reply = *reply_p;
        *reply_p = NULL;
    }
    call->done = true;
    pthread_cond_signal (&call->cond);
    pthread_mutex_unlock (&call->lock);
    s_call_unref (call);
}

//  Runs when a call message dies: releases whatever it still owns.
static void
s_call_req_free (void *ptr)
{
    call_req_t *req = ptr;
    actor_unref (&req->to);
    msg_destroy (&req->req);
    if (req->call)
        s_call_complete (req->call, PG__STATUS__SHUTDOWN, NULL);
    free (req);
}

static void
s_call_done (actor_t *self, msg_t **reply_p, void *arg)
{
    s_call_complete (arg, msg_status (*reply_p), reply_p);
}

static void
s_caller_receive (actor_t *self, msg_t **msg_p)
{
    if (!msg_is (*msg_p, &s_kind_call))
        return;
    call_req_t *req = *(call_req_t **) msg_body (*msg_p);
    call_t *call = req->call;
    req->call = NULL;
    int rc = actor_ask (self, req->to, &req->req, req->timeout_ms, s_call_done, call);
    if (rc != PG__STATUS__OK)
        s_call_complete (call, rc, NULL);
}

static const actor_ops_t s_caller_ops = { "rt.caller", NULL, s_caller_receive, NULL };

int
rt_call (rt_t *self, actor_t *to, msg_t **req_p, int64_t timeout_ms, msg_t **reply_p)
{
    *reply_p = NULL;
    if (sched_is_own_thread (self->sched)) {
        log_error ("rt_call from inside an actor would block a worker; use actor_ask");
        msg_destroy (req_p);
        return PG__STATUS__INVALID_ARGUMENT;
    }
    call_t *call = calloc (1, sizeof *call);
    call_req_t *req = calloc (1, sizeof *req);
    call_req_t **body;
    msg_t *msg = call && req ? msg_new_local (&s_kind_call, sizeof req, (void **) &body) : NULL;
    if (!msg || msg_attach (msg, req, s_call_req_free)) {
        msg_destroy (&msg);
        free (call);
        free (req);
        msg_destroy (req_p);
        return PG__STATUS__INTERNAL;
    }
    *body = req;
    atomic_init (&call->refs, 2);
    pthread_mutex_init (&call->lock, NULL);
    pthread_cond_init (&call->cond, NULL);
    req->to = actor_ref (to);
    req->req = *req_p;
    *req_p = NULL;
    req->timeout_ms = timeout_ms;
    req->call = call;
    int rc = actor_send (NULL, self->caller, &msg);
    if (rc != PG__STATUS__OK) {
        //  The call message died in the send: its attachment completed the
        //  call with SHUTDOWN. Report the send's own reason instead.
        s_call_unref (call);
        return rc;
    }
    pthread_mutex_lock (&call->lock);
    while (!call->done)
        pthread_cond_wait (&call->cond, &call->lock);
    rc = call->status;
    *reply_p = call->reply;
    call->reply = NULL;
    pthread_mutex_unlock (&call->lock);
    s_call_unref (call);
    return rc;
}

int
rt_send (rt_t *self, actor_t *to, msg_t **msg_p)
{
    (void) self;
    return actor_send (NULL, to, msg_p);
}

//  ---------------------------------------------------------------------------
//  Life cycle

static int64_t
s_log_wall_ms (void *ctx)
{
    rt_t *self = ctx;
    return rtclock_wall_ms (&self->clock);
}

static int
s_register_types (void)
{
    const ProtobufCMessageDescriptor *types [] = {
        &pg__ping__descriptor, &pg__actors_query__descriptor, &pg__actors_reply__descriptor,
    };
    for (size_t i = 0; i < sizeof types / sizeof types [0]; i++)
        if (types_register (types [i]))
            return -1;
    return 0;
}

rt_t *
rt_new_with_clock (zconfig_t *config, const rtclock_t *clock)
{
    long cpus = sysconf (_SC_NPROCESSORS_ONLN);
    int64_t workers, pinned, batch, limit, spin_us, seed;
    bool io_actors;
    if (config_int (config, "runtime/workers", cpus > 0 ? cpus : 2, 1, 1024, &workers)
    ||  config_int (config, "runtime/pinned_threads", 4, 0, 1024, &pinned)
    ||  config_int (config, "runtime/batch", 100, 1, 1000000, &batch)
    ||  config_int (config, "runtime/mailbox_limit", 10000, 1, 1LL << 40, &limit)
    ||  config_int (config, "runtime/spin_us", 50, 0, 1000000, &spin_us)
    ||  config_int (config, "runtime/seed", 0, 0, INT64_MAX, &seed)
    ||  config_bool (config, "runtime/io_actors", true, &io_actors))
        return NULL;
    //  Absent, the process's level stays (a library's runtime must not
    //  undo what its program chose); a server starts at notice.
    const char *level_name = config_str (config, "runtime/log_level", "notice");
    if (config && zconfig_locate (config, "runtime/log_level")) {
        log_level_t level;
        if (log_level_parse (level_name, &level)) {
            log_error ("config: runtime/log_level = '%s': expected error, warning, "
                       "notice, info, debug or trace", level_name);
            return NULL;
        }
        log_set_level (level);
    }
    if (s_register_types ())
        return NULL;

    rt_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->clock = *clock;
    //  Seed 0 asks for a fresh one: the only place the runtime reads
    //  entropy from the system rather than from its own generator.
    self->seed = seed ? (uint64_t) seed
               : (uint64_t) rtclock_wall_ms (clock) * 1000003u ^ (uint64_t) getpid () << 32
                 ^ (uint64_t) rtclock_mono_ns (clock);
    self->mailbox_limit = limit;
    self->registry = registry_new ();
    if (!self->registry) {
        free (self);
        return NULL;
    }
    log_set_time_source (s_log_wall_ms, self);
    self->transport = transport_new (self, config);
    if (!self->transport) {
        registry_destroy (&self->registry);
        free (self);
        return NULL;
    }
    sched_config_t sched_config = {
        (int) workers, (int) pinned, (int) batch, (int) spin_us,
        io_actors ? transport_wake : NULL, self->transport
    };
    self->sched = sched_new (self, &sched_config);
    if (!self->sched || transport_start (self->transport)) {
        rt_destroy (&self);
        return NULL;
    }
    self->caller = actor_spawn (self, "rt.caller", &s_caller_ops, NULL,
                                &(actor_opts_t) { .mailbox_limit = 1LL << 40 });
    if (!self->caller) {
        rt_destroy (&self);
        return NULL;
    }
    log_info ("runtime up: node %s, %d workers, %d pinned threads",
              self->node, (int) workers, (int) pinned);
    return self;
}

rt_t *
rt_new (zconfig_t *config)
{
    return rt_new_with_clock (config, &rtclock_system);
}

rt_t *
rt_newf (const char *format, ...)
{
    char text [4096];
    va_list args;
    va_start (args, format);
    int n = vsnprintf (text, sizeof text, format, args);
    va_end (args);
    if (n < 0 || (size_t) n >= sizeof text) {
        log_error ("rt_newf: config text too long");
        return NULL;
    }
    zconfig_t *config = zconfig_str_load (text);
    if (!config) {
        log_error ("rt_newf: config text is not valid ZPL");
        return NULL;
    }
    rt_t *self = rt_new (config);
    zconfig_destroy (&config);
    return self;
}

void
rt_destroy (rt_t **self_p)
{
    rt_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    if (self->sched && sched_is_own_thread (self->sched)) {
        log_error ("rt_destroy from inside an actor: refused (it would deadlock)");
        return;
    }
    atomic_store (&self->stopping, true);
    actor_unref (&self->caller);
    //  Stop every actor; fini may stop others, so repeat until none left.
    if (self->sched) {
        actor_t **actors;
        size_t n;
        while ((n = registry_snapshot (self->registry, &actors)) > 0) {
            for (size_t i = 0; i < n; i++)
                actor_stop (&actors [i]);
            free (actors);
        }
    }
    if (self->transport)
        transport_stop (self->transport);
    sched_destroy (&self->sched);
    transport_destroy (&self->transport);
    registry_destroy (&self->registry);
    log_set_time_source (NULL, NULL);
    free (self);
}

//  ---------------------------------------------------------------------------
//  Queries

const char *
rt_node (rt_t *self)
{
    return self->node;
}

const rtclock_t *
rt_clock (rt_t *self)
{
    return &self->clock;
}

int64_t
rt_mailbox_limit (rt_t *self)
{
    return self->mailbox_limit;
}

actor_t *
rt_lookup (rt_t *self, const char *address)
{
    const char *slash = strrchr (address, '/');
    if (!slash)
        return registry_get (self->registry, address, strlen (address));
    size_t node_len = (size_t) (slash - address);
    const char *name = slash + 1;
    if (!registry_valid_name (name, strlen (name)) || node_len == 0 || node_len > 255)
        return NULL;
    if (node_len == strlen (self->node) && !memcmp (address, self->node, node_len))
        return registry_get (self->registry, name, strlen (name));
    char node [256];
    memcpy (node, address, node_len);
    node [node_len] = 0;
    return actor_proxy_new (self, node, name);
}

void
rt_stats (rt_t *self, rt_stats_t *stats)
{
    rt_counters_t *c = &self->counters;
    stats->frames_in = atomic_load (&c->frames_in);
    stats->frames_out = atomic_load (&c->frames_out);
    stats->envelopes_in = atomic_load (&c->envelopes_in);
    stats->envelopes_out = atomic_load (&c->envelopes_out);
    stats->dropped_bad = atomic_load (&c->dropped_bad);
    stats->dropped_no_actor = atomic_load (&c->dropped_no_actor);
    stats->dropped_too_large = atomic_load (&c->dropped_too_large);
    stats->dropped_busy = atomic_load (&c->dropped_busy);
    stats->dropped_unroutable = atomic_load (&c->dropped_unroutable);
    stats->expired = atomic_load (&c->expired);
    stats->late_replies = atomic_load (&c->late_replies);
}

void
rt_foreach_actor (rt_t *self, void (*fn) (actor_t *actor, void *ctx), void *ctx)
{
    actor_t **actors;
    size_t n = registry_snapshot (self->registry, &actors);
    for (size_t i = 0; i < n; i++) {
        fn (actors [i], ctx);
        actor_unref (&actors [i]);
    }
    free (actors);
}
