/*  pegasus-bench: YCSB-style load on a Pegasus table, through the public
    client library (pegasus.h), as an application would drive it.

    Workloads (YCSB core, plus write-only):
        a      50% read, 50% update                zipfian
        b      95% read, 5% update                 zipfian
        c      100% read                           zipfian
        d      95% read, 5% insert                 latest
        e      95% short scan, 5% insert           zipfian
        f      50% read, 50% read-modify-write     zipfian
        write  100% update                         uniform
    Concurrency is threads x in-flight requests per thread: each thread
    owns a client and keeps `inflight` asynchronous requests going (the
    completion of one sends the next), or paces them to a target rate
    with latencies measured from when each request was due (so a stalled
    server shows up as latency, not as fewer requests). Scans have no
    asynchronous call: workload e runs threads x inflight synchronous
    callers instead.

    Output: a table, then one JSON line (starts with '{'), with throughput
    and p50/p90/p99/p99.9/max per operation from histograms, and errors by
    status name. Exit 0 if the run completed (errors are reported, not
    fatal), 1 if it could not run, 2 on a bad command line.
*/
#include "client/pegasus.h"
#include "bench/hist.h"
#include "bench/keygen.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef enum { OP_READ, OP_UPDATE, OP_INSERT, OP_SCAN, OP_RMW, OP_COUNT } op_kind_t;
static const char *s_op_names [OP_COUNT] = { "read", "update", "insert", "scan", "rmw" };

#define STATUS_SLOTS 64

typedef struct {
    const char *name;
    double mix [OP_COUNT];              //  fractions, summing to 1
    keygen_dist_t dist;
} workload_t;

static const workload_t s_workloads [] = {
    { "a",     { 0.50, 0.50, 0, 0, 0 }, KEYGEN_ZIPFIAN },
    { "b",     { 0.95, 0.05, 0, 0, 0 }, KEYGEN_ZIPFIAN },
    { "c",     { 1.00, 0, 0, 0, 0 },    KEYGEN_ZIPFIAN },
    { "d",     { 0.95, 0, 0.05, 0, 0 }, KEYGEN_LATEST },
    { "e",     { 0, 0, 0.05, 0.95, 0 }, KEYGEN_ZIPFIAN },
    { "f",     { 0.50, 0, 0, 0, 0.50 }, KEYGEN_ZIPFIAN },
    { "write", { 0, 1.00, 0, 0, 0 },    KEYGEN_UNIFORM },
};

//  ---------------------------------------------------------------------------
//  Options

typedef struct {
    const char *meta;
    const char *table;
    const workload_t *workload;
    keygen_dist_t dist;
    bool dist_set;
    uint64_t records;
    int key_size;
    int value_size;
    double duration_s;
    double warmup_s;
    int threads;
    int inflight;
    double rate;                        //  total ops/s; 0: as fast as it goes
    bool load;
    bool load_only;
    int partitions;
    int replicas;
    int timeout_ms;
    int max_scan;
    int group;                          //  records per hash key (scans run within one)
    uint64_t seed;
    const char *label;
} opts_t;

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: pegasus-bench [options]\n"
        "  -m, --meta HOST:PORT[,...]  meta servers (default 127.0.0.1:34601)\n"
        "  -t, --table NAME            table (default bench); created if missing\n"
        "  -w, --workload W            a, b, c, d, e, f or write (default a)\n"
        "      --dist D                uniform, zipfian or latest (default: the workload's)\n"
        "  -n, --records N             records in the key space (default 100000)\n"
        "      --key-size B            key bytes, at least 12 (default 16)\n"
        "      --value-size B          value bytes (default 100)\n"
        "  -d, --duration S            measured seconds (default 10; SIGINT or SIGTERM\n"
        "                              ends it early, reported for the time it ran)\n"
        "      --warmup S              seconds run before measuring (default 2)\n"
        "  -T, --threads N             threads, one client each (default 1)\n"
        "  -i, --inflight N            requests in flight per thread (default 1)\n"
        "  -r, --rate OPS              target total ops/s; 0 = unbounded (default 0)\n"
        "      --load                  insert every record before the run\n"
        "      --load-only             insert every record, then stop\n"
        "      --partitions N          partitions of a table created here (default 8)\n"
        "      --replicas N            replicas of a table created here (default 3)\n"
        "      --timeout-ms MS         per request (default 5000)\n"
        "      --max-scan N            longest scan of workload e (default 100)\n"
        "      --group N               records per hash key (default 1; 100 for e)\n"
        "      --seed N                random seed (default: from the clock)\n"
        "      --label TEXT            a name carried into the JSON line\n"
        "  -h, --help\n");
}

static int
s_parse_u64 (const char *text, const char *what, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull (text, &end, 10);
    if (errno || end == text || *end || *text == '-' || v < min || v > max) {
        fprintf (stderr, "pegasus-bench: %s = '%s': want a whole number in %" PRIu64 "..%" PRIu64 "\n",
                 what, text, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

static int
s_parse_int (const char *text, const char *what, int min, int max, int *out)
{
    uint64_t v;
    if (s_parse_u64 (text, what, (uint64_t) min, (uint64_t) max, &v))
        return -1;
    *out = (int) v;
    return 0;
}

static int
s_parse_double (const char *text, const char *what, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod (text, &end);
    if (errno || end == text || *end || !(v >= min && v <= max)) {
        fprintf (stderr, "pegasus-bench: %s = '%s': want a number in %g..%g\n", what, text, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

//  0, or 2 (usage error, already reported), or 1 for --help.
static int
s_parse (int argc, char **argv, opts_t *o)
{
    *o = (opts_t) { .meta = "127.0.0.1:34601", .table = "bench", .workload = &s_workloads [0],
                    .records = 100000, .key_size = 16, .value_size = 100, .duration_s = 10,
                    .warmup_s = 2, .threads = 1, .inflight = 1, .partitions = 8, .replicas = 3,
                    .timeout_ms = 5000, .max_scan = 100, .label = "" };
    enum { O_DIST = 256, O_KEY, O_VALUE, O_WARMUP, O_LOAD, O_LOAD_ONLY, O_PARTS, O_REPLICAS,
           O_TIMEOUT, O_SCAN, O_GROUP, O_SEED, O_LABEL };
    static const struct option longs [] = {
        { "meta", 1, 0, 'm' }, { "table", 1, 0, 't' }, { "workload", 1, 0, 'w' },
        { "dist", 1, 0, O_DIST }, { "records", 1, 0, 'n' }, { "key-size", 1, 0, O_KEY },
        { "value-size", 1, 0, O_VALUE }, { "duration", 1, 0, 'd' }, { "warmup", 1, 0, O_WARMUP },
        { "threads", 1, 0, 'T' }, { "inflight", 1, 0, 'i' }, { "rate", 1, 0, 'r' },
        { "load", 0, 0, O_LOAD }, { "load-only", 0, 0, O_LOAD_ONLY },
        { "partitions", 1, 0, O_PARTS }, { "replicas", 1, 0, O_REPLICAS },
        { "timeout-ms", 1, 0, O_TIMEOUT }, { "max-scan", 1, 0, O_SCAN },
        { "group", 1, 0, O_GROUP }, { "seed", 1, 0, O_SEED }, { "label", 1, 0, O_LABEL },
        { "help", 0, 0, 'h' }, { 0, 0, 0, 0 }
    };
    int group = 0;
    int c;
    opterr = 0;
    while ((c = getopt_long (argc, argv, ":m:t:w:n:d:T:i:r:h", longs, NULL)) != -1) {
        int rc = 0;
        switch (c) {
            case 'm': o->meta = optarg; break;
            case 't': o->table = optarg; break;
            case 'w': {
                o->workload = NULL;
                for (size_t i = 0; i < sizeof s_workloads / sizeof s_workloads [0]; i++)
                    if (strcmp (optarg, s_workloads [i].name) == 0)
                        o->workload = &s_workloads [i];
                if (!o->workload) {
                    fprintf (stderr, "pegasus-bench: workload '%s': want a, b, c, d, e, f or write\n", optarg);
                    return 2;
                }
                break;
            }
            case O_DIST:
                o->dist_set = true;
                if (strcmp (optarg, "uniform") == 0) o->dist = KEYGEN_UNIFORM;
                else if (strcmp (optarg, "zipfian") == 0) o->dist = KEYGEN_ZIPFIAN;
                else if (strcmp (optarg, "latest") == 0) o->dist = KEYGEN_LATEST;
                else {
                    fprintf (stderr, "pegasus-bench: dist '%s': want uniform, zipfian or latest\n", optarg);
                    return 2;
                }
                break;
            case 'n': rc = s_parse_u64 (optarg, "records", 1, 1000000000, &o->records); break;
            case O_KEY: rc = s_parse_int (optarg, "key-size", 12, 1024, &o->key_size); break;
            case O_VALUE: rc = s_parse_int (optarg, "value-size", 0, 4 << 20, &o->value_size); break;
            case 'd': rc = s_parse_double (optarg, "duration", 0.1, 86400, &o->duration_s); break;
            case O_WARMUP: rc = s_parse_double (optarg, "warmup", 0, 3600, &o->warmup_s); break;
            case 'T': rc = s_parse_int (optarg, "threads", 1, 1024, &o->threads); break;
            case 'i': rc = s_parse_int (optarg, "inflight", 1, 100000, &o->inflight); break;
            case 'r': rc = s_parse_double (optarg, "rate", 0, 1e9, &o->rate); break;
            case O_LOAD: o->load = true; break;
            case O_LOAD_ONLY: o->load = o->load_only = true; break;
            case O_PARTS: rc = s_parse_int (optarg, "partitions", 1, 4096, &o->partitions); break;
            case O_REPLICAS: rc = s_parse_int (optarg, "replicas", 1, 5, &o->replicas); break;
            case O_TIMEOUT: rc = s_parse_int (optarg, "timeout-ms", 1, 3600000, &o->timeout_ms); break;
            case O_SCAN: rc = s_parse_int (optarg, "max-scan", 1, 10000, &o->max_scan); break;
            case O_GROUP: rc = s_parse_int (optarg, "group", 1, 1000000, &group); break;
            case O_SEED: rc = s_parse_u64 (optarg, "seed", 0, UINT64_MAX, &o->seed); break;
            case O_LABEL: o->label = optarg; break;
            case 'h': return 1;
            case ':':
                fprintf (stderr, "pegasus-bench: %s needs a value\n", argv [optind - 1]);
                return 2;
            default:
                fprintf (stderr, "pegasus-bench: unknown option '%s'\n", argv [optind - 1]);
                return 2;
        }
        if (rc)
            return 2;
    }
    if (optind < argc) {
        fprintf (stderr, "pegasus-bench: unexpected argument '%s'\n", argv [optind]);
        return 2;
    }
    if (!o->dist_set)
        o->dist = o->workload->dist;
    o->group = group ? group : (o->workload->mix [OP_SCAN] > 0 ? 100 : 1);
    if (!o->seed)
        o->seed = (uint64_t) time (NULL) * 2654435761u ^ (uint64_t) getpid ();
    return 0;
}

//  ---------------------------------------------------------------------------
//  The run's shared state

typedef struct bthread_t bthread_t;

typedef struct {
    bthread_t *thread;
    bool busy;
    op_kind_t kind;
    int stage;                          //  rmw: 0 reading, 1 writing
    uint64_t start_ns;                  //  when the op was due
    char hash_key [1100];
    size_t hash_key_len;
    char sort_key [16];
    size_t sort_key_len;
} slot_t;

struct bthread_t {
    pthread_t thread;
    pegasus_client_t *client;
    keygen_t keys;
    hist_t *hist;                       //  [OP_COUNT]
    uint64_t not_found;
    _Atomic uint64_t errors [STATUS_SLOTS];
    _Atomic int inflight;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool waiting;
    slot_t *slots;
    int nslots;
    char *values;                       //  value_size + 256 random bytes
};

typedef struct {
    opts_t *o;
    bool loading;
    uint64_t measure_ns;                //  ops due before this are warm-up
    uint64_t end_ns;
    _Atomic bool stopping;
    _Atomic uint64_t next_insert;       //  the next record an insert creates
} run_t;

static run_t s_run;

//  SIGINT or SIGTERM: the measured phase ends now and is reported for the
//  time it ran (a caller that cannot know how long it needs load for,
//  such as bench/scale.sh, stops it when done).
static volatile sig_atomic_t s_interrupted;

static void
s_on_signal (int signum)
{
    (void) signum;
    s_interrupted = 1;
}

static uint64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static void
s_sleep_until (uint64_t when_ns)
{
    struct timespec ts = { (time_t) (when_ns / 1000000000ULL), (long) (when_ns % 1000000000ULL) };
    while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !s_interrupted)
        ;
}

//  Record r's keys: "user" + zero-padded group number as the hash key,
//  the index in its group as the sort key (empty for groups of 1).
static void
s_keys (slot_t *slot, uint64_t record)
{
    opts_t *o = s_run.o;
    uint64_t group = record / (uint64_t) o->group;
    int digits = o->key_size - 4;
    slot->hash_key_len = (size_t) snprintf (slot->hash_key, sizeof slot->hash_key, "user%0*" PRIu64,
                                            digits, group);
    if (o->group > 1)
        slot->sort_key_len = (size_t) snprintf (slot->sort_key, sizeof slot->sort_key, "%07" PRIu64,
                                                record % (uint64_t) o->group);
    else
        slot->sort_key_len = 0;
}

static op_kind_t
s_pick_op (bthread_t *t)
{
    if (s_run.loading)
        return OP_INSERT;
    double u = keygen_unit (&t->keys), sum = 0;
    for (int k = 0; k < OP_COUNT; k++) {
        sum += s_run.o->workload->mix [k];
        if (u < sum && s_run.o->workload->mix [k] > 0)
            return (op_kind_t) k;
    }
    for (int k = OP_COUNT - 1; k >= 0; k--)
        if (s_run.o->workload->mix [k] > 0)
            return (op_kind_t) k;
    return OP_READ;
}

static const char *
s_value (bthread_t *t)
{
    return t->values + keygen_below (&t->keys, 256);
}

//  Counts a finished op: a failure while loading, or anything due inside
//  the measured window. NOT_FOUND answers a read, INCOMPLETE a scan.
static void
s_account (bthread_t *t, op_kind_t kind, int status, uint64_t start_ns, uint64_t end_ns)
{
    bool answered = status == PEGASUS_OK
                 || (status == PEGASUS_NOT_FOUND && (kind == OP_READ || kind == OP_RMW))
                 || (status == PEGASUS_INCOMPLETE && kind == OP_SCAN);
    bool measured = !s_run.loading && start_ns >= s_run.measure_ns && start_ns < s_run.end_ns;
    if (answered && measured) {
        t->not_found += status == PEGASUS_NOT_FOUND;
        hist_record (&t->hist [kind], end_ns - start_ns);
    }
    else
    if (!answered && (measured || s_run.loading))
        atomic_fetch_add_explicit (&t->errors [status >= 0 && status < STATUS_SLOTS ? status : STATUS_SLOTS - 1],
                                   1, memory_order_relaxed);
}

//  Draws the slot's next operation and its record's keys; false when a
//  load has inserted every record.
static bool
s_draw (bthread_t *t, slot_t *slot)
{
    slot->kind = s_pick_op (t);
    slot->stage = 0;
    uint64_t record;
    if (slot->kind == OP_INSERT) {
        record = atomic_fetch_add (&s_run.next_insert, 1);
        if (s_run.loading && record >= s_run.o->records)
            return false;
    }
    else
        record = keygen_next (&t->keys, atomic_load (&s_run.next_insert));
    s_keys (slot, record);
    return true;
}

//  ---------------------------------------------------------------------------
//  Asynchronous engine: a slot is one request in flight.

static void s_on_done (int status, const char *error, const void *value, size_t len, void *arg);

//  Marks the slot free and wakes its thread if it waits for one.
static void
s_release (slot_t *slot)
{
    bthread_t *t = slot->thread;
    pthread_mutex_lock (&t->lock);
    slot->busy = false;
    atomic_fetch_sub (&t->inflight, 1);
    if (t->waiting)
        pthread_cond_signal (&t->cond);
    pthread_mutex_unlock (&t->lock);
}

//  Sends the slot's current op (stage); false if it could not be queued
//  (counted as an error; the slot is then free).
static bool
s_send (slot_t *slot)
{
    bthread_t *t = slot->thread;
    opts_t *o = s_run.o;
    int rc;
    bool write = slot->kind == OP_UPDATE || slot->kind == OP_INSERT
              || (slot->kind == OP_RMW && slot->stage == 1);
    if (write)
        rc = pegasus_set_async (t->client, slot->hash_key, slot->hash_key_len, slot->sort_key,
                                slot->sort_key_len, s_value (t), (size_t) o->value_size, 0,
                                o->timeout_ms, s_on_done, slot);
    else
        rc = pegasus_get_async (t->client, slot->hash_key, slot->hash_key_len, slot->sort_key,
                                slot->sort_key_len, o->timeout_ms, s_on_done, slot);
    if (rc != PEGASUS_OK) {
        s_account (t, slot->kind, rc, slot->start_ns, s_now_ns ());
        s_release (slot);
        return false;
    }
    return true;
}

//  Draws the next op for a slot and sends it; false if none went out.
static bool
s_start (slot_t *slot, uint64_t due_ns)
{
    if (!s_draw (slot->thread, slot)) {
        s_release (slot);
        return false;
    }
    slot->start_ns = due_ns;
    return s_send (slot);
}

static void
s_on_done (int status, const char *error, const void *value, size_t len, void *arg)
{
    (void) error, (void) value, (void) len;
    slot_t *slot = arg;
    bthread_t *t = slot->thread;
    if (slot->kind == OP_RMW && slot->stage == 0
    &&  (status == PEGASUS_OK || status == PEGASUS_NOT_FOUND)) {
        slot->stage = 1;                //  read done: write the modified record
        s_send (slot);
        return;
    }
    uint64_t now = s_now_ns ();
    s_account (t, slot->kind, status, slot->start_ns, now);
    //  Unpaced: the completion sends the next op, no thread hop.
    if (s_run.o->rate <= 0 && !atomic_load (&s_run.stopping))
        s_start (slot, now);
    else
        s_release (slot);
}

static slot_t *
s_free_slot (bthread_t *t)
{
    for (int i = 0; i < t->nslots; i++)
        if (!t->slots [i].busy)
            return &t->slots [i];
    return NULL;
}

//  Takes a free slot (waiting for one), or NULL once stopping.
static slot_t *
s_take_slot (bthread_t *t)
{
    pthread_mutex_lock (&t->lock);
    slot_t *slot;
    while (!(slot = s_free_slot (t)) && !atomic_load (&s_run.stopping)) {
        t->waiting = true;
        struct timespec ts;
        clock_gettime (CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait (&t->cond, &t->lock, &ts);
        t->waiting = false;
    }
    if (slot && !atomic_load (&s_run.stopping)) {
        slot->busy = true;
        atomic_fetch_add (&t->inflight, 1);
    }
    else
        slot = NULL;
    pthread_mutex_unlock (&t->lock);
    return slot;
}

static bool
s_load_done (void)
{
    return s_run.loading && atomic_load (&s_run.next_insert) >= s_run.o->records;
}

static void *
s_async_thread (void *arg)
{
    bthread_t *t = arg;
    opts_t *o = s_run.o;
    if (o->rate > 0 && !s_run.loading) {
        //  Paced: this thread sends every op, each due at its own time.
        double interval = 1e9 * o->threads / o->rate;
        double due = (double) s_now_ns () + keygen_unit (&t->keys) * interval;
        while (!atomic_load (&s_run.stopping)) {
            s_sleep_until ((uint64_t) due);
            slot_t *slot = s_take_slot (t);
            if (!slot)
                break;
            s_start (slot, (uint64_t) due);
            due += interval;
        }
    }
    else {
        //  Unpaced: fill every slot; completions keep them busy. Slots
        //  whose send failed come back here.
        while (!atomic_load (&s_run.stopping) && !s_load_done ()) {
            slot_t *slot = s_take_slot (t);
            if (!slot)
                break;
            if (!s_start (slot, s_now_ns ()) && !s_load_done ())
                usleep (1000);          //  refused at once (overload): do not spin
        }
    }
    //  Drain what is in flight (each op ends by its timeout at the latest).
    pthread_mutex_lock (&t->lock);
    while (atomic_load (&t->inflight) > 0) {
        t->waiting = true;
        pthread_cond_wait (&t->cond, &t->lock);
        t->waiting = false;
    }
    pthread_mutex_unlock (&t->lock);
    return NULL;
}

//  ---------------------------------------------------------------------------
//  Synchronous engine (workload e): each thread is one caller.

static int
s_scan (bthread_t *t, slot_t *slot)
{
    pegasus_range_t range;
    pegasus_range_init (&range);
    range.start_sort_key = slot->sort_key;
    range.start_sort_key_len = slot->sort_key_len;
    range.max_count = 1 + (int) keygen_below (&t->keys, (uint64_t) s_run.o->max_scan);
    pegasus_items_t *items = NULL;
    int rc = pegasus_multi_get (t->client, slot->hash_key, slot->hash_key_len, NULL, 0, &range,
                                &items, s_run.o->timeout_ms);
    pegasus_items_free (&items);
    return rc;
}

static void *
s_sync_thread (void *arg)
{
    bthread_t *t = arg;
    opts_t *o = s_run.o;
    slot_t *slot = &t->slots [0];
    double interval = o->rate > 0 ? 1e9 * o->threads / o->rate : 0;
    double due = (double) s_now_ns ();
    while (!atomic_load (&s_run.stopping)) {
        if (interval > 0) {
            s_sleep_until ((uint64_t) due);
        }
        else
            due = (double) s_now_ns ();
        if (!s_draw (t, slot))
            break;
        op_kind_t kind = slot->kind;
        int rc;
        if (kind == OP_SCAN)
            rc = s_scan (t, slot);
        else
        if (kind == OP_READ || kind == OP_RMW) {
            void *value = NULL;
            size_t len = 0;
            rc = pegasus_get (t->client, slot->hash_key, slot->hash_key_len, slot->sort_key,
                              slot->sort_key_len, &value, &len, o->timeout_ms);
            pegasus_free (value);
            if (kind == OP_RMW && (rc == PEGASUS_OK || rc == PEGASUS_NOT_FOUND))
                rc = pegasus_set (t->client, slot->hash_key, slot->hash_key_len, slot->sort_key,
                                  slot->sort_key_len, s_value (t), (size_t) o->value_size, 0,
                                  o->timeout_ms);
        }
        else
            rc = pegasus_set (t->client, slot->hash_key, slot->hash_key_len, slot->sort_key,
                              slot->sort_key_len, s_value (t), (size_t) o->value_size, 0,
                              o->timeout_ms);
        s_account (t, kind, rc, (uint64_t) due, s_now_ns ());
        due += interval;
    }
    return NULL;
}

//  ---------------------------------------------------------------------------
//  Phases and the report

static int
s_open_table (opts_t *o)
{
    pegasus_table_t table;
    pegasus_partition_t *partitions = NULL;
    size_t count = 0;
    int rc = pegasus_describe_table (o->meta, o->table, &table, &partitions, &count, o->timeout_ms);
    pegasus_free (partitions);
    if (rc == PEGASUS_OK)
        return 0;
    if (rc != PEGASUS_APP_NOT_EXIST) {
        fprintf (stderr, "pegasus-bench: %s\n", pegasus_errmsg ());
        return -1;
    }
    uint32_t app_id;
    rc = pegasus_create_table (o->meta, o->table, o->partitions, o->replicas, &app_id, o->timeout_ms);
    if (rc != PEGASUS_OK && rc != PEGASUS_APP_EXIST) {
        fprintf (stderr, "pegasus-bench: cannot create table %s: %s\n", o->table, pegasus_errmsg ());
        return -1;
    }
    rc = pegasus_wait_table_ready (o->meta, o->table, 60000);
    if (rc != PEGASUS_OK) {
        fprintf (stderr, "pegasus-bench: table %s not ready: %s\n", o->table, pegasus_errmsg ());
        return -1;
    }
    fprintf (stderr, "pegasus-bench: created table %s (%d partitions, %d replicas)\n", o->table,
             o->partitions, o->replicas);
    return 0;
}

//  Runs one phase with `workers` threads; returns its wall time in ns,
//  and in *measured_s the seconds measured after the warm-up (the
//  duration, or less if a signal ended it).
static uint64_t
s_phase (bthread_t *threads, int workers, bool sync, double warmup_s, double duration_s,
         double *measured_s)
{
    uint64_t start = s_now_ns (), stopped_ns = UINT64_MAX;
    s_run.measure_ns = start + (uint64_t) (warmup_s * 1e9);
    s_run.end_ns = duration_s > 0 ? s_run.measure_ns + (uint64_t) (duration_s * 1e9) : UINT64_MAX;
    atomic_store (&s_run.stopping, false);
    int started = 0;
    for (; started < workers; started++)
        if (pthread_create (&threads [started].thread, NULL, sync ? s_sync_thread : s_async_thread,
                            &threads [started]))
            break;
    if (started < workers)
        fprintf (stderr, "pegasus-bench: started %d of %d threads\n", started, workers);
    if (duration_s > 0) {
        s_sleep_until (s_run.end_ns);
        atomic_store (&s_run.stopping, true);
        stopped_ns = s_now_ns ();       //  earlier than end_ns if interrupted
    }
    for (int i = 0; i < started; i++)
        pthread_join (threads [i].thread, NULL);
    atomic_store (&s_run.stopping, true);
    uint64_t end = stopped_ns < s_run.end_ns ? stopped_ns : s_run.end_ns;
    *measured_s = end > s_run.measure_ns ? (double) (end - s_run.measure_ns) / 1e9 : 0.001;
    return s_now_ns () - start;
}

static void
s_json_hist (FILE *out, const hist_t *h, double seconds)
{
    fprintf (out, "{\"count\":%" PRIu64 ",\"ops_per_s\":%.1f,\"mean_us\":%.1f,\"p50_us\":%.1f,"
             "\"p90_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f}",
             h->total, (double) h->total / seconds, hist_mean (h) / 1e3,
             (double) hist_percentile (h, 0.50) / 1e3, (double) hist_percentile (h, 0.90) / 1e3,
             (double) hist_percentile (h, 0.99) / 1e3, (double) hist_percentile (h, 0.999) / 1e3,
             (double) h->max / 1e3);
}

static void
s_row (const char *name, const hist_t *h, double seconds)
{
    printf ("%-8s %10" PRIu64 " %10.0f %9.0f %9.0f %9.0f %9.0f %9.0f\n", name, h->total,
            (double) h->total / seconds, (double) hist_percentile (h, 0.50) / 1e3,
            (double) hist_percentile (h, 0.90) / 1e3, (double) hist_percentile (h, 0.99) / 1e3,
            (double) hist_percentile (h, 0.999) / 1e3, (double) h->max / 1e3);
}

static void
s_report (opts_t *o, bthread_t *threads, int workers, double seconds)
{
    hist_t *all = calloc (OP_COUNT + 1, sizeof (hist_t));
    if (!all) {
        fprintf (stderr, "pegasus-bench: out of memory for the report\n");
        return;
    }
    uint64_t errors [STATUS_SLOTS] = { 0 }, not_found = 0, error_total = 0;
    for (int i = 0; i < workers; i++) {
        for (int k = 0; k < OP_COUNT; k++) {
            hist_merge (&all [k], &threads [i].hist [k]);
            hist_merge (&all [OP_COUNT], &threads [i].hist [k]);
        }
        not_found += threads [i].not_found;
        for (int s = 0; s < STATUS_SLOTS; s++) {
            uint64_t n = atomic_load (&threads [i].errors [s]);
            errors [s] += n;
            error_total += n;
        }
    }
    printf ("workload %s, %s keys, %" PRIu64 " records, %d-byte values, %d threads x %d in flight%s\n",
            o->workload->name,
            o->dist == KEYGEN_UNIFORM ? "uniform" : o->dist == KEYGEN_ZIPFIAN ? "zipfian" : "latest",
            o->records, o->value_size, o->threads, o->inflight,
            o->rate > 0 ? ", paced" : "");
    printf ("%-8s %10s %10s %9s %9s %9s %9s %9s\n", "op", "count", "ops/s", "p50 us", "p90 us",
            "p99 us", "p99.9 us", "max us");
    for (int k = 0; k < OP_COUNT; k++)
        if (all [k].total)
            s_row (s_op_names [k], &all [k], seconds);
    s_row ("all", &all [OP_COUNT], seconds);
    printf ("not found: %" PRIu64 "; errors: %" PRIu64, not_found, error_total);
    for (int s = 0; s < STATUS_SLOTS; s++)
        if (errors [s])
            printf (" %s=%" PRIu64, pegasus_status_name (s), errors [s]);
    printf ("\n");

    printf ("{\"tool\":\"pegasus-bench\",\"label\":\"%s\",\"workload\":\"%s\",\"records\":%" PRIu64
            ",\"value_size\":%d,\"threads\":%d,\"inflight\":%d,\"rate\":%.0f,\"seconds\":%.3f,"
            "\"ops_per_s\":%.1f,\"all\":", o->label, o->workload->name, o->records, o->value_size,
            o->threads, o->inflight, o->rate, seconds, (double) all [OP_COUNT].total / seconds);
    s_json_hist (stdout, &all [OP_COUNT], seconds);
    for (int k = 0; k < OP_COUNT; k++)
        if (all [k].total) {
            printf (",\"%s\":", s_op_names [k]);
            s_json_hist (stdout, &all [k], seconds);
        }
    printf (",\"not_found\":%" PRIu64 ",\"errors\":{", not_found);
    bool first = true;
    for (int s = 0; s < STATUS_SLOTS; s++)
        if (errors [s]) {
            printf ("%s\"%s\":%" PRIu64, first ? "" : ",", pegasus_status_name (s), errors [s]);
            first = false;
        }
    printf ("}}\n");
    fflush (stdout);
    free (all);
}

static void
s_free_threads (bthread_t *threads, int count)
{
    for (int i = 0; i < count; i++) {
        pegasus_client_close (&threads [i].client);
        free (threads [i].hist);
        free (threads [i].slots);
        free (threads [i].values);
        pthread_mutex_destroy (&threads [i].lock);
        pthread_cond_destroy (&threads [i].cond);
    }
    free (threads);
}

int
main (int argc, char **argv)
{
    opts_t o;
    int rc = s_parse (argc, argv, &o);
    if (rc) {
        s_usage (rc == 1 ? stdout : stderr);
        return rc == 1 ? 0 : 2;
    }
    if (s_open_table (&o))
        return 1;
    bool sync = o.workload->mix [OP_SCAN] > 0;
    int workers = sync ? o.threads * o.inflight : o.threads;
    int per_thread = sync ? 1 : o.inflight;
    bthread_t *threads = calloc ((size_t) workers, sizeof *threads);
    if (!threads) {
        fprintf (stderr, "pegasus-bench: out of memory\n");
        return 1;
    }
    keygen_t keys;
    keygen_init (&keys, o.dist, o.records, o.seed);
    int ready = 0;
    for (; ready < workers; ready++) {
        bthread_t *t = &threads [ready];
        pthread_mutex_init (&t->lock, NULL);
        pthread_cond_init (&t->cond, NULL);
        keygen_clone (&t->keys, &keys, o.seed + 0x9e3779b97f4a7c15ULL * (uint64_t) (ready + 1));
        t->hist = calloc (OP_COUNT, sizeof (hist_t));
        t->slots = calloc ((size_t) per_thread, sizeof (slot_t));
        t->nslots = per_thread;
        t->values = malloc ((size_t) o.value_size + 256);
        t->client = pegasus_client_open (o.meta, o.table, o.timeout_ms);
        if (!t->hist || !t->slots || !t->values || !t->client) {
            fprintf (stderr, "pegasus-bench: thread %d: %s\n", ready,
                     t->client ? "out of memory" : pegasus_errmsg ());
            ready++;
            s_free_threads (threads, ready);
            return 1;
        }
        for (int s = 0; s < per_thread; s++)
            t->slots [s].thread = t;
        for (int b = 0; b < o.value_size + 256; b++)
            t->values [b] = (char) ('a' + keygen_below (&t->keys, 26));
    }
    s_run.o = &o;
    //  After the clients opened: czmq installs handlers of its own then.
    struct sigaction stop = { .sa_handler = s_on_signal };
    sigemptyset (&stop.sa_mask);
    sigaction (SIGINT, &stop, NULL);
    sigaction (SIGTERM, &stop, NULL);
    if (o.load) {
        s_run.loading = true;
        atomic_store (&s_run.next_insert, 0);
        double unused;
        uint64_t ns = s_phase (threads, workers, sync, 0, 0, &unused);
        uint64_t failed = 0;
        for (int i = 0; i < workers; i++)
            for (int s = 0; s < STATUS_SLOTS; s++)
                failed += atomic_exchange (&threads [i].errors [s], 0);
        fprintf (stderr, "pegasus-bench: loaded %" PRIu64 " records in %.1f s (%.0f/s), %" PRIu64
                 " failed\n", o.records, (double) ns / 1e9, (double) o.records / ((double) ns / 1e9),
                 failed);
        s_run.loading = false;
        if (failed) {
            fprintf (stderr, "pegasus-bench: the load failed\n");
            s_free_threads (threads, workers);
            return 1;
        }
    }
    atomic_store (&s_run.next_insert, o.records);
    if (!o.load_only) {
        double measured;
        s_phase (threads, workers, sync, o.warmup_s, o.duration_s, &measured);
        s_report (&o, threads, workers, measured);
    }
    s_free_threads (threads, workers);
    return 0;
}
