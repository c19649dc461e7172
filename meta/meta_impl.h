/*  meta_impl: the meta actor's state and what its files share. meta.c:
    tables, routing, beacons and config sync; meta_cure.c: failure
    detection, reconfiguration (PacificA's configuration manager), the
    cure that restores replica counts, and the operator's levers;
    meta_backup.c and meta_restore.c: cold backups and restores, as
    persisted jobs. */
#ifndef META_META_IMPL_H
#define META_META_IMPL_H

#include "meta/metastore.h"
#include "runtime/actor.h"
#include "runtime/strmap.h"
#include "runtime/u64map.h"
#include "backup.pb-c.h"
#include "meta.pb-c.h"

#include <stdbool.h>
#include <stdint.h>

//  A table. A copy made to change it (meta_app_clone) shares the
//  partitions it does not change with the original: changing one takes
//  meta_app_part, which copies that one only, so a change to one partition
//  of a table of thousands costs one partition, in memory and on disk.
typedef struct {
    Pg__AppInfo *info;
    Pg__PartitionConfig **parts;
    //  meta's config_version when each partition last changed (memory
    //  only: a new meta's epoch makes every server take a full sync).
    uint64_t *versions;
    //  In a copy being changed: parts [i] is its own (and persisted and
    //  handed out as changed on commit). NULL: it owns all.
    uint8_t *mine;
} app_t;

typedef struct {
    char *address;
    int64_t last_beacon_ms;             //  monotonic; 0 = never
    bool alive;
    uint64_t incarnation;               //  of the process that beaconed last (persisted)
    int64_t reply_age_ms;               //  its last beacon: since it last heard meta
    bool log_failed;                    //  its last beacon: its log failed
    int64_t lease_granted_ms;           //  monotonic: the last reply that carried a lease
    int64_t start_ms;                   //  its start (wall)
    u64map_t *reports;                  //  logwriter-style id -> report_t
    uint64_t reports_seq;               //  the beacon they are as of (0: none applied)
    actor_t *stub;                      //  "<address>/stub", for pushes
    uint32_t primaries, secondaries;    //  in available tables, kept by meta_commit
    uint64_t sent_version;              //  config_version of the last sync sent to it
    uint32_t learning;                  //  learners proposed to it, in flight (the cure's count)
} node_t;

#define META_MAX_LEARNERS 4

typedef struct {
    int state;                          //  pg.ReplicaState
    int role;                           //  pg.ReplicaRole
    uint64_t ballot;
    uint64_t last_committed;
    uint64_t last_prepared;
    bool needs_ballot;                  //  refused to lead again at `ballot`
    size_t nlearners;
    char learners [META_MAX_LEARNERS][256];
} report_t;

//  A secondary meta asked a primary to add (it learns first).
typedef struct {
    char node [256];
    int64_t at_ms;
} proposal_t;

typedef struct meta_backup_t meta_backup_t;
typedef struct meta_restore_t meta_restore_t;

typedef struct {
    actor_t *self;
    metastore_t *store;
    u64map_t *backups;                  //  backup id -> meta_backup_t (meta_backup.c)
    u64map_t *restores;                 //  restore id -> meta_restore_t (meta_restore.c)
    u64map_t *restore_reads;            //  backup id -> restores reading its manifest
    bool restores_checked;              //  tables left restoring by a stop were dropped
    strmap_t *policies;                 //  name -> Pg__BackupPolicy (meta_policy.c)
    u64map_t *apps;                     //  id -> app_t
    strmap_t *names;                    //  name -> app_t, available ones
    strmap_t *nodes;                    //  address -> node_t
    u64map_t *proposals;                //  partition id -> proposal_t
    uint32_t next_app_id;
    uint64_t config_version;
    int64_t hold_seconds;
    int64_t node_grace_ms;
    int64_t lease_ms;
    int64_t min_live_nodes;
    int64_t learn_timeout_ms;
    int64_t max_learning;               //  learners in flight per node
    int level;                          //  pg.MetaLevel
    int64_t start_ms;                   //  monotonic, when this meta started
    bool push_pending;                  //  a push to every node is queued
    bool cure_pending;                  //  a cure is queued (a learner slot freed)
} meta_t;

static inline uint64_t
meta_id (uint32_t app_id, uint32_t partition)
{
    return (uint64_t) app_id << 32 | partition;
}

//  A deep copy of a protobuf message, malloc'd (free with free_unpacked).
void *
    meta_copy (const ProtobufCMessage *source);

//  Replaces a malloc'd protobuf string field. 0 or -1.
int
    meta_set_string (char **field, const char *value);

void
    meta_app_free (app_t *app);

//  A copy of app to make a change on: its own info, its partitions shared
//  until meta_app_part.
app_t *
    meta_app_clone (const app_t *app);

//  Partition i of a copy, made its own so it may be changed. NULL if out
//  of memory.
Pg__PartitionConfig *
    meta_app_part (app_t *next, uint32_t i);

//  Persists `next` (a new table, or a changed copy of the table at its
//  id: its info and the partitions it made its own) and puts it in place
//  of the old one. Returns 0, or -1 with the old one unchanged (next
//  freed either way).
int
    meta_commit (meta_t *self, app_t *next);

//  The node of an address (created on first use). NULL if out of memory.
node_t *
    meta_node (meta_t *self, const char *address);

//  Whether name is 1..max of [A-Za-z0-9_.-] (tables, policies).
bool
    meta_valid_name (const char *name, size_t max);

//  The live node with the fewest primaries (extra_primaries: per node, in
//  the map's order, primaries about to be placed), or NULL if none lives.
node_t *
    meta_pick_node (meta_t *self, uint32_t *extra_primaries);

//  Creates a table shaped like `shape` (name, partition and replica
//  counts, envs, restoring; the rest is set here): persisted, primaries
//  placed, pushed. 0 with its id, or -1 with a pg status and why.
int
    meta_create_app (meta_t *self, const Pg__AppInfo *shape, uint32_t *app_id, int *status,
                     char *why, size_t why_size);

//  Drops a table (recallable for hold_seconds; 0: forgotten at the next
//  tick), persisted and pushed. 0 or -1.
int
    meta_drop_app (meta_t *self, const app_t *app, int64_t hold_seconds);

//  Whether the node may hold replicas: its beacons arrive within the
//  grace, it hears meta's replies (so it holds a lease) and its log works.
//  A node that is not is taken out of every configuration.
bool
    meta_alive (meta_t *self, node_t *node);

//  Whether the last lease meta granted the node has run out: its lease
//  ran from the send time of a beacon answered no later than the grant.
bool
    meta_lease_over (meta_t *self, node_t *node);

//  Whether its beacons arrive within the grace (pushes go to it).
bool
    meta_heard (meta_t *self, node_t *node);

//  pg.NodeStatus of the node.
int
    meta_node_status (meta_t *self, node_t *node);

//  Whether address is one of the n strings of list (a repeated string
//  field of a configuration).
bool
    meta_in (char **list, size_t n, const char *address);

//  Pushes every live node what changed since the last sync it was sent,
//  once the messages queued now are handled (changes made together go
//  in one push).
void
    meta_push (meta_t *self);

//  The backup target of that name on meta's own node (a reference), or
//  NULL if there is none or name is not a plain actor name.
actor_t *
    meta_target (meta_t *self, const char *name);

//  A reference to actor `name` on server `node` ("host:port"), or NULL.
actor_t *
    meta_actor_at (meta_t *self, const char *node, const char *name);

//  A node's last report of a replica, or NULL.
report_t *
    meta_report (meta_t *self, const char *address, uint32_t app_id, uint32_t partition);

//  ---------------------------------------------------------------------------
//  meta_cure.c

//  The beacon came from a new process at that address: it lost whatever
//  it held in memory, so it leaves every configuration (and learns back).
void
    meta_cure_restarted (meta_t *self, node_t *node);

//  Every tick: dead nodes out of configurations, then (level permitting)
//  primaries for partitions without one and learners where replicas lack.
void
    meta_cure_tick (meta_t *self);

//  Runs the cure (restores replica counts) now: sent as meta_kind_cure a
//  moment after a learner became a member, so its node's learning slot
//  is taken again without waiting for the tick.
extern const msg_kind_t meta_kind_cure;
void
    meta_cure_run (meta_t *self);

void
    meta_on_update_config (meta_t *self, msg_t *request);

void
    meta_on_propose (meta_t *self, msg_t *request);

void
    meta_on_set_level (meta_t *self, msg_t *request);

void
    meta_on_get_level (meta_t *self, msg_t *request);

//  ---------------------------------------------------------------------------
//  meta_backup.c

//  Loads the backup jobs the store holds (running ones go on). 0 or -1.
int
    meta_backup_load (meta_t *self);
void
    meta_backup_free (meta_t *self);
//  Every tick: polls the running backups that are due.
void
    meta_backup_tick (meta_t *self);
//  Starts a backup of table to target (policy: the policy starting it, or
//  NULL). 0 with its id, or -1 with a pg status and why.
int
    meta_backup_start (meta_t *self, const char *table, const char *target, const char *policy,
                       uint64_t *backup_id, int *status, char *why, size_t why_size);
void
    meta_on_backup (meta_t *self, msg_t *request);
//  A server said a partition of this backup reached an end: poll it now.
void
    meta_backup_poll_now (meta_t *self, uint64_t backup_id);
void
    meta_on_query_backup (meta_t *self, msg_t *request);
void
    meta_on_cancel_backup (meta_t *self, msg_t *request);

//  ---------------------------------------------------------------------------
//  meta_restore.c

int
    meta_restore_load (meta_t *self);
void
    meta_restore_free (meta_t *self);
void
    meta_restore_tick (meta_t *self);
//  Takes the request (answered once the manifest is read).
void
    meta_on_restore (meta_t *self, msg_t **request_p);
void
    meta_on_query_restore (meta_t *self, msg_t *request);
void
    meta_restore_poll_now (meta_t *self, uint64_t restore_id);
//  Whether a running restore reads that backup (retention keeps it).
bool
    meta_restore_reads (meta_t *self, uint64_t backup_id);

//  ---------------------------------------------------------------------------
//  meta_policy.c

int
    meta_policy_load (meta_t *self);
void
    meta_policy_free (meta_t *self);
//  Every tick: fires the policies that are due.
void
    meta_policy_tick (meta_t *self);
//  The first time of the policy's series (start_minute UTC on the day of
//  create_ms, plus whole intervals) after `after` (ms since the epoch).
int64_t
    meta_policy_next_after (const Pg__BackupPolicy *policy, int64_t after);
//  How many backups of a table the policy keeps; 0 if there is no such policy.
uint32_t
    meta_policy_keep (meta_t *self, const char *name);
void
    meta_on_add_policy (meta_t *self, msg_t *request);
void
    meta_on_list_policy (meta_t *self, msg_t *request);
void
    meta_on_modify_policy (meta_t *self, msg_t *request);
void
    meta_on_enable_policy (meta_t *self, msg_t *request);

#endif
