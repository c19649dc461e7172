/*  filesrv: the pinned actor "files" of a replica server, which serves the
    RocksDB checkpoints its primaries make for learners, in chunks, each
    with the CRC32C of its bytes as read here so the learner can tell a
    damaged transfer from a good one. Names are checked: a request can
    only read a regular file directly inside one checkpoint directory.
    Checkpoints nobody read for max_age_ms are deleted.

        learner -> files : FileChunkRequest   files : FileChunkReply / ERROR

    It also measures the server's directories for server_info (a walk of
    the disk blocks, so it runs here rather than on the stub's thread):

        stub -> files : filesrv_kind_du       files : filesrv_kind_du (answer)
*/
#ifndef ACTORS_FILESRV_H
#define ACTORS_FILESRV_H

#include "runtime/actor.h"

#include <stdint.h>

#define FILESRV_DU_PATHS 2

//  Local request and its answer, in one body: paths in, sizes out.
typedef struct {
    char paths [FILESRV_DU_PATHS][4200];    //  "" = not asked
    int status;                             //  0, or -1: a path could not be read
    uint64_t bytes [FILESRV_DU_PATHS];      //  allocated on disk (see diskuse)
    uint64_t children [FILESRV_DU_PATHS];   //  entries directly inside
} filesrv_du_t;

extern const msg_kind_t filesrv_kind_du;

//  Spawns "files" serving the checkpoints under dir. NULL on failure.
actor_t *
    filesrv_spawn (rt_t *rt, const char *dir, int64_t max_age_ms);

#endif
