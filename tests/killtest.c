/*  killtest: writers and readers on a onebox while a killer SIGKILLs
    servers, then a linearizability check of everything they saw.

    A cluster of one meta and --servers replica servers (5) runs a table of
    --partitions partitions (8) with 3 replicas. Writer threads set and
    delete random keys to unique values, reader threads get them, through
    the client library; every operation is recorded with its invoke and
    complete times and its outcome: OK, failed (the server refused it
    before running it, so it had no effect) or unknown (a timeout, or the
    primary changed while it was prepared: it may or may not have
    happened). Meanwhile the killer waits until every partition has its
    three replicas, SIGKILLs a random replica server (or, one time in
    --meta-every, the meta server), and restarts it after a pause.

    At the end every key is read once more, and the history goes through
    the checker (tests/lincheck): a lost acknowledged write or a read that
    goes back in time fails the run. The report gives the operations, the
    kills, and per partition the longest time without a successful write.

        killtest [--seconds 300] [--min-kills 30] [--servers 5] [--partitions 8]
                 [--keys 200] [--writers 4] [--readers 4] [--meta-every 8]
                 [--seed N] [--product-timing]

    Exit status 0 only if the verdict is linearizable and at least
    --min-kills kills happened.
*/
#include "client/pegasus.h"
#include "common/key.h"
#include "tests/lincheck/lincheck.h"
#include "tests/minicluster.h"
#include "tests/testutil.h"

#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define OP_TIMEOUT_MS 2000                  //  as a latency-minded client would set it
#define HEAL_TIMEOUT_MS 60000
#define MAX_PARTITIONS 64

typedef struct {
    uint32_t key;
    uint8_t kind;                       //  lincheck_kind_t
    uint8_t outcome;                    //  lincheck_outcome_t
    bool present;
    int64_t value;
    int64_t invoke_us;
    int64_t complete_us;
} record_t;

typedef struct {
    int seconds;
    int min_kills;
    int servers;
    int partitions;
    int keys;
    int writers;
    int readers;
    int meta_every;
    unsigned seed;
    bool product_timing;
} options_t;

static options_t s_opt = { 60, 5, 5, 8, 200, 4, 4, 8, 0, false };
static minicluster_t *s_cluster;
static pegasus_client_t *s_client;
static atomic_bool s_stop;
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static record_t *s_records;
static size_t s_nrecords, s_capacity;
static int64_t s_start_us;
//  Per partition: the last successful write, and the longest gap between two.
static int64_t s_last_write_us [MAX_PARTITIONS];
static int64_t s_max_gap_us [MAX_PARTITIONS];
static int64_t s_gap_end_us [MAX_PARTITIONS];
static int s_replica_kills, s_meta_kills;
static uint64_t s_ok, s_failed, s_unknown, s_read_errors;

static int64_t
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
s_key_text (uint32_t key, char *out, size_t size)
{
    snprintf (out, size, "k%u", key);
}

static uint32_t
s_partition_of (uint32_t key)
{
    char text [32];
    s_key_text (key, text, sizeof text);
    return key_partition (key_hash (text, strlen (text), "s", 1), (uint32_t) s_opt.partitions);
}

static void
s_record (const record_t *r)
{
    pthread_mutex_lock (&s_lock);
    if (s_nrecords == s_capacity) {
        size_t capacity = s_capacity ? s_capacity * 2 : 65536;
        record_t *grown = realloc (s_records, capacity * sizeof *grown);
        if (!grown) {
            pthread_mutex_unlock (&s_lock);
            fprintf (stderr, "killtest: out of memory for the history\n");
            exit (2);
        }
        s_records = grown;
        s_capacity = capacity;
    }
    s_records [s_nrecords++] = *r;
    if (r->outcome == LINCHECK_OK)
        s_ok++;
    else
    if (r->outcome == LINCHECK_FAIL)
        s_failed++;
    else
        s_unknown++;
    if (r->outcome == LINCHECK_OK && r->kind != LINCHECK_READ) {
        uint32_t p = s_partition_of (r->key);
        if (s_last_write_us [p] && r->complete_us - s_last_write_us [p] > s_max_gap_us [p]) {
            s_max_gap_us [p] = r->complete_us - s_last_write_us [p];
            s_gap_end_us [p] = r->complete_us;
        }
        if (r->complete_us > s_last_write_us [p])
            s_last_write_us [p] = r->complete_us;
    }
    pthread_mutex_unlock (&s_lock);
}

//  A write refused before it ran had no effect; anything else but OK may
//  or may not have happened.
static bool
s_definitely_not_run (int rc)
{
    return rc == PEGASUS_INVALID_STATE || rc == PEGASUS_NO_ACTOR || rc == PEGASUS_SPLITTING
        || rc == PEGASUS_BUSY || rc == PEGASUS_NOT_ENOUGH_MEMBER || rc == PEGASUS_INVALID_ARGUMENT
        || rc == PEGASUS_APP_NOT_EXIST;
}

static void
s_read (uint32_t key)
{
    char text [32];
    s_key_text (key, text, sizeof text);
    record_t r = { .key = key, .kind = LINCHECK_READ, .invoke_us = s_now_us () };
    void *value = NULL;
    size_t len = 0;
    int rc = pegasus_get (s_client, text, strlen (text), "s", 1, &value, &len, OP_TIMEOUT_MS);
    r.complete_us = s_now_us ();
    if (rc == PEGASUS_OK || rc == PEGASUS_NOT_FOUND) {
        r.outcome = LINCHECK_OK;
        r.present = rc == PEGASUS_OK;
        if (r.present) {
            char buffer [32];
            snprintf (buffer, sizeof buffer, "%.*s", (int) (len < 31 ? len : 31), (char *) value);
            r.value = strtoll (buffer, NULL, 10);
        }
        s_record (&r);
    }
    else {
        pthread_mutex_lock (&s_lock);
        s_read_errors++;                //  a read that failed says nothing
        pthread_mutex_unlock (&s_lock);
    }
    pegasus_free (value);
}

typedef struct {
    int id;
    bool writer;
    unsigned seed;
} worker_t;

static void *
s_worker (void *arg)
{
    worker_t *w = arg;
    int64_t counter = 0;
    while (!atomic_load (&s_stop)) {
        uint32_t key = (uint32_t) (rand_r (&w->seed) % (unsigned) s_opt.keys);
        if (!w->writer) {
            s_read (key);
            continue;
        }
        char text [32], value [32];
        s_key_text (key, text, sizeof text);
        bool del = rand_r (&w->seed) % 10 == 0;
        record_t r = { .key = key, .kind = del ? LINCHECK_DELETE : LINCHECK_WRITE,
                       .value = (int64_t) (w->id + 1) * 1000000000LL + ++counter,
                       .invoke_us = s_now_us () };
        snprintf (value, sizeof value, "%" PRId64, r.value);
        int rc = del ? pegasus_del (s_client, text, strlen (text), "s", 1, OP_TIMEOUT_MS)
                     : pegasus_set (s_client, text, strlen (text), "s", 1, value, strlen (value), 0,
                                    OP_TIMEOUT_MS);
        r.complete_us = s_now_us ();
        r.outcome = rc == PEGASUS_OK ? LINCHECK_OK
                  : s_definitely_not_run (rc) ? LINCHECK_FAIL : LINCHECK_UNKNOWN;
        s_record (&r);
    }
    return NULL;
}

static void
s_sleep_ms (int64_t ms)
{
    int64_t until = testutil_now_ms () + ms;
    while (!atomic_load (&s_stop) && testutil_now_ms () < until)
        usleep (20000);
}

static void *
s_killer (void *arg)
{
    unsigned seed = *(unsigned *) arg;
    int kills = 0;
    while (!atomic_load (&s_stop)) {
        s_sleep_ms (1000 + rand_r (&seed) % 2000);
        //  Only ever one failure at a time: each partition must be whole
        //  again (three replicas) before the next kill.
        int64_t heal_start = testutil_now_ms ();
        while (!atomic_load (&s_stop)
           &&  pegasus_wait_table_ready (s_cluster->meta, "kt", 1000) != PEGASUS_OK) {
            if (testutil_now_ms () - heal_start > HEAL_TIMEOUT_MS) {
                fprintf (stderr, "killtest: the table did not heal within %d s\n",
                         HEAL_TIMEOUT_MS / 1000);
                atomic_store (&s_stop, true);
                return (void *) 1;
            }
        }
        if (atomic_load (&s_stop))
            break;
        kills++;
        bool meta = s_opt.meta_every > 0 && kills % s_opt.meta_every == 0;
        int victim = meta ? 0 : 1 + (int) (rand_r (&seed) % (unsigned) s_cluster->nreplicas);
        int64_t down_ms = 500 + rand_r (&seed) % 3500;
        fprintf (stderr, "killtest: %.1f s: SIGKILL %s %s, restart in %" PRId64 " ms\n",
                 (double) (s_now_us () - s_start_us) / 1e6, meta ? "meta" : "replica server",
                 s_cluster->addresses [victim], down_ms);
        minicluster_kill (s_cluster, victim);
        pthread_mutex_lock (&s_lock);
        if (meta)
            s_meta_kills++;
        else
            s_replica_kills++;
        pthread_mutex_unlock (&s_lock);
        usleep ((useconds_t) down_ms * 1000);
        if (minicluster_restart (s_cluster, victim)) {
            fprintf (stderr, "killtest: server %d did not restart\n", victim);
            atomic_store (&s_stop, true);
            return (void *) 1;
        }
    }
    return NULL;
}

static int
s_parse (int argc, char **argv)
{
    static const struct option options [] = {
        { "seconds", required_argument, 0, 't' }, { "min-kills", required_argument, 0, 'k' },
        { "servers", required_argument, 0, 'n' }, { "partitions", required_argument, 0, 'p' },
        { "keys", required_argument, 0, 'K' }, { "writers", required_argument, 0, 'w' },
        { "readers", required_argument, 0, 'r' }, { "meta-every", required_argument, 0, 'm' },
        { "seed", required_argument, 0, 's' }, { "product-timing", no_argument, 0, 'T' },
        { 0, 0, 0, 0 }
    };
    int c;
    while ((c = getopt_long (argc, argv, "", options, NULL)) != -1) {
        long v = optarg ? strtol (optarg, NULL, 10) : 0;
        switch (c) {
            case 't': s_opt.seconds = (int) v; break;
            case 'k': s_opt.min_kills = (int) v; break;
            case 'n': s_opt.servers = (int) v; break;
            case 'p': s_opt.partitions = (int) v; break;
            case 'K': s_opt.keys = (int) v; break;
            case 'w': s_opt.writers = (int) v; break;
            case 'r': s_opt.readers = (int) v; break;
            case 'm': s_opt.meta_every = (int) v; break;
            case 's': s_opt.seed = (unsigned) v; break;
            case 'T': s_opt.product_timing = true; break;
            default: return -1;
        }
    }
    if (s_opt.seconds < 1 || s_opt.servers < 3 || s_opt.servers > MINICLUSTER_MAX
    ||  s_opt.partitions < 1 || s_opt.partitions > MAX_PARTITIONS
    ||  (s_opt.partitions & (s_opt.partitions - 1)) || s_opt.keys < 1 || s_opt.writers < 1
    ||  s_opt.readers < 0 || s_opt.writers + s_opt.readers > 64 || s_opt.min_kills < 0) {
        fprintf (stderr, "killtest: bad option (servers 3..%d, partitions a power of two up to %d, "
                 "keys >= 1, writers >= 1, writers + readers <= 64)\n", MINICLUSTER_MAX,
                 MAX_PARTITIONS);
        return -1;
    }
    return 0;
}

int
main (int argc, char **argv)
{
    if (s_parse (argc, argv))
        return 2;
    if (!s_opt.seed)
        s_opt.seed = (unsigned) time (NULL) ^ (unsigned) getpid ();
    fprintf (stderr, "killtest: %d s, %d servers, %d partitions, %d keys, %d writers, %d readers, "
             "seed %u\n", s_opt.seconds, s_opt.servers, s_opt.partitions, s_opt.keys,
             s_opt.writers, s_opt.readers, s_opt.seed);
    s_cluster = minicluster_start_timed (s_opt.servers, NULL, s_opt.product_timing);
    if (!s_cluster)
        return 2;
    int status = 2;
    pthread_t killer, workers [64];
    worker_t args [64];
    int nworkers = 0;
    bool killer_started = false;
    int64_t until = testutil_now_ms () + 60000;
    int rc;
    while ((rc = pegasus_create_table (s_cluster->meta, "kt", s_opt.partitions, 3, NULL, 5000))
           != PEGASUS_OK && testutil_now_ms () < until)
        usleep (200000);                //  until enough servers beaconed
    if (rc == PEGASUS_OK)
        rc = pegasus_wait_table_ready (s_cluster->meta, "kt", 60000);
    if (rc != PEGASUS_OK || !(s_client = pegasus_client_open (s_cluster->meta, "kt", 10000))) {
        fprintf (stderr, "killtest: table kt: %s %s\n", pegasus_status_name (rc), pegasus_errmsg ());
        goto done;
    }
    s_start_us = s_now_us ();
    for (int i = 0; i < s_opt.writers + s_opt.readers; i++) {
        args [i] = (worker_t) { i, i < s_opt.writers, s_opt.seed + (unsigned) i * 7919u };
        if (pthread_create (&workers [i], NULL, s_worker, &args [i]) == 0)
            nworkers++;
    }
    unsigned killer_seed = s_opt.seed;
    killer_started = pthread_create (&killer, NULL, s_killer, &killer_seed) == 0;
    until = testutil_now_ms () + (int64_t) s_opt.seconds * 1000;
    while (!atomic_load (&s_stop) && testutil_now_ms () < until)
        usleep (100000);
    bool aborted = atomic_load (&s_stop);
    atomic_store (&s_stop, true);
    void *killer_rc = NULL;
    if (killer_started)
        pthread_join (killer, &killer_rc);
    for (int i = 0; i < nworkers; i++)
        pthread_join (workers [i], NULL);
    //  Every server up again; a last read of every key joins the history.
    for (int i = 0; i <= s_cluster->nreplicas; i++)
        if (!s_cluster->pids [i])
            minicluster_restart (s_cluster, i);
    pegasus_wait_table_ready (s_cluster->meta, "kt", HEAL_TIMEOUT_MS);
    for (int k = 0; k < s_opt.keys; k++)
        s_read ((uint32_t) k);
    double elapsed = (double) (s_now_us () - s_start_us) / 1e6;
    lincheck_t *history = lincheck_new ();
    for (size_t i = 0; history && i < s_nrecords; i++) {
        record_t *r = &s_records [i];
        lincheck_op_t op = {
            .key_id = r->key, .kind = r->kind, .outcome = r->outcome, .value = r->value,
            .read_present = r->present, .read_value = r->value,
            .invoke_time = r->invoke_us, .complete_time = r->complete_us
        };
        lincheck_add (history, &op);
    }
    lincheck_verdict_t verdict;
    int64_t check_start = testutil_now_ms ();
    if (!history || lincheck_check (history, 300000, 0, &verdict)) {
        fprintf (stderr, "killtest: the checker failed to run\n");
        lincheck_destroy (&history);
        goto done;
    }
    int64_t check_ms = testutil_now_ms () - check_start;
    int kills = s_replica_kills + s_meta_kills;
    printf ("killtest report (seed %u)\n", s_opt.seed);
    printf ("  run:          %.1f s, %d replica servers, %d partitions x 3 replicas, %d keys\n",
            elapsed, s_opt.servers, s_opt.partitions, s_opt.keys);
    printf ("  operations:   %zu recorded: %" PRIu64 " ok, %" PRIu64 " refused (no effect), %"
            PRIu64 " unknown outcome; %" PRIu64 " failed reads dropped\n",
            s_nrecords, s_ok, s_failed, s_unknown, s_read_errors);
    printf ("  kills:        %d (%d replica servers, %d meta)\n", kills, s_replica_kills, s_meta_kills);
    printf ("  longest time without a successful write, per partition:\n");
    double worst = 0;
    for (int p = 0; p < s_opt.partitions; p++) {
        double gap = (double) s_max_gap_us [p] / 1e6;
        if (gap > worst)
            worst = gap;
        printf ("    partition %2d: %6.2f s (ending at %.1f s)\n", p, gap,
                (double) (s_gap_end_us [p] - s_start_us) / 1e6);
    }
    printf ("  worst:        %.2f s\n", worst);
    printf ("  verdict:      %s (%zu keys, %zu operations, %" PRIu64 " search steps, %" PRId64 " ms)\n",
            lincheck_result_name (verdict.result), verdict.keys_checked, verdict.ops_checked,
            verdict.steps, check_ms);
    if (verdict.result != LINCHECK_LINEARIZABLE)
        printf ("  key %s: %s\n", verdict.key, verdict.explanation);
    lincheck_destroy (&history);
    status = verdict.result == LINCHECK_LINEARIZABLE && kills >= s_opt.min_kills && !aborted
           && !killer_rc ? 0 : 1;
    if (aborted || killer_rc)
        printf ("  FAILED: the run was cut short (see above)\n");
    else
    if (kills < s_opt.min_kills)
        printf ("  FAILED: %d kills, fewer than the %d asked for\n", kills, s_opt.min_kills);
done:
    pegasus_client_close (&s_client);
    minicluster_stop (&s_cluster);
    free (s_records);
    return status;
}
