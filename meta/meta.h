/*  meta: the meta server's actor, "meta".

    It owns the tables and their partition configurations (persisted in a
    local RocksDB before they take effect: metastore.c), the registry of
    replica servers (fed by their beacons), the placement of partitions on
    live servers, and the answers to routing queries.

    Requests (proto/meta.proto): create/drop/recall/list tables, describe a
    table (query config, which clients also use for routing), list nodes,
    and beacons from replica servers. A configuration change is pushed to
    the servers it concerns at once (a BeaconReply sent to "<node>/stub");
    beacons carry the same assignments as a safety net.

    Config (section `meta`, every key in docs/pegasus.cfg): hold_seconds
    (dropped tables stay recallable, default 7 days), node_grace_ms and
    lease_ms (failure detection: see meta_timing), min_live_nodes,
    learn_timeout_ms.
*/
#ifndef META_META_H
#define META_META_H

#include "runtime/actor.h"

#include <czmq.h>

//  Spawns "meta" (pinned: it writes its store synchronously). The store
//  lives in <data_dir>/meta. NULL on failure (logged).
actor_t *
    meta_spawn (rt_t *rt, zconfig_t *config);

//  meta/node_grace_ms and meta/lease_ms, checked: a lease must end well
//  before meta's grace does (a deposed primary stops serving before
//  another is made), by at least a tenth of the lease and 100 ms. 0, or
//  -1 with a message naming the keys to change.
int
    meta_timing (zconfig_t *config, int64_t *node_grace_ms, int64_t *lease_ms);

//  Whether a replica server beaconing every beacon_ms keeps a lease of
//  lease_ms: at least two beacons per lease, so one lost beacon does not
//  lapse it. 0, or -1 with why (into why).
int
    meta_beacon_fits (int64_t beacon_ms, int64_t lease_ms, char *why, size_t size);

#endif
