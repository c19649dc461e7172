/*  pegasus: the client's engine: the shared runtime, the client actor
    (routing cache, retries), sync and async execution, errors.

    Retry rules, decided in one place (s_on_reply):
    - INVALID_STATE, NO_ACTOR, SPLITTING: the server refused the request
      before running it (stale routing): refresh the routing and retry.
    - BUSY, NOT_ENOUGH_MEMBER: refused, not run: retry after a backoff
      (a failed member is replaced within seconds).
    - TIMEOUT, UNREACHABLE, SHUTDOWN, OUTCOME_UNKNOWN: the outcome is
      unknown: retry only a read (after refreshing the routing); a write
      retried could land twice, around another client's write, so the
      caller gets the status and decides.
    - anything else is the answer.
    All within the caller's deadline; backoff doubles from 10 ms to 1 s,
    with jitter.
*/
#include "client/pegasus_impl.h"
#include "common/key.h"
#include "common/wiretypes.h"
#include "runtime/log.h"
#include "data.pb-c.h"
#include "meta.pb-c.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_MS 5000
#define ROUTING_TIMEOUT_MS 3000
#define ATTEMPT_MAX_MS 2000

static const msg_kind_t s_kind_op = { "pegasus.op" };
static const msg_kind_t s_kind_retry = { "pegasus.retry" };
static const msg_kind_t s_kind_tick = { "pegasus.tick" };

//  ---------------------------------------------------------------------------
//  Errors

static _Thread_local char t_error [512];

const char *
pegasus_errmsg (void)
{
    return t_error;
}

int
pegasus_fail (int status, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (t_error, sizeof t_error, format, args);
    va_end (args);
    return status;
}

const char *
pegasus_status_name (int status)
{
    return status_name (status);
}

void
pegasus_free (void *ptr)
{
    free (ptr);
}

//  ---------------------------------------------------------------------------
//  The shared runtime: one per process, for every client and admin call.

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static rt_t *s_rt;
static int s_users;

rt_t *
pegasus_runtime_acquire (void)
{
    pthread_mutex_lock (&s_lock);
    if (!s_rt) {
        if (wiretypes_register () == 0)
            s_rt = rt_newf ("runtime\n    workers = 2\n    pinned_threads = 0\n"
                            "    log_level = error\n    mailbox_limit = 1000000\n");
    }
    if (s_rt)
        s_users++;
    rt_t *rt = s_rt;
    pthread_mutex_unlock (&s_lock);
    return rt;
}

void
pegasus_runtime_release (void)
{
    pthread_mutex_lock (&s_lock);
    if (s_users > 0 && --s_users == 0)
        rt_destroy (&s_rt);
    pthread_mutex_unlock (&s_lock);
}

//  ---------------------------------------------------------------------------
//  The client actor

typedef struct {
    actor_t *self;
    pegasus_client_t *client;
    char *table;
    char **metas;
    size_t nmetas;
    size_t meta_index;
    actor_t *meta;
    uint32_t app_id;
    uint32_t partition_count;
    actor_t **primaries;                //  per partition, or NULL if unknown
    bool refreshing;
    op_t *waiting;                      //  ops waiting for routing
    op_t *waiting_tail;
    bool ticking;
} cstate_t;

static void s_dispatch (cstate_t *self, op_t *op);
static void s_refresh (cstate_t *self);

static int64_t
s_now (cstate_t *self)
{
    return actor_now_ms (self->self);
}

static void
s_complete (op_t *op, int status, const char *error, msg_t **reply_p)
{
    msg_destroy (&op->request);
    //  A sync op lives on its caller's stack, which `done` releases: read
    //  nothing from it after the call.
    bool heap = op->heap;
    op->done (op, status, error, reply_p);
    if (heap)
        free (op);
}

static void
s_set_meta (cstate_t *self, size_t index)
{
    self->meta_index = index % self->nmetas;
    char address [400];
    snprintf (address, sizeof address, "%s/meta", self->metas [self->meta_index]);
    actor_unref (&self->meta);
    self->meta = rt_lookup (actor_rt (self->self), address);
}

static void
s_wait_for_routing (cstate_t *self, op_t *op)
{
    op->next = NULL;
    if (self->waiting_tail)
        self->waiting_tail->next = op;
    else
        self->waiting = op;
    self->waiting_tail = op;
    if (!self->ticking) {
        //  Deadlines of waiting ops are checked on a tick.
        msg_t *tick = msg_new_local (&s_kind_tick, 0, NULL);
        if (actor_send_after (self->self, 20, &tick))
            self->ticking = true;
    }
    s_refresh (self);
}

//  Fails waiting ops whose time is up; returns true if some still wait.
static bool
s_expire_waiting (cstate_t *self)
{
    int64_t now = s_now (self);
    op_t *keep = NULL, *keep_tail = NULL;
    op_t *op = self->waiting;
    while (op) {
        op_t *next = op->next;
        if (now >= op->deadline_ms) {
            char error [400];
            snprintf (error, sizeof error, "no routing for table %s before the deadline%s%s",
                      self->table, *op->last_error ? ": " : "", op->last_error);
            s_complete (op, PG__STATUS__TIMEOUT, error, NULL);
        }
        else {
            op->next = NULL;
            if (keep_tail)
                keep_tail->next = op;
            else
                keep = op;
            keep_tail = op;
        }
        op = next;
    }
    self->waiting = keep;
    self->waiting_tail = keep_tail;
    return keep != NULL;
}

static void
s_on_config (actor_t *actor, msg_t **reply_p, void *arg)
{
    (void) arg;
    cstate_t *self = actor_state (actor);
    self->refreshing = false;
    int status = msg_status (*reply_p);
    if (status == PG__STATUS__APP_NOT_EXIST) {
        //  The table is gone: nothing waiting can succeed.
        while (self->waiting) {
            op_t *op = self->waiting;
            self->waiting = op->next;
            s_complete (op, status, msg_error (*reply_p), NULL);
        }
        self->waiting_tail = NULL;
        return;
    }
    if (status != PG__STATUS__OK || !msg_is (*reply_p, &pg__query_config_reply__descriptor)) {
        //  Try the next meta server; the waiting ops keep their deadlines.
        for (op_t *op = self->waiting; op; op = op->next)
            snprintf (op->last_error, sizeof op->last_error, "meta %s: %s %s",
                      self->metas [self->meta_index], status_name (status), msg_error (*reply_p));
        s_set_meta (self, self->meta_index + 1);
        if (self->waiting) {
            msg_t *retry = msg_new_local (&s_kind_retry, sizeof (op_t *), NULL);
            actor_send_after (actor, 50, &retry);   //  a NULL op: refresh again
        }
        return;
    }
    Pg__QueryConfigReply *config = msg_body (*reply_p);
    uint32_t count = config->app->partition_count;
    if (count != self->partition_count || config->app->app_id != self->app_id) {
        for (uint32_t i = 0; i < self->partition_count; i++)
            actor_unref (&self->primaries [i]);
        free (self->primaries);
        self->primaries = calloc (count, sizeof *self->primaries);
        self->partition_count = self->primaries ? count : 0;
        self->app_id = config->app->app_id;
        atomic_store (&self->client->partition_count, self->partition_count);
    }
    for (size_t i = 0; i < config->n_partitions && i < self->partition_count; i++) {
        Pg__PartitionConfig *p = config->partitions [i];
        actor_unref (&self->primaries [i]);
        if (*p->primary) {
            char address [400];
            snprintf (address, sizeof address, "%s/r.%u.%u", p->primary, p->app_id,
                      p->partition_index);
            self->primaries [i] = rt_lookup (actor_rt (actor), address);
        }
    }
    op_t *op = self->waiting;
    self->waiting = self->waiting_tail = NULL;
    while (op) {
        op_t *next = op->next;
        s_dispatch (self, op);
        op = next;
    }
}

static void
s_refresh (cstate_t *self)
{
    if (self->refreshing)
        return;
    Pg__QueryConfigRequest *req;
    msg_t *msg = msg_new (&pg__query_config_request__descriptor, (void **) &req);
    if (!msg)
        return;
    req->app_name = msg_strdup (msg, self->table);
    if (actor_ask (self->self, self->meta, &msg, ROUTING_TIMEOUT_MS, s_on_config, NULL)
        == PG__STATUS__OK)
        self->refreshing = true;
}

static void
s_forget_primary (cstate_t *self, op_t *op)
{
    if (op->target >= 0 && (uint32_t) op->target < self->partition_count)
        actor_unref (&self->primaries [op->target]);
}

//  Schedules op again after a backoff, or fails it if time is up.
static void
s_retry_later (cstate_t *self, op_t *op)
{
    int64_t now = s_now (self);
    int64_t backoff = 10LL << (op->attempts < 7 ? op->attempts : 7);
    if (backoff > 1000)
        backoff = 1000;
    backoff = backoff / 2 + (int64_t) rtrand_below (actor_random (self->self), (uint64_t) backoff);
    if (now + backoff >= op->deadline_ms) {
        //  Only refusals get here (an ambiguous write is never retried),
        //  so the last refusal is the answer: the op did not run.
        char error [400];
        snprintf (error, sizeof error, "still refused at the deadline: %s",
                  op->last_error);
        s_complete (op, op->last_status ? op->last_status : PG__STATUS__TIMEOUT, error, NULL);
        return;
    }
    op_t **body;
    msg_t *retry = msg_new_local (&s_kind_retry, sizeof op, (void **) &body);
    if (!retry) {
        s_complete (op, PG__STATUS__INTERNAL, "out of memory", NULL);
        return;
    }
    *body = op;
    if (!actor_send_after (self->self, backoff, &retry))
        s_complete (op, PG__STATUS__INTERNAL, "cannot schedule a retry", NULL);
}

static void
s_on_reply (actor_t *actor, msg_t **reply_p, void *arg)
{
    cstate_t *self = actor_state (actor);
    op_t *op = arg;
    int status = msg_status (*reply_p);
    op->last_status = status;
    snprintf (op->last_error, sizeof op->last_error, "%s", msg_error (*reply_p));
    switch (status) {
        case PG__STATUS__INVALID_STATE:
        case PG__STATUS__NO_ACTOR:
        case PG__STATUS__SPLITTING:
            //  Not run: the routing is stale.
            s_forget_primary (self, op);
            s_refresh (self);
            s_retry_later (self, op);
            return;
        case PG__STATUS__BUSY:
        case PG__STATUS__NOT_ENOUGH_MEMBER:
            s_retry_later (self, op);
            return;
        case PG__STATUS__TIMEOUT:
        case PG__STATUS__UNREACHABLE:
        case PG__STATUS__SHUTDOWN:
        case PG__STATUS__OUTCOME_UNKNOWN:
            //  The primary may be gone: the next op must not go there
            //  blindly, whether or not this one is retried.
            s_forget_primary (self, op);
            s_refresh (self);
            if (op->idempotent) {
                s_retry_later (self, op);
                return;
            }
            break;
        default:
            break;
    }
    s_complete (op, status, msg_error (*reply_p), reply_p);
}

//  Sets the request's `route` field (every data request has one).
static void
s_set_route (msg_t *request, const Pg__Route *route)
{
    const ProtobufCMessageDescriptor *desc = request->kind;
    const ProtobufCFieldDescriptor *field = protobuf_c_message_descriptor_get_field_by_name (desc, "route");
    if (field)
        *(const Pg__Route **) ((char *) msg_body (request) + field->offset) = route;
}

static void
s_dispatch (cstate_t *self, op_t *op)
{
    if (s_now (self) >= op->deadline_ms) {
        s_complete (op, PG__STATUS__TIMEOUT, "the deadline passed before the request went out", NULL);
        return;
    }
    if (!self->partition_count) {
        s_wait_for_routing (self, op);
        return;
    }
    uint32_t partition = op->partition >= 0 ? (uint32_t) op->partition
                       : key_partition (op->hash, self->partition_count);
    if (partition >= self->partition_count) {
        s_complete (op, PG__STATUS__INVALID_ARGUMENT, "no such partition", NULL);
        return;
    }
    actor_t *target = self->primaries [partition];
    if (!target) {
        s_wait_for_routing (self, op);
        return;
    }
    Pg__Route route = PG__ROUTE__INIT;
    route.app_id = self->app_id;
    route.partition_index = partition;
    route.partition_count = self->partition_count;
    s_set_route (op->request, &route);
    msg_t *attempt = msg_new_packing (msg_body (op->request));
    s_set_route (op->request, NULL);
    if (!attempt) {
        s_complete (op, PG__STATUS__INTERNAL, "out of memory", NULL);
        return;
    }
    op->target = (int32_t) partition;
    op->attempts++;
    int64_t left = op->deadline_ms - s_now (self);
    int64_t timeout = op->idempotent && left > ATTEMPT_MAX_MS ? ATTEMPT_MAX_MS : left;
    int rc = actor_ask (self->self, target, &attempt, timeout > 0 ? timeout : 1, s_on_reply, op);
    if (rc != PG__STATUS__OK) {
        op->last_status = rc;
        snprintf (op->last_error, sizeof op->last_error, "could not send");
        s_retry_later (self, op);
    }
}

static void
s_receive (actor_t *actor, msg_t **msg_p)
{
    cstate_t *self = actor_state (actor);
    msg_t *msg = *msg_p;
    if (msg_is (msg, &s_kind_op))
        s_dispatch (self, *(op_t **) msg_body (msg));
    else
    if (msg_is (msg, &s_kind_retry)) {
        op_t *op = msg_body (msg) ? *(op_t **) msg_body (msg) : NULL;
        if (op)
            s_dispatch (self, op);
        else
            s_refresh (self);
    }
    else
    if (msg_is (msg, &s_kind_tick)) {
        self->ticking = false;
        if (s_expire_waiting (self)) {
            msg_t *tick = msg_new_local (&s_kind_tick, 0, NULL);
            if (actor_send_after (actor, 20, &tick))
                self->ticking = true;
            s_refresh (self);
        }
    }
}

typedef struct {
    pegasus_client_t *client;
    const char *table;
    const char *meta;
} cargs_t;

static void
s_fini (actor_t *actor)
{
    cstate_t *self = actor_state (actor);
    if (!self)
        return;
    while (self->waiting) {
        op_t *op = self->waiting;
        self->waiting = op->next;
        s_complete (op, PG__STATUS__SHUTDOWN, "the client is closing", NULL);
    }
    for (uint32_t i = 0; i < self->partition_count; i++)
        actor_unref (&self->primaries [i]);
    free (self->primaries);
    for (size_t i = 0; i < self->nmetas; i++)
        free (self->metas [i]);
    free (self->metas);
    actor_unref (&self->meta);
    free (self->table);
    free (self);
    actor_set_state (actor, NULL);
}

static int
s_init (actor_t *actor, void *args)
{
    cargs_t *a = args;
    cstate_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    self->self = actor;
    self->client = a->client;
    actor_set_state (actor, self);
    self->table = strdup (a->table);
    //  Split the meta list.
    const char *p = a->meta;
    while (*p) {
        size_t len = strcspn (p, ",");
        if (len) {
            char **grown = realloc (self->metas, (self->nmetas + 1) * sizeof *grown);
            if (!grown)
                break;
            self->metas = grown;
            self->metas [self->nmetas++] = strndup (p, len);
        }
        p += len + (p [len] == ',');
    }
    if (!self->table || !self->nmetas) {
        s_fini (actor);
        return -1;
    }
    s_set_meta (self, 0);
    return self->meta ? 0 : -1;
}

static const actor_ops_t s_ops = { "pegasus.client", s_init, s_receive, s_fini };

//  ---------------------------------------------------------------------------
//  Executing ops

int64_t
pegasus_deadline (pegasus_client_t *self, int timeout_ms)
{
    return rtclock_mono_ms (rt_clock (self->rt))
         + (timeout_ms > 0 ? timeout_ms : self->default_timeout_ms);
}

static int
s_submit (pegasus_client_t *self, op_t *op)
{
    op_t **body;
    msg_t *msg = msg_new_local (&s_kind_op, sizeof op, (void **) &body);
    if (!msg)
        return pegasus_fail (PEGASUS_INTERNAL, "out of memory");
    *body = op;
    int rc = rt_send (self->rt, self->actor, &msg);
    if (rc != PG__STATUS__OK)
        return pegasus_fail (rc, "the client is overloaded (%s)", status_name (rc));
    return PEGASUS_OK;
}

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    int status;
    char error [256];
    msg_t *reply;
} waiter_t;

static void
s_done_sync (op_t *op, int status, const char *error, msg_t **reply_p)
{
    waiter_t *w = op->arg;
    pthread_mutex_lock (&w->lock);
    w->status = status;
    snprintf (w->error, sizeof w->error, "%s", error ? error : "");
    if (reply_p) {
        w->reply = *reply_p;
        *reply_p = NULL;
    }
    w->done = true;
    pthread_cond_signal (&w->cond);
    pthread_mutex_unlock (&w->lock);
}

int
pegasus_execute (pegasus_client_t *self, msg_t **request_p, uint64_t hash, int32_t partition,
                 bool idempotent, int timeout_ms, msg_t **reply_p)
{
    *reply_p = NULL;
    waiter_t w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0, "", NULL };
    op_t op = { 0 };
    op.request = *request_p;
    *request_p = NULL;
    if (!op.request)
        return pegasus_fail (PEGASUS_INTERNAL, "out of memory");
    op.hash = hash;
    op.partition = partition;
    op.target = -1;
    op.idempotent = idempotent;
    op.deadline_ms = pegasus_deadline (self, timeout_ms);
    op.done = s_done_sync;
    op.arg = &w;
    int rc = s_submit (self, &op);
    if (rc != PEGASUS_OK) {
        msg_destroy (&op.request);
        return rc;
    }
    pthread_mutex_lock (&w.lock);
    while (!w.done)
        pthread_cond_wait (&w.cond, &w.lock);
    pthread_mutex_unlock (&w.lock);
    *reply_p = w.reply;
    if (w.status != PEGASUS_OK)
        pegasus_fail (w.status, "%s", *w.error ? w.error : status_name (w.status));
    return w.status;
}

int
pegasus_execute_async (pegasus_client_t *self, msg_t **request_p, uint64_t hash,
                       int32_t partition, bool idempotent, int timeout_ms,
                       op_done_fn *done, void *arg)
{
    op_t *op = calloc (1, sizeof *op);
    if (!op || !*request_p) {
        free (op);
        msg_destroy (request_p);
        return pegasus_fail (PEGASUS_INTERNAL, "out of memory");
    }
    op->request = *request_p;
    *request_p = NULL;
    op->hash = hash;
    op->partition = partition;
    op->target = -1;
    op->idempotent = idempotent;
    op->deadline_ms = pegasus_deadline (self, timeout_ms);
    op->done = done;
    op->arg = arg;
    op->heap = true;
    int rc = s_submit (self, op);
    if (rc != PEGASUS_OK) {
        msg_destroy (&op->request);
        free (op);
    }
    return rc;
}

//  ---------------------------------------------------------------------------
//  Open and close

int
pegasus_node_call (rt_t *rt, const char *node, const char *name, msg_t **request_p,
                   int timeout_ms, msg_t **reply_p)
{
    *reply_p = NULL;
    char address [400];
    actor_t *target = NULL;
    int len = node && strchr (node, ':') ? snprintf (address, sizeof address, "%.255s/%.64s",
                                                      node, name) : -1;
    if (len > 0 && (size_t) len < sizeof address && strlen (node) < 256)
        target = rt_lookup (rt, address);
    int rc = !target ? PEGASUS_INVALID_ARGUMENT
           : !*request_p ? PEGASUS_INTERNAL
           : rt_call (rt, target, request_p, timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS,
                      reply_p);
    actor_unref (&target);
    msg_destroy (request_p);
    return rc;
}

int
pegasus_meta_call (rt_t *rt, const char *meta_servers, msg_t **request_p, int timeout_ms,
                   msg_t **reply_p)
{
    *reply_p = NULL;
    msg_t *request = *request_p;
    *request_p = NULL;
    if (!request)
        return pegasus_fail (PEGASUS_INTERNAL, "out of memory");
    int rc = PEGASUS_UNREACHABLE;
    char why [400] = "no meta server given";
    const char *p = meta_servers;
    int64_t until = rtclock_mono_ms (rt_clock (rt)) + (timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS);
    while (*p) {
        size_t len = strcspn (p, ",");
        int64_t left = until - rtclock_mono_ms (rt_clock (rt));
        if (len && left > 0) {
            char address [400];
            snprintf (address, sizeof address, "%.*s/meta", (int) len, p);
            actor_t *meta = rt_lookup (rt, address);
            msg_t *copy = meta ? msg_new_packing (msg_body (request)) : NULL;
            if (!meta) {
                snprintf (why, sizeof why, "'%.*s' is not a host:port", (int) len, p);
                rc = PEGASUS_INVALID_ARGUMENT;
            }
            else {
                msg_destroy (reply_p);
                rc = rt_call (rt, meta, &copy, left, reply_p);
                snprintf (why, sizeof why, "meta %.*s: %s", (int) len, p,
                          *reply_p ? msg_error (*reply_p) : status_name (rc));
            }
            actor_unref (&meta);
            //  Only an unreachable server makes us try the next one.
            if (rc != PEGASUS_TIMEOUT && rc != PEGASUS_UNREACHABLE && rc != PEGASUS_NO_ACTOR
            &&  rc != PEGASUS_INVALID_ARGUMENT)
                break;
        }
        p += len + (p [len] == ',');
    }
    msg_destroy (&request);
    if (rc != PEGASUS_OK)
        pegasus_fail (rc, "%s", why);
    return rc;
}

pegasus_client_t *
pegasus_client_open (const char *meta_servers, const char *table, int timeout_ms)
{
    if (!meta_servers || !*meta_servers || !table || !*table) {
        pegasus_fail (PEGASUS_INVALID_ARGUMENT, "a meta server list and a table name are needed");
        return NULL;
    }
    pegasus_client_t *self = calloc (1, sizeof *self);
    if (!self) {
        pegasus_fail (PEGASUS_INTERNAL, "out of memory");
        return NULL;
    }
    self->rt = pegasus_runtime_acquire ();
    self->table = strdup (table);
    self->meta = strdup (meta_servers);
    self->default_timeout_ms = timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS;
    if (!self->rt || !self->table || !self->meta) {
        pegasus_fail (PEGASUS_INTERNAL, "cannot start the client runtime");
        pegasus_client_close (&self);
        return NULL;
    }
    //  The table must exist: ask once before handing out a client.
    Pg__QueryConfigRequest *req;
    msg_t *query = msg_new (&pg__query_config_request__descriptor, (void **) &req), *reply;
    if (query)
        req->app_name = msg_strdup (query, table);
    int rc = pegasus_meta_call (self->rt, meta_servers, &query, timeout_ms, &reply);
    if (rc == PEGASUS_OK)
        atomic_store (&self->partition_count,
                      ((Pg__QueryConfigReply *) msg_body (reply))->app->partition_count);
    msg_destroy (&reply);
    if (rc != PEGASUS_OK) {
        char why [512];
        snprintf (why, sizeof why, "%s", pegasus_errmsg ());
        pegasus_client_close (&self);
        pegasus_fail (rc, "cannot open table %s: %s", table, why);
        return NULL;
    }
    static _Atomic unsigned s_count;
    char name [64];
    snprintf (name, sizeof name, "pegasus.client.%u", atomic_fetch_add (&s_count, 1));
    cargs_t args = { self, table, meta_servers };
    actor_opts_t opts = { .near_io = true, .mailbox_limit = 1000000 };
    self->actor = actor_spawn (self->rt, name, &s_ops, &args, &opts);
    if (!self->actor) {
        pegasus_client_close (&self);
        pegasus_fail (PEGASUS_INTERNAL, "cannot start the client actor");
        return NULL;
    }
    return self;
}

void
pegasus_client_close (pegasus_client_t **self_p)
{
    pegasus_client_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    actor_stop (&self->actor);          //  waiting ops complete with SHUTDOWN
    if (self->rt)
        pegasus_runtime_release ();
    free (self->table);
    free (self->meta);
    free (self);
}

int
pegasus_partition_count (pegasus_client_t *self)
{
    return (int) atomic_load (&self->partition_count);
}
