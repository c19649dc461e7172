/*  uploader: the pinned actor "backup" of a replica server, which carries
    out this server's part of cold backups: for each partition meta asks
    about, it has the partition (its primary here) make a RocksDB
    checkpoint, then streams the checkpoint's files to a backup target
    actor on this node, in chunks with their CRC32C, under a per-node
    budget in bytes per second, and answers meta's polls with its progress.

        meta -> backup : BackupPartitionRequest     backup : BackupPartitionReply
        backup -> r.A.P : partition_kind_backup     (checkpoint made, decree)
        backup -> <target> : TargetStat, TargetPut*

    States of one partition's upload (the BackupStep of proto/backup.proto):

        state        event                         action / next
        -----------  ----------------------------  ----------------------------------
        (none)       meta asks                     ask the partition for a checkpoint / CHECKPOINT
        CHECKPOINT   checkpoint made               list its files / UPLOADING
        CHECKPOINT   refused (not primary, I/O)    remember why (not primary: transient,
                                                   meta does not count it) / FAILED
        CHECKPOINT   the job ended meanwhile       remove the checkpoint when it comes
        UPLOADING    file's next chunk, budget ok  put it (up to WINDOW in flight)
        UPLOADING    a file starts                 stat it on the target: skip a whole
                                                   file there with our size and CRC32C,
                                                   resume a partial one from its bytes
        UPLOADING    a put fails                   after in-flight replies, retry the
                                                   file from what the target holds
                                                   (3 times) / else FAILED
        UPLOADING    last file committed           remove the checkpoint / DONE
        any          meta cancels                  stop, remove the checkpoint, forget
        DONE/FAILED  meta silent for an hour       forget

    Meta decides what happens after FAILED (another attempt, maybe on a new
    primary); this actor never retries a failed attempt on its own.

    Config: backup/upload_rate (bytes per second for all uploads of this
    server, K/M/G; 0 = unlimited).
*/
#ifndef REPLICA_UPLOADER_H
#define REPLICA_UPLOADER_H

#include "runtime/rt.h"

#include <czmq.h>

//  Spawns "backup", keeping its checkpoints under dir, taking requests
//  from meta_node ("host:port") only. NULL on failure (logged).
actor_t *
    uploader_spawn (rt_t *rt, zconfig_t *config, const char *dir, const char *meta_node);

#endif
