/*  metastore: see metastore.h. */
#include "meta/metastore.h"
#include "runtime/log.h"

#include <inttypes.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct metastore_t {
    rocksdb_t *db;
    rocksdb_writeoptions_t *sync;
    rocksdb_readoptions_t *read;
};

#define NEXT_ID_KEY "next_app_id"
#define LEVEL_KEY "meta_level"
#define EPOCH_KEY "epoch"
#define NODE_PREFIX "node."
#define JOB_PREFIX "job."

metastore_t *
metastore_open (const char *dir)
{
    rocksdb_options_t *options = rocksdb_options_create ();
    rocksdb_options_set_create_if_missing (options, 1);
    char *error = NULL;
    rocksdb_t *db = rocksdb_open (options, dir, &error);
    rocksdb_options_destroy (options);
    if (error) {
        log_error ("meta: cannot open its store %s: %s", dir, error);
        rocksdb_free (error);
        return NULL;
    }
    metastore_t *self = calloc (1, sizeof *self);
    if (!self) {
        rocksdb_close (db);
        return NULL;
    }
    self->db = db;
    self->sync = rocksdb_writeoptions_create ();
    rocksdb_writeoptions_set_sync (self->sync, 1);
    self->read = rocksdb_readoptions_create ();
    return self;
}

void
metastore_close (metastore_t **self_p)
{
    metastore_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    rocksdb_close (self->db);
    rocksdb_writeoptions_destroy (self->sync);
    rocksdb_readoptions_destroy (self->read);
    free (self);
}

static void
s_app_key (char *out, size_t size, uint32_t app_id)
{
    snprintf (out, size, "app.%010u", app_id);
}

static void
s_part_key (char *out, size_t size, uint32_t app_id, uint32_t index)
{
    snprintf (out, size, "part.%010u.%010u", app_id, index);
}

int
metastore_load (metastore_t *self, metastore_load_fn *fn, void *ctx, uint32_t *next_app_id)
{
    *next_app_id = 1;
    size_t len;
    char *error = NULL;
    char *value = rocksdb_get (self->db, self->read, NEXT_ID_KEY, strlen (NEXT_ID_KEY), &len, &error);
    if (error) {
        log_error ("meta: store read failed: %s", error);
        rocksdb_free (error);
        return -1;
    }
    if (value) {
        if (len == 4)
            *next_app_id = (uint32_t) ((uint8_t) value [0] | (uint8_t) value [1] << 8
                         | (uint8_t) value [2] << 16 | (uint32_t) (uint8_t) value [3] << 24);
        rocksdb_free (value);
    }
    rocksdb_iterator_t *it = rocksdb_create_iterator (self->db, self->read);
    int rc = 0;
    for (rocksdb_iter_seek (it, "app.", 4); rocksdb_iter_valid (it) && rc == 0; rocksdb_iter_next (it)) {
        size_t key_len, value_len;
        const char *key = rocksdb_iter_key (it, &key_len);
        if (key_len < 4 || memcmp (key, "app.", 4))
            break;
        const char *bytes = rocksdb_iter_value (it, &value_len);
        Pg__AppInfo *app = pg__app_info__unpack (NULL, value_len, (const uint8_t *) bytes);
        if (!app || app->partition_count == 0 || app->partition_count > 65536) {
            log_error ("meta: record %.*s in the store does not decode", (int) key_len, key);
            if (app)
                pg__app_info__free_unpacked (app, NULL);
            rc = -1;
            break;
        }
        Pg__PartitionConfig **parts = calloc (app->partition_count, sizeof *parts);
        for (uint32_t i = 0; parts && i < app->partition_count && rc == 0; i++) {
            char part_key [64];
            s_part_key (part_key, sizeof part_key, app->app_id, i);
            char *raw = rocksdb_get (self->db, self->read, part_key, strlen (part_key), &len, &error);
            if (error || !raw) {
                log_error ("meta: partition %u.%u missing from the store%s%s", app->app_id, i,
                           error ? ": " : "", error ? error : "");
                rocksdb_free (error);
                error = NULL;
                rc = -1;
                break;
            }
            parts [i] = pg__partition_config__unpack (NULL, len, (const uint8_t *) raw);
            rocksdb_free (raw);
            if (!parts [i]) {
                log_error ("meta: partition %u.%u in the store does not decode", app->app_id, i);
                rc = -1;
            }
        }
        if (rc == 0 && parts)
            fn (ctx, app, parts, app->partition_count);
        for (uint32_t i = 0; parts && i < app->partition_count; i++)
            if (parts [i])
                pg__partition_config__free_unpacked (parts [i], NULL);
        free (parts);
        pg__app_info__free_unpacked (app, NULL);
    }
    rocksdb_iter_destroy (it);
    return rc;
}

static int
s_put (rocksdb_writebatch_t *batch, const char *key, const ProtobufCMessage *message)
{
    size_t len = protobuf_c_message_get_packed_size (message);
    uint8_t *bytes = malloc (len ? len : 1);
    if (!bytes)
        return -1;
    protobuf_c_message_pack (message, bytes);
    rocksdb_writebatch_put (batch, key, strlen (key), (const char *) bytes, len);
    free (bytes);
    return 0;
}

static int
s_commit (metastore_t *self, rocksdb_writebatch_t *batch)
{
    char *error = NULL;
    rocksdb_write (self->db, self->sync, batch, &error);
    rocksdb_writebatch_destroy (batch);
    if (error) {
        log_error ("meta: store write failed: %s", error);
        rocksdb_free (error);
        return -1;
    }
    return 0;
}

int
metastore_save (metastore_t *self, const Pg__AppInfo *app,
                Pg__PartitionConfig *const *partitions, size_t count, uint32_t next_app_id)
{
    rocksdb_writebatch_t *batch = rocksdb_writebatch_create ();
    char key [64];
    s_app_key (key, sizeof key, app->app_id);
    int rc = s_put (batch, key, &app->base);
    for (size_t i = 0; i < count && rc == 0; i++) {
        s_part_key (key, sizeof key, partitions [i]->app_id, partitions [i]->partition_index);
        rc = s_put (batch, key, &partitions [i]->base);
    }
    uint8_t next [4] = {
        (uint8_t) next_app_id, (uint8_t) (next_app_id >> 8),
        (uint8_t) (next_app_id >> 16), (uint8_t) (next_app_id >> 24)
    };
    rocksdb_writebatch_put (batch, NEXT_ID_KEY, strlen (NEXT_ID_KEY), (const char *) next, 4);
    if (rc) {
        rocksdb_writebatch_destroy (batch);
        return -1;
    }
    return s_commit (self, batch);
}

int
metastore_remove (metastore_t *self, uint32_t app_id, uint32_t partition_count)
{
    rocksdb_writebatch_t *batch = rocksdb_writebatch_create ();
    char key [64];
    s_app_key (key, sizeof key, app_id);
    rocksdb_writebatch_delete (batch, key, strlen (key));
    for (uint32_t i = 0; i < partition_count; i++) {
        s_part_key (key, sizeof key, app_id, i);
        rocksdb_writebatch_delete (batch, key, strlen (key));
    }
    return s_commit (self, batch);
}

int
metastore_set_level (metastore_t *self, int level)
{
    rocksdb_writebatch_t *batch = rocksdb_writebatch_create ();
    char value = (char) ('0' + level);
    rocksdb_writebatch_put (batch, LEVEL_KEY, strlen (LEVEL_KEY), &value, 1);
    return s_commit (self, batch);
}

int
metastore_level (metastore_t *self, int fallback)
{
    size_t len = 0;
    char *error = NULL;
    char *value = rocksdb_get (self->db, self->read, LEVEL_KEY, strlen (LEVEL_KEY), &len, &error);
    int level = fallback;
    if (error) {
        log_error ("metastore: cannot read the meta level: %s", error);
        rocksdb_free (error);
    }
    else
    if (value && len == 1 && value [0] >= '0' && value [0] <= '9')
        level = value [0] - '0';
    else
    if (value)
        log_error ("metastore: meta level record of %zu bytes ignored", len);
    rocksdb_free (value);
    return level;
}

int
metastore_save_node (metastore_t *self, const Pg__NodeRecord *node)
{
    char key [400];
    snprintf (key, sizeof key, NODE_PREFIX "%.300s", node->address);
    rocksdb_writebatch_t *batch = rocksdb_writebatch_create ();
    if (s_put (batch, key, &node->base)) {
        rocksdb_writebatch_destroy (batch);
        return -1;
    }
    return s_commit (self, batch);
}

//  Every record under prefix, decoded as desc, to fn (with its key). One
//  that does not decode is logged and skipped. 0, or -1 if the store
//  cannot be read.
typedef void (scan_fn) (void *ctx, const char *key, size_t key_len, ProtobufCMessage *record);

static int
s_scan (metastore_t *self, const char *prefix, const ProtobufCMessageDescriptor *desc,
        scan_fn *fn, void *ctx)
{
    rocksdb_iterator_t *it = rocksdb_create_iterator (self->db, self->read);
    size_t prefix_len = strlen (prefix);
    for (rocksdb_iter_seek (it, prefix, prefix_len); rocksdb_iter_valid (it); rocksdb_iter_next (it)) {
        size_t key_len, value_len;
        const char *key = rocksdb_iter_key (it, &key_len);
        if (key_len < prefix_len || memcmp (key, prefix, prefix_len))
            break;
        const char *bytes = rocksdb_iter_value (it, &value_len);
        ProtobufCMessage *record = protobuf_c_message_unpack (desc, NULL, value_len,
                                                              (const uint8_t *) bytes);
        if (!record) {
            log_error ("meta: record %.*s in the store does not decode; ignored",
                       (int) key_len, key);
            continue;
        }
        fn (ctx, key, key_len, record);
        protobuf_c_message_free_unpacked (record, NULL);
    }
    char *error = NULL;
    rocksdb_iter_get_error (it, &error);
    rocksdb_iter_destroy (it);
    if (error) {
        log_error ("meta: store read failed: %s", error);
        rocksdb_free (error);
        return -1;
    }
    return 0;
}

typedef struct {
    metastore_node_fn *fn;
    void *ctx;
} nodes_ctx_t;

static void
s_node_record (void *ctx, const char *key, size_t key_len, ProtobufCMessage *record)
{
    nodes_ctx_t *nodes = ctx;
    const Pg__NodeRecord *node = (const Pg__NodeRecord *) record;
    //  Forgetting a node costs one missed restart detection at most (the
    //  replica's ballot file still refuses to lead again).
    if (!*node->address)
        log_error ("meta: record %.*s names no address; ignored", (int) key_len, key);
    else
        nodes->fn (nodes->ctx, node);
}

int
metastore_load_nodes (metastore_t *self, metastore_node_fn *fn, void *ctx)
{
    nodes_ctx_t nodes = { fn, ctx };
    return s_scan (self, NODE_PREFIX, &pg__node_record__descriptor, s_node_record, &nodes);
}

static void
s_job_key (char *out, size_t size, const char *kind, uint64_t id)
{
    snprintf (out, size, JOB_PREFIX "%.32s.%020" PRIu64, kind, id);
}

int
metastore_save_job (metastore_t *self, const char *kind, uint64_t id, const ProtobufCMessage *job)
{
    char key [96];
    s_job_key (key, sizeof key, kind, id);
    rocksdb_writebatch_t *batch = rocksdb_writebatch_create ();
    if (s_put (batch, key, job)) {
        rocksdb_writebatch_destroy (batch);
        return -1;
    }
    return s_commit (self, batch);
}

int
metastore_remove_job (metastore_t *self, const char *kind, uint64_t id)
{
    char key [96];
    s_job_key (key, sizeof key, kind, id);
    rocksdb_writebatch_t *batch = rocksdb_writebatch_create ();
    rocksdb_writebatch_delete (batch, key, strlen (key));
    return s_commit (self, batch);
}

typedef struct {
    metastore_job_fn *fn;
    void *ctx;
} jobs_ctx_t;

static void
s_job_record (void *ctx, const char *key, size_t key_len, ProtobufCMessage *record)
{
    jobs_ctx_t *jobs = ctx;
    jobs->fn (jobs->ctx, record);
}

int
metastore_load_jobs (metastore_t *self, const char *kind, const ProtobufCMessageDescriptor *desc,
                     metastore_job_fn *fn, void *ctx)
{
    char prefix [64];
    snprintf (prefix, sizeof prefix, JOB_PREFIX "%.32s.", kind);
    jobs_ctx_t jobs = { fn, ctx };
    return s_scan (self, prefix, desc, s_job_record, &jobs);
}

int
metastore_next_epoch (metastore_t *self, uint64_t *epoch)
{
    size_t len = 0;
    char *error = NULL;
    char *value = rocksdb_get (self->db, self->read, EPOCH_KEY, strlen (EPOCH_KEY), &len, &error);
    if (error) {
        log_error ("meta: cannot read its epoch: %s", error);
        rocksdb_free (error);
        return -1;
    }
    uint64_t last = 0;
    if (value && len == 8)
        for (int i = 0; i < 8; i++)
            last |= (uint64_t) (uint8_t) value [i] << (8 * i);
    else
    if (value) {
        log_error ("meta: its epoch record has %zu bytes, not 8", len);
        rocksdb_free (value);
        return -1;
    }
    rocksdb_free (value);
    uint64_t next = last + 1;
    uint8_t bytes [8];
    for (int i = 0; i < 8; i++)
        bytes [i] = (uint8_t) (next >> (8 * i));
    rocksdb_writebatch_t *batch = rocksdb_writebatch_create ();
    rocksdb_writebatch_put (batch, EPOCH_KEY, strlen (EPOCH_KEY), (const char *) bytes, 8);
    if (s_commit (self, batch))
        return -1;
    *epoch = next;
    return 0;
}
