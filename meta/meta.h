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

    Config (section `meta`): hold_seconds (dropped tables stay recallable,
    default 7 days), node_grace_ms (a server without a beacon for this
    long is unalive, 5000).
*/
#ifndef META_META_H
#define META_META_H

#include "runtime/actor.h"

#include <czmq.h>

//  Spawns "meta" (pinned: it writes its store synchronously). The store
//  lives in <data_dir>/meta. NULL on failure (logged).
actor_t *
    meta_spawn (rt_t *rt, zconfig_t *config);

#endif
