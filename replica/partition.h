/*  partition: the actor of one partition replica, "r.<app_id>.<partition>".

    It owns the replica's RocksDB instance and its prepare list, serves the
    data requests of proto/data.proto when it is the primary, and runs
    PacificA with the other replicas (proto/replica.proto). Meta decides
    every role through the stub (partition_kind_config); a replica never
    promotes itself.

        role/state      | event                     | action
        ----------------+---------------------------+----------------------------
        any, OPENING    | open (first message)      | open RocksDB, replay the log
                        |                           | into the prepare list, commit
                        |                           | what the records say was
        any             | config, ballot < mine     | ignored
        any             | config, ballot >= mine    | take ballot, members, role
        INACTIVE        | request, prepare          | INVALID_STATE
        any             | made primary at a ballot  | refuse (INACTIVE, needs a new
                        | it led before (restart) | ballot: meta reconfigures)
        any             | made primary at a newer   | record the ballot (synced)
                        | ballot                    | before leading at it
        PRIMARY         | becomes primary           | reconcile: drop what is past
                        |                           | a hole, restamp and relog the
                        |                           | uncommitted under the new
                        |                           | ballot, append an empty
                        |                           | mutation, prepare all to all
        PRIMARY, recon. | that empty one commits    | serving
        PRIMARY, serving| read, lease holds         | answer from RocksDB
        PRIMARY, serving| write, lease holds, >= 2  | into the open mutation; seal
                        | members (or 1 of 1)       | at turn's end: decree, own
                        |                           | log, PREPARE to every member
                        |                           | and learner
        PRIMARY         | own durable / member ack  | commit = min over members;
                        |                           | apply in order, reply
        PRIMARY         | member holds prepares >   | ask meta to remove it
                        | timeout, or answers       |
                        | nothing for 3 checks      |
        PRIMARY         | STALE_BALLOT from member  | step down (INACTIVE)
        PRIMARY         | tick                      | group check (and at once on
                        |                           | a new ballot); empty write
                        |                           | if configured and idle;
                        |                           | learner upgrades
        PRIMARY         | ConfigProposal ADD        | AddLearner to that node
        PRIMARY         | LearnRequest              | DONE, entries (memory or
                        |                           | log) or a checkpoint
        SECONDARY       | prepare, ballot < mine    | STALE_BALLOT
        SECONDARY       | prepare, predecessor not  | not taken; expected = first
                        | the primary's             | decree not verified
        SECONDARY       | prepare                   | into the list and the log;
                        |                           | ack once durable; apply up
                        |                           | to the piggybacked commit
        LEARNER         | starts                    | LearnRequest from what it has
        LEARNER         | entries / checkpoint      | take them, learn again
        LEARNER         | prepare                   | kept even with holes; ack
        PRIMARY         | learner holds all given   | it counts for commits; once
                        | out (learn DONE)          | durable to the commit point,
                        |                           | ask meta to upgrade it
        any             | lease expires             | reads and writes refused
        any             | log or RocksDB failure    | ERROR: replies fail, the stub
                        |                           | reports it and meta replaces
                        |                           | the replica

    Reads see only committed writes, on the primary, under its lease: a
    client never reads back less than it was told was written, and a new
    primary is only made after the old one's lease has run out.
*/
#ifndef REPLICA_PARTITION_H
#define REPLICA_PARTITION_H

#include "replica/db.h"
#include "runtime/actor.h"
#include "replica.pb-c.h"

#include <czmq.h>

typedef struct {
    int64_t max_write_bytes;            //  one write request (keys + values)
    int64_t max_kv_count;               //  range reads: records per reply
    int64_t max_kv_size;                //  range reads: bytes per reply
    int64_t max_range_ms;               //  range reads: time per request
    int64_t max_batch_keys;             //  batch_get: keys per request
    int64_t checkpoint_ms;              //  flush RocksDB and let the log go
    int64_t max_inflight;               //  decrees prepared, not yet committed
    int64_t max_pending_bytes;          //  accepted, not yet applied
    int64_t cluster_id;                 //  in every value's timetag (1..127)
    int64_t prepare_timeout_ms;         //  a member silent this long is removed
    int64_t group_check_ms;             //  config + commit point to members
    int64_t empty_write_ms;             //  an idle primary writes nothing this often
    int64_t learn_keep_bytes;           //  committed entries kept for learners
    int64_t learn_chunk_bytes;          //  per LearnReply / file chunk
} partition_limits_t;

//  Reads the limits in the `replica` section of config. 0, or -1 (logged).
int
    partition_limits (zconfig_t *config, partition_limits_t *out);

//  Roles (pg.ReplicaRole values).
enum { ROLE_INACTIVE = 0, ROLE_PRIMARY = 1, ROLE_SECONDARY = 2, ROLE_LEARNER = 3 };

//  "inactive", "primary", "secondary", "learner" ("?" if not a role).
const char *
    partition_role_name (int role);

#define PARTITION_MAX_MEMBERS 8
#define PARTITION_ADDRESS 256

//  A configuration as meta made it, or as a primary's AddLearner asked.
typedef struct {
    uint64_t ballot;
    int role;                           //  of this replica
    uint32_t max_replica_count;
    char primary [PARTITION_ADDRESS];   //  "" if none
    size_t nsecondaries;
    char secondaries [PARTITION_MAX_MEMBERS][PARTITION_ADDRESS];
} partition_config_t;

//  Meta's pg.PartitionConfig as seen from `node`: primary or secondary if
//  it is named so, else `otherwise`. Addresses too long are cut (and never
//  match a real node).
struct Pg__PartitionConfig;
void
    partition_config_from (const struct Pg__PartitionConfig *pb, const char *node, int otherwise,
                           partition_config_t *out);

typedef struct {
    uint32_t app_id;
    uint32_t partition;
    uint32_t partition_count;
    const char *app_name;
    const char *dir;                    //  the replica's directory
    actor_t *log;                       //  the node's log writer
    actor_t *stub;                      //  reports and leases; NULL: standalone
    actor_t *meta;                      //  config requests (may be NULL)
    actor_t *checks;                    //  the node's group check batcher (groupcheck.h);
                                        //  NULL: a primary checks no member
    db_env_t *env;
    const char *checkpoint_dir;         //  where checkpoints for learners go
    partition_limits_t limits;
    partition_config_t config;          //  the role to start in
} partition_args_t;

//  Spawns the replica (pinned: it calls RocksDB) and starts opening it.
//  Copies what it needs from args. Standalone (no stub) it holds a lease
//  forever: for tests and tools that run one replica without meta.
//  NULL on failure (logged).
actor_t *
    partition_spawn (rt_t *rt, const partition_args_t *args);

//  The actor name of a replica: "r.<app_id>.<partition>".
void
    partition_name (uint32_t app_id, uint32_t partition, char *out, size_t size);

enum { PARTITION_OPENING, PARTITION_READY, PARTITION_ERROR };

//  stub -> partition: a configuration (body partition_config_t).
extern const msg_kind_t partition_kind_config;

//  stub -> partition: meta's lease runs until this monotonic time. The
//  stub sends it only to replicas that meta's configuration (the one the
//  lease came with) names primary, and only after handing
//  them that configuration; a replica takes it only while its own
//  configuration names it primary, and drops it when it stops leading.
extern const msg_kind_t partition_kind_lease;
typedef struct {
    int64_t until_ms;
} partition_lease_t;

//  stub -> partition: open now. With a stub, a replica waits for this
//  before it opens RocksDB and replays its log: the stub lets a bounded
//  number open at once (replica/open_concurrency), so a node handed
//  thousands of replicas neither runs out of memory nor keeps the pinned
//  threads that serving replicas flush on busy for minutes. Standalone,
//  it opens at once.
extern const msg_kind_t partition_kind_open;

//  stub -> partition: flush the memtables (the node is over its memtable
//  budget and this replica holds one of the largest). A replica also sends
//  it to itself every replica/checkpoint_ms, so the log can let go.
extern const msg_kind_t partition_kind_flush;

//  partition -> "checks": a group check for the replica on `node`, sent
//  with the others for that server (GroupCheckBatch). Only the scalar
//  fields of `check` are used.
extern const msg_kind_t partition_kind_group_check;
typedef struct {
    char node [PARTITION_ADDRESS];
    Pg__GroupCheckRequest check;
} partition_group_check_t;

//  stub -> partition: the replica on `node` answered a group check OK.
extern const msg_kind_t partition_kind_checked;
typedef struct {
    char node [PARTITION_ADDRESS];
} partition_checked_t;

//  partition -> stub: the replica closed (its fini ran); a new actor of it
//  may open now.
extern const msg_kind_t partition_kind_closed;
typedef struct {
    uint32_t app_id;
    uint32_t partition;
} partition_closed_t;

//  backup -> partition: make a RocksDB checkpoint of this primary for a
//  backup, at path (which must not exist). Answered with the same kind:
//  status 0 and the checkpoint's last applied decree, or a pg status and
//  why (INVALID_STATE: not the serving primary).
extern const msg_kind_t partition_kind_backup;
typedef struct {
    char path [4200];
    int status;
    uint64_t decree;
    char error [200];
} partition_backup_t;

//  partition -> stub: where the replica is. Sent on changes and every tick.
extern const msg_kind_t partition_kind_status;
typedef struct {
    uint32_t app_id;
    uint32_t partition;
    uint64_t ballot;
    int state;                          //  PARTITION_*
    int role;                           //  ROLE_*
    bool serving;                       //  a primary taking requests
    uint64_t last_committed;
    uint64_t last_prepared;             //  contiguous prepared decrees
    size_t nlearners;
    char learners [PARTITION_MAX_MEMBERS][PARTITION_ADDRESS];
    bool needs_ballot;                  //  made primary at a ballot it led before: refused
    bool log_failed;                    //  in ERROR because the node's log failed
    uint64_t memtable_bytes;            //  RocksDB's memtables, 0 until open
} partition_status_t;

#endif
