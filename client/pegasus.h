/*  pegasus.h: the C client library of pegasus-c.

    A client talks to one table. It asks the meta server where each
    partition lives, caches that routing, and refreshes it when a server
    says the routing is stale, a request times out, or the table's
    partition count changed. Requests retry with backoff inside the
    caller's timeout; a write that is not idempotent (incr,
    check_and_set, check_and_mutate) is retried only when the server
    certainly did not run it.

        pegasus_client_t *client = pegasus_client_open ("127.0.0.1:34601", "users", 5000);
        if (!client) {
            fprintf (stderr, "%s\n", pegasus_errmsg ());
            return 1;
        }
        pegasus_set (client, "alice", 5, "email", 5, "a@x.org", 7, 0, 0);
        void *value;
        size_t len;
        if (pegasus_get (client, "alice", 5, "email", 5, &value, &len, 0) == PEGASUS_OK) {
            printf ("%.*s\n", (int) len, (char *) value);
            pegasus_free (value);
        }
        pegasus_client_close (&client);

    Every call returns a status (PEGASUS_OK = 0); after a failure,
    pegasus_errmsg() tells why, for the calling thread. timeout_ms <= 0
    means the client's default. Clients are thread-safe: many threads may
    share one. Link with `pkg-config --libs pegasus`.
*/
#ifndef PEGASUS_H
#define PEGASUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Status codes: the wire's status enum (proto/status.proto).
enum {
    PEGASUS_OK = 0,
    PEGASUS_NOT_FOUND = 1,
    PEGASUS_TIMEOUT = 2,
    PEGASUS_INVALID_ARGUMENT = 3,
    PEGASUS_TRY_AGAIN = 4,          //  a check_and_* check failed
    PEGASUS_INCOMPLETE = 5,         //  a range read stopped at a limit
    PEGASUS_APP_NOT_EXIST = 6,
    PEGASUS_APP_EXIST = 7,
    PEGASUS_NOT_ENOUGH_MEMBER = 8,
    PEGASUS_INVALID_STATE = 9,
    PEGASUS_BUSY = 10,
    PEGASUS_SPLITTING = 11,
    PEGASUS_NO_ACTOR = 12,
    PEGASUS_BAD_MESSAGE = 13,
    PEGASUS_UNREACHABLE = 14,
    PEGASUS_IO_ERROR = 15,
    PEGASUS_INTERNAL = 16,
    PEGASUS_STALE_BALLOT = 17,
    PEGASUS_SHUTDOWN = 18,
    PEGASUS_OUTCOME_UNKNOWN = 19    //  a write was prepared, then its primary changed:
                                    //  it may or may not have happened
};

//  "OK", "NOT_FOUND", ...
const char *
    pegasus_status_name (int status);

//  Why the calling thread's last failed call failed.
const char *
    pegasus_errmsg (void);

//  Frees what a call returned (values, results).
void
    pegasus_free (void *ptr);

typedef struct pegasus_client_t pegasus_client_t;

//  Opens a client on `table`, reaching meta at "host:port[,host:port...]".
//  Returns NULL (see pegasus_errmsg) if meta does not answer within
//  timeout_ms or the table does not exist.
pegasus_client_t *
    pegasus_client_open (const char *meta_servers, const char *table, int timeout_ms);

void
    pegasus_client_close (pegasus_client_t **self_p);

//  The table's partition count, as last routed.
int
    pegasus_partition_count (pegasus_client_t *self);

//  ---------------------------------------------------------------------------
//  One key

//  ttl_seconds: 0 = never expires.
int
    pegasus_set (pegasus_client_t *self, const void *hash_key, size_t hash_key_len,
                 const void *sort_key, size_t sort_key_len, const void *value, size_t value_len,
                 int ttl_seconds, int timeout_ms);

//  On OK, *value (malloc'd: pegasus_free) and *value_len. NOT_FOUND if
//  absent or expired.
int
    pegasus_get (pegasus_client_t *self, const void *hash_key, size_t hash_key_len,
                 const void *sort_key, size_t sort_key_len, void **value, size_t *value_len,
                 int timeout_ms);

int
    pegasus_del (pegasus_client_t *self, const void *hash_key, size_t hash_key_len,
                 const void *sort_key, size_t sort_key_len, int timeout_ms);

//  OK if the record exists, NOT_FOUND if not.
int
    pegasus_exist (pegasus_client_t *self, const void *hash_key, size_t hash_key_len,
                   const void *sort_key, size_t sort_key_len, int timeout_ms);

//  *ttl_seconds: seconds left, or -1 if the record never expires.
int
    pegasus_ttl (pegasus_client_t *self, const void *hash_key, size_t hash_key_len,
                 const void *sort_key, size_t sort_key_len, int *ttl_seconds, int timeout_ms);

//  Redis INCR: a missing record counts as 0; a value that is not a
//  decimal int64, or an overflow, is INVALID_ARGUMENT. expire_seconds: 0
//  keeps the record's TTL, > 0 sets it, -1 clears it.
int
    pegasus_incr (pegasus_client_t *self, const void *hash_key, size_t hash_key_len,
                  const void *sort_key, size_t sort_key_len, int64_t increment,
                  int expire_seconds, int64_t *new_value, int timeout_ms);

//  ---------------------------------------------------------------------------
//  One hash key, many sort keys (all atomic within the hash key)

typedef struct {
    const void *sort_key;
    size_t sort_key_len;
    const void *value;
    size_t value_len;
} pegasus_kv_t;

typedef struct {
    const void *data;
    size_t len;
} pegasus_bytes_t;

int
    pegasus_multi_set (pegasus_client_t *self, const void *hash_key, size_t hash_key_len,
                       const pegasus_kv_t *kvs, size_t count, int ttl_seconds, int timeout_ms);

enum {
    PEGASUS_FILTER_NONE = 0,
    PEGASUS_FILTER_ANYWHERE = 1,
    PEGASUS_FILTER_PREFIX = 2,
    PEGASUS_FILTER_POSTFIX = 3
};

typedef struct {
    const void *start_sort_key;     //  NULL/0: from the first sort key
    size_t start_sort_key_len;
    const void *stop_sort_key;      //  NULL/0: to the last sort key
    size_t stop_sort_key_len;
    bool start_inclusive;
    bool stop_inclusive;
    int filter_type;                //  PEGASUS_FILTER_* on the sort key
    const void *filter_pattern;
    size_t filter_pattern_len;
    bool reverse;
    bool no_value;
    int max_count;                  //  <= 0: the server's limit
    int max_size;                   //  bytes; <= 0: the server's limit
} pegasus_range_t;

//  The default range: everything, start and stop inclusive.
void
    pegasus_range_init (pegasus_range_t *range);

typedef struct {
    void *sort_key;
    size_t sort_key_len;
    void *value;
    size_t value_len;
    int ttl_seconds;                //  -1: never expires
} pegasus_item_t;

typedef struct {
    size_t count;
    pegasus_item_t *items;
} pegasus_items_t;

void
    pegasus_items_free (pegasus_items_t **items_p);

//  Sort keys given (count > 0): those that exist, in the order given.
//  Otherwise the range (NULL: all). OK, or INCOMPLETE if a limit cut the
//  range (*items holds what fitted).
int
    pegasus_multi_get (pegasus_client_t *self, const void *hash_key, size_t hash_key_len,
                       const pegasus_bytes_t *sort_keys, size_t count,
                       const pegasus_range_t *range, pegasus_items_t **items, int timeout_ms);

//  The sort keys only.
int
    pegasus_multi_get_sortkeys (pegasus_client_t *self, const void *hash_key,
                                size_t hash_key_len, const pegasus_range_t *range,
                                pegasus_items_t **items, int timeout_ms);

int
    pegasus_multi_del (pegasus_client_t *self, const void *hash_key, size_t hash_key_len,
                       const pegasus_bytes_t *sort_keys, size_t count, int64_t *deleted,
                       int timeout_ms);

int
    pegasus_sortkey_count (pegasus_client_t *self, const void *hash_key, size_t hash_key_len,
                           int64_t *count, int timeout_ms);

//  ---------------------------------------------------------------------------
//  Check and write

enum {
    PEGASUS_CHECK_NO_CHECK = 0,
    PEGASUS_CHECK_VALUE_NOT_EXIST = 1,
    PEGASUS_CHECK_VALUE_NOT_EXIST_OR_EMPTY = 2,
    PEGASUS_CHECK_VALUE_EXIST = 3,
    PEGASUS_CHECK_VALUE_NOT_EMPTY = 4,
    PEGASUS_CHECK_VALUE_MATCH_ANYWHERE = 5,
    PEGASUS_CHECK_VALUE_MATCH_PREFIX = 6,
    PEGASUS_CHECK_VALUE_MATCH_POSTFIX = 7,
    PEGASUS_CHECK_VALUE_BYTES_LESS = 8,
    PEGASUS_CHECK_VALUE_BYTES_LESS_OR_EQUAL = 9,
    PEGASUS_CHECK_VALUE_BYTES_EQUAL = 10,
    PEGASUS_CHECK_VALUE_BYTES_GREATER_OR_EQUAL = 11,
    PEGASUS_CHECK_VALUE_BYTES_GREATER = 12,
    PEGASUS_CHECK_VALUE_INT_LESS = 13,
    PEGASUS_CHECK_VALUE_INT_LESS_OR_EQUAL = 14,
    PEGASUS_CHECK_VALUE_INT_EQUAL = 15,
    PEGASUS_CHECK_VALUE_INT_GREATER_OR_EQUAL = 16,
    PEGASUS_CHECK_VALUE_INT_GREATER = 17
};

typedef struct {
    bool check_value_exist;
    void *check_value;              //  malloc'd (pegasus_free) when it existed
    size_t check_value_len;
} pegasus_check_t;

//  If the check on check_sort_key passes, sets set_sort_key = set_value.
//  OK: written; TRY_AGAIN: the check failed, nothing written. If check is
//  not NULL it receives the checked record.
int
    pegasus_check_and_set (pegasus_client_t *self, const void *hash_key, size_t hash_key_len,
                           const void *check_sort_key, size_t check_sort_key_len,
                           int check_type, const void *operand, size_t operand_len,
                           const void *set_sort_key, size_t set_sort_key_len,
                           const void *set_value, size_t set_value_len, int set_ttl_seconds,
                           pegasus_check_t *check, int timeout_ms);

enum { PEGASUS_MUTATE_SET = 0, PEGASUS_MUTATE_DEL = 1 };

typedef struct {
    int op;                         //  PEGASUS_MUTATE_*
    const void *sort_key;
    size_t sort_key_len;
    const void *value;
    size_t value_len;
    int ttl_seconds;
} pegasus_mutate_t;

int
    pegasus_check_and_mutate (pegasus_client_t *self, const void *hash_key, size_t hash_key_len,
                              const void *check_sort_key, size_t check_sort_key_len,
                              int check_type, const void *operand, size_t operand_len,
                              const pegasus_mutate_t *mutates, size_t count,
                              pegasus_check_t *check, int timeout_ms);

//  ---------------------------------------------------------------------------
//  Many hash keys

typedef struct {
    const void *hash_key;
    size_t hash_key_len;
    const void *sort_key;
    size_t sort_key_len;
} pegasus_key_t;

typedef struct {
    bool found;
    void *value;
    size_t value_len;
} pegasus_found_t;

//  Gets keys of any hash keys, in parallel by partition. results[i]
//  answers keys[i]; free with pegasus_free (values too: see
//  pegasus_batch_free). Any count: a partition's keys go in requests of
//  at most PEGASUS_BATCH_GET_MAX_KEYS, all in flight at once (a server
//  refuses a request of more than its replica/max_batch_keys, 1000 by
//  default, with INVALID_ARGUMENT, which this then returns).
#define PEGASUS_BATCH_GET_MAX_KEYS 1000

int
    pegasus_batch_get (pegasus_client_t *self, const pegasus_key_t *keys, size_t count,
                       pegasus_found_t **results, int timeout_ms);

void
    pegasus_batch_free (pegasus_found_t **results_p, size_t count);

//  ---------------------------------------------------------------------------
//  Scans

typedef struct pegasus_scanner_t pegasus_scanner_t;

typedef struct {
    int batch_size;                 //  records per round trip (default 100)
    bool no_value;
    int hash_key_filter_type;       //  full scans
    const void *hash_key_filter_pattern;
    size_t hash_key_filter_pattern_len;
    int sort_key_filter_type;
    const void *sort_key_filter_pattern;
    size_t sort_key_filter_pattern_len;
    bool start_inclusive;           //  hash scans (default true)
    bool stop_inclusive;            //  hash scans (default false)
    int timeout_ms;                 //  per round trip
} pegasus_scan_options_t;

void
    pegasus_scan_options_init (pegasus_scan_options_t *options);

//  All sort keys of one hash key from start to stop (NULL/0: unbounded),
//  in order.
pegasus_scanner_t *
    pegasus_hash_scanner (pegasus_client_t *self, const void *hash_key, size_t hash_key_len,
                          const void *start_sort_key, size_t start_len,
                          const void *stop_sort_key, size_t stop_len,
                          const pegasus_scan_options_t *options);

//  The whole table as up to max_split independent scanners (each a set of
//  partitions, to run in parallel). Returns the number made (>= 1), or -1.
int
    pegasus_full_scanners (pegasus_client_t *self, int max_split,
                           const pegasus_scan_options_t *options, pegasus_scanner_t ***scanners);

typedef struct {
    void *hash_key;
    size_t hash_key_len;
    void *sort_key;
    size_t sort_key_len;
    void *value;
    size_t value_len;
    int ttl_seconds;
} pegasus_record_t;

//  The next record into *record (valid until the next call), or OK with
//  *record NULL at the end.
int
    pegasus_scanner_next (pegasus_scanner_t *self, const pegasus_record_t **record);

void
    pegasus_scanner_close (pegasus_scanner_t **self_p);

void
    pegasus_scanners_free (pegasus_scanner_t ***scanners_p, int count);

//  ---------------------------------------------------------------------------
//  Asynchronous calls, for callers that keep many requests in flight.
//  The callback runs on a library thread, once, with the status, a message
//  for a failure, and for get the value (valid during the call only). It
//  must not block. Returns OK if the request was queued (the callback will
//  follow), or a failure (it will not).

typedef void (pegasus_callback_t) (int status, const char *error, const void *value,
                                   size_t value_len, void *arg);

int
    pegasus_set_async (pegasus_client_t *self, const void *hash_key, size_t hash_key_len,
                       const void *sort_key, size_t sort_key_len, const void *value,
                       size_t value_len, int ttl_seconds, int timeout_ms,
                       pegasus_callback_t *callback, void *arg);

int
    pegasus_get_async (pegasus_client_t *self, const void *hash_key, size_t hash_key_len,
                       const void *sort_key, size_t sort_key_len, int timeout_ms,
                       pegasus_callback_t *callback, void *arg);

int
    pegasus_del_async (pegasus_client_t *self, const void *hash_key, size_t hash_key_len,
                       const void *sort_key, size_t sort_key_len, int timeout_ms,
                       pegasus_callback_t *callback, void *arg);

//  ---------------------------------------------------------------------------
//  Administration (talks to meta only; no table needed)

typedef struct {
    uint32_t app_id;
    char name [129];
    uint32_t partition_count;
    uint32_t replica_count;
    bool dropped;
    int64_t create_ms;
    int64_t drop_ms;
    int64_t expire_ms;              //  dropped: recallable until then
} pegasus_table_t;

typedef struct {
    uint32_t index;
    uint64_t ballot;
    char primary [256];             //  "" if none
    size_t nsecondaries;
    char secondaries [5][256];
    uint64_t last_committed;
    bool serving;
} pegasus_partition_t;

typedef struct {
    char address [256];
    bool alive;
    //  "ALIVE", "UNALIVE" (silent past meta's grace), "UNREACHABLE" (its
    //  beacons arrive but meta's replies do not: it has no lease) or
    //  "LOG_FAILED" (its log failed; restart it once its disk is sound).
    char status [16];
    int64_t last_beacon_ms_ago;
    uint32_t primary_count;
    uint32_t secondary_count;
} pegasus_node_t;

int
    pegasus_create_table (const char *meta_servers, const char *name, int partition_count,
                          int replica_count, uint32_t *app_id, int timeout_ms);

//  Soft drop: recallable for hold_seconds (<= 0: meta's default).
int
    pegasus_drop_table (const char *meta_servers, const char *name, int64_t hold_seconds,
                        int timeout_ms);

//  new_name NULL or "": the old name.
int
    pegasus_recall_table (const char *meta_servers, uint32_t app_id, const char *new_name,
                          pegasus_table_t *table, int timeout_ms);

int
    pegasus_list_tables (const char *meta_servers, bool include_dropped,
                         pegasus_table_t **tables, size_t *count, int timeout_ms);

int
    pegasus_describe_table (const char *meta_servers, const char *name, pegasus_table_t *table,
                            pegasus_partition_t **partitions, size_t *count, int timeout_ms);

int
    pegasus_list_nodes (const char *meta_servers, pegasus_node_t **nodes, size_t *count,
                        int timeout_ms);

//  Whether a partition of the table is healthy: served by a primary, with
//  all the replicas the table asks for.
bool
    pegasus_partition_healthy (const pegasus_table_t *table, const pegasus_partition_t *partition);

//  Waits until every partition of the table is healthy (after a create, a
//  recall or failures). OK, or TIMEOUT.
int
    pegasus_wait_table_ready (const char *meta_servers, const char *name, int timeout_ms);

//  Manual reconfiguration of one partition (meta checks it is safe).
enum {
    PEGASUS_PROPOSE_ASSIGN_PRIMARY = 1,         //  a partition without primary gets node
    PEGASUS_PROPOSE_UPGRADE_TO_PRIMARY = 2,     //  secondary node leads; the old primary follows
    PEGASUS_PROPOSE_ADD_SECONDARY = 3,          //  node learns, then joins
    PEGASUS_PROPOSE_DOWNGRADE_TO_SECONDARY = 5, //  primary node follows; the best secondary leads
    PEGASUS_PROPOSE_REMOVE = 6                  //  node leaves (a primary only with force)
};

int
    pegasus_propose (const char *meta_servers, const char *table, uint32_t partition, int type,
                     const char *node, bool force, int timeout_ms);

//  Meta levels: how much meta changes on its own.
enum {
    PEGASUS_LEVEL_STEADY = 0,           //  heals: failures, primaries, replica counts
    PEGASUS_LEVEL_FREEZED = 1,          //  handles failures only
    PEGASUS_LEVEL_LIVELY = 2            //  steady (balancing to come)
};

typedef struct {
    int level;
    bool frozen;                        //  too few servers alive: acting as FREEZED
    uint32_t alive_nodes;
    uint32_t min_live_nodes;
} pegasus_meta_level_t;

int
    pegasus_set_meta_level (const char *meta_servers, int level, pegasus_meta_level_t *out,
                            int timeout_ms);

int
    pegasus_get_meta_level (const char *meta_servers, pegasus_meta_level_t *out, int timeout_ms);

//  Cold backups: jobs meta keeps (and persists) until they end. A backup
//  is whole once its manifest is on the target (state COMPLETED).
enum {
    PEGASUS_JOB_RUNNING = 0,
    PEGASUS_JOB_COMPLETED = 1,
    PEGASUS_JOB_FAILED = 2,
    PEGASUS_JOB_CANCELLED = 3
};

//  One partition's part of a backup.
enum {
    PEGASUS_BACKUP_WAITING = 0,         //  no primary yet, or not asked yet
    PEGASUS_BACKUP_CHECKPOINT = 1,
    PEGASUS_BACKUP_UPLOADING = 2,
    PEGASUS_BACKUP_DONE = 3,
    PEGASUS_BACKUP_FAILED = 4           //  the last attempt failed; meta retries
};

typedef struct {
    uint32_t index;
    int step;                           //  PEGASUS_BACKUP_*
    char primary [256];                 //  the server uploading it
    uint32_t attempt;
    uint64_t decree;                    //  the checkpoint's
    uint64_t bytes_total, bytes_done;
    uint32_t files;                     //  once done
    uint32_t failures;                  //  failed attempts in a row
    char error [256];                   //  the last failure
} pegasus_backup_partition_t;

typedef struct {
    uint64_t id;
    char table [129];
    uint32_t app_id;
    char target [129];
    int state;                          //  PEGASUS_JOB_*
    int64_t start_ms, end_ms;           //  wall clock; end 0 while running
    char error [512];
    char policy [129];                  //  "" for a one-off backup
    uint32_t partition_count;
    uint32_t partitions_done;
    uint64_t bytes_total, bytes_done;   //  as far as the servers said
    pegasus_backup_partition_t *partitions;     //  partition_count of them
} pegasus_backup_t;

//  Starts a backup of table to the target named (an actor configured on
//  every server: `targets` or `plugins`); its id in *backup_id.
int
    pegasus_backup (const char *meta_servers, const char *table, const char *target,
                    uint64_t *backup_id, int timeout_ms);

//  The backup of that id (backup_id > 0), or every one meta keeps (0), in
//  id order, in a new array: free it with pegasus_backups_free.
int
    pegasus_query_backups (const char *meta_servers, uint64_t backup_id,
                           pegasus_backup_t **backups, size_t *count, int timeout_ms);

void
    pegasus_backups_free (pegasus_backup_t *backups, size_t count);

//  Stops a running backup and removes what it uploaded.
int
    pegasus_cancel_backup (const char *meta_servers, uint64_t backup_id, int timeout_ms);

//  Restores: a new table from a backup, served only once every partition's
//  files are downloaded and checked (or, asked for, skipped: empty).
enum {
    PEGASUS_RESTORE_WAITING = 0,
    PEGASUS_RESTORE_DOWNLOADING = 1,
    PEGASUS_RESTORE_DONE = 2,
    PEGASUS_RESTORE_FAILED = 3,         //  the last attempt failed; meta retries or gives up
    PEGASUS_RESTORE_SKIPPED = 4         //  bad in the backup, skipped: the partition is empty
};

typedef struct {
    uint32_t index;
    int step;                           //  PEGASUS_RESTORE_*
    char primary [256];
    uint64_t bytes_total, bytes_done;
    uint32_t failures;
    char error [256];
} pegasus_restore_partition_t;

typedef struct {
    uint64_t id;
    uint64_t backup_id;
    char target [129];
    char table [129];                   //  the new table
    uint32_t app_id;
    int state;                          //  PEGASUS_JOB_*
    int64_t start_ms, end_ms;
    char error [512];
    bool skip_bad_partition;
    uint32_t partition_count;
    uint32_t partitions_done, partitions_skipped;
    uint64_t bytes_total, bytes_done;
    pegasus_restore_partition_t *partitions;    //  partition_count of them
} pegasus_restore_t;

//  Starts restoring backup_id from target into a new table (same partition
//  count and settings as the backed-up one); its id in *app_id.
int
    pegasus_restore (const char *meta_servers, uint64_t backup_id, const char *target,
                     const char *new_table, bool skip_bad_partition, uint32_t *app_id,
                     int timeout_ms);

//  The latest restore into table. Free with pegasus_restore_free.
int
    pegasus_query_restore (const char *meta_servers, const char *table, pegasus_restore_t *out,
                           int timeout_ms);

void
    pegasus_restore_free (pegasus_restore_t *restore);

//  Periodic backups: a policy backs its tables up at start + k * interval
//  (start a time of day, UTC; interval 60 s and up) and keeps `keep`
//  backups of each table.
typedef struct {
    char name [65];
    char target [129];
    char **tables;
    size_t ntables;
    int64_t interval_seconds;
    int start_minute;                   //  minutes after midnight UTC
    uint32_t keep;
    bool enabled;
    int64_t create_ms;
    int64_t last_fire_ms;               //  0: never fired
    int64_t next_fire_ms;               //  0: disabled
} pegasus_backup_policy_t;

int
    pegasus_add_backup_policy (const char *meta_servers, const char *name, const char *target,
                               const char *const *tables, size_t ntables, int64_t interval_seconds,
                               int start_minute, uint32_t keep, int timeout_ms);

//  The policy called name, or every one (name NULL), in a new array: free
//  it with pegasus_backup_policies_free.
int
    pegasus_list_backup_policies (const char *meta_servers, const char *name,
                                  pegasus_backup_policy_t **policies, size_t *count, int timeout_ms);

void
    pegasus_backup_policies_free (pegasus_backup_policy_t *policies, size_t count);

//  Changes what is given: tables added and removed, interval (0: as is),
//  start (-1: as is), keep (0: as is), target (NULL: as is).
int
    pegasus_modify_backup_policy (const char *meta_servers, const char *name,
                                  const char *const *add_tables, size_t nadd,
                                  const char *const *remove_tables, size_t nremove,
                                  int64_t interval_seconds, int start_minute, uint32_t keep,
                                  const char *target, int timeout_ms);

int
    pegasus_enable_backup_policy (const char *meta_servers, const char *name, bool enabled,
                                  int timeout_ms);

//  What one replica server holds and what it costs.
typedef struct {
    char node [256];
    char version [32];
    int64_t start_ms;                   //  wall clock, ms since the epoch
    uint32_t replicas;                  //  all of them, by state below
    uint32_t primaries, secondaries, learners, opening, inactive;
    uint32_t failed;                    //  stopped on an error (see the server's log)
    uint64_t rss_bytes;                 //  the process's resident memory; 0: unknown
    uint64_t memtable_bytes;            //  every replica's memtables
    uint64_t write_budget_bytes;        //  replica/write_budget
    uint64_t block_cache_bytes;         //  shared block cache in use (data, index, filters)
    uint64_t block_cache_pinned_bytes;
    uint64_t block_cache_capacity;      //  replica/block_cache
    bool disk_known;                    //  false: the server could not measure its disk
    uint64_t replica_disk_bytes;        //  allocated on disk, every replica's directory
    uint32_t replica_dirs;
    uint64_t log_disk_bytes;            //  the shared log
} pegasus_server_info_t;

//  Asks the replica server at node (host:port) directly, not meta.
int
    pegasus_server_info (const char *node, pegasus_server_info_t *out, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif
