/*  partition: the actor of one partition replica, "r.<app_id>.<partition>".

    It owns the replica's RocksDB instance and serves every data request of
    proto/data.proto. States and events:

        state    | event                     | action
        ---------+---------------------------+--------------------------------
        OPENING  | open (first message)      | open RocksDB, register with the
                 |                           | log, replay records past the
                 |                           | flushed decree
        OPENING  | replay done               | -> SERVING, report to the stub
        OPENING  | request                   | INVALID_STATE (client retries)
        SERVING  | read                      | answer from RocksDB
        SERVING  | write                     | evaluate (RMW through the
                 |                           | overlay), add to the open
                 |                           | mutation, seal at turn's end
        SERVING  | seal                      | decree = last + 1, append to log
        SERVING  | durable(d)                | apply mutations <= d to RocksDB,
                 |                           | release replies <= d in order
        SERVING  | checkpoint timer          | flush RocksDB, tell the log
        any      | log or RocksDB failure    | -> ERROR: fail pending writes
        ERROR    | request                   | INVALID_STATE

    Reads see only applied (durable) writes; a write's reply leaves after
    it is durable and applied, so a client never reads back less than it
    was told was written.
*/
#ifndef REPLICA_PARTITION_H
#define REPLICA_PARTITION_H

#include "replica/db.h"
#include "runtime/actor.h"

#include <czmq.h>

typedef struct {
    int64_t max_write_bytes;            //  one write request (keys + values)
    int64_t max_kv_count;               //  range reads: records per reply
    int64_t max_kv_size;                //  range reads: bytes per reply
    int64_t max_range_ms;               //  range reads: time per request
    int64_t checkpoint_ms;              //  flush RocksDB and let the log go
    int64_t max_inflight;               //  mutations appended, not yet durable
    int64_t max_pending_bytes;          //  accepted, not yet applied
    int64_t cluster_id;                 //  in every value's timetag (1..127)
} partition_limits_t;

//  Reads the limits in the `replica` section of config. 0, or -1 (logged).
int
    partition_limits (zconfig_t *config, partition_limits_t *out);

typedef struct {
    uint32_t app_id;
    uint32_t partition;
    uint32_t partition_count;
    const char *app_name;
    uint64_t ballot;
    const char *dir;                    //  the replica's directory
    actor_t *log;                       //  the node's log writer
    actor_t *stub;                      //  status reports go here (may be NULL)
    db_env_t *env;
    partition_limits_t limits;
} partition_args_t;

//  Spawns the replica (pinned: it calls RocksDB) and starts opening it.
//  Copies what it needs from args. NULL on failure (logged).
actor_t *
    partition_spawn (rt_t *rt, const partition_args_t *args);

//  The actor name of a replica: "r.<app_id>.<partition>".
void
    partition_name (uint32_t app_id, uint32_t partition, char *out, size_t size);

enum { PARTITION_OPENING, PARTITION_SERVING, PARTITION_ERROR };

//  partition -> stub: where the replica is. Sent on every state change and
//  with each checkpoint tick.
extern const msg_kind_t partition_kind_status;
typedef struct {
    uint32_t app_id;
    uint32_t partition;
    uint64_t ballot;
    int state;
    uint64_t last_committed;
} partition_status_t;

#endif
