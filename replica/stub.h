/*  stub: the replica server's node actor, "stub".

    It owns the node's log writer and RocksDB environment, sends a beacon
    to meta every replica/beacon_ms with the state of each replica it runs,
    and applies the assignments meta sends back (on a beacon reply or
    pushed): it opens the replicas it is assigned and closes the others.
    Data of tables meta no longer knows at all is deleted; data of a table
    that is only dropped stays, so a recall finds it.

    Clients talk to partitions directly ("r.<app>.<partition>"): the stub
    is never on a request's path.

    Config: meta/servers (host:port of the meta server), node/data_dir,
    replica/beacon_ms (500), replica/block_cache (256M),
    replica/write_budget (256M), replica/rocksdb_jobs (2), the `log`
    section (logwriter.h) and the replica limits (partition.h).
*/
#ifndef REPLICA_STUB_H
#define REPLICA_STUB_H

#include "runtime/actor.h"

#include <czmq.h>

//  Spawns "stub" and the node's log writer. NULL on failure (logged).
actor_t *
    stub_spawn (rt_t *rt, zconfig_t *config);

//  replica/beacon_ms of config (checked). 0 or -1 (logged).
int
    stub_beacon_ms (zconfig_t *config, int64_t *beacon_ms);

#endif
