/*  pegasus_ops: the data operations of pegasus.h.

    A synchronous call points the request at the caller's buffers (the
    caller waits until the last retry has been packed); an asynchronous one
    copies them into the request. Results are copied out of the reply into
    malloc'd memory the caller frees, in one block per call.
*/
#include "client/pegasus_impl.h"
#include "common/key.h"
#include "data.pb-c.h"

#include <stdlib.h>
#include <string.h>

static int
s_check_hash_key (size_t len, bool need)
{
    if (len > KEY_MAX_HASH_KEY)
        return pegasus_fail (PEGASUS_INVALID_ARGUMENT, "hash key of %zu bytes: at most %d",
                             len, KEY_MAX_HASH_KEY);
    if (need && len == 0)
        return pegasus_fail (PEGASUS_INVALID_ARGUMENT, "this operation needs a non-empty hash key");
    return PEGASUS_OK;
}

//  Points (sync) or copies (async) bytes into a request field.
static int
s_bytes (msg_t *request, ProtobufCBinaryData *field, const void *data, size_t len, bool copy)
{
    field->len = len;
    if (!len) {
        field->data = NULL;
        return 0;
    }
    field->data = copy ? msg_memdup (request, data, len) : (uint8_t *) data;
    return field->data ? 0 : -1;
}

static uint64_t
s_hash (const void *hash_key, size_t hash_key_len, const void *sort_key, size_t sort_key_len)
{
    return key_hash (hash_key, hash_key_len, sort_key, sort_key_len);
}

//  ---------------------------------------------------------------------------
//  One key

static msg_t *
s_set_request (const void *hk, size_t hk_len, const void *sk, size_t sk_len,
               const void *value, size_t value_len, int ttl, bool copy)
{
    Pg__SetRequest *r;
    msg_t *m = msg_new_sized (&pg__set_request__descriptor, copy ? hk_len + sk_len + value_len : 0,
                              (void **) &r);
    if (!m || s_bytes (m, &r->hash_key, hk, hk_len, copy) || s_bytes (m, &r->sort_key, sk, sk_len, copy)
    ||  s_bytes (m, &r->value, value, value_len, copy)) {
        msg_destroy (&m);
        return NULL;
    }
    r->ttl_seconds = ttl;
    return m;
}

int
pegasus_set (pegasus_client_t *self, const void *hk, size_t hk_len, const void *sk, size_t sk_len,
             const void *value, size_t value_len, int ttl_seconds, int timeout_ms)
{
    if (s_check_hash_key (hk_len, false))
        return PEGASUS_INVALID_ARGUMENT;
    msg_t *request = s_set_request (hk, hk_len, sk, sk_len, value, value_len, ttl_seconds, false), *reply;
    int rc = pegasus_execute (self, &request, s_hash (hk, hk_len, sk, sk_len), -1, false,
                              timeout_ms, &reply);
    msg_destroy (&reply);
    return rc;
}

static msg_t *
s_get_request (const void *hk, size_t hk_len, const void *sk, size_t sk_len, bool no_value, bool copy)
{
    Pg__GetRequest *r;
    msg_t *m = msg_new_sized (&pg__get_request__descriptor, copy ? hk_len + sk_len : 0, (void **) &r);
    if (!m || s_bytes (m, &r->hash_key, hk, hk_len, copy) || s_bytes (m, &r->sort_key, sk, sk_len, copy)) {
        msg_destroy (&m);
        return NULL;
    }
    r->no_value = no_value;
    return m;
}

int
pegasus_get (pegasus_client_t *self, const void *hk, size_t hk_len, const void *sk, size_t sk_len,
             void **value, size_t *value_len, int timeout_ms)
{
    *value = NULL;
    *value_len = 0;
    if (s_check_hash_key (hk_len, false))
        return PEGASUS_INVALID_ARGUMENT;
    msg_t *request = s_get_request (hk, hk_len, sk, sk_len, false, false), *reply;
    int rc = pegasus_execute (self, &request, s_hash (hk, hk_len, sk, sk_len), -1, true,
                              timeout_ms, &reply);
    if (rc == PEGASUS_OK) {
        Pg__GetReply *body = msg_body (reply);
        *value = malloc (body->value.len ? body->value.len : 1);
        if (*value) {
            if (body->value.len)
                memcpy (*value, body->value.data, body->value.len);
            *value_len = body->value.len;
        }
        else
            rc = pegasus_fail (PEGASUS_INTERNAL, "out of memory");
    }
    msg_destroy (&reply);
    return rc;
}

int
pegasus_exist (pegasus_client_t *self, const void *hk, size_t hk_len, const void *sk, size_t sk_len,
               int timeout_ms)
{
    if (s_check_hash_key (hk_len, false))
        return PEGASUS_INVALID_ARGUMENT;
    msg_t *request = s_get_request (hk, hk_len, sk, sk_len, true, false), *reply;
    int rc = pegasus_execute (self, &request, s_hash (hk, hk_len, sk, sk_len), -1, true,
                              timeout_ms, &reply);
    msg_destroy (&reply);
    return rc;
}

static msg_t *
s_del_request (const void *hk, size_t hk_len, const void *sk, size_t sk_len, bool copy)
{
    Pg__DelRequest *r;
    msg_t *m = msg_new_sized (&pg__del_request__descriptor, copy ? hk_len + sk_len : 0, (void **) &r);
    if (!m || s_bytes (m, &r->hash_key, hk, hk_len, copy) || s_bytes (m, &r->sort_key, sk, sk_len, copy)) {
        msg_destroy (&m);
        return NULL;
    }
    return m;
}

int
pegasus_del (pegasus_client_t *self, const void *hk, size_t hk_len, const void *sk, size_t sk_len,
             int timeout_ms)
{
    if (s_check_hash_key (hk_len, false))
        return PEGASUS_INVALID_ARGUMENT;
    msg_t *request = s_del_request (hk, hk_len, sk, sk_len, false), *reply;
    int rc = pegasus_execute (self, &request, s_hash (hk, hk_len, sk, sk_len), -1, false,
                              timeout_ms, &reply);
    msg_destroy (&reply);
    return rc;
}

int
pegasus_ttl (pegasus_client_t *self, const void *hk, size_t hk_len, const void *sk, size_t sk_len,
             int *ttl_seconds, int timeout_ms)
{
    if (s_check_hash_key (hk_len, false))
        return PEGASUS_INVALID_ARGUMENT;
    Pg__TtlRequest *r;
    msg_t *request = msg_new (&pg__ttl_request__descriptor, (void **) &r), *reply;
    if (request) {
        s_bytes (request, &r->hash_key, hk, hk_len, false);
        s_bytes (request, &r->sort_key, sk, sk_len, false);
    }
    int rc = pegasus_execute (self, &request, s_hash (hk, hk_len, sk, sk_len), -1, true,
                              timeout_ms, &reply);
    if (rc == PEGASUS_OK)
        *ttl_seconds = ((Pg__TtlReply *) msg_body (reply))->ttl_seconds;
    msg_destroy (&reply);
    return rc;
}

int
pegasus_incr (pegasus_client_t *self, const void *hk, size_t hk_len, const void *sk, size_t sk_len,
              int64_t increment, int expire_seconds, int64_t *new_value, int timeout_ms)
{
    if (s_check_hash_key (hk_len, false))
        return PEGASUS_INVALID_ARGUMENT;
    Pg__IncrRequest *r;
    msg_t *request = msg_new (&pg__incr_request__descriptor, (void **) &r), *reply;
    if (request) {
        s_bytes (request, &r->hash_key, hk, hk_len, false);
        s_bytes (request, &r->sort_key, sk, sk_len, false);
        r->increment = increment;
        r->expire_seconds = expire_seconds;
    }
    //  Not idempotent: retried only when the server certainly did not run it.
    int rc = pegasus_execute (self, &request, s_hash (hk, hk_len, sk, sk_len), -1, false,
                              timeout_ms, &reply);
    if (rc == PEGASUS_OK && new_value)
        *new_value = ((Pg__IncrReply *) msg_body (reply))->new_value;
    msg_destroy (&reply);
    return rc;
}

//  ---------------------------------------------------------------------------
//  One hash key, many sort keys

int
pegasus_multi_set (pegasus_client_t *self, const void *hk, size_t hk_len, const pegasus_kv_t *kvs,
                   size_t count, int ttl_seconds, int timeout_ms)
{
    if (s_check_hash_key (hk_len, true))
        return PEGASUS_INVALID_ARGUMENT;
    if (count == 0)
        return pegasus_fail (PEGASUS_INVALID_ARGUMENT, "multi_set needs at least one sort key");
    Pg__MultiSetRequest *r;
    msg_t *request = msg_new_sized (&pg__multi_set_request__descriptor,
                                    count * (sizeof (Pg__KeyValue) + sizeof (void *)), (void **) &r);
    if (!request || !(r->kvs = msg_alloc (request, count * sizeof *r->kvs))) {
        msg_destroy (&request);
        return pegasus_fail (PEGASUS_INTERNAL, "out of memory");
    }
    s_bytes (request, &r->hash_key, hk, hk_len, false);
    for (size_t i = 0; i < count; i++) {
        Pg__KeyValue *kv = msg_alloc (request, sizeof *kv);
        if (!kv) {
            msg_destroy (&request);
            return pegasus_fail (PEGASUS_INTERNAL, "out of memory");
        }
        pg__key_value__init (kv);
        s_bytes (request, &kv->sort_key, kvs [i].sort_key, kvs [i].sort_key_len, false);
        s_bytes (request, &kv->value, kvs [i].value, kvs [i].value_len, false);
        r->kvs [i] = kv;
    }
    r->n_kvs = count;
    r->ttl_seconds = ttl_seconds;
    msg_t *reply;
    int rc = pegasus_execute (self, &request, s_hash (hk, hk_len, NULL, 0), -1, false, timeout_ms, &reply);
    msg_destroy (&reply);
    return rc;
}

void
pegasus_range_init (pegasus_range_t *range)
{
    memset (range, 0, sizeof *range);
    range->start_inclusive = true;
    range->stop_inclusive = true;
}

void
pegasus_items_free (pegasus_items_t **items_p)
{
    free (*items_p);                    //  one block: header, items, bytes
    *items_p = NULL;
}

//  Copies a MultiGetReply's records into one malloc'd block.
static pegasus_items_t *
s_items (const Pg__MultiGetReply *body)
{
    size_t bytes = sizeof (pegasus_items_t) + body->n_kvs * sizeof (pegasus_item_t);
    for (size_t i = 0; i < body->n_kvs; i++)
        bytes += body->kvs [i]->sort_key.len + body->kvs [i]->value.len + 2;
    pegasus_items_t *items = malloc (bytes);
    if (!items)
        return NULL;
    items->count = body->n_kvs;
    items->items = (pegasus_item_t *) (items + 1);
    char *at = (char *) (items->items + body->n_kvs);
    for (size_t i = 0; i < body->n_kvs; i++) {
        Pg__KeyValue *kv = body->kvs [i];
        pegasus_item_t *item = &items->items [i];
        item->sort_key = at;
        item->sort_key_len = kv->sort_key.len;
        if (kv->sort_key.len)
            memcpy (at, kv->sort_key.data, kv->sort_key.len);
        at [kv->sort_key.len] = 0;
        at += kv->sort_key.len + 1;
        item->value = at;
        item->value_len = kv->value.len;
        if (kv->value.len)
            memcpy (at, kv->value.data, kv->value.len);
        at [kv->value.len] = 0;
        at += kv->value.len + 1;
        item->ttl_seconds = kv->expire_seconds;
    }
    return items;
}

int
pegasus_multi_get (pegasus_client_t *self, const void *hk, size_t hk_len,
                   const pegasus_bytes_t *sort_keys, size_t count, const pegasus_range_t *range,
                   pegasus_items_t **items, int timeout_ms)
{
    *items = NULL;
    if (s_check_hash_key (hk_len, true))
        return PEGASUS_INVALID_ARGUMENT;
    pegasus_range_t all;
    if (!range) {
        pegasus_range_init (&all);
        range = &all;
    }
    Pg__MultiGetRequest *r;
    msg_t *request = msg_new (&pg__multi_get_request__descriptor, (void **) &r), *reply;
    if (!request)
        return pegasus_fail (PEGASUS_INTERNAL, "out of memory");
    s_bytes (request, &r->hash_key, hk, hk_len, false);
    if (count) {
        r->sort_keys = msg_alloc (request, count * sizeof *r->sort_keys);
        if (!r->sort_keys) {
            msg_destroy (&request);
            return pegasus_fail (PEGASUS_INTERNAL, "out of memory");
        }
        for (size_t i = 0; i < count; i++)
            s_bytes (request, &r->sort_keys [i], sort_keys [i].data, sort_keys [i].len, false);
        r->n_sort_keys = count;
    }
    s_bytes (request, &r->start_sort_key, range->start_sort_key, range->start_sort_key_len, false);
    s_bytes (request, &r->stop_sort_key, range->stop_sort_key, range->stop_sort_key_len, false);
    r->start_inclusive = range->start_inclusive;
    r->stop_inclusive = range->stop_inclusive;
    r->sort_key_filter_type = range->filter_type;
    s_bytes (request, &r->sort_key_filter_pattern, range->filter_pattern, range->filter_pattern_len, false);
    r->reverse = range->reverse;
    r->no_value = range->no_value;
    r->max_kv_count = range->max_count;
    r->max_kv_size = range->max_size;
    int rc = pegasus_execute (self, &request, s_hash (hk, hk_len, NULL, 0), -1, true, timeout_ms, &reply);
    if (rc == PEGASUS_OK || rc == PEGASUS_INCOMPLETE) {
        *items = s_items (msg_body (reply));
        if (!*items)
            rc = pegasus_fail (PEGASUS_INTERNAL, "out of memory");
    }
    msg_destroy (&reply);
    return rc;
}

int
pegasus_multi_get_sortkeys (pegasus_client_t *self, const void *hk, size_t hk_len,
                            const pegasus_range_t *range, pegasus_items_t **items, int timeout_ms)
{
    pegasus_range_t r;
    if (range)
        r = *range;
    else
        pegasus_range_init (&r);
    r.no_value = true;
    return pegasus_multi_get (self, hk, hk_len, NULL, 0, &r, items, timeout_ms);
}

int
pegasus_multi_del (pegasus_client_t *self, const void *hk, size_t hk_len,
                   const pegasus_bytes_t *sort_keys, size_t count, int64_t *deleted, int timeout_ms)
{
    if (s_check_hash_key (hk_len, true))
        return PEGASUS_INVALID_ARGUMENT;
    if (count == 0)
        return pegasus_fail (PEGASUS_INVALID_ARGUMENT, "multi_del needs at least one sort key");
    Pg__MultiDelRequest *r;
    msg_t *request = msg_new (&pg__multi_del_request__descriptor, (void **) &r), *reply;
    if (!request || !(r->sort_keys = msg_alloc (request, count * sizeof *r->sort_keys))) {
        msg_destroy (&request);
        return pegasus_fail (PEGASUS_INTERNAL, "out of memory");
    }
    s_bytes (request, &r->hash_key, hk, hk_len, false);
    for (size_t i = 0; i < count; i++)
        s_bytes (request, &r->sort_keys [i], sort_keys [i].data, sort_keys [i].len, false);
    r->n_sort_keys = count;
    int rc = pegasus_execute (self, &request, s_hash (hk, hk_len, NULL, 0), -1, false, timeout_ms, &reply);
    if (rc == PEGASUS_OK && deleted)
        *deleted = ((Pg__WriteReply *) msg_body (reply))->count;
    msg_destroy (&reply);
    return rc;
}

int
pegasus_sortkey_count (pegasus_client_t *self, const void *hk, size_t hk_len, int64_t *count,
                       int timeout_ms)
{
    if (s_check_hash_key (hk_len, true))
        return PEGASUS_INVALID_ARGUMENT;
    Pg__SortkeyCountRequest *r;
    msg_t *request = msg_new (&pg__sortkey_count_request__descriptor, (void **) &r), *reply;
    if (request)
        s_bytes (request, &r->hash_key, hk, hk_len, false);
    int rc = pegasus_execute (self, &request, s_hash (hk, hk_len, NULL, 0), -1, true, timeout_ms, &reply);
    if ((rc == PEGASUS_OK || rc == PEGASUS_INCOMPLETE) && count)
        *count = ((Pg__CountReply *) msg_body (reply))->count;
    msg_destroy (&reply);
    return rc;
}

//  ---------------------------------------------------------------------------
//  Check and write

static int
s_check_result (int rc, msg_t *reply, pegasus_check_t *check)
{
    if (!check || (rc != PEGASUS_OK && rc != PEGASUS_TRY_AGAIN) || !reply
    ||  !msg_is (reply, &pg__check_reply__descriptor))
        return rc;
    Pg__CheckReply *body = msg_body (reply);
    check->check_value_exist = body->check_value_exist;
    if (body->check_value_exist) {
        check->check_value = malloc (body->check_value.len + 1);
        if (!check->check_value)
            return pegasus_fail (PEGASUS_INTERNAL, "out of memory");
        if (body->check_value.len)
            memcpy (check->check_value, body->check_value.data, body->check_value.len);
        ((char *) check->check_value) [body->check_value.len] = 0;
        check->check_value_len = body->check_value.len;
    }
    return rc;
}

int
pegasus_check_and_set (pegasus_client_t *self, const void *hk, size_t hk_len,
                       const void *check_sk, size_t check_sk_len, int check_type,
                       const void *operand, size_t operand_len, const void *set_sk,
                       size_t set_sk_len, const void *set_value, size_t set_value_len,
                       int set_ttl_seconds, pegasus_check_t *check, int timeout_ms)
{
    if (check)
        memset (check, 0, sizeof *check);
    if (s_check_hash_key (hk_len, true))
        return PEGASUS_INVALID_ARGUMENT;
    Pg__CheckAndSetRequest *r;
    msg_t *request = msg_new (&pg__check_and_set_request__descriptor, (void **) &r), *reply;
    if (request) {
        s_bytes (request, &r->hash_key, hk, hk_len, false);
        s_bytes (request, &r->check_sort_key, check_sk, check_sk_len, false);
        r->check_type = check_type;
        s_bytes (request, &r->check_operand, operand, operand_len, false);
        r->set_diff_sort_key = true;
        s_bytes (request, &r->set_sort_key, set_sk, set_sk_len, false);
        s_bytes (request, &r->set_value, set_value, set_value_len, false);
        r->set_ttl_seconds = set_ttl_seconds;
        r->return_check_value = check != NULL;
    }
    int rc = pegasus_execute (self, &request, s_hash (hk, hk_len, NULL, 0), -1, false, timeout_ms, &reply);
    rc = s_check_result (rc, reply, check);
    msg_destroy (&reply);
    return rc;
}

int
pegasus_check_and_mutate (pegasus_client_t *self, const void *hk, size_t hk_len,
                          const void *check_sk, size_t check_sk_len, int check_type,
                          const void *operand, size_t operand_len, const pegasus_mutate_t *mutates,
                          size_t count, pegasus_check_t *check, int timeout_ms)
{
    if (check)
        memset (check, 0, sizeof *check);
    if (s_check_hash_key (hk_len, true))
        return PEGASUS_INVALID_ARGUMENT;
    if (count == 0)
        return pegasus_fail (PEGASUS_INVALID_ARGUMENT, "check_and_mutate needs mutations");
    Pg__CheckAndMutateRequest *r;
    msg_t *request = msg_new (&pg__check_and_mutate_request__descriptor, (void **) &r), *reply;
    if (!request || !(r->mutates = msg_alloc (request, count * sizeof *r->mutates))) {
        msg_destroy (&request);
        return pegasus_fail (PEGASUS_INTERNAL, "out of memory");
    }
    s_bytes (request, &r->hash_key, hk, hk_len, false);
    s_bytes (request, &r->check_sort_key, check_sk, check_sk_len, false);
    r->check_type = check_type;
    s_bytes (request, &r->check_operand, operand, operand_len, false);
    for (size_t i = 0; i < count; i++) {
        Pg__Mutate *m = msg_alloc (request, sizeof *m);
        if (!m) {
            msg_destroy (&request);
            return pegasus_fail (PEGASUS_INTERNAL, "out of memory");
        }
        pg__mutate__init (m);
        m->op = mutates [i].op == PEGASUS_MUTATE_DEL ? PG__MUTATE__OP__DEL : PG__MUTATE__OP__SET;
        s_bytes (request, &m->sort_key, mutates [i].sort_key, mutates [i].sort_key_len, false);
        s_bytes (request, &m->value, mutates [i].value, mutates [i].value_len, false);
        m->ttl_seconds = mutates [i].ttl_seconds;
        r->mutates [i] = m;
    }
    r->n_mutates = count;
    r->return_check_value = check != NULL;
    int rc = pegasus_execute (self, &request, s_hash (hk, hk_len, NULL, 0), -1, false, timeout_ms, &reply);
    rc = s_check_result (rc, reply, check);
    msg_destroy (&reply);
    return rc;
}

//  ---------------------------------------------------------------------------
//  Batch get: the keys grouped by partition, in requests of at most
//  PEGASUS_BATCH_GET_MAX_KEYS (a server refuses more than its
//  replica/max_batch_keys, 1000 by default), all in flight at once.

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    size_t pending;
    int status;
    char error [256];
    msg_t **replies;                    //  per request
} gather_t;

typedef struct {
    gather_t *gather;
    size_t index;                       //  of the request
} part_arg_t;

static void
s_batch_done (op_t *op, int status, const char *error, msg_t **reply_p)
{
    part_arg_t *arg = op->arg;
    gather_t *g = arg->gather;
    pthread_mutex_lock (&g->lock);
    if (status != PEGASUS_OK && g->status == PEGASUS_OK) {
        g->status = status;
        snprintf (g->error, sizeof g->error, "%s", error ? error : "");
    }
    if (reply_p && *reply_p) {
        g->replies [arg->index] = *reply_p;
        *reply_p = NULL;
    }
    if (--g->pending == 0)
        pthread_cond_signal (&g->cond);
    pthread_mutex_unlock (&g->lock);
}

int
pegasus_batch_get (pegasus_client_t *self, const pegasus_key_t *keys, size_t count,
                   pegasus_found_t **results, int timeout_ms)
{
    *results = NULL;
    uint32_t partitions = atomic_load (&self->partition_count);
    if (!partitions)
        return pegasus_fail (PEGASUS_INVALID_STATE, "no routing yet");
    for (size_t i = 0; i < count; i++)
        if (s_check_hash_key (keys [i].hash_key_len, false))
            return PEGASUS_INVALID_ARGUMENT;
    //  Each partition's keys fill requests of the most keys allowed, so at
    //  most one request per partition is not full.
    size_t max_requests = partitions + count / PEGASUS_BATCH_GET_MAX_KEYS + 1;
    size_t per_request = count < PEGASUS_BATCH_GET_MAX_KEYS ? count : PEGASUS_BATCH_GET_MAX_KEYS;
    gather_t g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, PEGASUS_OK, "", NULL };
    g.replies = calloc (max_requests, sizeof *g.replies);
    msg_t **requests = calloc (max_requests, sizeof *requests);
    uint32_t *partition_of = calloc (max_requests, sizeof *partition_of);
    part_arg_t *args = calloc (max_requests, sizeof *args);
    size_t *filling = calloc (partitions, sizeof *filling);     //  request index + 1
    size_t *where = calloc (count ? count : 1, sizeof *where);  //  each key's request
    size_t *next = calloc (max_requests, sizeof *next);
    *results = calloc (count ? count : 1, sizeof **results);
    size_t nrequests = 0;
    if (!g.replies || !requests || !partition_of || !args || !filling || !where || !next
    ||  !*results) {
        free (*results);
        *results = NULL;
        g.status = PEGASUS_INTERNAL;
        snprintf (g.error, sizeof g.error, "out of memory");
    }
    //  Group the keys by partition, in the order given.
    for (size_t i = 0; i < count && g.status == PEGASUS_OK; i++) {
        uint32_t p = key_partition (s_hash (keys [i].hash_key, keys [i].hash_key_len,
                                            keys [i].sort_key, keys [i].sort_key_len), partitions);
        Pg__BatchGetRequest *r = filling [p] ? msg_body (requests [filling [p] - 1]) : NULL;
        if (!r || r->n_keys == PEGASUS_BATCH_GET_MAX_KEYS) {
            size_t n = nrequests++;
            if ((requests [n] = msg_new (&pg__batch_get_request__descriptor, (void **) &r)))
                r->keys = msg_alloc (requests [n], per_request * sizeof *r->keys);
            partition_of [n] = p;
            filling [p] = n + 1;
        }
        size_t n = filling [p] - 1;
        Pg__FullKey *k = requests [n] && r->keys ? msg_alloc (requests [n], sizeof *k) : NULL;
        if (!k) {
            g.status = PEGASUS_INTERNAL;
            snprintf (g.error, sizeof g.error, "out of memory");
            break;
        }
        pg__full_key__init (k);
        s_bytes (requests [n], &k->hash_key, keys [i].hash_key, keys [i].hash_key_len, false);
        s_bytes (requests [n], &k->sort_key, keys [i].sort_key, keys [i].sort_key_len, false);
        r->keys [r->n_keys++] = k;
        where [i] = n;
    }
    for (size_t n = 0; n < nrequests && g.status == PEGASUS_OK; n++) {
        args [n] = (part_arg_t) { &g, n };
        pthread_mutex_lock (&g.lock);
        g.pending++;
        pthread_mutex_unlock (&g.lock);
        int rc = pegasus_execute_async (self, &requests [n], 0, (int32_t) partition_of [n], true,
                                        timeout_ms, s_batch_done, &args [n]);
        if (rc != PEGASUS_OK) {
            pthread_mutex_lock (&g.lock);
            g.pending--;
            g.status = rc;
            pthread_mutex_unlock (&g.lock);
        }
    }
    pthread_mutex_lock (&g.lock);
    while (g.pending)
        pthread_cond_wait (&g.cond, &g.lock);
    pthread_mutex_unlock (&g.lock);
    //  Each request answers its keys in the order they were sent.
    for (size_t i = 0; g.status == PEGASUS_OK && i < count; i++) {
        Pg__BatchGetReply *body = msg_body (g.replies [where [i]]);
        size_t k = next [where [i]]++;
        if (k >= body->n_items || !body->items [k]->found)
            continue;
        (*results) [i].found = true;
        (*results) [i].value = malloc (body->items [k]->value.len + 1);
        if ((*results) [i].value) {
            if (body->items [k]->value.len)
                memcpy ((*results) [i].value, body->items [k]->value.data, body->items [k]->value.len);
            ((char *) (*results) [i].value) [body->items [k]->value.len] = 0;
            (*results) [i].value_len = body->items [k]->value.len;
        }
    }
    for (size_t n = 0; n < nrequests; n++) {
        msg_destroy (&requests [n]);
        msg_destroy (&g.replies [n]);
    }
    free (g.replies);
    free (requests);
    free (partition_of);
    free (args);
    free (filling);
    free (where);
    free (next);
    if (g.status != PEGASUS_OK) {
        pegasus_batch_free (results, count);
        return pegasus_fail (g.status, "%s", *g.error ? g.error : status_name (g.status));
    }
    return PEGASUS_OK;
}

void
pegasus_batch_free (pegasus_found_t **results_p, size_t count)
{
    pegasus_found_t *results = *results_p;
    if (!results)
        return;
    for (size_t i = 0; i < count; i++)
        free (results [i].value);
    free (results);
    *results_p = NULL;
}

//  ---------------------------------------------------------------------------
//  Asynchronous single-key calls

typedef struct {
    pegasus_callback_t *callback;
    void *arg;
} async_t;

static void
s_async_done (op_t *op, int status, const char *error, msg_t **reply_p)
{
    async_t *a = op->arg;
    const void *value = NULL;
    size_t len = 0;
    if (status == PEGASUS_OK && reply_p && *reply_p && msg_is (*reply_p, &pg__get_reply__descriptor)) {
        Pg__GetReply *body = msg_body (*reply_p);
        value = body->value.data;
        len = body->value.len;
    }
    a->callback (status, error ? error : "", value, len, a->arg);
    free (a);
}

static int
s_async (pegasus_client_t *self, msg_t *request, uint64_t hash, bool idempotent, int timeout_ms,
         pegasus_callback_t *callback, void *arg)
{
    async_t *a = malloc (sizeof *a);
    if (!a || !request) {
        free (a);
        msg_destroy (&request);
        return pegasus_fail (PEGASUS_INTERNAL, "out of memory");
    }
    a->callback = callback;
    a->arg = arg;
    int rc = pegasus_execute_async (self, &request, hash, -1, idempotent, timeout_ms,
                                    s_async_done, a);
    if (rc != PEGASUS_OK)
        free (a);
    return rc;
}

int
pegasus_set_async (pegasus_client_t *self, const void *hk, size_t hk_len, const void *sk,
                   size_t sk_len, const void *value, size_t value_len, int ttl_seconds,
                   int timeout_ms, pegasus_callback_t *callback, void *arg)
{
    if (s_check_hash_key (hk_len, false))
        return PEGASUS_INVALID_ARGUMENT;
    return s_async (self, s_set_request (hk, hk_len, sk, sk_len, value, value_len, ttl_seconds, true),
                    s_hash (hk, hk_len, sk, sk_len), false, timeout_ms, callback, arg);
}

int
pegasus_get_async (pegasus_client_t *self, const void *hk, size_t hk_len, const void *sk,
                   size_t sk_len, int timeout_ms, pegasus_callback_t *callback, void *arg)
{
    if (s_check_hash_key (hk_len, false))
        return PEGASUS_INVALID_ARGUMENT;
    return s_async (self, s_get_request (hk, hk_len, sk, sk_len, false, true),
                    s_hash (hk, hk_len, sk, sk_len), true, timeout_ms, callback, arg);
}

int
pegasus_del_async (pegasus_client_t *self, const void *hk, size_t hk_len, const void *sk,
                   size_t sk_len, int timeout_ms, pegasus_callback_t *callback, void *arg)
{
    if (s_check_hash_key (hk_len, false))
        return PEGASUS_INVALID_ARGUMENT;
    return s_async (self, s_del_request (hk, hk_len, sk, sk_len, true),
                    s_hash (hk, hk_len, sk, sk_len), false, timeout_ms, callback, arg);
}
