/*  rt-node: a runtime node in its own process, for cluster tests.

        rt-node <host:port>

    Binds there (port 0 = any), runs an "echo" actor (tests/echo.h),
    prints "READY <node address>" on stdout, and runs until SIGTERM or
    SIGINT.
*/
#include "actors/introspect.h"
#include "runtime/actor.h"
#include "runtime/rt.h"
#include "tests/echo.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

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

    rt_t *rt = rt_newf ("runtime\n    workers = 2\n    log_level = warning\n"
                        "transport\n    bind = %s\n", argv [1]);
    if (!rt)
        return 1;
    actor_t *actor = actor_spawn (rt, "echo", &echo_ops, NULL, NULL);
    actor_t *introspect = introspect_spawn (rt);
    if (!actor || !introspect)
        return 1;
    printf ("READY %s\n", rt_node (rt));
    fflush (stdout);
    int sig;
    sigwait (&signals, &sig);
    actor_stop (&actor);
    actor_stop (&introspect);
    rt_destroy (&rt);
    return 0;
}
