/*  Cold backup as an operator runs it: real pegasusd processes (1 meta, 3
    replica servers) with the filesystem target "local" on every server, a
    table under a writer, and the backup calls of libpegasus (the shell's
    backup, query_backup, cancel_backup).

    A backup taken while the table is written completes, with a manifest
    (written last) that names every partition's checkpoint, and every file
    it names is on the target with the size and CRC32C it says. Meta
    restarted in the middle of a backup goes on with it; a primary killed in
    the middle of one is replaced, its partition uploaded again under a new
    attempt by the new primary, and the files of the abandoned attempt are
    removed once the backup completes. A cancelled backup leaves nothing on
    the target. Requests that cannot be served are refused with a clear
    status. Uploads are slowed in the middle-of tests (backup/upload_rate)
    so that "the middle" lasts.
*/
#include "client/pegasus.h"
#include "common/crc.h"
#include "common/wiretypes.h"
#include "runtime/rt.h"
#include "tests/minicluster.h"
#include "tests/testutil.h"
#include "backup.pb-c.h"

#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

typedef struct {
    minicluster_t *cluster;
    char *backups;                      //  the target's root
    uint64_t live_id;                   //  the backup taken under writes
    int live_written;                   //  writer records acknowledged before it started
    uint64_t mr_id;                     //  a backup of "mr" (3000 records)
} fixture_t;

static fixture_t s_f;

//  Record i's value: letters that do not compress (a backup's size is
//  the data's), the same for the same i.
static void
s_value (int i, char *value, size_t size)
{
    uint64_t x = 88172645463325252ULL ^ ((uint64_t) i * 0x9E3779B97F4A7C15ULL);
    for (size_t j = 0; j < size; j++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        value [j] = (char) ('a' + x % 26);
    }
}

//  Writes `count` records of `size` bytes into table.
static void
s_fill (const char *table, int first, int count, size_t size)
{
    pegasus_client_t *client = pegasus_client_open (s_f.cluster->meta, table, 10000);
    assert_non_null (client);
    char *value = malloc (size);
    for (int i = first; i < first + count; i++) {
        char key [32];
        snprintf (key, sizeof key, "k%08d", i);
        s_value (i, value, size);
        assert_int_equal (pegasus_set (client, key, strlen (key), "s", 1, value, size, 0, 10000),
                          PEGASUS_OK);
    }
    free (value);
    pegasus_client_close (&client);
}

static void
s_create (const char *table, int partitions)
{
    assert_int_equal (pegasus_create_table (s_f.cluster->meta, table, partitions, 3, NULL, 10000),
                      PEGASUS_OK);
    assert_int_equal (pegasus_wait_table_ready (s_f.cluster->meta, table, 60000), PEGASUS_OK);
}

//  The backup's state once it left RUNNING (or RUNNING at the deadline).
static int
s_wait_end (uint64_t id, int timeout_ms)
{
    int64_t until = testutil_now_ms () + timeout_ms;
    for (;;) {
        pegasus_backup_t *b;
        size_t n;
        assert_int_equal (pegasus_query_backups (s_f.cluster->meta, id, &b, &n, 10000), PEGASUS_OK);
        assert_int_equal (n, 1);
        int state = b [0].state;
        pegasus_backups_free (b, n);
        if (state != PEGASUS_JOB_RUNNING || testutil_now_ms () > until)
            return state;
        usleep (100000);
    }
}

//  Waits until the backup uploaded at least `bytes` (it is in the middle).
static void
s_wait_bytes (uint64_t id, uint64_t bytes)
{
    int64_t until = testutil_now_ms () + 60000;
    for (;;) {
        pegasus_backup_t *b;
        size_t n;
        assert_int_equal (pegasus_query_backups (s_f.cluster->meta, id, &b, &n, 10000), PEGASUS_OK);
        uint64_t done = b [0].bytes_done;
        int state = b [0].state;
        pegasus_backups_free (b, n);
        assert_int_equal (state, PEGASUS_JOB_RUNNING);
        if (done >= bytes)
            return;
        assert_true (testutil_now_ms () < until);
        usleep (50000);
    }
}

static uint8_t *
s_read_file (const char *path, size_t *len)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    fseek (file, 0, SEEK_END);
    long size = ftell (file);
    fseek (file, 0, SEEK_SET);
    uint8_t *data = malloc ((size_t) size + 1);
    *len = fread (data, 1, (size_t) size, file);
    fclose (file);
    return data;
}

//  The manifest of backup id, from the target's directory (NULL if none).
static Pg__BackupManifest *
s_manifest (uint64_t id)
{
    char path [4300];
    snprintf (path, sizeof path, "%s/%" PRIu64 "/manifest", s_f.backups, id);
    size_t len;
    uint8_t *data = s_read_file (path, &len);
    if (!data)
        return NULL;
    Pg__BackupManifest *manifest = pg__backup_manifest__unpack (NULL, len, data);
    free (data);
    return manifest;
}

//  Every file the manifest names is on the target with its size and CRC;
//  returns the bytes they hold.
static uint64_t
s_check_files (const Pg__BackupManifest *manifest, const char *table, uint32_t partitions)
{
    assert_string_equal (manifest->app->name, table);
    assert_int_equal (manifest->app->partition_count, partitions);
    assert_int_equal (manifest->n_partitions, partitions);
    uint64_t bytes = 0;
    for (size_t p = 0; p < manifest->n_partitions; p++) {
        const Pg__BackupPartition *part = manifest->partitions [p];
        assert_int_equal (part->index, p);
        assert_int_equal (part->step, PG__BACKUP_STEP__BACKUP_DONE);
        assert_true (part->n_files >= 3);       //  at least CURRENT, MANIFEST, OPTIONS
        for (size_t i = 0; i < part->n_files; i++) {
            char path [4400];
            snprintf (path, sizeof path, "%s/%" PRIu64 "/%u.%u/%s", s_f.backups,
                      manifest->backup_id, part->index, part->attempt, part->files [i]->name);
            size_t len;
            uint8_t *data = s_read_file (path, &len);
            if (!data)
                fail_msg ("%s is missing", path);
            assert_int_equal (len, part->files [i]->size);
            assert_int_equal (crc32c (0, data, len), part->files [i]->crc32c);
            bytes += len;
            free (data);
        }
    }
    return bytes;
}

//  ---------------------------------------------------------------------

static int
s_setup (void **state)
{
    s_f.backups = testutil_tmpdir ("backups");
    //  Kept by the cluster for restarts: static.
    static char extra [4400];
    //  Slow enough that a backup of a few MB lasts seconds on three
    //  servers: the tests act in its middle.
    snprintf (extra, sizeof extra, "targets\n    local = %s\nbackup\n    upload_rate = 512K\n",
              s_f.backups);
    s_f.cluster = minicluster_start (3, extra);
    if (!s_f.cluster) {
        print_error ("setup: the cluster did not start\n");
        return -1;
    }
    return 0;
}

static int
s_teardown (void **state)
{
    minicluster_stop (&s_f.cluster);
    testutil_rmdir (s_f.backups);
    free (s_f.backups);
    return 0;
}

//  Readers of the written records in the background while a backup runs.
typedef struct {
    atomic_bool stop;
    int written;
} writer_t;

static void *
s_writer (void *arg)
{
    writer_t *w = arg;
    pegasus_client_t *client = pegasus_client_open (s_f.cluster->meta, "live", 10000);
    while (client && !atomic_load (&w->stop)) {
        char key [32];
        snprintf (key, sizeof key, "w%08d", w->written);
        if (pegasus_set (client, key, strlen (key), "s", 1, "v", 1, 0, 10000) == PEGASUS_OK)
            w->written++;
    }
    pegasus_client_close (&client);
    return NULL;
}

static void
test_backup_under_writes_completes_with_manifest (void **state)
{
    s_create ("live", 4);
    s_fill ("live", 0, 200, 1000);
    writer_t w = { .written = 0 };
    atomic_init (&w.stop, false);
    pthread_t writer;
    assert_int_equal (pthread_create (&writer, NULL, s_writer, &w), 0);
    usleep (200000);
    uint64_t id = 0;
    s_f.live_written = w.written;
    assert_int_equal (pegasus_backup (s_f.cluster->meta, "live", "local", &id, 10000), PEGASUS_OK);
    s_f.live_id = id;
    assert_true (id > 0);
    //  While it runs: no manifest, and one backup of a table at a time.
    assert_null (s_manifest (id));
    uint64_t other;
    assert_int_equal (pegasus_backup (s_f.cluster->meta, "live", "local", &other, 10000),
                      PEGASUS_INVALID_STATE);
    assert_int_equal (s_wait_end (id, 120000), PEGASUS_JOB_COMPLETED);
    atomic_store (&w.stop, true);
    pthread_join (writer, NULL);
    assert_true (w.written > 0);
    Pg__BackupManifest *manifest = s_manifest (id);
    assert_non_null (manifest);
    uint64_t bytes = s_check_files (manifest, "live", 4);
    assert_true (bytes > 200 * 1000 / 2);       //  the records (26 letters compress < 2x)
    //  The job says what the manifest says.
    pegasus_backup_t *b;
    size_t n;
    assert_int_equal (pegasus_query_backups (s_f.cluster->meta, id, &b, &n, 10000), PEGASUS_OK);
    assert_int_equal (b [0].partitions_done, 4);
    for (uint32_t p = 0; p < 4; p++) {
        assert_int_equal (b [0].partitions [p].decree, manifest->partitions [p]->decree);
        assert_true (b [0].partitions [p].decree > 0);
        assert_int_equal (b [0].partitions [p].files, manifest->partitions [p]->n_files);
    }
    assert_true (b [0].end_ms >= b [0].start_ms);
    pegasus_backups_free (b, n);
    pg__backup_manifest__free_unpacked (manifest, NULL);
}

static void
test_meta_restarted_mid_backup_resumes (void **state)
{
    s_create ("mr", 4);
    s_fill ("mr", 0, 3000, 1000);
    uint64_t id;
    assert_int_equal (pegasus_backup (s_f.cluster->meta, "mr", "local", &id, 10000), PEGASUS_OK);
    s_f.mr_id = id;
    s_wait_bytes (id, 100000);
    minicluster_kill (s_f.cluster, 0);
    usleep (500000);
    assert_int_equal (minicluster_restart (s_f.cluster, 0), 0);
    assert_int_equal (s_wait_end (id, 120000), PEGASUS_JOB_COMPLETED);
    Pg__BackupManifest *manifest = s_manifest (id);
    assert_non_null (manifest);
    s_check_files (manifest, "mr", 4);
    //  The servers went on while meta was away: nothing was uploaded twice.
    for (size_t p = 0; p < manifest->n_partitions; p++)
        assert_int_equal (manifest->partitions [p]->attempt, 1);
    pg__backup_manifest__free_unpacked (manifest, NULL);
}

static void
test_primary_killed_mid_backup_moves_on (void **state)
{
    s_create ("pk", 2);
    s_fill ("pk", 0, 3000, 1000);
    uint64_t id;
    if (pegasus_backup (s_f.cluster->meta, "pk", "local", &id, 10000) != PEGASUS_OK)
        fail_msg ("backup: %s", pegasus_errmsg ());
    s_wait_bytes (id, 100000);
    //  Kill the server uploading partition 0 (its primary).
    pegasus_backup_t *b;
    size_t n;
    assert_int_equal (pegasus_query_backups (s_f.cluster->meta, id, &b, &n, 10000), PEGASUS_OK);
    char primary [256];
    snprintf (primary, sizeof primary, "%s", b [0].partitions [0].primary);
    pegasus_backups_free (b, n);
    int victim = 0;
    for (int i = 1; i <= 3; i++)
        if (!strcmp (s_f.cluster->addresses [i], primary))
            victim = i;
    assert_true (victim > 0);
    minicluster_kill (s_f.cluster, victim);
    assert_int_equal (s_wait_end (id, 120000), PEGASUS_JOB_COMPLETED);
    Pg__BackupManifest *manifest = s_manifest (id);
    assert_non_null (manifest);
    s_check_files (manifest, "pk", 2);
    const Pg__BackupPartition *part = manifest->partitions [0];
    assert_true (part->attempt >= 2);
    assert_string_not_equal (part->primary, primary);
    //  The abandoned attempt's files are removed after the manifest.
    char path [4400];
    snprintf (path, sizeof path, "%s/%" PRIu64 "/0.1", s_f.backups, id);
    struct stat st;
    int64_t until = testutil_now_ms () + 10000;
    while (stat (path, &st) == 0 && testutil_now_ms () < until)
        usleep (50000);
    assert_int_not_equal (stat (path, &st), 0);
    pg__backup_manifest__free_unpacked (manifest, NULL);
    assert_int_equal (minicluster_restart (s_f.cluster, victim), 0);
    assert_int_equal (pegasus_wait_table_ready (s_f.cluster->meta, "pk", 60000), PEGASUS_OK);
}

static void
test_cancel_leaves_nothing (void **state)
{
    s_create ("cx", 2);
    s_fill ("cx", 0, 3000, 1000);
    uint64_t id;
    assert_int_equal (pegasus_backup (s_f.cluster->meta, "cx", "local", &id, 10000), PEGASUS_OK);
    s_wait_bytes (id, 50000);
    assert_int_equal (pegasus_cancel_backup (s_f.cluster->meta, id, 10000), PEGASUS_OK);
    assert_int_equal (s_wait_end (id, 1000), PEGASUS_JOB_CANCELLED);
    assert_int_equal (pegasus_cancel_backup (s_f.cluster->meta, id, 10000), PEGASUS_INVALID_STATE);
    //  Its directory goes (uploads still in flight land in it and go too:
    //  the servers were told to forget their parts).
    char path [4400];
    snprintf (path, sizeof path, "%s/%" PRIu64, s_f.backups, id);
    struct stat st;
    int64_t until = testutil_now_ms () + 30000;
    while (stat (path, &st) == 0 && testutil_now_ms () < until)
        usleep (100000);
    assert_int_not_equal (stat (path, &st), 0);
    //  A new backup of the table may start now.
    assert_int_equal (pegasus_backup (s_f.cluster->meta, "cx", "local", &id, 10000), PEGASUS_OK);
    assert_int_equal (pegasus_cancel_backup (s_f.cluster->meta, id, 10000), PEGASUS_OK);
}

static void
test_bad_requests_are_refused (void **state)
{
    uint64_t id;
    assert_int_equal (pegasus_backup (s_f.cluster->meta, "nosuch", "local", &id, 10000),
                      PEGASUS_APP_NOT_EXIST);
    assert_int_equal (pegasus_backup (s_f.cluster->meta, "live", "nosuch", &id, 10000),
                      PEGASUS_INVALID_ARGUMENT);
    assert_non_null (strstr (pegasus_errmsg (), "no backup target 'nosuch'"));
    assert_int_equal (pegasus_backup (s_f.cluster->meta, "live", "", &id, 10000),
                      PEGASUS_INVALID_ARGUMENT);
    //  A target is an actor of meta's node, never an address elsewhere.
    char remote [128];
    snprintf (remote, sizeof remote, "%s/local", s_f.cluster->addresses [1]);
    assert_int_equal (pegasus_backup (s_f.cluster->meta, "live", remote, &id, 10000),
                      PEGASUS_INVALID_ARGUMENT);
    //  Only meta asks a replica server to upload or to drop a download:
    //  a request from anyone else is refused and changes nothing.
    rt_t *rt = rt_newf ("runtime\n    workers = 1\n    log_level = error\n");
    assert_non_null (rt);
    char address [128];
    snprintf (address, sizeof address, "%s/backup", s_f.cluster->addresses [1]);
    actor_t *uploader = rt_lookup (rt, address);
    Pg__BackupPartitionRequest *up;
    msg_t *req = msg_new (&pg__backup_partition_request__descriptor, (void **) &up);
    up->backup_id = 1;
    up->app_id = 1;
    up->target = msg_strdup (req, "local");
    up->prefix = msg_strdup (req, "1/0.1");
    msg_t *reply = NULL;
    assert_int_equal (rt_call (rt, uploader, &req, 10000, &reply), PEGASUS_INVALID_ARGUMENT);
    assert_non_null (strstr (msg_error (reply), "only meta"));
    msg_destroy (&reply);
    snprintf (address, sizeof address, "%s/restore", s_f.cluster->addresses [1]);
    actor_t *fetcher = rt_lookup (rt, address);
    Pg__RestorePartitionRequest *down;
    req = msg_new (&pg__restore_partition_request__descriptor, (void **) &down);
    down->app_id = 1;
    down->partition = 0;
    down->cancel = true;
    assert_int_equal (rt_call (rt, fetcher, &req, 10000, &reply), PEGASUS_INVALID_ARGUMENT);
    msg_destroy (&reply);
    actor_unref (&uploader);
    actor_unref (&fetcher);
    rt_destroy (&rt);
    assert_int_equal (pegasus_wait_table_ready (s_f.cluster->meta, "live", 10000), PEGASUS_OK);
    assert_int_equal (pegasus_cancel_backup (s_f.cluster->meta, 12345, 10000), PEGASUS_NOT_FOUND);
    pegasus_backup_t *b;
    size_t n;
    assert_int_equal (pegasus_query_backups (s_f.cluster->meta, 12345, &b, &n, 10000), PEGASUS_NOT_FOUND);
    //  Every job meta keeps, in id order.
    assert_int_equal (pegasus_query_backups (s_f.cluster->meta, 0, &b, &n, 10000), PEGASUS_OK);
    assert_true (n >= 1);
    for (size_t i = 1; i < n; i++)
        assert_true (b [i].id > b [i - 1].id);
    pegasus_backups_free (b, n);
}

//  The restore into table, once it left RUNNING.
static int
s_wait_restore (const char *table, pegasus_restore_t *out)
{
    int64_t until = testutil_now_ms () + 120000;
    for (;;) {
        assert_int_equal (pegasus_query_restore (s_f.cluster->meta, table, out, 10000), PEGASUS_OK);
        if (out->state != PEGASUS_JOB_RUNNING || testutil_now_ms () > until)
            return out->state;
        pegasus_restore_free (out);
        usleep (100000);
    }
}

//  Records first..first+count-1 of s_fill read back from table: how many
//  were found (each found one must be equal).
static int
s_count_equal (const char *table, int first, int count, size_t size)
{
    pegasus_client_t *client = pegasus_client_open (s_f.cluster->meta, table, 10000);
    assert_non_null (client);
    char *want = malloc (size);
    int found = 0;
    for (int i = first; i < first + count; i++) {
        char key [32];
        snprintf (key, sizeof key, "k%08d", i);
        void *value = NULL;
        size_t len = 0;
        int rc = pegasus_get (client, key, strlen (key), "s", 1, &value, &len, 10000);
        if (rc == PEGASUS_NOT_FOUND)
            continue;
        assert_int_equal (rc, PEGASUS_OK);
        s_value (i, want, size);
        assert_int_equal (len, size);
        assert_memory_equal (value, want, size);
        free (value);
        found++;
    }
    free (want);
    pegasus_client_close (&client);
    return found;
}

static void
test_restore_reads_back_every_record (void **state)
{
    assert_true (s_f.live_id > 0);
    uint32_t app_id;
    assert_int_equal (pegasus_restore (s_f.cluster->meta, s_f.live_id, "local", "live2", false,
                                       &app_id, 10000), PEGASUS_OK);
    //  Not served while it is restored... and a second restore into the
    //  same name is refused.
    assert_int_equal (pegasus_restore (s_f.cluster->meta, s_f.live_id, "local", "live2", false,
                                       &app_id, 10000), PEGASUS_APP_EXIST);
    pegasus_restore_t r;
    assert_int_equal (s_wait_restore ("live2", &r), PEGASUS_JOB_COMPLETED);
    assert_int_equal (r.partitions_done, 4);
    assert_int_equal (r.partitions_skipped, 0);
    pegasus_restore_free (&r);
    assert_int_equal (pegasus_wait_table_ready (s_f.cluster->meta, "live2", 60000), PEGASUS_OK);
    //  The same shape as the table backed up.
    pegasus_table_t table;
    pegasus_partition_t *parts;
    size_t n;
    assert_int_equal (pegasus_describe_table (s_f.cluster->meta, "live2", &table, &parts, &n, 10000),
                      PEGASUS_OK);
    assert_int_equal (table.partition_count, 4);
    assert_int_equal (table.replica_count, 3);
    free (parts);
    //  Every record written before the backup, equal.
    assert_int_equal (s_count_equal ("live2", 0, 200, 1000), 200);
    pegasus_client_t *client = pegasus_client_open (s_f.cluster->meta, "live2", 10000);
    assert_non_null (client);
    for (int i = 0; i < s_f.live_written; i++) {
        char key [32];
        snprintf (key, sizeof key, "w%08d", i);
        void *value = NULL;
        size_t len = 0;
        assert_int_equal (pegasus_get (client, key, strlen (key), "s", 1, &value, &len, 10000),
                          PEGASUS_OK);
        assert_int_equal (len, 1);
        assert_memory_equal (value, "v", 1);
        free (value);
    }
    //  And it takes writes like any table.
    assert_int_equal (pegasus_set (client, "new", 3, "s", 1, "x", 1, 0, 10000), PEGASUS_OK);
    pegasus_client_close (&client);
}

//  A file of backup id's partition 1 (the first table file).
static void
s_backup_file (uint64_t id, char *out, size_t size)
{
    Pg__BackupManifest *manifest = s_manifest (id);
    assert_non_null (manifest);
    const Pg__BackupPartition *part = manifest->partitions [1];
    const char *name = NULL;
    for (size_t i = 0; i < part->n_files && !name; i++)
        if (strstr (part->files [i]->name, ".sst"))
            name = part->files [i]->name;
    assert_non_null (name);
    snprintf (out, size, "%s/%" PRIu64 "/%u.%u/%s", s_f.backups, id, part->index, part->attempt, name);
    pg__backup_manifest__free_unpacked (manifest, NULL);
}

static bool
s_table_listed (const char *name)
{
    pegasus_table_t *tables;
    size_t n;
    assert_int_equal (pegasus_list_tables (s_f.cluster->meta, false, &tables, &n, 10000), PEGASUS_OK);
    bool listed = false;
    for (size_t i = 0; i < n; i++)
        listed |= !strcmp (tables [i].name, name);
    free (tables);
    return listed;
}

static void
test_restore_refuses_a_damaged_backup (void **state)
{
    assert_true (s_f.mr_id > 0);
    uint32_t app_id;
    //  No such backup on the target.
    assert_int_equal (pegasus_restore (s_f.cluster->meta, 4242, "local", "none", false, &app_id, 10000),
                      PEGASUS_NOT_FOUND);
    assert_non_null (strstr (pegasus_errmsg (), "no manifest"));
    assert_false (s_table_listed ("none"));
    //  A flipped byte in a table file of partition 1.
    char path [4400];
    s_backup_file (s_f.mr_id, path, sizeof path);
    FILE *file = fopen (path, "r+b");
    assert_non_null (file);
    fseek (file, 100, SEEK_SET);
    int c = fgetc (file);
    fseek (file, 100, SEEK_SET);
    fputc (c ^ 0x01, file);
    fclose (file);
    assert_int_equal (pegasus_restore (s_f.cluster->meta, s_f.mr_id, "local", "bad1", false, &app_id,
                                       10000), PEGASUS_OK);
    pegasus_restore_t r;
    assert_int_equal (s_wait_restore ("bad1", &r), PEGASUS_JOB_FAILED);
    assert_non_null (strstr (r.error, "corrupt"));
    pegasus_restore_free (&r);
    //  The half-made table is gone, never served.
    int64_t until = testutil_now_ms () + 10000;
    while (s_table_listed ("bad1") && testutil_now_ms () < until)
        usleep (100000);
    assert_false (s_table_listed ("bad1"));
    //  With --skip-bad-partition: partition 1 starts empty, the rest is there.
    assert_int_equal (pegasus_restore (s_f.cluster->meta, s_f.mr_id, "local", "skip1", true, &app_id,
                                       10000), PEGASUS_OK);
    assert_int_equal (s_wait_restore ("skip1", &r), PEGASUS_JOB_COMPLETED);
    assert_int_equal (r.partitions_skipped, 1);
    assert_int_equal (r.partitions [1].step, PEGASUS_RESTORE_SKIPPED);
    assert_non_null (strstr (r.error, "skipped"));
    pegasus_restore_free (&r);
    assert_int_equal (pegasus_wait_table_ready (s_f.cluster->meta, "skip1", 60000), PEGASUS_OK);
    int found = s_count_equal ("skip1", 0, 3000, 1000);
    assert_true (found > 3000 / 2 && found < 3000);     //  three partitions of four
    //  A deleted file: the restore fails, naming it.
    assert_int_equal (unlink (path), 0);
    assert_int_equal (pegasus_restore (s_f.cluster->meta, s_f.mr_id, "local", "bad2", false, &app_id,
                                       10000), PEGASUS_OK);
    assert_int_equal (s_wait_restore ("bad2", &r), PEGASUS_JOB_FAILED);
    assert_non_null (strstr (r.error, "missing"));
    pegasus_restore_free (&r);
}

int
main (void)
{
    assert_int_equal (wiretypes_register (), 0);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_backup_under_writes_completes_with_manifest),
        cmocka_unit_test (test_meta_restarted_mid_backup_resumes),
        cmocka_unit_test (test_primary_killed_mid_backup_moves_on),
        cmocka_unit_test (test_cancel_leaves_nothing),
        cmocka_unit_test (test_bad_requests_are_refused),
        cmocka_unit_test (test_restore_reads_back_every_record),
        cmocka_unit_test (test_restore_refuses_a_damaged_backup),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
