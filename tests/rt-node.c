/*  rt-node: a runtime node in its own process, for cluster tests.

        rt-node <host:port>

    Binds there (port 0 = any), runs an "echo" actor, prints
    "READY <node address>" on stdout, and runs until SIGTERM or SIGINT.
    The echo actor:
      - replies to a Ping request with a Ping of the same seq and data;
      - counts Ping tells and checks their seqs arrive in order;
      - answers a Ping request whose note is "stats" with seq = tells
        received and note = "disorder=<n>".
*/
#include "runtime/actor.h"
#include "runtime/rt.h"
#include "rt.pb-c.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    uint64_t tells;
    uint64_t last;
    uint64_t disorder;
} echo_t;

static int
s_init (actor_t *self, void *args)
{
    actor_set_state (self, args);
    return 0;
}

static void
s_receive (actor_t *self, msg_t **msg_p)
{
    echo_t *echo = actor_state (self);
    if (!msg_is (*msg_p, &pg__ping__descriptor))
        return;
    Pg__Ping *in = msg_body (*msg_p), *out;
    if (!msg_is_request (*msg_p)) {
        if (in->seq != echo->last + 1)
            echo->disorder++;
        echo->last = in->seq;
        echo->tells++;
        return;
    }
    msg_t *reply = msg_new (&pg__ping__descriptor, (void **) &out);
    if (!strcmp (in->note, "stats")) {
        char note [64];
        snprintf (note, sizeof note, "disorder=%llu", (unsigned long long) echo->disorder);
        out->seq = echo->tells;
        out->note = msg_strdup (reply, note);
    }
    else {
        out->seq = in->seq;
        out->data.data = msg_memdup (reply, in->data.data, in->data.len);
        out->data.len = in->data.len;
    }
    actor_reply (self, *msg_p, &reply);
}

static const actor_ops_t s_ops = { "echo", s_init, s_receive, NULL };

int
main (int argc, char *argv [])
{
    if (argc != 2) {
        fprintf (stderr, "usage: rt-node <host:port>\n");
        return 2;
    }
    //  Block the stop signals in every thread; main waits for them.
    sigset_t signals;
    sigemptyset (&signals);
    sigaddset (&signals, SIGTERM);
    sigaddset (&signals, SIGINT);
    pthread_sigmask (SIG_BLOCK, &signals, NULL);

    char text [300];
    snprintf (text, sizeof text,
              "runtime\n    workers = 2\n    log_level = warning\n"
              "transport\n    bind = %s\n", argv [1]);
    zconfig_t *cfg = zconfig_str_load (text);
    rt_t *rt = rt_new (cfg);
    zconfig_destroy (&cfg);
    if (!rt)
        return 1;
    echo_t echo = { 0 };
    actor_t *actor = actor_spawn (rt, "echo", &s_ops, &echo, NULL);
    if (!actor)
        return 1;
    printf ("READY %s\n", rt_node (rt));
    fflush (stdout);
    int sig;
    sigwait (&signals, &sig);
    actor_stop (&actor);
    rt_destroy (&rt);
    return 0;
}
