/*  transport: see transport.h.

    The outbox is an mpscq that starts parked, exactly like a mailbox: the
    push that unparks it writes one byte to a pipe the I/O thread polls, so
    a busy I/O thread is never woken by syscalls, and an idle one wakes once.

    The I/O thread also drives the scheduler's host worker (runtime/io_actors):
    between two polls it runs the actors pinned there, then drains what they
    sent. Their sends need no wake-up, and a message for them from the
    network is delivered and handled on this thread.

    Input is input: a frame's routing id, every envelope field and every
    payload may be garbage. Each problem is dropped, counted in rt stats and
    logged (rate-limited, one line per event), and a request that can be
    answered gets an error reply instead of a silent timeout.
*/
#include "runtime/transport.h"
#include "runtime/actor_impl.h"
#include "runtime/config.h"
#include "runtime/log.h"
#include "runtime/pool.h"
#include "runtime/registry.h"
#include "runtime/rt_impl.h"
#include "runtime/strmap.h"
#include "runtime/types.h"
#include "runtime/wire.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define DRAIN_LIMIT 4096            //  outbox packets per round before polling
#define HOST_TURNS 64               //  hosted actor turns per round
#define RECV_LIMIT 1024             //  frames per socket per round
#define SMALL_FRAME 4096            //  below this, zmq copies; above, zero-copy
#define PEER_IDLE_NS (600LL * 1000000000)
#define CLIENT_IDLE_NS (60LL * 1000000000)
#define MAX_PEERS 65536

typedef struct {
    mpscq_node_t node;
    uint32_t block;                 //  pool_alloc size
    uint32_t len;                   //  bytes of the batch item
    char *dest;                     //  destination node (inside the block)
    uint8_t data [];
} outpkt_t;

//  A frame ZeroMQ would not take yet (the peer's pipe is full).
typedef struct backlog_t {
    struct backlog_t *next;
    zmq_msg_t frame;
    size_t bytes;
} backlog_t;

typedef struct peer_t {
    char *name;
    void *dealer;                   //  servers; NULL for clients (via ROUTER)
    uint8_t *batch;                 //  frame being filled
    size_t len;
    struct peer_t *next_dirty;
    bool dirty;
    int64_t last_used_ns;
    backlog_t *backlog;             //  oldest first; sent when writable
    backlog_t *backlog_tail;
    size_t backlog_bytes;
} peer_t;

struct transport_t {
    rt_t *rt;
    void *ctx;
    void *router;
    int wake_read;
    int wake_write;
    mpscq_t outbox;                 //  count = bytes queued
    int64_t outbox_limit;
    size_t max_frame;
    size_t batch_bytes;
    size_t peer_backlog;
    int sndhwm;
    int linger_ms;
    int reconnect_ms;
    int tcp_max_rt_ms;                  //  0: the kernel's default
    pthread_t thread;
    bool started;
    bool stopped;
    _Atomic bool stop;
    //  I/O thread only:
    strmap_t *peers;
    peer_t *dirty;
    strmap_t *cache;                //  actor name -> actor_t * (reference)
    uint64_t cache_gen;
    zmq_pollitem_t *items;
    peer_t **item_peers;
    size_t nitems;
    bool items_stale;
    int64_t last_housekeeping_ns;
    log_limit_t limit_bad;
    log_limit_t limit_no_actor;
    log_limit_t limit_unroutable;
};

static _Thread_local transport_t *t_io;    //  set on the I/O thread

//  ---------------------------------------------------------------------------
//  Names

static bool
s_valid_node (const char *name, size_t len)
{
    if (len == 0 || len > 255)
        return false;
    for (size_t i = 0; i < len; i++)
        if (name [i] < 0x21 || name [i] > 0x7e || name [i] == '/')
            return false;
    return true;
}

bool
transport_node_is_server (const char *node)
{
    const char *colon = strrchr (node, ':');
    if (!colon || colon == node || !colon [1])
        return false;
    for (const char *p = colon + 1; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return atoi (colon + 1) > 0 && atoi (colon + 1) < 65536;
}

//  Printable copy of untrusted bytes, for log lines.
static const char *
s_printable (const void *data, size_t len, char *out, size_t size)
{
    const unsigned char *p = data;
    size_t n = 0;
    for (size_t i = 0; i < len && n + 5 < size; i++) {
        if (p [i] >= 0x20 && p [i] < 0x7f && p [i] != '\\')
            out [n++] = (char) p [i];
        else
            n += (size_t) snprintf (out + n, size - n, "\\x%02x", p [i]);
    }
    out [n] = 0;
    return out;
}

//  ---------------------------------------------------------------------------
//  Set-up

static int
s_set_int (void *socket, int option, int value)
{
    return zmq_setsockopt (socket, option, &value, sizeof value);
}

static void
s_socket_options (transport_t *self, void *socket)
{
    int64_t max = (int64_t) self->max_frame * 2 + 65536;
    zmq_setsockopt (socket, ZMQ_MAXMSGSIZE, &max, sizeof max);
    s_set_int (socket, ZMQ_SNDHWM, self->sndhwm);
    s_set_int (socket, ZMQ_RCVHWM, self->sndhwm);
    s_set_int (socket, ZMQ_LINGER, self->linger_ms);
    s_set_int (socket, ZMQ_TCP_KEEPALIVE, 1);
    //  A connection whose data goes unacknowledged this long (the network
    //  is cut) is reset and made again: after the network heals, traffic
    //  resumes at the next reconnect, not at TCP's next retransmission,
    //  which after a long cut is minutes away. Not ZeroMQ's heartbeats:
    //  in libzmq 4.3 a heartbeat can fire on a connection whose input was
    //  stopped by a full pipe and abort the process
    //  (stream_engine_base.cpp: out_event asserts !_io_error).
    if (self->tcp_max_rt_ms)
        s_set_int (socket, ZMQ_TCP_MAXRT, self->tcp_max_rt_ms);
}

transport_t *
transport_new (rt_t *rt, zconfig_t *config)
{
    int64_t max_frame, batch_bytes, outbox_limit, sndhwm, linger, reconnect, backlog;
    int64_t max_rt;
    if (config_size (config, "transport/max_frame", 16 << 20, 1024, 1LL << 30, &max_frame)
    ||  config_size (config, "transport/peer_backlog", 16 << 20, 0, 1LL << 40, &backlog)
    ||  config_size (config, "transport/batch_bytes", 64 << 10, 512, 16 << 20, &batch_bytes)
    ||  config_size (config, "transport/outbox_limit", 64 << 20, 64 << 10, 1LL << 40, &outbox_limit)
    ||  config_int (config, "transport/sndhwm", 1000, 1, 1000000, &sndhwm)
    ||  config_int (config, "transport/linger_ms", 1000, 0, 600000, &linger)
    ||  config_int (config, "transport/reconnect_ms", 100, 1, 60000, &reconnect)
    ||  config_int (config, "transport/tcp_max_rt_ms", 5000, 0, 3600000, &max_rt))
        return NULL;
    const char *bind = config_str (config, "transport/bind", "");
    const char *advertise = config_str (config, "transport/advertise", "");

    transport_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->rt = rt;
    self->max_frame = (size_t) max_frame;
    self->batch_bytes = (size_t) batch_bytes;
    self->peer_backlog = (size_t) backlog;
    self->outbox_limit = outbox_limit;
    self->sndhwm = (int) sndhwm;
    self->linger_ms = (int) linger;
    self->reconnect_ms = (int) reconnect;
    self->tcp_max_rt_ms = (int) max_rt;
    self->wake_read = self->wake_write = -1;
    mpscq_init (&self->outbox, true);
    self->peers = strmap_new ();
    self->cache = strmap_new ();
    self->ctx = zmq_ctx_new ();
    int fds [2];
    if (!self->peers || !self->cache || !self->ctx || pipe (fds)) {
        log_error ("transport: cannot set up (%s)", strerror (errno));
        transport_destroy (&self);
        return NULL;
    }
    self->wake_read = fds [0];
    self->wake_write = fds [1];
    for (int i = 0; i < 2; i++) {
        fcntl (fds [i], F_SETFL, fcntl (fds [i], F_GETFL) | O_NONBLOCK);
        fcntl (fds [i], F_SETFD, FD_CLOEXEC);
    }
    zmq_ctx_set (self->ctx, ZMQ_IO_THREADS, 1);
    zmq_ctx_set (self->ctx, ZMQ_BLOCKY, 0);

    if (*bind) {
        const char *colon = strrchr (bind, ':');
        char *end = NULL;
        long port = colon ? strtol (colon + 1, &end, 10) : -1;
        if (!colon || colon == bind || !end || *end || port < 0 || port > 65535
        ||  (size_t) (colon - bind) > 200) {
            log_error ("config: transport/bind = '%s': expected host:port", bind);
            transport_destroy (&self);
            return NULL;
        }
        char endpoint [256];
        if (port == 0)
            snprintf (endpoint, sizeof endpoint, "tcp://%.*s:*", (int) (colon - bind), bind);
        else
            snprintf (endpoint, sizeof endpoint, "tcp://%s", bind);
        self->router = zmq_socket (self->ctx, ZMQ_ROUTER);
        s_socket_options (self, self->router);
        s_set_int (self->router, ZMQ_ROUTER_MANDATORY, 1);
        s_set_int (self->router, ZMQ_ROUTER_HANDOVER, 1);
        if (zmq_bind (self->router, endpoint)) {
            log_error ("transport: cannot bind %s: %s", bind, zmq_strerror (errno));
            transport_destroy (&self);
            return NULL;
        }
        char last [256];
        size_t last_len = sizeof last;
        zmq_getsockopt (self->router, ZMQ_LAST_ENDPOINT, last, &last_len);
        const char *bound_port = strrchr (last, ':');
        if (*advertise)
            snprintf (rt->node, sizeof rt->node, "%s", advertise);
        else
            snprintf (rt->node, sizeof rt->node, "%.*s%s",
                      (int) (colon - bind), bind, bound_port ? bound_port : ":0");
        if (!transport_node_is_server (rt->node) || !strncmp (rt->node, "0.0.0.0:", 8)
        ||  !strncmp (rt->node, "*:", 2)) {
            log_error ("config: node address '%s' is not one peers can reach; "
                       "set transport/advertise = host:port", rt->node);
            transport_destroy (&self);
            return NULL;
        }
    }
    else {
        rtrand_t rand;
        rtrand_seed (&rand, rt->seed ^ (uint64_t) rtclock_wall_ms (&rt->clock));
        snprintf (rt->node, sizeof rt->node, "c-%016llx",
                  (unsigned long long) rtrand_next (&rand));
    }
    self->items_stale = true;
    return self;
}

//  ---------------------------------------------------------------------------
//  Peers and frames (I/O thread)

static void
s_peer_free (peer_t *peer)
{
    while (peer->backlog) {
        backlog_t *item = peer->backlog;
        peer->backlog = item->next;
        zmq_msg_close (&item->frame);
        free (item);
    }
    if (peer->dealer)
        zmq_close (peer->dealer);
    free (peer->batch);
    free (peer->name);
    free (peer);
}

static peer_t *
s_peer (transport_t *self, const char *name)
{
    peer_t *peer = strmap_get (self->peers, name);
    if (peer)
        return peer;
    if (strmap_size (self->peers) >= MAX_PEERS)
        return NULL;
    peer = calloc (1, sizeof *peer);
    if (!peer || !(peer->name = strdup (name))) {
        free (peer);
        return NULL;
    }
    if (transport_node_is_server (name)) {
        peer->dealer = zmq_socket (self->ctx, ZMQ_DEALER);
        s_socket_options (self, peer->dealer);
        const char *me = self->rt->node;
        zmq_setsockopt (peer->dealer, ZMQ_ROUTING_ID, me, strlen (me));
        s_set_int (peer->dealer, ZMQ_RECONNECT_IVL, self->reconnect_ms);
        s_set_int (peer->dealer, ZMQ_RECONNECT_IVL_MAX, 2000);
        char endpoint [300];
        snprintf (endpoint, sizeof endpoint, "tcp://%s", name);
        if (zmq_connect (peer->dealer, endpoint)) {
            log_warning ("transport: cannot connect to %s: %s", name, zmq_strerror (errno));
            s_peer_free (peer);
            return NULL;
        }
        self->items_stale = true;
    }
    if (strmap_put (self->peers, name, peer)) {
        s_peer_free (peer);
        return NULL;
    }
    return peer;
}

static void
s_free_block (void *data, void *hint)
{
    (void) data;
    free (hint);
}

static void
s_free_pkt (void *data, void *hint)
{
    (void) data;
    outpkt_t *pkt = hint;
    pool_free (pkt, pkt->block);
}

//  Bytes are charged to the outbox budget from transport_send until ZeroMQ
//  takes them (or they are dropped): so a peer that cannot keep up fills
//  the budget and senders get BUSY, instead of messages vanishing.
static inline void
s_release (transport_t *self, size_t bytes)
{
    atomic_fetch_sub_explicit (&self->outbox.count, (int64_t) bytes, memory_order_relaxed);
}

static void
s_drop_frame (transport_t *self, peer_t *peer, zmq_msg_t *frame, size_t bytes,
              const char *why)
{
    zmq_msg_close (frame);
    s_release (self, bytes);
    RT_COUNT (self->rt, dropped_unroutable);
    uint32_t suppressed;
    if (log_limit_allow (&self->limit_unroutable, 5, &suppressed))
        log_warning ("transport: frame of %zu bytes to %s dropped: %s (%u more suppressed)",
                     bytes, peer->name, why, suppressed);
}

static void
s_backlog (transport_t *self, peer_t *peer, zmq_msg_t *frame, size_t bytes)
{
    backlog_t *item = malloc (sizeof *item);
    if (!item || peer->backlog_bytes + bytes > self->peer_backlog) {
        free (item);
        s_drop_frame (self, peer, frame, bytes, "peer is not reading and its backlog is full");
        return;
    }
    zmq_msg_init (&item->frame);
    zmq_msg_move (&item->frame, frame);
    zmq_msg_close (frame);
    item->bytes = bytes;
    item->next = NULL;
    if (peer->backlog_tail)
        peer->backlog_tail->next = item;
    else {
        peer->backlog = item;
        self->items_stale = true;       //  poll it for POLLOUT from now on
    }
    peer->backlog_tail = item;
    peer->backlog_bytes += bytes;
}

//  Sends one frame of `bytes` charged bytes to a peer. Takes the message.
static void
s_send_frame (transport_t *self, peer_t *peer, zmq_msg_t *frame, size_t bytes)
{
    if (peer->backlog) {
        s_backlog (self, peer, frame, bytes);      //  keep the order
        return;
    }
    int rc;
    if (peer->dealer)
        rc = zmq_msg_send (frame, peer->dealer, ZMQ_DONTWAIT);
    else
    if (self->router) {
        rc = zmq_send (self->router, peer->name, strlen (peer->name), ZMQ_SNDMORE | ZMQ_DONTWAIT);
        if (rc >= 0)
            rc = zmq_msg_send (frame, self->router, ZMQ_DONTWAIT);
    }
    else {
        rc = -1;
        errno = EHOSTUNREACH;
    }
    if (rc >= 0) {
        s_release (self, bytes);
        RT_COUNT (self->rt, frames_out);
    }
    else
    if (errno == EAGAIN && peer->dealer)
        s_backlog (self, peer, frame, bytes);
    else
        s_drop_frame (self, peer, frame, bytes,
                      errno == EAGAIN ? "client is not reading" : zmq_strerror (errno));
}

//  The peer's socket is writable again: send what waited.
static void
s_send_backlog (transport_t *self, peer_t *peer)
{
    while (peer->backlog) {
        backlog_t *item = peer->backlog;
        if (zmq_msg_send (&item->frame, peer->dealer, ZMQ_DONTWAIT) < 0) {
            if (errno == EAGAIN)
                return;
            s_drop_frame (self, peer, &item->frame, item->bytes, zmq_strerror (errno));
        }
        else {
            s_release (self, item->bytes);
            RT_COUNT (self->rt, frames_out);
        }
        peer->backlog = item->next;
        peer->backlog_bytes -= item->bytes;
        free (item);
    }
    peer->backlog_tail = NULL;
    self->items_stale = true;           //  stop polling for POLLOUT
}

static void
s_flush_peer (transport_t *self, peer_t *peer)
{
    if (!peer->len)
        return;
    zmq_msg_t frame;
    if (peer->len <= SMALL_FRAME) {
        zmq_msg_init_size (&frame, peer->len);
        memcpy (zmq_msg_data (&frame), peer->batch, peer->len);
    }
    else {
        //  Hand the buffer to ZeroMQ; a fresh one is allocated next time.
        zmq_msg_init_data (&frame, peer->batch, peer->len, s_free_block, peer->batch);
        peer->batch = NULL;
    }
    size_t bytes = peer->len;
    peer->len = 0;
    s_send_frame (self, peer, &frame, bytes);
}

static void
s_flush (transport_t *self)
{
    while (self->dirty) {
        peer_t *peer = self->dirty;
        self->dirty = peer->next_dirty;
        peer->dirty = false;
        s_flush_peer (self, peer);
    }
}

static void
s_append (transport_t *self, peer_t *peer, const void *data, size_t len)
{
    if (peer->len && peer->len + len > self->batch_bytes)
        s_flush_peer (self, peer);
    if (!peer->batch) {
        peer->batch = malloc (self->batch_bytes);
        if (!peer->batch) {
            s_release (self, len);
            RT_COUNT (self->rt, dropped_unroutable);
            return;
        }
    }
    memcpy (peer->batch + peer->len, data, len);
    peer->len += len;
    if (!peer->dirty) {
        peer->dirty = true;
        peer->next_dirty = self->dirty;
        self->dirty = peer;
    }
    RT_COUNT (self->rt, envelopes_out);
}

static void
s_route (transport_t *self, outpkt_t *pkt)
{
    peer_t *peer = s_peer (self, pkt->dest);
    if (!peer) {
        s_release (self, pkt->len);
        RT_COUNT (self->rt, dropped_unroutable);
        pool_free (pkt, pkt->block);
        return;
    }
    peer->last_used_ns = rtclock_mono_ns (&self->rt->clock);
    if (pkt->len * 2 >= self->batch_bytes) {
        //  Big: keep order with what is batched, then send it as its own
        //  frame without copying.
        s_flush_peer (self, peer);
        zmq_msg_t frame;
        size_t bytes = pkt->len;
        zmq_msg_init_data (&frame, pkt->data, pkt->len, s_free_pkt, pkt);
        RT_COUNT (self->rt, envelopes_out);
        s_send_frame (self, peer, &frame, bytes);
        return;
    }
    s_append (self, peer, pkt->data, pkt->len);
    pool_free (pkt, pkt->block);
}

//  Drains up to DRAIN_LIMIT packets. Returns true if the outbox is still
//  active (more to do), false once it is parked.
static bool
s_drain_outbox (transport_t *self)
{
    int n = 0;
    for (;;) {
        int before = n;
        mpscq_node_t *node;
        while (n < DRAIN_LIMIT && (node = mpscq_pop (&self->outbox))) {
            s_route (self, (outpkt_t *) node);
            n++;
        }
        s_flush (self);
        if (n >= DRAIN_LIMIT)
            return true;
        if (mpscq_park (&self->outbox))
            return false;
        if (n == before)
            return true;        //  a push is mid-flight: poll briefly, retry
    }
}

//  ---------------------------------------------------------------------------
//  Input (I/O thread)

static void
s_reply_error (transport_t *self, const char *src, const wire_env_t *req,
               int status, const char *error)
{
    if (!req->from_actor_len || !(req->flags & MSG_REQUEST))
        return;
    peer_t *peer = s_peer (self, src);
    if (!peer)
        return;
    wire_env_t env = { 0 };
    env.to_actor = req->from_actor;
    env.to_actor_len = req->from_actor_len;
    env.corr = req->corr;
    env.flags = MSG_REPLY;
    env.status = (uint32_t) status;
    env.error = error;
    env.error_len = strlen (error);
    uint8_t buffer [1024];
    if (wire_item_size (&env, 0) > sizeof buffer)
        return;
    uint8_t *end = wire_item_encode (buffer, &env, 0);
    //  Charged like any other message, and released when sent.
    atomic_fetch_add_explicit (&self->outbox.count, end - buffer, memory_order_relaxed);
    s_append (self, peer, buffer, (size_t) (end - buffer));
}

static void
s_cache_clear (transport_t *self)
{
    size_t cursor = 0;
    const char *name;
    void *value;
    while (strmap_next (self->cache, &cursor, &name, &value) == 0) {
        actor_t *actor = value;
        actor_unref (&actor);
    }
    strmap_destroy (&self->cache);
    self->cache = strmap_new ();
}

static actor_t *
s_lookup (transport_t *self, const char *name, size_t len)
{
    uint64_t gen = registry_gen (self->rt->registry);
    if (gen != self->cache_gen) {
        //  Some actor died: forget every reference (lookups are cheap).
        s_cache_clear (self);
        self->cache_gen = gen;
    }
    if (!self->cache)
        return NULL;
    actor_t *actor = strmap_getn (self->cache, name, len);
    if (actor)
        return actor;
    actor = registry_get (self->rt->registry, name, len);
    if (actor) {
        char key [129];
        memcpy (key, name, len);
        key [len] = 0;
        if (strmap_put (self->cache, key, actor))
            actor_unref (&actor);       //  no memory: do without the cache
    }
    return actor;
}

static void
s_on_envelope (transport_t *self, const char *src, const wire_env_t *env)
{
    rt_t *rt = self->rt;
    char text [300];
    uint32_t suppressed;
    RT_COUNT (rt, envelopes_in);
    if (!registry_valid_name (env->to_actor, env->to_actor_len)
    ||  (env->from_actor_len && !registry_valid_name (env->from_actor, env->from_actor_len))
    ||  (env->flags & ~(MSG_REQUEST | MSG_REPLY))
    ||  (env->flags == (MSG_REQUEST | MSG_REPLY))) {
        RT_COUNT (rt, dropped_bad);
        if (log_limit_allow (&self->limit_bad, 5, &suppressed))
            log_warning ("transport: envelope from %s dropped: bad actor name '%s' or flags %u "
                         "(%u more suppressed)", src,
                         s_printable (env->to_actor, env->to_actor_len, text, 64),
                         env->flags, suppressed);
        return;
    }
    actor_t *actor = s_lookup (self, env->to_actor, env->to_actor_len);
    if (!actor) {
        RT_COUNT (rt, dropped_no_actor);
        s_printable (env->to_actor, env->to_actor_len, text, sizeof text);
        if (log_limit_allow (&self->limit_no_actor, 5, &suppressed))
            log_notice ("transport: envelope from %s for unknown actor %s dropped "
                        "(%u more suppressed)", src, text, suppressed);
        char error [600];
        snprintf (error, sizeof error, "no actor %s on %s", text, rt->node);
        s_reply_error (self, src, env, PG__STATUS__NO_ACTOR, error);
        return;
    }
    const ProtobufCMessageDescriptor *desc = NULL;
    if (env->type && !(desc = types_find (env->type))) {
        RT_COUNT (rt, dropped_bad);
        if (log_limit_allow (&self->limit_bad, 5, &suppressed))
            log_warning ("transport: envelope from %s has unknown type %08x (%u more suppressed)",
                         src, env->type, suppressed);
        snprintf (text, sizeof text, "unknown message type %08x", env->type);
        s_reply_error (self, src, env, PG__STATUS__BAD_MESSAGE, text);
        return;
    }
    if (!desc && env->payload_len) {
        RT_COUNT (rt, dropped_bad);
        s_reply_error (self, src, env, PG__STATUS__BAD_MESSAGE, "payload without a type");
        return;
    }
    size_t src_len = strlen (src);
    size_t strings = src_len + env->from_actor_len + env->error_len + 3;
    msg_t *msg = desc
        ? msg_new_packed (desc, env->type, env->payload, env->payload_len, strings)
        : msg_new_local (&actor_kind_empty, 0, NULL);
    if (!msg) {
        RT_COUNT (rt, dropped_busy);
        return;
    }
    char *from_node = msg_alloc (msg, src_len + 1);
    if (from_node) {
        memcpy (from_node, src, src_len + 1);
        msg->from_node = from_node;
    }
    if (env->from_actor_len) {
        char *from_actor = msg_alloc (msg, env->from_actor_len + 1);
        if (from_actor) {
            memcpy (from_actor, env->from_actor, env->from_actor_len);
            from_actor [env->from_actor_len] = 0;
            msg->from_actor = from_actor;
        }
    }
    if (env->error_len) {
        char *error = msg_alloc (msg, env->error_len + 1);
        if (error) {
            memcpy (error, env->error, env->error_len);
            error [env->error_len] = 0;
            msg->error = error;
        }
    }
    msg->flags |= (uint16_t) env->flags;
    msg->corr = env->corr;
    msg->status = (uint16_t) (env->status > 0xFFFF ? PG__STATUS__INTERNAL : env->status);
    if ((env->flags & MSG_REQUEST) && env->timeout_ms)
        msg->deadline_ns = rtclock_mono_ns (&rt->clock) + (int64_t) env->timeout_ms * 1000000;
    int rc = actor_push (actor, msg, (env->flags & MSG_REPLY) != 0);
    if (rc == PG__STATUS__OK)
        return;
    msg_destroy (&msg);
    if (rc == PG__STATUS__BUSY) {
        RT_COUNT (rt, dropped_busy);
        snprintf (text, sizeof text, "actor %s is at its queue bound", actor->name);
    }
    else {
        RT_COUNT (rt, dropped_no_actor);
        snprintf (text, sizeof text, "actor %s stopped", actor->name);
    }
    s_reply_error (self, src, env, rc, text);
}

static void
s_on_frame (transport_t *self, const char *src, const uint8_t *data, size_t len)
{
    RT_COUNT (self->rt, frames_in);
    uint32_t suppressed;
    if (len > self->max_frame) {
        RT_COUNT (self->rt, dropped_too_large);
        if (log_limit_allow (&self->limit_bad, 5, &suppressed))
            log_warning ("transport: frame of %zu bytes from %s over transport/max_frame "
                         "(%zu) dropped (%u more suppressed)", len, src, self->max_frame,
                         suppressed);
        return;
    }
    const uint8_t *cursor = data, *end = data + len;
    wire_env_t env;
    int rc;
    while ((rc = wire_item_next (&cursor, end, &env)) == 1)
        s_on_envelope (self, src, &env);
    if (rc < 0) {
        RT_COUNT (self->rt, dropped_bad);
        if (log_limit_allow (&self->limit_bad, 5, &suppressed))
            log_warning ("transport: frame from %s malformed at byte %zu of %zu; rest "
                         "dropped (%u more suppressed)", src, (size_t) (cursor - data), len,
                         suppressed);
    }
}

//  Discards the rest of a multipart message (we send exactly one frame).
static void
s_skip_more (void *socket)
{
    int more = 1;
    size_t size = sizeof more;
    while (zmq_getsockopt (socket, ZMQ_RCVMORE, &more, &size) == 0 && more) {
        zmq_msg_t part;
        zmq_msg_init (&part);
        zmq_msg_recv (&part, socket, 0);
        zmq_msg_close (&part);
    }
}

static void
s_recv_router (transport_t *self)
{
    for (int i = 0; i < RECV_LIMIT; i++) {
        zmq_msg_t id, frame;
        zmq_msg_init (&id);
        if (zmq_msg_recv (&id, self->router, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&id);
            return;
        }
        if (!zmq_msg_more (&id)) {
            zmq_msg_close (&id);
            continue;
        }
        zmq_msg_init (&frame);
        zmq_msg_recv (&frame, self->router, 0);
        bool extra = zmq_msg_more (&frame);
        if (extra)
            s_skip_more (self->router);
        const char *id_data = zmq_msg_data (&id);
        size_t id_len = zmq_msg_size (&id);
        if (!s_valid_node (id_data, id_len) || extra) {
            RT_COUNT (self->rt, dropped_bad);
            uint32_t suppressed;
            char text [80];
            if (log_limit_allow (&self->limit_bad, 5, &suppressed))
                log_warning ("transport: frame from peer '%s' dropped: %s (%u more suppressed)",
                             s_printable (id_data, id_len < 16 ? id_len : 16, text, sizeof text),
                             extra ? "more than one part" : "not a node name", suppressed);
        }
        else {
            char src [256];
            memcpy (src, id_data, id_len);
            src [id_len] = 0;
            s_on_frame (self, src, zmq_msg_data (&frame), zmq_msg_size (&frame));
        }
        zmq_msg_close (&frame);
        zmq_msg_close (&id);
    }
}

static void
s_recv_dealer (transport_t *self, peer_t *peer)
{
    for (int i = 0; i < RECV_LIMIT; i++) {
        zmq_msg_t frame;
        zmq_msg_init (&frame);
        if (zmq_msg_recv (&frame, peer->dealer, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&frame);
            return;
        }
        if (zmq_msg_more (&frame)) {
            s_skip_more (peer->dealer);
            RT_COUNT (self->rt, dropped_bad);
        }
        else
            s_on_frame (self, peer->name, zmq_msg_data (&frame), zmq_msg_size (&frame));
        zmq_msg_close (&frame);
    }
}

//  ---------------------------------------------------------------------------
//  The I/O loop

static void
s_build_items (transport_t *self)
{
    size_t n = 1 + (self->router ? 1 : 0) + strmap_size (self->peers);
    free (self->items);
    free (self->item_peers);
    self->items = calloc (n, sizeof *self->items);
    self->item_peers = calloc (n, sizeof *self->item_peers);
    self->nitems = 0;
    if (!self->items || !self->item_peers)
        return;
    self->items [self->nitems++] = (zmq_pollitem_t) { NULL, self->wake_read, ZMQ_POLLIN, 0 };
    if (self->router)
        self->items [self->nitems++] = (zmq_pollitem_t) { self->router, 0, ZMQ_POLLIN, 0 };
    size_t cursor = 0;
    const char *name;
    void *value;
    while (strmap_next (self->peers, &cursor, &name, &value) == 0) {
        peer_t *peer = value;
        if (!peer->dealer)
            continue;
        short events = ZMQ_POLLIN | (peer->backlog ? ZMQ_POLLOUT : 0);
        self->item_peers [self->nitems] = peer;
        self->items [self->nitems++] = (zmq_pollitem_t) { peer->dealer, 0, events, 0 };
    }
    self->items_stale = false;
}

//  Closes peers idle for long: clients gone away, servers removed.
static void
s_housekeeping (transport_t *self, int64_t now)
{
    if (now - self->last_housekeeping_ns < 1000000000)
        return;
    self->last_housekeeping_ns = now;
    for (bool again = true; again;) {
        again = false;
        size_t cursor = 0;
        const char *name;
        void *value;
        while (strmap_next (self->peers, &cursor, &name, &value) == 0) {
            peer_t *peer = value;
            int64_t idle = now - peer->last_used_ns;
            if (peer->len || peer->dirty || peer->backlog
            ||  idle < (peer->dealer ? PEER_IDLE_NS : CLIENT_IDLE_NS))
                continue;
            strmap_take (self->peers, peer->name);
            if (peer->dealer)
                self->items_stale = true;
            s_peer_free (peer);
            again = true;               //  the map changed under the cursor
            break;
        }
    }
}

static void *
s_io_main (void *arg)
{
    transport_t *self = arg;
    pthread_setname_np (pthread_self (), "pg-io");
    log_set_context (self->rt->node, "transport");
    worker_t *host = sched_host (self->rt->sched);
    t_io = self;
    if (host)
        sched_host_enter (host);
    while (!atomic_load_explicit (&self->stop, memory_order_acquire)) {
        bool more = false;
        if (host) {
            more = sched_host_run (host, HOST_TURNS);
            log_set_context (self->rt->node, "transport");
        }
        more |= s_drain_outbox (self);
        if (self->items_stale)
            s_build_items (self);
        int timeout = more ? 0 : host ? sched_host_sleep (host, 1000) : 1000;
        int rc = zmq_poll (self->items, (int) self->nitems, timeout);
        if (host)
            sched_host_awake (host);
        if (rc < 0) {
            if (errno == ETERM)
                break;
            if (errno != EINTR)
                log_error ("transport: poll failed: %s", zmq_strerror (errno));
            continue;
        }
        int64_t now = rtclock_mono_ns (&self->rt->clock);
        for (size_t i = 0; i < self->nitems && rc > 0; i++) {
            if (self->items [i].revents & ZMQ_POLLOUT)
                s_send_backlog (self, self->item_peers [i]);
            if (!(self->items [i].revents & ZMQ_POLLIN))
                continue;
            if (self->items [i].socket == NULL) {
                char buffer [256];
                while (read (self->wake_read, buffer, sizeof buffer) > 0)
                    ;
            }
            else
            if (self->items [i].socket == self->router)
                s_recv_router (self);
            else {
                self->item_peers [i]->last_used_ns = now;
                s_recv_dealer (self, self->item_peers [i]);
            }
        }
        s_flush (self);                 //  error replies made while reading
        s_housekeeping (self, now);
    }
    //  Last flush of what actors queued before the stop.
    while (s_drain_outbox (self))
        ;
    if (host)
        sched_host_leave (host);
    t_io = NULL;
    s_cache_clear (self);
    size_t cursor = 0;
    const char *name;
    void *value;
    while (strmap_next (self->peers, &cursor, &name, &value) == 0) {
        peer_t *peer = value;
        if (peer->dealer)
            zmq_close (peer->dealer);
        peer->dealer = NULL;
    }
    if (self->router)
        zmq_close (self->router);
    self->router = NULL;
    return NULL;
}

int
transport_start (transport_t *self)
{
    if (pthread_create (&self->thread, NULL, s_io_main, self)) {
        log_error ("transport: cannot start the I/O thread");
        return -1;
    }
    self->started = true;
    return 0;
}

static void
s_wake (transport_t *self)
{
    char byte = 1;
    //  EAGAIN means the pipe is full: the thread is already being woken.
    if (write (self->wake_write, &byte, 1) < 0 && errno != EAGAIN)
        log_error ("transport: cannot wake the I/O thread: %s", strerror (errno));
}

void
transport_wake (void *self)
{
    s_wake (self);
}

void
transport_stop (transport_t *self)
{
    if (self->stopped)
        return;
    self->stopped = true;
    atomic_store_explicit (&self->stop, true, memory_order_release);
    if (self->started) {
        s_wake (self);
        pthread_join (self->thread, NULL);
    }
}

void
transport_destroy (transport_t **self_p)
{
    transport_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    transport_stop (self);
    //  Packets queued after the I/O thread's last drain are dropped.
    mpscq_node_t *node;
    while ((node = mpscq_pop (&self->outbox))) {
        outpkt_t *pkt = (outpkt_t *) node;
        pool_free (pkt, pkt->block);
    }
    if (self->cache)
        s_cache_clear (self);
    strmap_destroy (&self->cache);
    if (self->peers) {
        size_t cursor = 0;
        const char *name;
        void *value;
        while (strmap_next (self->peers, &cursor, &name, &value) == 0)
            s_peer_free (value);
        strmap_destroy (&self->peers);
    }
    if (self->router)
        zmq_close (self->router);
    if (self->ctx)
        zmq_ctx_term (self->ctx);
    if (self->wake_read >= 0)
        close (self->wake_read);
    if (self->wake_write >= 0)
        close (self->wake_write);
    free (self->items);
    free (self->item_peers);
    free (self);
}

//  ---------------------------------------------------------------------------
//  Sending (any thread)

int
transport_send (transport_t *self, const char *node, const char *to_actor,
                const char *from_actor, msg_t **msg_p)
{
    msg_t *msg = *msg_p;
    *msg_p = NULL;
    if (atomic_load_explicit (&self->stop, memory_order_acquire)) {
        msg_destroy (&msg);
        return PG__STATUS__SHUTDOWN;
    }
    bool wire = (msg->flags & MSG_F_PB) != 0;
    if (!wire && msg->kind != &actor_kind_empty) {
        log_error ("send to %s/%s: %s is a local-only message kind", node, to_actor,
                   msg_kind_name (msg));
        msg_destroy (&msg);
        return PG__STATUS__INVALID_ARGUMENT;
    }
    size_t node_len = strlen (node);
    if (!s_valid_node (node, node_len)) {
        log_error ("send: '%s' is not a node address", node);
        msg_destroy (&msg);
        return PG__STATUS__INVALID_ARGUMENT;
    }
    size_t payload_len = wire ? msg_payload_size (msg) : 0;
    wire_env_t env = { 0 };
    env.from_actor = from_actor;
    env.from_actor_len = strlen (from_actor);
    env.to_actor = to_actor;
    env.to_actor_len = strlen (to_actor);
    env.type = wire ? ((msg->flags & MSG_F_PACKED) ? msg->type : types_id (msg->kind)) : 0;
    env.corr = msg->corr;
    env.flags = msg->flags & (MSG_REQUEST | MSG_REPLY);
    env.status = msg->status;
    if ((msg->flags & MSG_REQUEST) && msg->deadline_ns) {
        int64_t left = (msg->deadline_ns - rtclock_mono_ns (&self->rt->clock)) / 1000000;
        env.timeout_ms = left < 1 ? 1 : left > UINT32_MAX ? UINT32_MAX : (uint32_t) left;
    }
    if (msg->error) {
        env.error = msg->error;
        env.error_len = strlen (msg->error);
    }
    size_t item = wire_item_size (&env, payload_len);
    if (item > self->max_frame) {
        log_error ("send to %s/%s: a %s of %zu bytes exceeds transport/max_frame (%zu)",
                   node, to_actor, msg_kind_name (msg), item, self->max_frame);
        msg_destroy (&msg);
        return PG__STATUS__INVALID_ARGUMENT;
    }
    size_t block = sizeof (outpkt_t) + item + node_len + 1;
    outpkt_t *pkt = pool_alloc (block);
    if (!pkt) {
        msg_destroy (&msg);
        return PG__STATUS__BUSY;
    }
    pkt->block = (uint32_t) block;
    pkt->len = (uint32_t) item;
    uint8_t *payload = wire_item_encode (pkt->data, &env, payload_len);
    if (payload_len)
        msg_payload_pack (msg, payload);
    pkt->dest = (char *) pkt->data + item;
    memcpy (pkt->dest, node, node_len + 1);
    msg_destroy (&msg);

    int64_t queued = atomic_fetch_add_explicit (&self->outbox.count, (int64_t) item,
                                                memory_order_relaxed);
    if (queued + (int64_t) item > self->outbox_limit) {
        atomic_fetch_sub_explicit (&self->outbox.count, (int64_t) item, memory_order_relaxed);
        pool_free (pkt, block);
        RT_COUNT (self->rt, dropped_busy);
        return PG__STATUS__BUSY;
    }
    //  On the I/O thread (a hosted actor), the loop drains before it polls.
    if (mpscq_push (&self->outbox, &pkt->node) && t_io != self)
        s_wake (self);
    return PG__STATUS__OK;
}
