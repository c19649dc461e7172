/*  metastore: the meta server's state on disk, in a local RocksDB.

    One record per table ("app.<id>": pg.AppInfo) and per partition
    ("part.<id>.<index>": pg.PartitionConfig), one per replica server
    ("node.<address>": pg.NodeRecord), one per job ("job.<kind>.<id>"),
    the next table id, the meta level and the epoch of this meta's
    configuration versions.
    Every change is written with sync=true before anyone acts on it: a
    configuration is never handed out that a restart could forget.
*/
#ifndef META_METASTORE_H
#define META_METASTORE_H

#include "meta.pb-c.h"

#include <stdint.h>

typedef struct metastore_t metastore_t;

metastore_t *
    metastore_open (const char *dir);

void
    metastore_close (metastore_t **self_p);

//  Calls fn for every table with its partitions (index order), then returns
//  the next table id to use. The structs passed are freed after the call.
typedef void (metastore_load_fn) (void *ctx, const Pg__AppInfo *app,
                                  Pg__PartitionConfig **partitions, size_t count);

int
    metastore_load (metastore_t *self, metastore_load_fn *fn, void *ctx, uint32_t *next_app_id);

//  Writes a table, the given partitions (all, or the changed ones) and the
//  next table id in one synced batch. 0 or -1 (logged).
int
    metastore_save (metastore_t *self, const Pg__AppInfo *app,
                    Pg__PartitionConfig *const *partitions, size_t count, uint32_t next_app_id);

//  The meta level an operator set (pg.MetaLevel), synced; and reading it
//  back (fallback if never set or unreadable).
int
    metastore_set_level (metastore_t *self, int level);

int
    metastore_level (metastore_t *self, int fallback);

//  A replica server's record (synced); and every record, to fn. 0 or -1.
int
    metastore_save_node (metastore_t *self, const Pg__NodeRecord *node);

typedef void (metastore_node_fn) (void *ctx, const Pg__NodeRecord *node);
int
    metastore_load_nodes (metastore_t *self, metastore_node_fn *fn, void *ctx);

//  Jobs (a backup, and later moves, splits...): one record per job, keyed
//  by its kind and id, the whole job as one protobuf message, synced. A
//  job is written before anyone acts on what it says, so a restarted meta
//  goes on from it.
int
    metastore_save_job (metastore_t *self, const char *kind, uint64_t id,
                        const ProtobufCMessage *job);
int
    metastore_remove_job (metastore_t *self, const char *kind, uint64_t id);
//  Every job of a kind, in id order, decoded as desc, to fn (the message
//  is freed after the call). 0 or -1.
typedef void (metastore_job_fn) (void *ctx, const ProtobufCMessage *job);
int
    metastore_load_jobs (metastore_t *self, const char *kind, const ProtobufCMessageDescriptor *desc,
                         metastore_job_fn *fn, void *ctx);

//  A new epoch, above every one handed out before (synced before it is
//  returned): configuration versions are epoch << 32 | a count, so they
//  grow across restarts whatever the clocks say. 0 or -1.
int
    metastore_next_epoch (metastore_t *self, uint64_t *epoch);

//  Deletes a table and its partitions (synced). 0 or -1.
int
    metastore_remove (metastore_t *self, uint32_t app_id, uint32_t partition_count);

#endif
