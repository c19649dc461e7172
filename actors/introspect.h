/*  introspect: the "node" actor every server (pegasusd) runs.

    Answers pg.ActorsQuery with pg.ActorsReply: every actor's name, kind,
    mailbox depth and message counts, and the node's transport counters.
    The shell's `actors` command and the metrics endpoint read it.
*/
#ifndef ACTORS_INTROSPECT_H
#define ACTORS_INTROSPECT_H

#include "runtime/rt.h"

//  Spawns the "node" actor; returns its reference or NULL.
actor_t *
    introspect_spawn (rt_t *rt);

#endif
