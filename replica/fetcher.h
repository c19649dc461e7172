/*  fetcher: the pinned actor "restore" of a replica server, which carries
    out this server's part of restores: for each partition of a table being
    restored that meta names here, it downloads the files of the backup's
    checkpoint from a backup target actor on this node into the replica's
    directory, checks each chunk's CRC32C as it arrives and each whole file
    (its chunks' CRCs combined, every byte read once) against the size and
    CRC32C the manifest gives, and only then moves the
    checkpoint into place (<replica>/db), where the replica opens it once
    meta lifts the table's restoring mark.

        meta -> restore : RestorePartitionRequest     restore : RestorePartitionReply
        restore -> <target> : TargetGet*

    States of one partition's download (the RestoreStep of proto/backup.proto):

        state         event                          action / next
        ------------  -----------------------------  ---------------------------------
        (none)        meta asks, <replica>/db there  (an earlier run finished) / DONE
        (none)        meta asks                      mark <replica> as this restore's,
                                                     empty <replica>/db.restore / DOWNLOADING
        DOWNLOADING   room in the window             get the next chunk of the file
        DOWNLOADING   a chunk arrives                check its CRC32C and place, write
                                                     it, extend the file's CRC32C
        DOWNLOADING   a file is whole                size and CRC32C as the manifest
                                                     says (else FAILED, permanent: the
                                                     backup is bad), then fsync
        DOWNLOADING   a get fails                    missing file: FAILED (permanent);
                                                     else retry the file (3 times) /
                                                     else FAILED
        DOWNLOADING   last file checked              sync, rename to <replica>/db / DONE
        any           meta cancels                   stop; remove the replica's directory
                                                     if this restore's mark is on it
        any           meta silent for an hour        forget (files stay for the stub's GC)

    Downloads are not throttled: a restore is what an operator waits on.
*/
#ifndef REPLICA_FETCHER_H
#define REPLICA_FETCHER_H

#include "runtime/rt.h"

//  Spawns "restore", writing into replica directories under replica_dir,
//  taking requests from meta_node ("host:port") only. NULL on failure
//  (logged).
actor_t *
    fetcher_spawn (rt_t *rt, const char *replica_dir, const char *meta_node);

#endif
