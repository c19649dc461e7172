/*  pingpong: two actors talking across two processes.

        pingpong serve [host:port]          # default 127.0.0.1:0 (any port)
        pingpong ping <host:port> [count]   # default 10000

    `serve` runs a "pong" actor that answers every Ping with a Ping of the
    same sequence number, and prints "READY <address>". `ping` runs a "ping"
    actor that asks pong `count` times, one at a time (round-trip latency),
    then `count` times with 64 asks in flight (throughput), and prints both.

    Everything an actor needs is here: spawn with init/receive/fini, state,
    actor_ask with a reply callback and a timeout, actor_reply, remote
    addresses ("node/actor") and rt_lookup.
*/
#include "runtime/actor.h"
#include "runtime/rt.h"
#include "rt.pb-c.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  ---------------------------------------------------------------------------
//  pong: replies to each Ping.

static void
pong_receive (actor_t *self, msg_t **msg_p)
{
    if (!msg_is (*msg_p, &pg__ping__descriptor) || !msg_is_request (*msg_p))
        return;                         //  the runtime frees what we leave
    Pg__Ping *ping = msg_body (*msg_p), *pong;
    msg_t *reply = msg_new (&pg__ping__descriptor, (void **) &pong);
    if (!reply)
        return;                         //  the asker will time out
    pong->seq = ping->seq;
    actor_reply (self, *msg_p, &reply);
}

static const actor_ops_t pong_ops = { "pong", NULL, pong_receive, NULL };

//  ---------------------------------------------------------------------------
//  ping: asks pong, first one at a time, then 64 at a time.

typedef struct {
    actor_t *pong;                      //  "host:port/pong"
    long count;
    long sent;
    long answered;
    long failed;
    int window;                         //  asks in flight allowed
    int64_t started_ms;
    int64_t sequential_ms;
    double *rtt_us;                     //  per ask, in the sequential phase
    int64_t *sent_at_ns;
    pthread_mutex_t lock;               //  the main thread waits on these
    pthread_cond_t cond;
    bool done;
} ping_t;

static int64_t
s_now_ns (void)
{
    //  The example measures wall time for its report; actors that need time
    //  for their logic use actor_now_ms.
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void ping_fill (actor_t *self, ping_t *p);

static void
ping_on_reply (actor_t *self, msg_t **reply_p, void *arg)
{
    ping_t *p = actor_state (self);
    long seq = (long) (intptr_t) arg;
    if (msg_status (*reply_p) != PG__STATUS__OK) {
        fprintf (stderr, "ping %ld: %s %s\n", seq, status_name (msg_status (*reply_p)),
                 msg_error (*reply_p));
        p->failed++;
    }
    else
    if (p->window == 1)
        p->rtt_us [seq] = (double) (s_now_ns () - p->sent_at_ns [seq]) / 1000.0;
    p->answered++;
    if (p->answered == p->count && p->window == 1) {
        //  Sequential phase over: start the pipelined one.
        p->sequential_ms = actor_now_ms (self) - p->started_ms;
        p->window = 64;
        p->sent = p->answered = 0;
        p->started_ms = actor_now_ms (self);
    }
    else
    if (p->answered == p->count) {
        p->started_ms = actor_now_ms (self) - p->started_ms;
        pthread_mutex_lock (&p->lock);
        p->done = true;
        pthread_cond_signal (&p->cond);
        pthread_mutex_unlock (&p->lock);
        return;
    }
    ping_fill (self, p);
}

//  Keeps `window` asks in flight until `count` were sent.
static void
ping_fill (actor_t *self, ping_t *p)
{
    while (p->sent < p->count && p->sent - p->answered < p->window) {
        Pg__Ping *ping;
        msg_t *msg = msg_new (&pg__ping__descriptor, (void **) &ping);
        if (!msg)
            break;
        ping->seq = (uint64_t) p->sent;
        p->sent_at_ns [p->sent] = s_now_ns ();
        int rc = actor_ask (self, p->pong, &msg, 5000, ping_on_reply, (void *) (intptr_t) p->sent);
        if (rc != PG__STATUS__OK) {
            fprintf (stderr, "cannot ask: %s\n", status_name (rc));
            p->failed++;
            p->answered++;
        }
        p->sent++;
    }
}

static int
ping_init (actor_t *self, void *args)
{
    ping_t *p = args;
    actor_set_state (self, p);
    p->window = 1;
    p->started_ms = actor_now_ms (self);
    ping_fill (self, p);                //  the first ask goes out from init
    return 0;
}

static void
ping_receive (actor_t *self, msg_t **msg_p)
{
    (void) self;
    (void) msg_p;                       //  everything arrives as replies
}

static const actor_ops_t ping_ops = { "ping", ping_init, ping_receive, NULL };

//  ---------------------------------------------------------------------------

static rt_t *
s_runtime (const char *bind)
{
    return rt_newf ("runtime\n    workers = 2\n    log_level = warning\n"
                    "transport\n    bind = %s\n", bind);
}

static int
s_compare (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static int
s_serve (const char *bind)
{
    sigset_t signals;
    sigemptyset (&signals);
    sigaddset (&signals, SIGTERM);
    sigaddset (&signals, SIGINT);
    pthread_sigmask (SIG_BLOCK, &signals, NULL);
    rt_t *rt = s_runtime (bind);
    if (!rt)
        return 1;
    actor_t *pong = actor_spawn (rt, "pong", &pong_ops, NULL, NULL);
    if (!pong) {
        rt_destroy (&rt);
        return 1;
    }
    printf ("READY %s\n", rt_node (rt));
    fflush (stdout);
    int sig;
    sigwait (&signals, &sig);
    actor_stop (&pong);
    rt_destroy (&rt);
    return 0;
}

static int
s_ping (const char *node, long count)
{
    rt_t *rt = s_runtime ("");              //  a client: binds nothing
    if (!rt)
        return 1;
    char address [300];
    snprintf (address, sizeof address, "%s/pong", node);
    ping_t p = { .count = count, .lock = PTHREAD_MUTEX_INITIALIZER,
                 .cond = PTHREAD_COND_INITIALIZER };
    p.pong = rt_lookup (rt, address);
    p.rtt_us = calloc ((size_t) count, sizeof *p.rtt_us);
    p.sent_at_ns = calloc ((size_t) count, sizeof *p.sent_at_ns);
    if (!p.pong || !p.rtt_us || !p.sent_at_ns) {
        fprintf (stderr, "pingpong: bad address %s\n", address);
        rt_destroy (&rt);
        return 1;
    }
    actor_t *ping = actor_spawn (rt, "ping", &ping_ops, &p, NULL);
    pthread_mutex_lock (&p.lock);
    while (!p.done)
        pthread_cond_wait (&p.cond, &p.lock);
    pthread_mutex_unlock (&p.lock);
    actor_stop (&ping);
    qsort (p.rtt_us, (size_t) count, sizeof *p.rtt_us, s_compare);
    printf ("sequential: %ld asks in %lld ms, round trip p50 %.1f us, p99 %.1f us\n",
            count, (long long) p.sequential_ms, p.rtt_us [count / 2],
            p.rtt_us [count * 99 / 100]);
    printf ("pipelined:  %ld asks in %lld ms (%.0f asks/s, 64 in flight)\n",
            count, (long long) p.started_ms,
            (double) count * 1000.0 / (double) (p.started_ms ? p.started_ms : 1));
    printf ("failed: %ld\n", p.failed);
    actor_unref (&p.pong);
    rt_destroy (&rt);
    free (p.rtt_us);
    free (p.sent_at_ns);
    return p.failed ? 1 : 0;
}

int
main (int argc, char *argv [])
{
    if (argc >= 2 && !strcmp (argv [1], "serve") && argc <= 3)
        return s_serve (argc == 3 ? argv [2] : "127.0.0.1:0");
    if (argc >= 3 && !strcmp (argv [1], "ping") && argc <= 4) {
        long count = argc == 4 ? atol (argv [3]) : 10000;
        if (count < 1 || count > 100000000) {
            fprintf (stderr, "pingpong: count must be 1..100000000\n");
            return 2;
        }
        return s_ping (argv [2], count);
    }
    fprintf (stderr, "usage: pingpong serve [host:port]\n"
                     "       pingpong ping <host:port> [count]\n");
    return 2;
}
