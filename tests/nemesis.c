/*  nemesis: writers and readers on a cluster while faults of every kind
    the fault model names (../shared/FAULTS.md) come and go, overlapping;
    then a linearizability check of everything the clients saw.

    One meta and --servers replica servers (5) run a table of --partitions
    partitions (8) with 3 replicas, each server in its own network
    namespace (tests/netns.h) so the network can be cut. Writer threads
    set and delete random keys to unique values, reader threads get them
    through the client library, and stale readers send their gets straight
    to the primary they remember, refreshing that memory only now and then.
    Every operation is recorded with its invoke and complete times and its
    outcome: OK, failed (refused before it ran: no effect), or unknown (it
    may or may not have happened).

    The fault kinds (--faults, comma-separated; all by default):
      kill     SIGKILL a replica server, meta's server, or two servers at
               once; each restarts after 0.5-4 s (the cluster is never
               waited for between faults)
      pause    SIGSTOP a server for 1-4 s (longer than its lease), SIGCONT
      network  cut a server off; split the servers in two; drop one way
               between two servers; cut a server off from meta only (its
               clients still reach it); or lose meta's replies to a server
               while its beacons arrive (a fault point in meta: a packet
               filter would stall TCP both ways); healed after 1-5 s
      disk     a server's fdatasync fails with EIO (its log fails: the
               server is restarted once the fault is gone) or is slow
      idle     nobody writes or reads for 1.5-4 s, so holes do not heal by
               traffic
      stale    stale readers run (their remembered primaries go stale
               with every other fault)
    At most --concurrent (2) faults are active at once, on different
    servers; a new one starts every 0.5-1.5 s. With --colocated, meta's
    process runs a replica too (roles meta,replica), so killing meta kills
    a replica server with it.

    At the end everything heals, every key is read once more, and the
    history goes through the checker (tests/lincheck): a lost acknowledged
    write or a read that goes back in time fails the run. The report gives
    the operations, the faults by kind, the verdict, and per partition the
    longest unavailability: from the first of a run of failed writes to the
    write that went through after them.

        nemesis [--seconds 60] [--servers 5] [--partitions 8] [--keys 200]
                [--writers 4] [--readers 4] [--stale-readers 2]
                [--faults kill,pause,network,disk,idle,stale] [--min-each 0]
                [--concurrent 2] [--colocated] [--seed N] [--product-timing]

    Exit status 0 only if the verdict is linearizable, every fault kind
    asked for happened at least --min-each times, and the cluster healed.
    Must run as root (namespaces); it says so otherwise.
*/
#include "client/pegasus.h"
#include "common/key.h"
#include "common/wiretypes.h"
#include "runtime/actor.h"
#include "runtime/rt.h"
#include "tests/lincheck/lincheck.h"
#include "tests/minicluster.h"
#include "tests/netns.h"
#include "tests/testutil.h"
#include "data.pb-c.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#define OP_TIMEOUT_MS 2000                  //  as a latency-minded client would set it
#define HEAL_TIMEOUT_MS 120000
#define MAX_PARTITIONS 64
#define MAX_SERVERS (MINICLUSTER_MAX + 1)
#define MAX_ACTIVE 8
#define STALE_REFRESH_MS 15000

//  ---------------------------------------------------------------------------
//  Options

enum { F_KILL, F_PAUSE, F_NETWORK, F_DISK, F_IDLE, F_STALE, F_KINDS };
static const char *const s_kind_names [F_KINDS] = {
    "kill", "pause", "network", "disk", "idle", "stale"
};

typedef struct {
    int seconds;
    int servers;
    int partitions;
    int keys;
    int writers;
    int readers;
    int stale_readers;
    bool kinds [F_KINDS];
    int min_each;
    int concurrent;
    bool colocated;
    unsigned seed;
    bool product_timing;
} options_t;

static options_t s_opt = {
    60, 5, 8, 200, 4, 4, 2, { true, true, true, true, true, true }, 0, 2, false, 0, false
};

//  ---------------------------------------------------------------------------
//  The history

typedef struct {
    uint32_t key;
    uint8_t kind;                       //  lincheck_kind_t
    uint8_t outcome;                    //  lincheck_outcome_t
    uint8_t client;                     //  CLIENT_*
    int8_t server;                      //  a stale read: the server that answered
    bool present;
    int64_t value;
    int64_t invoke_us;
    int64_t complete_us;
    int status;                         //  the client's status
} record_t;

enum { CLIENT_WRITER, CLIENT_READER, CLIENT_STALE, CLIENT_FINAL };
static const char *const s_client_names [] = { "writer", "reader", "stale reader", "final read" };

static minicluster_t *s_cluster;
static netns_t *s_netns;
static pegasus_client_t *s_client;
static rt_t *s_rt;                      //  the stale readers' runtime
static atomic_bool s_stop;
static _Atomic int64_t s_quiet_until_ms; //  idle: no operation before this
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static record_t *s_records;
static size_t s_nrecords, s_capacity;
static int64_t s_start_us;
//  Per partition: since when writes to it have failed (0: the last one
//  went through), and the longest such stretch: how long it was
//  unavailable to writers who tried (idle periods do not count).
static int64_t s_failing_since_us [MAX_PARTITIONS];
static int64_t s_max_gap_us [MAX_PARTITIONS];
static int64_t s_gap_end_us [MAX_PARTITIONS];
static uint64_t s_ok, s_failed, s_unknown, s_read_errors;
static uint64_t s_writes_ok;
static int64_t s_slowest_us;            //  the longest any operation took
static uint64_t s_write_errors [64];    //  failed writes by status
static uint64_t s_stale_sent, s_stale_served, s_stale_refused;

static int64_t
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double
s_elapsed (void)
{
    return (double) (s_now_us () - s_start_us) / 1e6;
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
            fprintf (stderr, "nemesis: out of memory for the history\n");
            exit (2);
        }
        s_records = grown;
        s_capacity = capacity;
    }
    s_records [s_nrecords++] = *r;
    if (r->complete_us - r->invoke_us > s_slowest_us)
        s_slowest_us = r->complete_us - r->invoke_us;
    if (r->outcome == LINCHECK_OK)
        s_ok++;
    else
    if (r->outcome == LINCHECK_FAIL)
        s_failed++;
    else
        s_unknown++;
    if (r->kind != LINCHECK_READ) {
        uint32_t p = s_partition_of (r->key);
        if (r->outcome != LINCHECK_OK) {
            if (!s_failing_since_us [p])
                s_failing_since_us [p] = r->invoke_us;
        }
        else {
            s_writes_ok++;
            int64_t gap = s_failing_since_us [p] ? r->complete_us - s_failing_since_us [p] : 0;
            if (gap > s_max_gap_us [p]) {
                s_max_gap_us [p] = gap;
                s_gap_end_us [p] = r->complete_us;
            }
            s_failing_since_us [p] = 0;
        }
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

static int64_t
s_parse_value (const void *value, size_t len)
{
    char buffer [32];
    snprintf (buffer, sizeof buffer, "%.*s", (int) (len < 31 ? len : 31), (const char *) value);
    return strtoll (buffer, NULL, 10);
}

//  ---------------------------------------------------------------------------
//  Clients

static void
s_read (uint32_t key, int client)
{
    char text [32];
    s_key_text (key, text, sizeof text);
    record_t r = { .key = key, .kind = LINCHECK_READ, .client = (uint8_t) client, .server = -1,
                   .invoke_us = s_now_us () };
    void *value = NULL;
    size_t len = 0;
    int rc = pegasus_get (s_client, text, strlen (text), "s", 1, &value, &len, OP_TIMEOUT_MS);
    r.complete_us = s_now_us ();
    r.status = rc;
    if (rc == PEGASUS_OK || rc == PEGASUS_NOT_FOUND) {
        r.outcome = LINCHECK_OK;
        r.present = rc == PEGASUS_OK;
        if (r.present)
            r.value = s_parse_value (value, len);
        s_record (&r);
    }
    else {
        pthread_mutex_lock (&s_lock);
        s_read_errors++;                //  a read that failed says nothing
        pthread_mutex_unlock (&s_lock);
    }
    pegasus_free (value);
}

//  Idle periods: every client waits them out.
static bool
s_quiet (void)
{
    int64_t until = atomic_load (&s_quiet_until_ms);
    if (testutil_now_ms () >= until)
        return false;
    usleep (20000);
    return true;
}

typedef struct {
    int id;
    int role;                           //  0 writer, 1 reader, 2 stale reader
    unsigned seed;
} worker_t;

//  What a stale reader remembers of the table: its routing, refreshed only
//  every STALE_REFRESH_MS, whatever happened since.
typedef struct {
    uint32_t app_id;
    actor_t *primaries [MAX_PARTITIONS];
    int8_t servers [MAX_PARTITIONS];    //  which server each is
    int64_t refreshed_ms;
} routing_t;

static void
s_routing_refresh (routing_t *routing)
{
    pegasus_table_t info;
    pegasus_partition_t *parts;
    size_t count;
    if (pegasus_describe_table (s_cluster->meta, "nt", &info, &parts, &count, 2000) != PEGASUS_OK)
        return;
    routing->app_id = info.app_id;
    for (size_t i = 0; i < count && i < MAX_PARTITIONS; i++) {
        actor_unref (&routing->primaries [i]);
        if (!*parts [i].primary)
            continue;
        char address [400];
        snprintf (address, sizeof address, "%s/r.%u.%zu", parts [i].primary, info.app_id, i);
        routing->primaries [i] = rt_lookup (s_rt, address);
        routing->servers [i] = -1;
        for (int k = 0; k <= s_cluster->nreplicas; k++)
            if (!strcmp (s_cluster->addresses [k], parts [i].primary))
                routing->servers [i] = (int8_t) k;
    }
    free (parts);
    routing->refreshed_ms = testutil_now_ms ();
}

//  A get straight to the remembered primary, no retry, no refresh: what
//  it answers OK goes into the history like any read.
static void
s_stale_read (routing_t *routing, uint32_t key)
{
    uint32_t p = s_partition_of (key);
    actor_t *replica = routing->primaries [p];
    if (!replica)
        return;
    char text [32];
    s_key_text (key, text, sizeof text);
    Pg__Route route = PG__ROUTE__INIT;
    route.app_id = routing->app_id;
    route.partition_index = p;
    route.partition_count = (uint32_t) s_opt.partitions;
    Pg__GetRequest *req;
    msg_t *msg = msg_new (&pg__get_request__descriptor, (void **) &req), *reply = NULL;
    if (!msg)
        return;
    req->route = msg_copy_body (msg, &route.base);
    req->hash_key = (ProtobufCBinaryData) { strlen (text), (uint8_t *) msg_strdup (msg, text) };
    req->sort_key = (ProtobufCBinaryData) { 1, (uint8_t *) msg_strdup (msg, "s") };
    record_t r = { .key = key, .kind = LINCHECK_READ, .client = CLIENT_STALE,
                   .server = routing->servers [p], .invoke_us = s_now_us () };
    int rc = rt_call (s_rt, replica, &msg, 1000, &reply);
    r.complete_us = s_now_us ();
    r.status = rc;
    pthread_mutex_lock (&s_lock);
    s_stale_sent++;
    if (rc == PG__STATUS__OK || rc == PG__STATUS__NOT_FOUND)
        s_stale_served++;
    else
        s_stale_refused++;
    pthread_mutex_unlock (&s_lock);
    if (rc == PG__STATUS__OK || rc == PG__STATUS__NOT_FOUND) {
        r.outcome = LINCHECK_OK;
        r.present = rc == PG__STATUS__OK;
        if (r.present) {
            Pg__GetReply *body = msg_body (reply);
            r.value = s_parse_value (body->value.data, body->value.len);
        }
        s_record (&r);
    }
    msg_destroy (&reply);
}

static void *
s_worker (void *arg)
{
    worker_t *w = arg;
    int64_t counter = 0;
    routing_t routing = { 0 };
    while (!atomic_load (&s_stop)) {
        if (s_quiet ())
            continue;
        uint32_t key = (uint32_t) (rand_r (&w->seed) % (unsigned) s_opt.keys);
        if (w->role == 1) {
            s_read (key, CLIENT_READER);
            continue;
        }
        if (w->role == 2) {
            if (testutil_now_ms () - routing.refreshed_ms > STALE_REFRESH_MS)
                s_routing_refresh (&routing);
            s_stale_read (&routing, key);
            usleep (2000);
            continue;
        }
        char text [32], value [32];
        s_key_text (key, text, sizeof text);
        bool del = rand_r (&w->seed) % 10 == 0;
        record_t r = { .key = key, .kind = del ? LINCHECK_DELETE : LINCHECK_WRITE,
                       .client = CLIENT_WRITER, .server = -1,
                       .value = (int64_t) (w->id + 1) * 1000000000LL + ++counter,
                       .invoke_us = s_now_us () };
        snprintf (value, sizeof value, "%" PRId64, r.value);
        int rc = del ? pegasus_del (s_client, text, strlen (text), "s", 1, OP_TIMEOUT_MS)
                     : pegasus_set (s_client, text, strlen (text), "s", 1, value, strlen (value), 0,
                                    OP_TIMEOUT_MS);
        r.complete_us = s_now_us ();
        r.status = rc;
        r.outcome = rc == PEGASUS_OK ? LINCHECK_OK
                  : s_definitely_not_run (rc) ? LINCHECK_FAIL : LINCHECK_UNKNOWN;
        if (rc != PEGASUS_OK && rc >= 0 && rc < 64) {
            pthread_mutex_lock (&s_lock);
            s_write_errors [rc]++;
            pthread_mutex_unlock (&s_lock);
        }
        s_record (&r);
    }
    for (int i = 0; i < MAX_PARTITIONS; i++)
        actor_unref (&routing.primaries [i]);
    return NULL;
}

//  ---------------------------------------------------------------------------
//  Faults

//  A fault in progress: what it did and when to undo it.
typedef struct {
    int kind;
    int variant;
    int servers [2];
    int nservers;
    int64_t until_ms;
} fault_t;

static fault_t s_active [MAX_ACTIVE];
static int s_nactive;
static bool s_busy [MAX_SERVERS];       //  under a fault, or restarting
static bool s_network_busy;
static bool s_down [MAX_SERVERS];       //  killed, to restart
static int s_count [F_KINDS];
static int s_variants [F_KINDS][6];
static unsigned s_seed;
static int s_restart_failures;
static int s_crashes;                   //  servers that exited on their own

static const char *const s_variant_names [F_KINDS][6] = {
    { "replica server", "meta's server", "two servers at once" },
    { "replica server", "meta's server" },
    { "isolated", "split in two", "one way", "cut from meta", "meta's replies lost" },
    { "fdatasync EIO", "slow fdatasync" },
    { "quiet" },
    { "routing refreshed" }
};

//  What each server's fault file says, by the fault that put it there: a
//  disk fault and meta's lost replies may be on at once on meta's server.
enum { FF_DISK, FF_REPLIES, FF_SLOTS };
static char s_fault_text [MAX_SERVERS][FF_SLOTS][64];

static void
s_set_faults (int server, int slot, const char *text)
{
    snprintf (s_fault_text [server][slot], sizeof s_fault_text [0][0], "%s", text);
    char file [FF_SLOTS * 64 + 1] = "";
    for (int i = 0; i < FF_SLOTS; i++)
        strcat (file, s_fault_text [server][i]);
    minicluster_fault (s_cluster, server, file);
}

static int
s_rand (int n)
{
    return n > 0 ? (int) (rand_r (&s_seed) % (unsigned) n) : 0;
}

static int64_t
s_rand_ms (int64_t low, int64_t high)
{
    return low + s_rand ((int) (high - low + 1));
}

//  A random server not under a fault (0 = meta's), or -1.
static int
s_pick_free (bool meta_allowed)
{
    int candidates [MAX_SERVERS], n = 0;
    for (int i = meta_allowed ? 0 : 1; i <= s_cluster->nreplicas; i++)
        if (!s_busy [i])
            candidates [n++] = i;
    return n ? candidates [s_rand (n)] : -1;
}

static void
s_log (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

static void
s_log (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    fprintf (stderr, "nemesis: %6.1f s: ", s_elapsed ());
    vfprintf (stderr, format, args);
    fprintf (stderr, "\n");
    va_end (args);
}

static void
s_restart (int server)
{
    if (minicluster_restart (s_cluster, server)) {
        s_log ("server %d did not restart", server);
        s_restart_failures++;
        return;
    }
    s_down [server] = false;
}

//  Starts a fault of `kind`. False if none could start (no free server).
static bool
s_start_fault (int kind)
{
    fault_t f = { .kind = kind };
    int64_t now = testutil_now_ms ();
    switch (kind) {
        case F_KILL: {
            f.variant = s_rand (3);
            int a = s_pick_free (f.variant != 0);
            if (f.variant == 1)
                a = s_busy [0] ? -1 : 0;
            if (a < 0)
                return false;
            f.servers [f.nservers++] = a;
            s_busy [a] = true;
            if (f.variant == 2) {
                int b = s_pick_free (true);
                if (b < 0) {
                    s_busy [a] = false;
                    return false;
                }
                f.servers [f.nservers++] = b;
                s_busy [b] = true;
            }
            for (int i = 0; i < f.nservers; i++) {
                minicluster_kill (s_cluster, f.servers [i]);
                s_down [f.servers [i]] = true;
            }
            f.until_ms = now + s_rand_ms (500, 4000);
            if (f.nservers > 1)
                s_log ("kill: SIGKILL servers %d and %d (restart in %" PRId64 " ms)",
                       f.servers [0], f.servers [1], f.until_ms - now);
            else
                s_log ("kill: SIGKILL %s %d (restart in %" PRId64 " ms)",
                       f.servers [0] == 0 ? "meta's server" : "server", f.servers [0],
                       f.until_ms - now);
            break;
        }
        case F_PAUSE: {
            f.variant = s_rand (4) == 0 ? 1 : 0;
            int a = f.variant ? (s_busy [0] ? -1 : 0) : s_pick_free (false);
            if (a < 0)
                return false;
            f.servers [f.nservers++] = a;
            s_busy [a] = true;
            minicluster_pause (s_cluster, a);
            f.until_ms = now + s_rand_ms (1000, 4000);
            s_log ("pause: SIGSTOP server %d for %" PRId64 " ms", a, f.until_ms - now);
            break;
        }
        case F_NETWORK: {
            if (s_network_busy)
                return false;
            f.variant = s_rand (5);
            int n = s_cluster->nreplicas;
            int a = 1 + s_rand (n), b = 1 + s_rand (n);
            if (b == a)
                b = a % n + 1;
            int rc = 0;
            if (f.variant == 0)
                rc = netns_isolate (s_netns, a);
            else
            if (f.variant == 1) {
                //  Meta and a random half on one side, the rest on the other.
                int side_a [MAX_SERVERS], side_b [MAX_SERVERS];
                size_t na = 0, nb = 0;
                side_a [na++] = 0;
                for (int i = 1; i <= n; i++)
                    if (s_rand (2))
                        side_a [na++] = i;
                    else
                        side_b [nb++] = i;
                if (!nb)
                    side_b [nb++] = side_a [--na];
                rc = netns_partition (s_netns, side_a, na, side_b, nb);
            }
            else
            if (f.variant == 2)
                rc = netns_block (s_netns, a, b);
            else
            if (f.variant == 3) {
                int meta [1] = { 0 }, node [1] = { a };
                rc = netns_partition (s_netns, meta, 1, node, 1);
            }
            else {
                //  Above TCP: a packet filter would stall the connection
                //  both ways (no acknowledgements), not lose replies only.
                char text [64];
                struct in_addr ip;
                inet_pton (AF_INET, netns_addr (s_netns, a), &ip);
                snprintf (text, sizeof text, "meta.drop_replies_to_ip %lu\n",
                          (unsigned long) ntohl (ip.s_addr));
                s_set_faults (0, FF_REPLIES, text);
                f.servers [f.nservers++] = a;
            }
            if (rc) {
                s_log ("network: the fault did not apply");
                netns_heal (s_netns);
                return false;
            }
            s_network_busy = true;
            f.servers [0] = a;
            f.servers [1] = b;
            f.until_ms = now + s_rand_ms (1000, 5000);
            s_log ("network: %s (servers %d, %d) for %" PRId64 " ms",
                   s_variant_names [F_NETWORK][f.variant], a, b, f.until_ms - now);
            break;
        }
        case F_DISK: {
            f.variant = s_rand (2);
            int a = s_pick_free (s_opt.colocated);
            if (a < 0 || (a == 0 && !s_opt.colocated))
                return false;
            f.servers [f.nservers++] = a;
            s_busy [a] = true;
            char text [64];
            if (f.variant == 0)
                snprintf (text, sizeof text, "log.fsync_eio\n");
            else
                snprintf (text, sizeof text, "log.fsync_delay_ms %d\n", (int) s_rand_ms (50, 400));
            s_set_faults (a, FF_DISK, text);
            f.until_ms = now + (f.variant == 0 ? s_rand_ms (500, 2000) : s_rand_ms (2000, 5000));
            s_log ("disk: server %d %s for %" PRId64 " ms", a,
                   s_variant_names [F_DISK][f.variant], f.until_ms - now);
            break;
        }
        case F_IDLE: {
            f.until_ms = now + s_rand_ms (1500, 4000);
            atomic_store (&s_quiet_until_ms, f.until_ms);
            s_log ("idle: no operations for %" PRId64 " ms", f.until_ms - now);
            break;
        }
        default:
            return false;
    }
    s_count [kind]++;
    s_variants [kind][f.variant]++;
    s_active [s_nactive++] = f;
    return true;
}

static void
s_end_fault (fault_t *f)
{
    switch (f->kind) {
        case F_KILL:
            for (int i = 0; i < f->nservers; i++) {
                s_restart (f->servers [i]);
                s_busy [f->servers [i]] = false;
            }
            break;
        case F_PAUSE:
            minicluster_resume (s_cluster, f->servers [0]);
            s_busy [f->servers [0]] = false;
            break;
        case F_NETWORK:
            netns_heal (s_netns);
            if (f->variant == 4)
                s_set_faults (0, FF_REPLIES, "");
            s_network_busy = false;
            break;
        case F_DISK:
            s_set_faults (f->servers [0], FF_DISK, "");
            //  A failed log stays failed: the operator restarts the server.
            if (f->variant == 0) {
                minicluster_kill (s_cluster, f->servers [0]);
                s_restart (f->servers [0]);
            }
            s_busy [f->servers [0]] = false;
            break;
        default:
            break;
    }
    s_log ("%s over", s_kind_names [f->kind]);
}

//  Starts a fault of the kind with the fewest so far among those asked for
//  (ties at random), so every kind gets its share; if that kind cannot
//  start now (its servers are all under faults, a network fault is on),
//  the next fewest.
static void
s_start_next (void)
{
    bool tried [F_KINDS] = { false };
    for (;;) {
        int best = -1;
        for (int k = 0; k < F_KINDS; k++) {
            if (!s_opt.kinds [k] || k == F_STALE || tried [k])
                continue;
            if (best < 0 || s_count [k] < s_count [best]
            ||  (s_count [k] == s_count [best] && s_rand (2)))
                best = k;
        }
        if (best < 0 || s_start_fault (best))
            return;
        tried [best] = true;
    }
}

//  Runs faults until the time is up (in the main thread: it alone spawns
//  servers, whose parent-death signal is tied to the spawning thread).
//  A server that exited without being killed is a bug: counted, reported,
//  and restarted so the run goes on.
static void
s_check_crashes (void)
{
    for (int i = 0; i <= s_cluster->nreplicas; i++) {
        pid_t pid = s_cluster->pids [i];
        int status;
        if (!pid || s_down [i] || waitpid (pid, &status, WNOHANG) != pid)
            continue;
        s_crashes++;
        s_log ("server %d (pid %d) EXITED ON ITS OWN: %s %d; restarting it", i, (int) pid,
               WIFSIGNALED (status) ? "signal" : "status",
               WIFSIGNALED (status) ? WTERMSIG (status) : WEXITSTATUS (status));
        s_cluster->pids [i] = 0;
        s_cluster->paused [i] = false;
        s_restart (i);
    }
}

//  Every 5 s, what the clients got done since.
static void
s_progress (void)
{
    static int64_t last_ms;
    static uint64_t last_ok, last_writes, last_failed, last_unknown;
    int64_t now = testutil_now_ms ();
    if (now - last_ms < 5000)
        return;
    pthread_mutex_lock (&s_lock);
    if (last_ms)
        s_log ("progress: %" PRIu64 " ok (%" PRIu64 " writes), %" PRIu64 " refused, %" PRIu64
               " unknown in the last %.1f s", s_ok - last_ok, s_writes_ok - last_writes,
               s_failed - last_failed, s_unknown - last_unknown, (double) (now - last_ms) / 1000);
    last_ok = s_ok;
    last_writes = s_writes_ok;
    last_failed = s_failed;
    last_unknown = s_unknown;
    pthread_mutex_unlock (&s_lock);
    last_ms = now;
}

static void
s_nemesis (int64_t until_ms)
{
    int64_t next_ms = testutil_now_ms () + 1000;
    while (testutil_now_ms () < until_ms) {
        s_progress ();
        s_check_crashes ();
        int64_t now = testutil_now_ms ();
        for (int i = 0; i < s_nactive;)
            if (s_active [i].until_ms <= now) {
                s_end_fault (&s_active [i]);
                s_active [i] = s_active [--s_nactive];
            }
            else
                i++;
        if (now >= next_ms && s_nactive < s_opt.concurrent) {
            s_start_next ();
            next_ms = now + s_rand_ms (500, 1500);
        }
        usleep (20000);
    }
    while (s_nactive) {
        s_end_fault (&s_active [0]);
        s_active [0] = s_active [--s_nactive];
    }
}

//  ---------------------------------------------------------------------------

//  Every operation on one key, in invoke order, with times since the start
//  (as the fault log gives them): what a failed verdict is read against.
static void
s_dump_key (uint32_t key)
{
    printf ("  history of key %u (times in s since the start; faults are logged above):\n", key);
    static const char *const kinds [] = { "write", "read", "cas", "delete" };
    static const char *const outcomes [] = { "ok", "refused", "unknown" };
    for (size_t i = 0; i < s_nrecords; i++) {
        record_t *r = &s_records [i];
        if (r->key != key)
            continue;
        printf ("    %9.3f..%9.3f  %-12s %-6s %-7s", (double) (r->invoke_us - s_start_us) / 1e6,
                (double) (r->complete_us - s_start_us) / 1e6, s_client_names [r->client],
                kinds [r->kind], outcomes [r->outcome]);
        if (r->kind == LINCHECK_WRITE)
            printf (" %" PRId64, r->value);
        else
        if (r->kind == LINCHECK_READ)
            r->present ? printf (" -> %" PRId64, r->value) : printf (" -> absent");
        if (r->server >= 0)
            printf (" (from server %d)", r->server);
        if (r->status)
            printf (" [%s]", pegasus_status_name (r->status));
        printf ("\n");
    }
}

static int
s_parse_kinds (const char *text)
{
    for (int k = 0; k < F_KINDS; k++)
        s_opt.kinds [k] = false;
    char copy [256];
    snprintf (copy, sizeof copy, "%s", text);
    for (char *save = NULL, *name = strtok_r (copy, ",", &save); name;
         name = strtok_r (NULL, ",", &save)) {
        int k = 0;
        while (k < F_KINDS && strcmp (s_kind_names [k], name))
            k++;
        if (k == F_KINDS) {
            fprintf (stderr, "nemesis: unknown fault kind '%s' (kill, pause, network, disk, "
                     "idle, stale)\n", name);
            return -1;
        }
        s_opt.kinds [k] = true;
    }
    return 0;
}

static int
s_parse (int argc, char **argv)
{
    static const struct option options [] = {
        { "seconds", required_argument, 0, 't' }, { "servers", required_argument, 0, 'n' },
        { "partitions", required_argument, 0, 'p' }, { "keys", required_argument, 0, 'K' },
        { "writers", required_argument, 0, 'w' }, { "readers", required_argument, 0, 'r' },
        { "stale-readers", required_argument, 0, 'S' }, { "faults", required_argument, 0, 'f' },
        { "min-each", required_argument, 0, 'm' }, { "concurrent", required_argument, 0, 'c' },
        { "colocated", no_argument, 0, 'C' }, { "seed", required_argument, 0, 's' },
        { "product-timing", no_argument, 0, 'T' }, { 0, 0, 0, 0 }
    };
    int c;
    while ((c = getopt_long (argc, argv, "", options, NULL)) != -1) {
        long v = optarg ? strtol (optarg, NULL, 10) : 0;
        switch (c) {
            case 't': s_opt.seconds = (int) v; break;
            case 'n': s_opt.servers = (int) v; break;
            case 'p': s_opt.partitions = (int) v; break;
            case 'K': s_opt.keys = (int) v; break;
            case 'w': s_opt.writers = (int) v; break;
            case 'r': s_opt.readers = (int) v; break;
            case 'S': s_opt.stale_readers = (int) v; break;
            case 'f': if (s_parse_kinds (optarg)) return -1; break;
            case 'm': s_opt.min_each = (int) v; break;
            case 'c': s_opt.concurrent = (int) v; break;
            case 'C': s_opt.colocated = true; break;
            case 's': s_opt.seed = (unsigned) v; break;
            case 'T': s_opt.product_timing = true; break;
            default: return -1;
        }
    }
    if (!s_opt.kinds [F_STALE])
        s_opt.stale_readers = 0;
    if (s_opt.seconds < 1 || s_opt.servers < 3 || s_opt.servers > MINICLUSTER_MAX
    ||  s_opt.partitions < 1 || s_opt.partitions > MAX_PARTITIONS
    ||  (s_opt.partitions & (s_opt.partitions - 1)) || s_opt.keys < 1 || s_opt.writers < 1
    ||  s_opt.readers < 0 || s_opt.stale_readers < 0
    ||  s_opt.writers + s_opt.readers + s_opt.stale_readers > 64 || s_opt.min_each < 0
    ||  s_opt.concurrent < 1 || s_opt.concurrent > MAX_ACTIVE) {
        fprintf (stderr, "nemesis: bad option (servers 3..%d, partitions a power of two up to %d, "
                 "keys >= 1, writers >= 1, all clients <= 64, concurrent 1..%d)\n",
                 MINICLUSTER_MAX, MAX_PARTITIONS, MAX_ACTIVE);
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
    s_seed = s_opt.seed;
    char kinds [128] = "";
    for (int k = 0; k < F_KINDS; k++)
        if (s_opt.kinds [k])
            snprintf (kinds + strlen (kinds), sizeof kinds - strlen (kinds), "%s%s",
                      *kinds ? "," : "", s_kind_names [k]);
    fprintf (stderr, "nemesis: %d s, %d servers%s, %d partitions, %d keys, %d writers, %d readers, "
             "%d stale readers, faults %s, at most %d at once, seed %u\n", s_opt.seconds,
             s_opt.servers, s_opt.colocated ? " (meta with a replica)" : "", s_opt.partitions,
             s_opt.keys, s_opt.writers, s_opt.readers, s_opt.stale_readers, kinds,
             s_opt.concurrent, s_opt.seed);
    //  Namespaces first, and into the client's before any thread starts.
    s_netns = netns_new (s_opt.servers + 1);
    if (!s_netns) {
        fprintf (stderr, "nemesis: network namespaces are needed (run as root)\n");
        return 2;
    }
    if (netns_enter_client (s_netns)) {
        netns_destroy (&s_netns);
        return 2;
    }
    minicluster_opts_t opts = {
        .replicas = s_opt.servers, .product_timing = s_opt.product_timing,
        .colocated = s_opt.colocated, .faults = true, .netns = s_netns
    };
    s_cluster = minicluster_start_with (&opts);
    if (!s_cluster || wiretypes_register ()
    ||  !(s_rt = rt_newf ("runtime\n    workers = 2\n    log_level = error\n"))) {
        minicluster_stop (&s_cluster);
        netns_destroy (&s_netns);
        return 2;
    }
    int status = 2;
    pthread_t workers [64];
    worker_t args [64];
    int nworkers = 0;
    int64_t until = testutil_now_ms () + 60000;
    int rc;
    while ((rc = pegasus_create_table (s_cluster->meta, "nt", s_opt.partitions, 3, NULL, 5000))
           != PEGASUS_OK && testutil_now_ms () < until)
        usleep (200000);                //  until enough servers beaconed
    if (rc == PEGASUS_OK)
        rc = pegasus_wait_table_ready (s_cluster->meta, "nt", 60000);
    if (rc != PEGASUS_OK || !(s_client = pegasus_client_open (s_cluster->meta, "nt", 10000))) {
        fprintf (stderr, "nemesis: table nt: %s %s\n", pegasus_status_name (rc), pegasus_errmsg ());
        goto done;
    }
    s_start_us = s_now_us ();
    int clients = s_opt.writers + s_opt.readers + s_opt.stale_readers;
    for (int i = 0; i < clients; i++) {
        args [i] = (worker_t) { i, i < s_opt.writers ? 0 : i < s_opt.writers + s_opt.readers ? 1 : 2,
                                s_opt.seed + (unsigned) i * 7919u };
        if (pthread_create (&workers [i], NULL, s_worker, &args [i]) == 0)
            nworkers++;
    }
    s_nemesis (testutil_now_ms () + (int64_t) s_opt.seconds * 1000);
    //  Everything heals: every server up, the table whole, clients quiet.
    s_check_crashes ();
    int64_t heal_start = testutil_now_ms ();
    for (int i = 0; i <= s_cluster->nreplicas; i++)
        if (s_down [i] || !s_cluster->pids [i])
            s_restart (i);
    bool healed = pegasus_wait_table_ready (s_cluster->meta, "nt", HEAL_TIMEOUT_MS) == PEGASUS_OK;
    int64_t heal_ms = testutil_now_ms () - heal_start;
    atomic_store (&s_stop, true);
    for (int i = 0; i < nworkers; i++)
        pthread_join (workers [i], NULL);
    for (int k = 0; k < s_opt.keys; k++)
        s_read ((uint32_t) k, CLIENT_FINAL);
    double elapsed = s_elapsed ();
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
    if (!history || lincheck_check (history, 600000, 0, &verdict)) {
        fprintf (stderr, "nemesis: the checker failed to run\n");
        lincheck_destroy (&history);
        goto done;
    }
    int64_t check_ms = testutil_now_ms () - check_start;
    printf ("nemesis report (seed %u)\n", s_opt.seed);
    printf ("  run:          %.1f s, %d replica servers%s, %d partitions x 3 replicas, %d keys\n",
            elapsed, s_opt.servers, s_opt.colocated ? " (one with meta)" : "", s_opt.partitions,
            s_opt.keys);
    printf ("  operations:   %zu recorded: %" PRIu64 " ok, %" PRIu64 " refused (no effect), %"
            PRIu64 " unknown outcome; %" PRIu64 " failed reads dropped\n",
            s_nrecords, s_ok, s_failed, s_unknown, s_read_errors);
    int total = 0;
    bool enough = true;
    for (int k = 0; k < F_KINDS; k++)
        if (s_opt.kinds [k] && k != F_STALE) {
            total += s_count [k];
            enough &= s_count [k] >= s_opt.min_each;
            printf ("  %-8s      %4d:", s_kind_names [k], s_count [k]);
            for (int v = 0; v < 6 && s_variant_names [k][v]; v++)
                printf ("%s %d %s", v ? "," : "", s_variants [k][v], s_variant_names [k][v]);
            printf ("\n");
        }
    if (s_opt.kinds [F_STALE])
        printf ("  stale         %" PRIu64 " reads sent to remembered primaries: %" PRIu64
                " answered (checked with the rest), %" PRIu64 " refused\n",
                s_stale_sent, s_stale_served, s_stale_refused);
    printf ("  failed writes:");
    for (int i = 0; i < 64; i++)
        if (s_write_errors [i])
            printf (" %s %" PRIu64, pegasus_status_name (i), s_write_errors [i]);
    printf ("\n");
    printf ("  faults:       %d in all\n", total);
    printf ("  slowest op:   %.2f s (client timeout %.1f s)\n", (double) s_slowest_us / 1e6,
            OP_TIMEOUT_MS / 1000.0);
    printf ("  healing:      %s in %.1f s after the last fault\n",
            healed ? "whole again" : "NOT whole", (double) heal_ms / 1000);
    printf ("  longest unavailability (writes tried, none went through), per partition:\n");
    double worst = 0;
    for (int p = 0; p < s_opt.partitions; p++) {
        double gap = (double) s_max_gap_us [p] / 1e6;
        if (gap > worst)
            worst = gap;
        if (s_gap_end_us [p])
            printf ("    partition %2d: %6.2f s (ending at %.1f s)\n", p, gap,
                    (double) (s_gap_end_us [p] - s_start_us) / 1e6);
        else
            printf ("    partition %2d: none\n", p);
    }
    printf ("  worst:        %.2f s\n", worst);
    printf ("  verdict:      %s (%zu keys, %zu operations, %" PRIu64 " search steps, %" PRId64 " ms)\n",
            lincheck_result_name (verdict.result), verdict.keys_checked, verdict.ops_checked,
            verdict.steps, check_ms);
    if (verdict.result != LINCHECK_LINEARIZABLE) {
        printf ("  key %s: %s\n", verdict.key, verdict.explanation);
        s_dump_key ((uint32_t) verdict.key_id);
    }
    lincheck_destroy (&history);
    status = verdict.result == LINCHECK_LINEARIZABLE && enough && healed && !s_restart_failures
          && !s_crashes ? 0 : 1;
    if (!enough)
        printf ("  FAILED: fewer than %d faults of some kind\n", s_opt.min_each);
    if (!healed)
        printf ("  FAILED: the table was not whole %d s after the faults ended\n",
                HEAL_TIMEOUT_MS / 1000);
    if (s_restart_failures)
        printf ("  FAILED: %d restarts failed\n", s_restart_failures);
    if (s_crashes)
        printf ("  FAILED: %d servers exited on their own (see the log above)\n", s_crashes);
done:
    atomic_store (&s_stop, true);
    pegasus_client_close (&s_client);
    rt_destroy (&s_rt);
    minicluster_stop (&s_cluster);
    netns_destroy (&s_netns);
    free (s_records);
    return status;
}
