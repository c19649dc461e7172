/*  db: one partition replica's RocksDB instance.

    All instances of a node share one block cache, RocksDB's default Env
    with its background thread pools, and one memtable budget (db_env_t),
    so a thousand partitions fit in bounded memory. Each instance is opened
    for being one of many (docs/decisions.md, "Many small RocksDB
    instances"): a small table cache, a small manifest and info log, no
    statistics dumps, memtable arenas that grow in small blocks. Memtables
    have a fixed size each; the node-wide budget is kept by flushing the
    largest ones when the sum is over it (the stub does that from the
    replicas' reports), never by resizing every instance (RocksDB rewrites
    its options file, with two fsyncs, on every resize). RocksDB's own WAL is off: the node's mutation log is the
    write-ahead log, and every write here also records the decree it
    applies under KEY_META, so after a crash the instance knows how far its
    flushed state goes and the log replays the rest. A compaction filter
    drops records whose TTL has passed.
*/
#ifndef REPLICA_DB_H
#define REPLICA_DB_H

#include "runtime/config.h"
#include "runtime/rtclock.h"

#include <rocksdb/c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct db_env_t db_env_t;
typedef struct db_t db_t;

typedef struct {
    int64_t block_cache;                //  bytes, shared by all instances
    int64_t write_budget;               //  memtable bytes of all instances together
    int64_t write_buffer;               //  one memtable's bytes, at most
    int64_t max_open_files;             //  per instance: its table cache
    int background_jobs;                //  RocksDB's shared flush + compaction threads
} db_env_config_t;

//  Reads replica/block_cache, write_budget, write_buffer, max_open_files
//  and rocksdb_jobs. 0, or -1 (logged) on a bad value.
int
    db_env_config (zconfig_t *config, db_env_config_t *out);

//  Node-wide resources; clock tells the compaction filter what time it is.
db_env_t *
    db_env_new (const db_env_config_t *config, const rtclock_t *clock);

//  Releases the caller's reference. The environment lives on while any
//  instance opened from it is still open (each holds a reference), so a
//  partition may close after the node actor that made the environment.
void
    db_env_destroy (db_env_t **self_p);

//  Opens (creating) the instance at path. NULL on error (logged, and
//  copied into error[0..size) if error is not NULL).
db_t *
    db_open (db_env_t *env, const char *path, char *error, size_t size);

//  Closes (flushing memtables).
void
    db_close (db_t **self_p);

//  The decree of the last write in the instance (0 if none).
uint64_t
    db_decree (db_t *self);

//  Reads a stored value. Returns 1 and a pinned slice the caller destroys
//  (rocksdb_pinnableslice_destroy), 0 if absent, -1 on error (logged).
int
    db_get (db_t *self, const uint8_t *key, size_t len, rocksdb_pinnableslice_t **value);

//  Applies a batch, adding KEY_META = decree to it. 0 or -1 (logged).
//  Unless may_block, a write RocksDB would hold back (a write stall: too
//  many memtables or level-0 files) is not made and DB_WOULD_BLOCK comes
//  back: the caller, on a thread others wait for, retries where it may
//  block.
enum { DB_WOULD_BLOCK = 1 };
int
    db_write (db_t *self, rocksdb_writebatch_t *batch, uint64_t decree, bool may_block);

//  An iterator bounded to [lower, upper) (NULL: no bound on that side).
//  It owns copies of the bounds and its read options, which RocksDB's
//  iterator points into. NULL if out of memory.
typedef struct db_iter_t db_iter_t;

db_iter_t *
    db_iter_new (db_t *self, const uint8_t *lower, size_t lower_len,
                 const uint8_t *upper, size_t upper_len);

void
    db_iter_destroy (db_iter_t **self_p);

//  The RocksDB iterator inside (seek, next, key, value...).
rocksdb_iterator_t *
    db_iter_rocks (db_iter_t *self);

//  Compacts the whole key range (runs the TTL filter over every record).
void
    db_compact (db_t *self);

//  Flushes memtables and waits. 0 or -1 (logged).
int
    db_flush (db_t *self);

//  A consistent copy of the instance in path (which must not exist):
//  hard links to its files where it can, as of the last write. 0 or -1
//  (logged).
int
    db_checkpoint (db_t *self, const char *path);

//  Bytes in the instance's memtables (active and being flushed): an
//  estimate from RocksDB's properties, cheap to read.
uint64_t
    db_memtable_bytes (db_t *self);

//  The node's shared block cache: bytes in use (data, index and filter
//  blocks of every instance), of which pinned, and its capacity. Safe
//  from any thread.
typedef struct {
    uint64_t usage;
    uint64_t pinned;
    uint64_t capacity;
} db_cache_stats_t;

void
    db_env_cache_stats (db_env_t *self, db_cache_stats_t *out);

#endif
