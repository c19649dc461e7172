/*  db: see db.h. */
#include "replica/db.h"
#include "runtime/fault.h"
#include "common/key.h"
#include "common/value.h"
#include "runtime/log.h"

#include <inttypes.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  Memtable memory grows in blocks of this size: an instance that holds
//  a few records costs a block, not write_buffer/8 (RocksDB's default).
#define ARENA_BLOCK (64 << 10)
//  RocksDB preallocates 4 MiB for each MANIFEST: most of an empty
//  instance's disk. A manifest that outgrows this just extends.
#define MANIFEST_PREALLOC (64 << 10)

struct db_t {
    db_env_t *env;
    rocksdb_t *rdb;
    char *path;
};

struct db_env_t {
    rocksdb_cache_t *cache;
    rocksdb_block_based_table_options_t *table;
    rocksdb_filterpolicy_t *bloom;      //  owned by table once set
    rocksdb_compactionfilter_t *ttl;
    rocksdb_writeoptions_t *write;
    rocksdb_writeoptions_t *write_now;  //  no_slowdown: a stall fails instead of waiting
    rocksdb_readoptions_t *read;
    rocksdb_flushoptions_t *flush;
    rtclock_t clock;
    db_env_config_t config;
    _Atomic int refs;                   //  the creator's and one per open db
};

//  ---------------------------------------------------------------------------
//  TTL compaction filter: runs on RocksDB's threads; reads only the clock.

static unsigned char
s_ttl_filter (void *state, int level, const char *key, size_t key_len,
              const char *value, size_t value_len, char **new_value,
              size_t *new_value_len, unsigned char *value_changed)
{
    (void) level;
    (void) new_value;
    (void) new_value_len;
    *value_changed = 0;
    db_env_t *env = state;
    const uint8_t *hk, *sk;
    size_t hk_len, sk_len;
    if (key_decode ((const uint8_t *) key, key_len, &hk, &hk_len, &sk, &sk_len))
        return 0;                       //  not a user record (KEY_META)
    uint32_t expire_ts;
    uint64_t timetag;
    const uint8_t *user;
    size_t user_len;
    if (value_decode ((const uint8_t *) value, value_len, &expire_ts, &timetag, &user, &user_len))
        return 0;
    return value_expired (expire_ts, rtclock_wall_ms (&env->clock)) ? 1 : 0;
}

static void
s_ttl_destroy (void *state)
{
    (void) state;                       //  the env owns itself
}

static const char *
s_ttl_name (void *state)
{
    (void) state;
    return "pegasus.ttl";
}

//  ---------------------------------------------------------------------------

int
db_env_config (zconfig_t *config, db_env_config_t *out)
{
    int64_t jobs;
    if (config_size (config, "replica/block_cache", 256 << 20, 1 << 20, 1LL << 40, &out->block_cache)
    ||  config_size (config, "replica/write_budget", 256 << 20, 4 << 20, 1LL << 40,
                     &out->write_budget))
        return -1;
    //  By default an eighth of the budget, at most 32 MiB: enough for a
    //  busy partition to write large files, small enough that several
    //  busy ones fit.
    int64_t buffer = out->write_budget / 8 < (32 << 20) ? out->write_budget / 8 : (32 << 20);
    if (config_size (config, "replica/write_buffer", buffer, 256 << 10, 1LL << 30,
                     &out->write_buffer)
    ||  config_int (config, "replica/max_open_files", 64, 16, 1000000, &out->max_open_files)
    ||  config_int (config, "replica/rocksdb_jobs", 2, 1, 64, &jobs))
        return -1;
    out->background_jobs = (int) jobs;
    //  Two memtables of one instance (one active, one flushing) must fit
    //  in the budget, or one busy partition alone would exceed it.
    if (out->write_buffer * 2 > out->write_budget) {
        log_error ("config: replica/write_buffer (%" PRId64 ") is more than half of "
                   "replica/write_budget (%" PRId64 "): raise the budget or lower the buffer",
                   out->write_buffer, out->write_budget);
        return -1;
    }
    return 0;
}

db_env_t *
db_env_new (const db_env_config_t *config, const rtclock_t *clock)
{
    db_env_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->clock = *clock;
    atomic_init (&self->refs, 1);
    self->config = *config;
    self->cache = rocksdb_cache_create_lru ((size_t) config->block_cache);
    self->table = rocksdb_block_based_options_create ();
    rocksdb_block_based_options_set_block_cache (self->table, self->cache);
    rocksdb_block_based_options_set_cache_index_and_filter_blocks (self->table, 1);
    self->bloom = rocksdb_filterpolicy_create_bloom (10);
    rocksdb_block_based_options_set_filter_policy (self->table, self->bloom);
    self->ttl = rocksdb_compactionfilter_create (self, s_ttl_destroy, s_ttl_filter, s_ttl_name);
    self->write = rocksdb_writeoptions_create ();
    rocksdb_writeoptions_disable_WAL (self->write, 1);
    self->write_now = rocksdb_writeoptions_create ();
    rocksdb_writeoptions_disable_WAL (self->write_now, 1);
    rocksdb_writeoptions_set_no_slowdown (self->write_now, 1);
    self->read = rocksdb_readoptions_create ();
    self->flush = rocksdb_flushoptions_create ();
    rocksdb_flushoptions_set_wait (self->flush, 1);
    return self;
}

void
db_env_destroy (db_env_t **self_p)
{
    db_env_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    if (atomic_fetch_sub (&self->refs, 1) != 1)
        return;                         //  instances still open hold it
    rocksdb_compactionfilter_destroy (self->ttl);
    rocksdb_block_based_options_destroy (self->table);     //  frees the bloom policy
    rocksdb_cache_destroy (self->cache);
    rocksdb_writeoptions_destroy (self->write);
    rocksdb_writeoptions_destroy (self->write_now);
    rocksdb_readoptions_destroy (self->read);
    rocksdb_flushoptions_destroy (self->flush);
    free (self);
}

db_t *
db_open (db_env_t *env, const char *path, char *error_out, size_t size)
{
    rocksdb_options_t *options = rocksdb_options_create ();
    rocksdb_options_set_create_if_missing (options, 1);
    rocksdb_options_set_block_based_table_factory (options, env->table);
    rocksdb_options_set_compaction_filter (options, env->ttl);
    rocksdb_options_set_max_write_buffer_number (options, 2);
    rocksdb_options_set_write_buffer_size (options, (size_t) env->config.write_buffer);
    rocksdb_options_set_arena_block_size (options, ARENA_BLOCK);
    rocksdb_options_set_max_background_jobs (options, env->config.background_jobs);
    rocksdb_options_set_level_compaction_dynamic_level_bytes (options, 1);
    //  One of many instances: a small table cache (its shards are per
    //  instance), no per-instance statistics work, a small manifest, and
    //  an info log for warnings only (at INFO, every open writes ~10 KB
    //  of options into it).
    rocksdb_options_set_max_open_files (options, (int) env->config.max_open_files);
    //  Opening loads table handlers on this many threads, created and
    //  joined per open (16 by default: 15 thread creations per instance,
    //  a fifth of a server's CPU while it opens a thousand). One instance
    //  holds few files; the opening thread loads them itself.
    rocksdb_options_set_max_file_opening_threads (options, 1);
    rocksdb_options_set_table_cache_numshardbits (options, 2);
    rocksdb_options_set_stats_dump_period_sec (options, 0);
    rocksdb_options_set_stats_persist_period_sec (options, 0);
    rocksdb_options_set_skip_stats_update_on_db_open (options, 1);
    rocksdb_options_set_manifest_preallocation_size (options, MANIFEST_PREALLOC);
    rocksdb_options_set_info_log_level (options, 2);       //  WARN
    rocksdb_options_set_max_log_file_size (options, 1 << 20);
    rocksdb_options_set_keep_log_file_num (options, 2);
    char *error = NULL;
    rocksdb_t *rdb = rocksdb_open (options, path, &error);
    rocksdb_options_destroy (options);
    if (error) {
        log_error ("db: cannot open %s: %s", path, error);
        if (error_out)
            snprintf (error_out, size, "%s", error);
        rocksdb_free (error);
        return NULL;
    }
    db_t *self = calloc (1, sizeof *self);
    if (!self || !(self->path = strdup (path))) {
        free (self);
        rocksdb_close (rdb);
        return NULL;
    }
    self->env = env;
    self->rdb = rdb;
    atomic_fetch_add (&env->refs, 1);
    return self;
}

void
db_close (db_t **self_p)
{
    db_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    db_env_t *env = self->env;
    //  With the WAL off, closing flushes the memtables (RocksDB's default).
    rocksdb_close (self->rdb);
    free (self->path);
    free (self);
    db_env_destroy (&env);              //  the reference this instance held
}

uint64_t
db_decree (db_t *self)
{
    rocksdb_pinnableslice_t *value;
    if (db_get (self, (const uint8_t *) KEY_META, KEY_META_LEN, &value) != 1)
        return 0;
    size_t len;
    const uint8_t *bytes = (const uint8_t *) rocksdb_pinnableslice_value (value, &len);
    uint64_t decree = 0;
    if (len == 8)
        for (int i = 0; i < 8; i++)
            decree = decree << 8 | bytes [i];
    else
        log_error ("db %s: meta record of %zu bytes: treated as decree 0", self->path, len);
    rocksdb_pinnableslice_destroy (value);
    return decree;
}

int
db_get (db_t *self, const uint8_t *key, size_t len, rocksdb_pinnableslice_t **value)
{
    char *error = NULL;
    *value = rocksdb_get_pinned (self->rdb, self->env->read, (const char *) key, len, &error);
    if (error) {
        log_error ("db %s: read failed: %s", self->path, error);
        rocksdb_free (error);
        return -1;
    }
    return *value ? 1 : 0;
}

int
db_write (db_t *self, rocksdb_writebatch_t *batch, uint64_t decree, bool may_block)
{
    //  Fault point: a write stall of N ms (RocksDB holding writes back
    //  while compaction catches up).
    int64_t stall_ms = fault_delay_ms ("db.write_stall_ms");
    if (stall_ms && !may_block)
        return DB_WOULD_BLOCK;
    if (stall_ms)
        fault_sleep_ms (stall_ms);
    uint8_t encoded [8];
    for (int i = 0; i < 8; i++)
        encoded [i] = (uint8_t) (decree >> (56 - 8 * i));
    rocksdb_writebatch_put (batch, KEY_META, KEY_META_LEN, (const char *) encoded, 8);
    char *error = NULL;
    rocksdb_write (self->rdb, may_block ? self->env->write : self->env->write_now, batch, &error);
    if (error && !may_block && (strstr (error, "stall") || strstr (error, "ncomplete"))) {
        rocksdb_free (error);
        return DB_WOULD_BLOCK;
    }
    if (error) {
        log_error ("db %s: write of decree %llu failed: %s", self->path,
                   (unsigned long long) decree, error);
        rocksdb_free (error);
        return -1;
    }
    return 0;
}

struct db_iter_t {
    rocksdb_iterator_t *it;
    rocksdb_readoptions_t *options;
    uint8_t *bounds;                    //  lower then upper, copied
};

db_iter_t *
db_iter_new (db_t *self, const uint8_t *lower, size_t lower_len,
             const uint8_t *upper, size_t upper_len)
{
    db_iter_t *iter = calloc (1, sizeof *iter);
    size_t bytes = (lower ? lower_len : 0) + (upper ? upper_len : 0);
    if (!iter || (bytes && !(iter->bounds = malloc (bytes)))) {
        free (iter);
        return NULL;
    }
    iter->options = rocksdb_readoptions_create ();
    uint8_t *at = iter->bounds;
    if (lower) {
        memcpy (at, lower, lower_len);
        rocksdb_readoptions_set_iterate_lower_bound (iter->options, (const char *) at, lower_len);
        at += lower_len;
    }
    if (upper) {
        memcpy (at, upper, upper_len);
        rocksdb_readoptions_set_iterate_upper_bound (iter->options, (const char *) at, upper_len);
    }
    iter->it = rocksdb_create_iterator (self->rdb, iter->options);
    return iter;
}

void
db_iter_destroy (db_iter_t **self_p)
{
    db_iter_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    rocksdb_iter_destroy (self->it);
    rocksdb_readoptions_destroy (self->options);
    free (self->bounds);
    free (self);
}

rocksdb_iterator_t *
db_iter_rocks (db_iter_t *self)
{
    return self->it;
}

void
db_compact (db_t *self)
{
    rocksdb_compact_range (self->rdb, NULL, 0, NULL, 0);
}

int
db_flush (db_t *self)
{
    char *error = NULL;
    rocksdb_flush (self->rdb, self->env->flush, &error);
    if (error) {
        log_error ("db %s: flush failed: %s", self->path, error);
        rocksdb_free (error);
        return -1;
    }
    return 0;
}

uint64_t
db_memtable_bytes (db_t *self)
{
    uint64_t bytes = 0;
    if (rocksdb_property_int (self->rdb, "rocksdb.cur-size-all-mem-tables", &bytes))
        return 0;
    return bytes;
}

void
db_env_cache_stats (db_env_t *self, db_cache_stats_t *out)
{
    out->usage = rocksdb_cache_get_usage (self->cache);
    out->pinned = rocksdb_cache_get_pinned_usage (self->cache);
    out->capacity = rocksdb_cache_get_capacity (self->cache);
}

int
db_checkpoint (db_t *self, const char *path)
{
    char *error = NULL;
    rocksdb_checkpoint_t *cp = rocksdb_checkpoint_object_create (self->rdb, &error);
    if (cp) {
        //  0: flush the memtables first, so the checkpoint needs no WAL
        //  (ours is off) and holds every applied decree.
        rocksdb_checkpoint_create (cp, path, 0, &error);
        rocksdb_checkpoint_object_destroy (cp);
    }
    if (error) {
        log_error ("db %s: checkpoint into %s failed: %s", self->path, path, error);
        rocksdb_free (error);
        return -1;
    }
    return 0;
}
