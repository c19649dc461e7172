/*  partition_read: the read requests. They see applied writes only (see
    partition.h). Range reads stop at the request's and the server's count
    and size limits, and at replica/max_range_ms, and then say INCOMPLETE.
    Scans are stateless: a reply names the stored key it stopped after and
    the next request resumes there, so the server keeps no iterator open
    between requests. */
#include "replica/partition_impl.h"
#include "replica/ops.h"
#include "common/key.h"
#include "common/value.h"
#include "runtime/log.h"

#include <inttypes.h>
#include <string.h>

static int
s_compare (const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    size_t n = a_len < b_len ? a_len : b_len;
    int c = n ? memcmp (a, b, n) : 0;
    return c ? c : (a_len > b_len) - (a_len < b_len);
}

static void
s_slice_free (void *slice)
{
    rocksdb_pinnableslice_destroy (slice);
}

//  Admits a one-key read and reads the value: 0 with ref holding it, or
//  -1 once the request is answered (refused, failed, or NOT_FOUND).
static int
s_read_one (partition_t *self, msg_t *request, const Pg__Route *route,
            const ProtobufCBinaryData *hash_key, const ProtobufCBinaryData *sort_key,
            value_ref_t *ref)
{
    if (partition_admit (self, request, route, hash_key, sort_key))
        return -1;
    size_t len;
    uint8_t *key = partition_key (request, hash_key, sort_key->data, sort_key->len, &len);
    if (!key || partition_read (self, key, len, false, ref)) {
        partition_fail (self, request, PG__STATUS__IO_ERROR, "read failed");
        return -1;
    }
    self->reads++;
    if (!ref->exists) {
        partition_fail (self, request, PG__STATUS__NOT_FOUND, "not found");
        return -1;
    }
    return 0;
}

void
partition_on_get (partition_t *self, msg_t **msg_p)
{
    msg_t *request = *msg_p;
    Pg__GetRequest *req = msg_body (request);
    value_ref_t ref;
    if (s_read_one (self, request, req->route, &req->hash_key, &req->sort_key, &ref))
        return;
    Pg__GetReply *body;
    msg_t *reply = msg_new (&pg__get_reply__descriptor, (void **) &body);
    if (!reply) {
        partition_release (&ref);
        partition_fail (self, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    if (!req->no_value) {
        //  The value stays in RocksDB's pinned block until the reply dies.
        body->value.data = (uint8_t *) ref.user;
        body->value.len = ref.user_len;
        if (msg_attach (reply, ref.slice, s_slice_free))
            partition_release (&ref);
    }
    else
        partition_release (&ref);
    actor_reply (self->self, request, &reply);
}

void
partition_on_ttl (partition_t *self, msg_t **msg_p)
{
    msg_t *request = *msg_p;
    Pg__TtlRequest *req = msg_body (request);
    value_ref_t ref;
    if (s_read_one (self, request, req->route, &req->hash_key, &req->sort_key, &ref))
        return;
    Pg__TtlReply *body;
    msg_t *reply = msg_new (&pg__ttl_reply__descriptor, (void **) &body);
    if (reply)
        body->ttl_seconds = value_ttl_left (ref.expire_ts, partition_now (self));
    partition_release (&ref);
    if (reply)
        actor_reply (self->self, request, &reply);
}

//  ---------------------------------------------------------------------------
//  Collecting ranges

typedef struct {
    partition_t *self;
    msg_t *reply;                       //  results live in its arena
    int64_t max_count;
    int64_t max_size;
    int64_t deadline_ms;
    int64_t count;
    int64_t size;
    int64_t now;
    bool cut;                           //  a limit stopped the read early
} limits_t;

static void
s_limits (limits_t *l, partition_t *self, msg_t *reply, int64_t count, int64_t size)
{
    l->self = self;
    l->reply = reply;
    l->max_count = count > 0 && count < self->limits.max_kv_count ? count : self->limits.max_kv_count;
    l->max_size = size > 0 && size < self->limits.max_kv_size ? size : self->limits.max_kv_size;
    l->now = partition_now (self);
    l->deadline_ms = actor_now_ms (self->self) + self->limits.max_range_ms;
    l->count = l->size = 0;
    l->cut = false;
}

//  True if one more record of `bytes` may be added; sets cut if not.
static bool
s_room (limits_t *l, size_t bytes, int64_t scanned)
{
    if (l->count >= l->max_count || (l->count > 0 && l->size + (int64_t) bytes > l->max_size)
    ||  (scanned % 64 == 63 && actor_now_ms (l->self->self) > l->deadline_ms)) {
        l->cut = true;
        return false;
    }
    return true;
}

//  Decodes a stored value at the iterator; false if expired or malformed.
static bool
s_iter_value (rocksdb_iterator_t *it, int64_t now, const uint8_t **user, size_t *user_len,
              uint32_t *expire_ts)
{
    size_t stored_len;
    const uint8_t *stored = (const uint8_t *) rocksdb_iter_value (it, &stored_len);
    uint64_t timetag;
    if (value_decode (stored, stored_len, expire_ts, &timetag, user, user_len))
        return false;
    return !value_expired (*expire_ts, now);
}

static Pg__KeyValue *
s_kv (limits_t *l, const uint8_t *sort_key, size_t sort_key_len, const uint8_t *value,
      size_t value_len, uint32_t expire_ts, bool no_value)
{
    Pg__KeyValue *kv = msg_alloc (l->reply, sizeof *kv);
    if (!kv)
        return NULL;
    pg__key_value__init (kv);
    kv->sort_key.data = msg_memdup (l->reply, sort_key, sort_key_len);
    kv->sort_key.len = sort_key_len;
    if (!no_value) {
        kv->value.data = msg_memdup (l->reply, value, value_len);
        kv->value.len = value_len;
    }
    kv->expire_seconds = value_ttl_left (expire_ts, l->now);
    l->count++;
    l->size += (int64_t) (sort_key_len + (no_value ? 0 : value_len));
    return kv;
}

//  A growable array of pointers in a message's arena.
typedef struct {
    void **items;
    size_t n;
    size_t capacity;
} list_t;

static int
s_list_add (msg_t *arena, list_t *list, void *item)
{
    if (list->n == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 16;
        void **grown = msg_alloc (arena, capacity * sizeof *grown);
        if (!grown)
            return -1;
        if (list->n)
            memcpy (grown, list->items, list->n * sizeof *grown);
        list->items = grown;
        list->capacity = capacity;
    }
    list->items [list->n++] = item;
    return 0;
}

//  The stored-key range [lower, upper) of a sort-key range in one hash key.
static int
s_range (msg_t *arena, const ProtobufCBinaryData *hash_key,
         const ProtobufCBinaryData *start, bool start_inclusive,
         const ProtobufCBinaryData *stop, bool stop_inclusive,
         uint8_t **lower, size_t *lower_len, uint8_t **upper, size_t *upper_len)
{
    *lower = partition_key (arena, hash_key, start->data, start->len, lower_len);
    if (!*lower)
        return -1;
    if (!start_inclusive) {
        //  The successor of a byte string is the string followed by 0x00.
        uint8_t *after = msg_alloc (arena, *lower_len + 1);
        if (!after)
            return -1;
        memcpy (after, *lower, *lower_len);
        after [(*lower_len)++] = 0;
        *lower = after;
    }
    if (stop->len == 0) {
        *upper = msg_alloc (arena, 2 + hash_key->len);
        if (!*upper)
            return -1;
        *upper_len = key_hash_upper (*upper, hash_key->data, hash_key->len);
        if (*upper_len == 0)
            *upper = NULL;              //  no key above: to the end
        return 0;
    }
    size_t len = key_size (hash_key->len, stop->len);
    *upper = msg_alloc (arena, len + 1);
    if (!*upper)
        return -1;
    key_encode (*upper, hash_key->data, hash_key->len, stop->data, stop->len);
    if (stop_inclusive)
        (*upper) [len++] = 0;           //  the stop key's successor bounds it
    *upper_len = len;
    return 0;
}

void
partition_on_multi_get (partition_t *self, msg_t **msg_p)
{
    msg_t *request = *msg_p;
    Pg__MultiGetRequest *req = msg_body (request);
    if (partition_admit (self, request, req->route, &req->hash_key, NULL))
        return;
    if (req->hash_key.len == 0) {
        partition_fail (self, request, PG__STATUS__INVALID_ARGUMENT, "multi_get needs a hash key");
        return;
    }
    if (!ops_filter_valid (req->sort_key_filter_type)) {
        partition_fail (self, request, PG__STATUS__INVALID_ARGUMENT, "unknown filter type %d",
                        req->sort_key_filter_type);
        return;
    }
    Pg__MultiGetReply *body;
    msg_t *reply = msg_new (&pg__multi_get_reply__descriptor, (void **) &body);
    if (!reply) {
        partition_fail (self, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    limits_t l;
    s_limits (&l, self, reply, req->max_kv_count, req->max_kv_size);
    list_t kvs = { 0 };
    int status = PG__STATUS__OK;
    self->reads++;
    if (req->n_sort_keys > 0) {
        //  Exactly these sort keys, in the order given; absent ones omitted.
        for (size_t i = 0; i < req->n_sort_keys && status == PG__STATUS__OK; i++) {
            size_t len;
            uint8_t *key = partition_key (request, &req->hash_key, req->sort_keys [i].data,
                                          req->sort_keys [i].len, &len);
            value_ref_t ref;
            if (!key || partition_read (self, key, len, false, &ref)) {
                status = PG__STATUS__IO_ERROR;
                break;
            }
            if (ref.exists) {
                if (!s_room (&l, req->sort_keys [i].len + ref.user_len, (int64_t) i)) {
                    partition_release (&ref);
                    status = PG__STATUS__INCOMPLETE;
                    break;
                }
                Pg__KeyValue *kv = s_kv (&l, req->sort_keys [i].data, req->sort_keys [i].len,
                                         ref.user, ref.user_len, ref.expire_ts, req->no_value);
                if (!kv || s_list_add (reply, &kvs, kv))
                    status = PG__STATUS__INTERNAL;
            }
            partition_release (&ref);
        }
    }
    else {
        uint8_t *lower, *upper;
        size_t lower_len, upper_len = 0;
        db_iter_t *iter = NULL;
        if (s_range (request, &req->hash_key, &req->start_sort_key, req->start_inclusive,
                     &req->stop_sort_key, req->stop_inclusive, &lower, &lower_len,
                     &upper, &upper_len)
        ||  !(iter = db_iter_new (self->db, lower, lower_len, upper, upper_len)))
            status = PG__STATUS__INTERNAL;
        else {
            rocksdb_iterator_t *it = db_iter_rocks (iter);
            if (req->reverse)
                rocksdb_iter_seek_to_last (it);
            else
                rocksdb_iter_seek (it, (const char *) lower, lower_len);
            for (int64_t scanned = 0; rocksdb_iter_valid (it); scanned++) {
                size_t key_len;
                const uint8_t *key = (const uint8_t *) rocksdb_iter_key (it, &key_len);
                const uint8_t *hk, *sk, *user;
                size_t hk_len, sk_len, user_len;
                uint32_t expire_ts;
                if (key_decode (key, key_len, &hk, &hk_len, &sk, &sk_len) == 0
                &&  ops_filter_match (req->sort_key_filter_type, req->sort_key_filter_pattern.data,
                                      req->sort_key_filter_pattern.len, sk, sk_len)
                &&  s_iter_value (it, l.now, &user, &user_len, &expire_ts)) {
                    if (!s_room (&l, sk_len + user_len, scanned)) {
                        status = PG__STATUS__INCOMPLETE;
                        break;
                    }
                    Pg__KeyValue *kv = s_kv (&l, sk, sk_len, user, user_len, expire_ts, req->no_value);
                    if (!kv || s_list_add (reply, &kvs, kv)) {
                        status = PG__STATUS__INTERNAL;
                        break;
                    }
                }
                else
                if (scanned % 64 == 63 && actor_now_ms (self->self) > l.deadline_ms) {
                    status = PG__STATUS__INCOMPLETE;    //  time spent skipping
                    break;
                }
                if (req->reverse)
                    rocksdb_iter_prev (it);
                else
                    rocksdb_iter_next (it);
            }
            char *error = NULL;
            rocksdb_iter_get_error (it, &error);
            if (error) {
                log_error ("multi_get: iterator failed: %s", error);
                rocksdb_free (error);
                status = PG__STATUS__IO_ERROR;
            }
        }
        db_iter_destroy (&iter);
    }
    if (status != PG__STATUS__OK && status != PG__STATUS__INCOMPLETE) {
        msg_destroy (&reply);
        partition_fail (self, request, status, "multi_get failed");
        return;
    }
    body->n_kvs = kvs.n;
    body->kvs = (Pg__KeyValue **) kvs.items;
    if (status == PG__STATUS__INCOMPLETE)
        msg_set_status (reply, status, "stopped after %zu records at a count, size or time limit",
                        kvs.n);
    actor_reply (self->self, request, &reply);
}

void
partition_on_sortkey_count (partition_t *self, msg_t **msg_p)
{
    msg_t *request = *msg_p;
    Pg__SortkeyCountRequest *req = msg_body (request);
    if (partition_admit (self, request, req->route, &req->hash_key, NULL))
        return;
    if (req->hash_key.len == 0) {
        partition_fail (self, request, PG__STATUS__INVALID_ARGUMENT, "sortkey_count needs a hash key");
        return;
    }
    size_t lower_len, upper_len;
    uint8_t *lower = partition_key (request, &req->hash_key, NULL, 0, &lower_len);
    uint8_t *upper = msg_alloc (request, 2 + req->hash_key.len);
    db_iter_t *iter = NULL;
    if (!lower || !upper) {
        partition_fail (self, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    upper_len = key_hash_upper (upper, req->hash_key.data, req->hash_key.len);
    iter = db_iter_new (self->db, lower, lower_len, upper_len ? upper : NULL, upper_len);
    if (!iter) {
        partition_fail (self, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    rocksdb_iterator_t *it = db_iter_rocks (iter);
    int64_t count = 0, now = partition_now (self);
    int64_t deadline = actor_now_ms (self->self) + self->limits.max_range_ms;
    int status = PG__STATUS__OK;
    for (rocksdb_iter_seek (it, (const char *) lower, lower_len); rocksdb_iter_valid (it);
         rocksdb_iter_next (it)) {
        const uint8_t *user;
        size_t user_len;
        uint32_t expire_ts;
        if (s_iter_value (it, now, &user, &user_len, &expire_ts))
            count++;
        if (count % 1024 == 1023 && actor_now_ms (self->self) > deadline) {
            status = PG__STATUS__INCOMPLETE;
            break;
        }
    }
    db_iter_destroy (&iter);
    Pg__CountReply *body;
    msg_t *reply = msg_new (&pg__count_reply__descriptor, (void **) &body);
    if (!reply)
        return;
    body->count = count;
    if (status != PG__STATUS__OK)
        msg_set_status (reply, status, "counted %lld before replica/max_range_ms", (long long) count);
    actor_reply (self->self, request, &reply);
}

void
partition_on_scan (partition_t *self, msg_t **msg_p)
{
    msg_t *request = *msg_p;
    Pg__ScanRequest *req = msg_body (request);
    if (partition_admit (self, request, req->route, req->has_hash_key ? &req->hash_key : NULL, NULL))
        return;
    if (req->has_hash_key && req->hash_key.len == 0) {
        partition_fail (self, request, PG__STATUS__INVALID_ARGUMENT, "a hash scan needs a hash key");
        return;
    }
    if (!ops_filter_valid (req->hash_key_filter_type) || !ops_filter_valid (req->sort_key_filter_type)) {
        partition_fail (self, request, PG__STATUS__INVALID_ARGUMENT, "unknown filter type");
        return;
    }
    Pg__ScanReply *body;
    msg_t *reply = msg_new (&pg__scan_reply__descriptor, (void **) &body);
    if (!reply) {
        partition_fail (self, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    limits_t l;
    s_limits (&l, self, reply, req->batch_size, 0);
    uint8_t *lower = NULL, *upper = NULL;
    size_t lower_len = 0, upper_len = 0;
    int status = PG__STATUS__OK;
    if (req->has_hash_key
    &&  s_range (request, &req->hash_key, &req->start_sort_key, req->start_inclusive,
                 &req->stop_sort_key, req->stop_inclusive, &lower, &lower_len, &upper, &upper_len))
        status = PG__STATUS__INTERNAL;
    if (req->resume_after.len) {
        //  Strictly after the last key returned.
        uint8_t *after = msg_alloc (request, req->resume_after.len + 1);
        if (!after)
            status = PG__STATUS__INTERNAL;
        else {
            memcpy (after, req->resume_after.data, req->resume_after.len);
            after [req->resume_after.len] = 0;
            if (!lower || s_compare (after, req->resume_after.len + 1, lower, lower_len) > 0) {
                lower = after;
                lower_len = req->resume_after.len + 1;
            }
        }
    }
    db_iter_t *iter = status == PG__STATUS__OK
                    ? db_iter_new (self->db, lower, lower_len, upper, upper_len) : NULL;
    if (!iter) {
        msg_destroy (&reply);
        partition_fail (self, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    rocksdb_iterator_t *it = db_iter_rocks (iter);
    list_t items = { 0 };
    bool complete = true;
    const uint8_t *last_key = NULL;
    size_t last_len = 0;
    if (lower)
        rocksdb_iter_seek (it, (const char *) lower, lower_len);
    else
        rocksdb_iter_seek_to_first (it);
    for (int64_t scanned = 0; rocksdb_iter_valid (it); scanned++, rocksdb_iter_next (it)) {
        size_t key_len;
        const uint8_t *key = (const uint8_t *) rocksdb_iter_key (it, &key_len);
        const uint8_t *hk, *sk, *user;
        size_t hk_len, sk_len, user_len;
        uint32_t expire_ts;
        bool wanted = key_decode (key, key_len, &hk, &hk_len, &sk, &sk_len) == 0
            && ops_filter_match (req->hash_key_filter_type, req->hash_key_filter_pattern.data,
                                 req->hash_key_filter_pattern.len, hk, hk_len)
            && ops_filter_match (req->sort_key_filter_type, req->sort_key_filter_pattern.data,
                                 req->sort_key_filter_pattern.len, sk, sk_len)
            && s_iter_value (it, l.now, &user, &user_len, &expire_ts);
        if (wanted && !s_room (&l, hk_len + sk_len + user_len, scanned)) {
            complete = false;
            break;
        }
        if (!wanted && scanned % 64 == 63 && actor_now_ms (self->self) > l.deadline_ms) {
            complete = false;
            last_key = msg_memdup (reply, key, key_len);    //  resume past the skipped
            last_len = key_len;
            break;
        }
        if (!wanted)
            continue;
        Pg__ScanItem *item = msg_alloc (reply, sizeof *item);
        if (!item) {
            status = PG__STATUS__INTERNAL;
            break;
        }
        pg__scan_item__init (item);
        item->hash_key.data = msg_memdup (reply, hk, hk_len);
        item->hash_key.len = hk_len;
        item->sort_key.data = msg_memdup (reply, sk, sk_len);
        item->sort_key.len = sk_len;
        if (!req->no_value) {
            item->value.data = msg_memdup (reply, user, user_len);
            item->value.len = user_len;
        }
        item->expire_seconds = value_ttl_left (expire_ts, l.now);
        l.count++;
        l.size += (int64_t) (hk_len + sk_len + user_len);
        last_key = msg_memdup (reply, key, key_len);
        last_len = key_len;
        if (s_list_add (reply, &items, item)) {
            status = PG__STATUS__INTERNAL;
            break;
        }
    }
    char *error = NULL;
    rocksdb_iter_get_error (it, &error);
    if (error) {
        log_error ("scan: iterator failed: %s", error);
        rocksdb_free (error);
        status = PG__STATUS__IO_ERROR;
    }
    db_iter_destroy (&iter);
    if (status != PG__STATUS__OK) {
        msg_destroy (&reply);
        partition_fail (self, request, status, "scan failed");
        return;
    }
    body->n_items = items.n;
    body->items = (Pg__ScanItem **) items.items;
    body->complete = complete;
    if (!complete && last_key) {
        body->next_key.data = (uint8_t *) last_key;
        body->next_key.len = last_len;
    }
    else
    if (!complete && req->resume_after.len) {
        //  Nothing fitted: resume where this one did.
        body->next_key = req->resume_after;
    }
    self->reads++;
    actor_reply (self->self, request, &reply);
}

void
partition_on_batch_get (partition_t *self, msg_t **msg_p)
{
    msg_t *request = *msg_p;
    Pg__BatchGetRequest *req = msg_body (request);
    if (partition_admit (self, request, req->route, NULL, NULL))
        return;
    //  Every key is a point read done in this one turn: the count bounds
    //  how long the request holds the partition (and the thread it runs
    //  on). Refused whole, not cut: the reply answers keys by position.
    if ((int64_t) req->n_keys > self->limits.max_batch_keys) {
        partition_fail (self, request, PG__STATUS__INVALID_ARGUMENT,
                        "batch_get of %zu keys exceeds replica/max_batch_keys (%" PRId64 ")",
                        req->n_keys, self->limits.max_batch_keys);
        return;
    }
    for (size_t i = 0; i < req->n_keys; i++) {
        //  Every key must live here: the client grouped them by partition.
        if (req->keys [i]->hash_key.len > KEY_MAX_HASH_KEY
        ||  key_partition (key_hash (req->keys [i]->hash_key.data, req->keys [i]->hash_key.len,
                                     req->keys [i]->sort_key.data, req->keys [i]->sort_key.len),
                           self->partition_count) != self->partition) {
            partition_fail (self, request, PG__STATUS__INVALID_STATE,
                            "key %zu does not belong to partition %u: refresh the routing",
                            i, self->partition);
            return;
        }
    }
    Pg__BatchGetReply *body;
    msg_t *reply = msg_new (&pg__batch_get_reply__descriptor, (void **) &body);
    Pg__BatchGetItem **items = reply && req->n_keys
                             ? msg_alloc (reply, req->n_keys * sizeof *items) : NULL;
    if (!reply || (req->n_keys && !items)) {
        msg_destroy (&reply);
        partition_fail (self, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    for (size_t i = 0; i < req->n_keys; i++) {
        Pg__FullKey *fk = req->keys [i];
        size_t len;
        uint8_t *key = partition_key (request, &fk->hash_key, fk->sort_key.data, fk->sort_key.len, &len);
        value_ref_t ref;
        if (!key || partition_read (self, key, len, false, &ref)) {
            msg_destroy (&reply);
            partition_fail (self, request, PG__STATUS__IO_ERROR, "read failed");
            return;
        }
        Pg__BatchGetItem *item = msg_alloc (reply, sizeof *item);
        if (!item) {
            partition_release (&ref);
            msg_destroy (&reply);
            partition_fail (self, request, PG__STATUS__INTERNAL, "out of memory");
            return;
        }
        pg__batch_get_item__init (item);
        item->hash_key = fk->hash_key;
        item->hash_key.data = msg_memdup (reply, fk->hash_key.data, fk->hash_key.len);
        item->sort_key.data = msg_memdup (reply, fk->sort_key.data, fk->sort_key.len);
        item->sort_key.len = fk->sort_key.len;
        item->found = ref.exists;
        if (ref.exists) {
            item->value.data = msg_memdup (reply, ref.user, ref.user_len);
            item->value.len = ref.user_len;
        }
        partition_release (&ref);
        items [i] = item;
    }
    body->n_items = req->n_keys;
    body->items = items;
    self->reads++;
    actor_reply (self->self, request, &reply);
}
