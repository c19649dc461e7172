/*  logwriter: the pinned actor that owns a replica server's mutation log.

    Group commit: appends that arrive while a round is open share one
    write and one fdatasync; each replica then hears how far its records
    are durable. A round ends when the writer reaches the SYNC message it
    sent itself on the round's first append, i.e. after everything already
    queued behind it, so a busy node makes big rounds and an idle one
    commits at once.

    It keeps, per replica, the location of each record not yet covered by
    the replica's flushed RocksDB state: that is what replay (after a
    restart) and, later, learning and duplication read. A segment is
    deleted once every replica with records in it has flushed past them.

        partition -> writer : register (then replay), append, checkpoint, forget
        writer -> partition : durable(decree), replay chunks (as ask replies)
        stub -> writer      : keep(set of replicas this node serves)

    Config (section `log`): segment_bytes (64M), fsync = always | group | off
    (always), group_ms (2).
*/
#ifndef REPLICA_LOGWRITER_H
#define REPLICA_LOGWRITER_H

#include "replica/mlog.h"
#include "runtime/actor.h"

#include <czmq.h>

//  Replica id: app_id << 32 | partition.
static inline uint64_t
logwriter_id (uint32_t app_id, uint32_t partition)
{
    return (uint64_t) app_id << 32 | partition;
}

//  partition -> writer: I am this replica; my state covers from_decree.
//  `replica` is a reference the writer takes over. Replies (ask) with
//  logwriter_replayed: how far the log goes for it.
extern const msg_kind_t logwriter_kind_register;
typedef struct {
    actor_t *replica;
    uint32_t app_id;
    uint32_t partition;
} logwriter_register_t;

//  partition -> writer (ask): the replica's records in log order, starting
//  at `cursor`, or, with cursor 0, at the first record of a decree above
//  from_decree; at most max_bytes of them (at least one). Records do not
//  come in decree order: one decree may be logged again under a newer
//  ballot. Reply: logwriter_kind_records; IO_ERROR if the records at the
//  cursor were let go meanwhile.
//
//  With `latest` (learners are fed this way), the records are instead
//  the last one logged of each decree from from_decree + 1 up to
//  to_decree, in decree order, stopping before the first decree the log
//  does not hold: the version that won, never one a later record
//  replaced (which a learner fed in log order could commit between two
//  chunks).
extern const msg_kind_t logwriter_kind_replay;
typedef struct {
    uint32_t app_id;
    uint32_t partition;
    uint64_t from_decree;
    uint64_t cursor;
    size_t max_bytes;
    bool latest;
    uint64_t to_decree;                 //  with latest
} logwriter_replay_t;

extern const msg_kind_t logwriter_kind_records;
typedef struct {
    size_t count;
    mlog_record_t *records;             //  payloads point into the message
    uint64_t cursor;                    //  where the next chunk starts
    bool done;                          //  no records after these
} logwriter_records_t;

//  partition -> writer: append this encoded record (in the message's arena).
//  `seq` numbers the replica's appends (1, 2, ...): durability is reported
//  by it, because after a change of primary one decree may be logged again
//  under a newer ballot. A record of ballot 0 is a reset marker: the
//  replica's state was replaced by a checkpoint of `decree`, and no record
//  before the marker counts any more (replay starts after it).
extern const msg_kind_t logwriter_kind_append;
typedef struct {
    uint32_t app_id;
    uint32_t partition;
    uint64_t decree;
    uint64_t seq;
    bool reset;                         //  the record is a reset marker
    uint8_t *record;
    size_t size;
} logwriter_append_t;

//  writer -> partition: appends up to `seq` are durable (status OK), or
//  the log failed (status IO_ERROR: no later append will be).
extern const msg_kind_t logwriter_kind_durable;
typedef struct {
    uint64_t seq;
    int status;
} logwriter_durable_t;

//  partition -> writer: my RocksDB state is flushed up to decree.
extern const msg_kind_t logwriter_kind_checkpoint;
typedef struct {
    uint32_t app_id;
    uint32_t partition;
    uint64_t decree;
} logwriter_checkpoint_t;

//  writer -> partition: flush RocksDB (and say so with a checkpoint): the
//  log holds more than log/flush_segments segments, and this replica's
//  unflushed records are in one of the older ones. No body.
extern const msg_kind_t logwriter_kind_flush;

//  partition/stub -> writer: the replica closed; if remove, its records
//  are no longer needed at all. `replica` (not a reference) is the actor
//  that closed: a registration by a newer actor of the same replica is
//  left alone.
extern const msg_kind_t logwriter_kind_forget;
typedef struct {
    uint32_t app_id;
    uint32_t partition;
    bool remove;
    const actor_t *replica;             //  NULL: whatever is registered
} logwriter_forget_t;

//  stub -> writer: the replicas this node serves; records of any other are
//  no longer needed.
extern const msg_kind_t logwriter_kind_keep;
typedef struct {
    size_t count;
    uint64_t *ids;                      //  logwriter_id values
} logwriter_keep_t;

typedef struct {
    const char *dir;
    int64_t segment_bytes;
    int fsync_policy;                   //  LOGWRITER_FSYNC_*
    int64_t group_ms;
    int64_t flush_segments;
} logwriter_config_t;

enum { LOGWRITER_FSYNC_ALWAYS, LOGWRITER_FSYNC_GROUP, LOGWRITER_FSYNC_OFF };

//  Reads the `log` section of config into *out (dir set by the caller).
//  0 or -1.
int
    logwriter_config (zconfig_t *config, logwriter_config_t *out);

//  Opens (and recovers) the log and spawns the writer as pinned actor
//  "log". NULL on failure (logged).
actor_t *
    logwriter_spawn (rt_t *rt, const logwriter_config_t *config);

#endif
