/*  filesrv: the pinned actor "files" of a replica server, which serves the
    RocksDB checkpoints its primaries make for learners, in chunks, each
    with the CRC32C of its bytes as read here so the learner can tell a
    damaged transfer from a good one. Names are checked: a request can
    only read a regular file directly inside one checkpoint directory.
    Checkpoints nobody read for max_age_ms are deleted.

        learner -> files : FileChunkRequest   files : FileChunkReply / ERROR
*/
#ifndef REPLICA_FILESRV_H
#define REPLICA_FILESRV_H

#include "runtime/actor.h"

//  Spawns "files" serving the checkpoints under dir. NULL on failure.
actor_t *
    filesrv_spawn (rt_t *rt, const char *dir, int64_t max_age_ms);

#endif
