/*  fstarget: the built-in backup target, a directory of any mounted
    filesystem (local disk, NFS), speaking the target API of
    proto/target.proto. One pinned actor per configured target, since every
    message is file I/O:

        targets
            local = /var/backups/pegasus        # actor "local", files under that root

    A file being put is written beside its final name as ".<name>.part"
    and renamed into place after its size and CRC32C matched and its bytes
    reached the disk, so a reader sees whole files or nothing, and a crash
    mid-upload leaves a partial file the sender resumes from. The CRC32C
    is kept in an extended attribute where the filesystem has them, and
    stat reports it.
*/
#ifndef ACTORS_FSTARGET_H
#define ACTORS_FSTARGET_H

#include "runtime/rt.h"

#include <czmq.h>

//  Spawns one target named `name` storing under root, which must be an
//  existing, writable directory. NULL (logged) otherwise.
actor_t *
    fstarget_spawn (rt_t *rt, const char *name, const char *root);

//  Spawns every target of config's `targets` section. Returns a
//  NULL-terminated array of references (empty if none are configured), or
//  NULL if one could not start (logged; none stays running).
actor_t **
    fstarget_start_all (rt_t *rt, zconfig_t *config);

//  Stops the targets of fstarget_start_all and frees the array.
void
    fstarget_stop_all (actor_t ***targets_p);

#endif
