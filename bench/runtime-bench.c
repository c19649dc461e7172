/*  runtime-bench: message rates of the actor runtime beside the same
    patterns done with czmq zactor pipes (in-process) and raw libzmq
    DEALER/ROUTER (cross-process), measured side by side in one run.

        runtime-bench [--scale F]       # F multiplies message counts (default 1)

    Patterns:
      ping-pong   P pairs bounce one message back and forth.
      fan-in      N producers send to one consumer.
      tcp stream  one sender streams to a receiver in another process over
                  tcp://127.0.0.1 with a credit window (the receiver acks
                  every 1000 messages; at most 20000 unacked), payload S.

    Baselines:
      zactor/zmsg  idiomatic czmq: zmsg_t over zactor pipes.
      zactor/raw   zmq_send/zmq_recv of a plain buffer over zactor pipes.
      libzmq       a DEALER streaming to a ROUTER, the same credit window.

    In-process payloads are 64 bytes. Rates are messages per second,
    measured from the first send to the last delivery.
*/
#include "runtime/actor.h"
#include "runtime/rt.h"
#include "rt.pb-c.h"

#include <czmq.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD 64
#define WINDOW 20000
#define ACK_EVERY 1000

static double s_scale = 1.0;
static const char *s_self;

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static long
s_count (long base)
{
    long n = (long) ((double) base * s_scale);
    return n < 1000 ? 1000 : n;
}

//  A completion signal the bench thread waits on.
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int remaining;
    double finished;
} done_t;

static void
s_done_init (done_t *d, int count)
{
    pthread_mutex_init (&d->lock, NULL);
    pthread_cond_init (&d->cond, NULL);
    d->remaining = count;
}

static void
s_done_signal (done_t *d)
{
    pthread_mutex_lock (&d->lock);
    if (--d->remaining == 0) {
        d->finished = s_now ();
        pthread_cond_signal (&d->cond);
    }
    pthread_mutex_unlock (&d->lock);
}

static double
s_done_wait (done_t *d)
{
    pthread_mutex_lock (&d->lock);
    while (d->remaining > 0)
        pthread_cond_wait (&d->cond, &d->lock);
    pthread_mutex_unlock (&d->lock);
    return d->finished;
}

static rt_t *
s_rt (int workers, const char *bind)
{
    rt_t *rt = rt_newf ("runtime\n    workers = %d\n    pinned_threads = 0\n"
                        "    log_level = warning\ntransport\n    bind = %s\n", workers, bind);
    if (!rt) {
        fprintf (stderr, "runtime-bench: cannot start a runtime\n");
        exit (1);
    }
    return rt;
}

//  ===========================================================================
//  Ours, in-process

static const msg_kind_t s_kind_data = { "bench.data" };
static const msg_kind_t s_kind_go = { "bench.go" };

static msg_t *
s_data (void)
{
    void *body;
    msg_t *msg = msg_new_local (&s_kind_data, PAYLOAD, &body);
    memset (body, 1, PAYLOAD);
    return msg;
}

typedef struct {
    actor_t *peer;
    long left;              //  bounces this side still sends
    done_t *done;
} pp_t;

static int
s_pp_init (actor_t *self, void *args)
{
    actor_set_state (self, args);
    return 0;
}

static void
s_pp_receive (actor_t *self, msg_t **msg_p)
{
    pp_t *pp = actor_state (self);
    if (pp->left-- > 0)
        actor_send (self, pp->peer, msg_p);         //  bounce the same message
    else
    if (pp->done) {
        s_done_signal (pp->done);
        pp->done = NULL;
    }
}

static const actor_ops_t s_pp_ops = { "bench.pp", s_pp_init, s_pp_receive, NULL };

static double
s_ours_pingpong (int workers, int pairs, long per_pair)
{
    rt_t *rt = s_rt (workers, "");
    done_t done;
    s_done_init (&done, pairs);
    pp_t *state = calloc ((size_t) pairs * 2, sizeof *state);
    actor_t **actors = calloc ((size_t) pairs * 2, sizeof *actors);
    for (int i = 0; i < pairs * 2; i++) {
        char name [32];
        snprintf (name, sizeof name, "pp.%d", i);
        state [i].left = per_pair / 2;
        actors [i] = actor_spawn (rt, name, &s_pp_ops, &state [i], NULL);
    }
    for (int i = 0; i < pairs; i++) {
        state [2 * i].peer = actors [2 * i + 1];
        state [2 * i + 1].peer = actors [2 * i];
        state [2 * i].done = &done;     //  A gets the last bounce and ends the pair
    }
    double start = s_now ();
    for (int i = 0; i < pairs; i++) {
        msg_t *msg = s_data ();
        rt_send (rt, actors [2 * i], &msg);
    }
    double end = s_done_wait (&done);
    for (int i = 0; i < pairs * 2; i++)
        actor_stop (&actors [i]);
    rt_destroy (&rt);
    free (state);
    free (actors);
    return (double) pairs * (double) per_pair / (end - start);
}

typedef struct {
    actor_t *consumer;
    long left;
} producer_t;

typedef struct {
    long expected;
    long received;
    done_t *done;
} consumer_t;

static void
s_producer_receive (actor_t *self, msg_t **msg_p)
{
    producer_t *p = actor_state (self);
    for (int i = 0; i < 100 && p->left > 0; i++) {
        msg_t *msg = s_data ();
        if (actor_send (self, p->consumer, &msg) == PG__STATUS__OK)
            p->left--;
    }
    if (p->left > 0)
        actor_send (self, self, msg_p);             //  continue next turn
}

static void
s_consumer_receive (actor_t *self, msg_t **msg_p)
{
    consumer_t *c = actor_state (self);
    if (++c->received == c->expected)
        s_done_signal (c->done);
    (void) msg_p;
}

static const actor_ops_t s_producer_ops = { "bench.producer", s_pp_init, s_producer_receive, NULL };
static const actor_ops_t s_consumer_ops = { "bench.consumer", s_pp_init, s_consumer_receive, NULL };

static double
s_ours_fanin (int workers, int producers, long total)
{
    rt_t *rt = s_rt (workers, "");
    done_t done;
    s_done_init (&done, 1);
    long per = total / producers;
    consumer_t consumer = { per * producers, 0, &done };
    actor_t *c = actor_spawn (rt, "consumer", &s_consumer_ops, &consumer, NULL);
    producer_t *state = calloc ((size_t) producers, sizeof *state);
    actor_t **actors = calloc ((size_t) producers, sizeof *actors);
    for (int i = 0; i < producers; i++) {
        char name [32];
        snprintf (name, sizeof name, "producer.%d", i);
        state [i].consumer = c;
        state [i].left = per;
        actors [i] = actor_spawn (rt, name, &s_producer_ops, &state [i], NULL);
    }
    double start = s_now ();
    for (int i = 0; i < producers; i++) {
        msg_t *go = msg_new_local (&s_kind_go, 0, NULL);
        rt_send (rt, actors [i], &go);
    }
    double end = s_done_wait (&done);
    for (int i = 0; i < producers; i++)
        actor_stop (&actors [i]);
    actor_stop (&c);
    rt_destroy (&rt);
    free (state);
    free (actors);
    return (double) consumer.expected / (end - start);
}

//  ===========================================================================
//  czmq zactor baselines, in-process

typedef struct {
    long count;
    bool raw;
} zargs_t;

static void
s_zpong (zsock_t *pipe, void *args)
{
    zargs_t *a = args;
    zsock_signal (pipe, 0);
    void *socket = zsock_resolve (pipe);
    char buffer [PAYLOAD];
    for (long i = 0; i < a->count; i++) {
        if (a->raw) {
            zmq_recv (socket, buffer, sizeof buffer, 0);
            zmq_send (socket, buffer, sizeof buffer, 0);
        }
        else {
            zmsg_t *msg = zmsg_recv (pipe);
            zmsg_send (&msg, pipe);
        }
    }
    char *term = zstr_recv (pipe);          //  "$TERM" from zactor_destroy
    free (term);
}

typedef struct {
    long count;
    bool raw;
    done_t *done;
} zping_t;

static void
s_zping (zsock_t *pipe, void *args)
{
    zping_t *a = args;
    zargs_t child_args = { a->count, a->raw };
    zactor_t *child = zactor_new (s_zpong, &child_args);
    zsock_signal (pipe, 0);
    void *socket = zsock_resolve (child);
    char buffer [PAYLOAD];
    memset (buffer, 1, sizeof buffer);
    for (long i = 0; i < a->count; i++) {
        if (a->raw) {
            zmq_send (socket, buffer, sizeof buffer, 0);
            zmq_recv (socket, buffer, sizeof buffer, 0);
        }
        else {
            zmsg_t *msg = zmsg_new ();
            zmsg_addmem (msg, buffer, sizeof buffer);
            zmsg_send (&msg, child);
            msg = zmsg_recv (child);
            zmsg_destroy (&msg);
        }
    }
    s_done_signal (a->done);
    zactor_destroy (&child);
    char *term = zstr_recv (pipe);
    free (term);
}

static double
s_zactor_pingpong (int pairs, long per_pair, bool raw)
{
    done_t done;
    s_done_init (&done, pairs);
    zping_t args = { per_pair / 2, raw, &done };
    zactor_t **actors = calloc ((size_t) pairs, sizeof *actors);
    double start = s_now ();
    for (int i = 0; i < pairs; i++)
        actors [i] = zactor_new (s_zping, &args);
    double end = s_done_wait (&done);
    for (int i = 0; i < pairs; i++)
        zactor_destroy (&actors [i]);
    free (actors);
    return (double) pairs * (double) (per_pair / 2) * 2 / (end - start);
}

static void
s_zproducer (zsock_t *pipe, void *args)
{
    zargs_t *a = args;
    zsock_signal (pipe, 0);
    char buffer [PAYLOAD];
    memset (buffer, 1, sizeof buffer);
    void *socket = zsock_resolve (pipe);
    for (long i = 0; i < a->count; i++) {
        if (a->raw)
            zmq_send (socket, buffer, sizeof buffer, 0);
        else {
            zmsg_t *msg = zmsg_new ();
            zmsg_addmem (msg, buffer, sizeof buffer);
            zmsg_send (&msg, pipe);
        }
    }
    char *term = zstr_recv (pipe);
    free (term);
}

static double
s_zactor_fanin (int producers, long total, bool raw)
{
    long per = total / producers;
    zargs_t args = { per, raw };
    zactor_t **actors = calloc ((size_t) producers, sizeof *actors);
    zpoller_t *poller = zpoller_new (NULL);
    double start = s_now ();
    for (int i = 0; i < producers; i++) {
        actors [i] = zactor_new (s_zproducer, &args);
        zpoller_add (poller, actors [i]);
    }
    long expected = per * producers, received = 0;
    char buffer [PAYLOAD];
    while (received < expected) {
        void *ready = zpoller_wait (poller, -1);
        if (!ready)
            break;
        //  Drain what this pipe holds before polling again.
        if (raw) {
            void *socket = zsock_resolve (ready);
            while (zmq_recv (socket, buffer, sizeof buffer, ZMQ_DONTWAIT) >= 0)
                received++;
        }
        else
            while (zsock_events (ready) & ZMQ_POLLIN) {
                zmsg_t *msg = zmsg_recv (ready);
                zmsg_destroy (&msg);
                received++;
            }
    }
    double end = s_now ();
    zpoller_destroy (&poller);
    for (int i = 0; i < producers; i++)
        zactor_destroy (&actors [i]);
    free (actors);
    return (double) expected / (end - start);
}

//  ===========================================================================
//  Cross-process: ours

typedef struct {
    actor_t *sink;
    long total;
    long sent;
    long acked;
    size_t size;
    bool go_pending;
    done_t *done;
} source_t;

static void
s_source_pump (actor_t *self, source_t *s)
{
    for (int i = 0; i < 256 && s->sent < s->total && s->sent - s->acked < WINDOW; i++) {
        Pg__Ping *ping;
        msg_t *msg = msg_new_sized (&pg__ping__descriptor, s->size, (void **) &ping);
        ping->data.data = msg_alloc (msg, s->size);
        memset (ping->data.data, 1, s->size);
        ping->data.len = s->size;
        if (actor_send (self, s->sink, &msg) != PG__STATUS__OK)
            break;                          //  outbox full: try next turn
        s->sent++;
    }
    if (s->sent < s->total && s->sent - s->acked < WINDOW && !s->go_pending) {
        msg_t *go = msg_new_local (&s_kind_go, 0, NULL);
        actor_send (self, self, &go);
        s->go_pending = true;
    }
}

static void
s_source_receive (actor_t *self, msg_t **msg_p)
{
    source_t *s = actor_state (self);
    if (msg_is (*msg_p, &s_kind_go))
        s->go_pending = false;
    else
    if (msg_is (*msg_p, &pg__ping__descriptor)) {
        Pg__Ping *ack = msg_body (*msg_p);
        if ((long) ack->seq > s->acked)
            s->acked = (long) ack->seq;
        if (s->acked == s->total) {
            s_done_signal (s->done);
            return;
        }
    }
    s_source_pump (self, s);
}

//  Announces the run (seq = its length) so the sink knows whom to ack;
//  one sender's messages arrive in order, so this precedes the data.
static int
s_source_init (actor_t *self, void *args)
{
    source_t *s = args;
    actor_set_state (self, s);
    Pg__Ping *hello;
    msg_t *msg = msg_new (&pg__ping__descriptor, (void **) &hello);
    hello->seq = (uint64_t) s->total;
    return actor_send (self, s->sink, &msg) == PG__STATUS__OK ? 0 : -1;
}

static const actor_ops_t s_source_ops = { "bench.source", s_source_init, s_source_receive, NULL };

typedef struct {
    long count;
    long total;
    actor_t *reply_to;
} sink_t;

static void
s_sink_receive (actor_t *self, msg_t **msg_p)
{
    sink_t *s = actor_state (self);
    if (!msg_is (*msg_p, &pg__ping__descriptor))
        return;
    Pg__Ping *in = msg_body (*msg_p);
    if (in->seq) {                          //  a new run: seq = its length
        s->count = 0;
        s->total = (long) in->seq;
        actor_unref (&s->reply_to);
        s->reply_to = actor_sender (self, *msg_p);
        return;
    }
    if (++s->count % ACK_EVERY == 0 || s->count == s->total) {
        Pg__Ping *ack;
        msg_t *msg = msg_new (&pg__ping__descriptor, (void **) &ack);
        ack->seq = (uint64_t) s->count;
        actor_send (self, s->reply_to, &msg);
    }
}

static void
s_sink_fini (actor_t *self)
{
    sink_t *s = actor_state (self);
    actor_unref (&s->reply_to);
}

static const actor_ops_t s_sink_ops = { "bench.sink", s_pp_init, s_sink_receive, s_sink_fini };

//  The receiving process: runs a sink until stdin closes.
static int
s_run_sink (void)
{
    rt_t *rt = s_rt (2, "127.0.0.1:0");
    sink_t sink = { 0 };
    //  The credit window must fit in the receiver's queue bound, or the
    //  receiving node drops (and counts) the overflow.
    actor_opts_t opts = { .mailbox_limit = 4 * WINDOW };
    actor_t *actor = actor_spawn (rt, "sink", &s_sink_ops, &sink, &opts);
    printf ("READY %s\n", rt_node (rt));
    fflush (stdout);
    char buffer [16];
    while (read (0, buffer, sizeof buffer) > 0)
        ;
    actor_stop (&actor);
    rt_destroy (&rt);
    return 0;
}

//  Starts this program as a receiver (`mode`), returns its pid; *line gets
//  its READY line, *to_child the pipe whose closing stops it.
static pid_t
s_start_child (const char *mode, char *line, size_t size, int *to_child)
{
    int up [2], down [2];
    if (pipe (up) || pipe (down))
        exit (1);
    pid_t pid = fork ();
    if (pid == 0) {
        dup2 (up [1], 1);
        dup2 (down [0], 0);
        close (up [0]);
        close (down [1]);
        execl (s_self, s_self, mode, NULL);
        _exit (127);
    }
    close (up [1]);
    close (down [0]);
    FILE *in = fdopen (up [0], "r");
    if (!fgets (line, (int) size, in)) {
        fprintf (stderr, "runtime-bench: receiver did not start\n");
        exit (1);
    }
    line [strcspn (line, "\n")] = 0;
    fclose (in);
    *to_child = down [1];
    return pid;
}

static void
s_stop_child (pid_t pid, int to_child)
{
    close (to_child);
    int status;
    waitpid (pid, &status, 0);
}

static double
s_ours_tcp (long total, size_t size)
{
    char line [300];
    int to_child;
    pid_t pid = s_start_child ("--sink", line, sizeof line, &to_child);
    rt_t *rt = s_rt (2, "");
    char address [400];
    snprintf (address, sizeof address, "%s/sink", line + 6);
    done_t done;
    s_done_init (&done, 1);
    source_t source = { rt_lookup (rt, address), total, 0, 0, size, false, &done };
    actor_t *actor = actor_spawn (rt, "source", &s_source_ops, &source, NULL);
    double start = s_now ();
    msg_t *go = msg_new_local (&s_kind_go, 0, NULL);
    rt_send (rt, actor, &go);
    double end = s_done_wait (&done);
    actor_stop (&actor);
    actor_unref (&source.sink);
    rt_destroy (&rt);
    s_stop_child (pid, to_child);
    return (double) total / (end - start);
}

//  ===========================================================================
//  Cross-process: raw libzmq

static int
s_run_raw_sink (void)
{
    void *ctx = zmq_ctx_new ();
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    zmq_bind (router, "tcp://127.0.0.1:*");
    char endpoint [256];
    size_t len = sizeof endpoint;
    zmq_getsockopt (router, ZMQ_LAST_ENDPOINT, endpoint, &len);
    printf ("READY %s\n", strrchr (endpoint, '/') + 1);
    fflush (stdout);
    char id [256], buffer [65536];
    long count = 0, total = 0;
    zmq_pollitem_t items [] = { { router, 0, ZMQ_POLLIN, 0 }, { NULL, 0, ZMQ_POLLIN, 0 } };
    for (;;) {
        if (zmq_poll (items, 2, -1) < 0)
            break;
        if (items [1].revents & (ZMQ_POLLIN | ZMQ_POLLERR)) {
            if (read (0, buffer, sizeof buffer) <= 0)
                break;
        }
        while (1) {
            int id_len = zmq_recv (router, id, sizeof id, ZMQ_DONTWAIT);
            if (id_len < 0)
                break;
            int n = zmq_recv (router, buffer, sizeof buffer, 0);
            if (n == 8) {                   //  a new run: its length
                memcpy (&total, buffer, 8);
                count = 0;
                continue;
            }
            if (++count % ACK_EVERY == 0 || count == total) {
                zmq_send (router, id, (size_t) id_len, ZMQ_SNDMORE);
                zmq_send (router, &count, sizeof count, 0);
            }
        }
    }
    zmq_close (router);
    zmq_ctx_term (ctx);
    return 0;
}

static double
s_raw_tcp (long total, size_t size)
{
    char line [300];
    int to_child;
    pid_t pid = s_start_child ("--raw-sink", line, sizeof line, &to_child);
    void *ctx = zmq_ctx_new ();
    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    char endpoint [300];
    snprintf (endpoint, sizeof endpoint, "tcp://%s", line + 6);
    zmq_connect (dealer, endpoint);
    zmq_send (dealer, &total, sizeof total, 0);
    char *buffer = calloc (1, size > 8 ? size : 9);
    memset (buffer, 1, size);
    long sent = 0, acked = 0;
    double start = s_now ();
    while (acked < total) {
        //  Send while the window allows; take acks as they come.
        while (sent < total && sent - acked < WINDOW) {
            zmq_send (dealer, buffer, size, 0);
            sent++;
            if (sent % 256 == 0)
                break;
        }
        long ack;
        int flags = (sent < total && sent - acked < WINDOW) ? ZMQ_DONTWAIT : 0;
        while (zmq_recv (dealer, &ack, sizeof ack, flags) == sizeof ack) {
            if (ack > acked)
                acked = ack;
            flags = ZMQ_DONTWAIT;
        }
    }
    double end = s_now ();
    free (buffer);
    int linger = 0;
    zmq_setsockopt (dealer, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close (dealer);
    zmq_ctx_term (ctx);
    s_stop_child (pid, to_child);
    return (double) total / (end - start);
}

//  ===========================================================================

//  Each figure is the median of REPEATS runs, ours and the baseline
//  interleaved so that a slow moment of the machine hits both.
#define REPEATS 5

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

typedef struct {
    double median;
    double min;
    double max;
} stat_t;

static stat_t
s_stat (double *v, int n)
{
    qsort (v, (size_t) n, sizeof *v, s_cmp_double);
    return (stat_t) { v [n / 2], v [0], v [n - 1] };
}

static void
s_row (const char *pattern, const char *config, stat_t ours, const char *base_name, stat_t base)
{
    printf ("| %-20s | %-20s | %10.2f (%5.2f-%5.2f) | %-11s | %10.2f (%5.2f-%5.2f) | %6.2fx |\n",
            pattern, config, ours.median / 1e6, ours.min / 1e6, ours.max / 1e6,
            base_name, base.median / 1e6, base.min / 1e6, base.max / 1e6,
            ours.median / base.median);
    fflush (stdout);
}

int
main (int argc, char *argv [])
{
    s_self = argv [0];
    signal (SIGPIPE, SIG_IGN);
    if (argc > 1 && !strcmp (argv [1], "--sink"))
        return s_run_sink ();
    if (argc > 1 && !strcmp (argv [1], "--raw-sink"))
        return s_run_raw_sink ();
    bool pingpong = false, fanin = false, tcp = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv [i], "--scale") && i + 1 < argc)
            s_scale = atof (argv [++i]);
        else
        if (!strcmp (argv [i], "--pingpong"))
            pingpong = true;
        else
        if (!strcmp (argv [i], "--fanin"))
            fanin = true;
        else
        if (!strcmp (argv [i], "--tcp"))
            tcp = true;
        else {
            fprintf (stderr, "usage: runtime-bench [--scale F] [--pingpong] [--fanin] [--tcp]\n");
            return 2;
        }
    }
    if (!pingpong && !fanin && !tcp)
        pingpong = fanin = tcp = true;
    if (s_scale <= 0) {
        fprintf (stderr, "runtime-bench: --scale must be positive\n");
        return 2;
    }
    printf ("Millions of messages per second: median of %d runs (min-max); ours and the\n"
            "baseline interleaved. In-process payloads 64 B.\n\n", REPEATS);
    printf ("| %-20s | %-20s | %-24s | %-11s | %-24s | %7s |\n",
            "pattern", "config", "ours M msg/s", "baseline", "baseline M msg/s", "ratio");
    printf ("|%s|%s|%s|%s|%s|%s|\n", "----------------------", "----------------------",
            "--------------------------", "-------------", "--------------------------",
            "---------");
    char config [64];
    double a [REPEATS], b [REPEATS], c [REPEATS];
    long pp = s_count (400000);
    for (int pairs = 1; pingpong && pairs <= 4; pairs *= 4)
        for (int workers = 1; workers <= 4; workers *= 2) {
            for (int r = 0; r < REPEATS; r++) {
                a [r] = s_ours_pingpong (workers, pairs, pp);
                b [r] = s_zactor_pingpong (pairs, pp / 10, false);
                c [r] = s_zactor_pingpong (pairs, pp / 10, true);
            }
            snprintf (config, sizeof config, "%d pair%s, %d worker%s", pairs,
                      pairs > 1 ? "s" : "", workers, workers > 1 ? "s" : "");
            stat_t ours = s_stat (a, REPEATS);
            s_row ("in-process ping-pong", config, ours, "zactor/zmsg", s_stat (b, REPEATS));
            s_row ("", "", ours, "zactor/raw", s_stat (c, REPEATS));
        }
    long fan = s_count (4000000);
    for (int producers = 4; fanin && producers <= 16; producers *= 4)
        for (int workers = 1; workers <= 4; workers *= 2) {
            for (int r = 0; r < REPEATS; r++) {
                a [r] = s_ours_fanin (workers, producers, fan);
                b [r] = s_zactor_fanin (producers, fan / 4, false);
                c [r] = s_zactor_fanin (producers, fan, true);
            }
            snprintf (config, sizeof config, "%d to 1, %d worker%s", producers,
                      workers, workers > 1 ? "s" : "");
            stat_t ours = s_stat (a, REPEATS);
            s_row ("in-process fan-in", config, ours, "zactor/zmsg", s_stat (b, REPEATS));
            s_row ("", "", ours, "zactor/raw", s_stat (c, REPEATS));
        }
    long stream = s_count (2000000);
    size_t sizes [] = { 64, 512 };
    for (size_t i = 0; tcp && i < 2; i++) {
        for (int r = 0; r < REPEATS; r++) {
            b [r] = s_raw_tcp (stream, sizes [i]);
            a [r] = s_ours_tcp (stream, sizes [i]);
        }
        snprintf (config, sizeof config, "%zu B payload", sizes [i]);
        s_row ("tcp stream, 2 procs", config, s_stat (a, REPEATS), "libzmq", s_stat (b, REPEATS));
    }
    return 0;
}
