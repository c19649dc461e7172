/*  groupcheck: the actor "checks" that batches group checks per server.

    A primary checks each peer every replica/group_check_ms; with
    thousands of replicas per server that is thousands of network messages
    a second between two idle servers. A replica server's primaries hand
    their checks to its "checks" actor (partition_kind_group_check), which
    sends those for one server together every GROUPCHECK_BATCH_MS to that
    server's "checks"; that one hands each to its replica and answers once
    all have, in one message (GroupCheckBatch, GroupCheckBatchReply).

    It runs near the I/O thread and does nothing else: a stub busy opening
    thousands of replicas must not make their members look silent.
*/
#ifndef REPLICA_GROUPCHECK_H
#define REPLICA_GROUPCHECK_H

#include "runtime/actor.h"
#include "runtime/rt.h"

#define GROUPCHECK_BATCH_MS 100

//  Spawns "checks". NULL on failure (logged).
actor_t *
    groupcheck_spawn (rt_t *rt);

#endif
