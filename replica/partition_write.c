/*  partition_write: the write requests.

    A write becomes puts and deletes of the open mutation; its reply waits
    until that mutation is applied. Read-modify-write requests read through
    the overlay, so they see every write accepted before them, and are
    logged as the plain puts they resolved to, which makes replay (and,
    later, replication) deterministic. A reply that depends on what such a
    request observed but writes nothing (a failed check, a non-integer
    incr) waits for the writes it observed, so no answer ever rests on a
    write that a crash could still take back.

    A request's writes are all or nothing: each handler marks the open
    mutation and the overlay before its first put or delete, and if one
    fails (out of memory) takes both back to the mark before it answers,
    so none of its writes is sealed with the next mutation, nor seen.
*/
#include "replica/partition_impl.h"
#include "replica/ops.h"
#include "common/value.h"
#include "runtime/fault.h"

#include <inttypes.h>
#include <string.h>

static msg_t *
s_write_reply (partition_t *self, uint32_t count)
{
    Pg__WriteReply *body;
    msg_t *reply = msg_new (&pg__write_reply__descriptor, (void **) &body);
    if (reply) {
        body->decree = partition_next_decree (self);
        body->count = count;
    }
    return reply;
}

//  Holds the reply for the open mutation (it has the write just added).
//  The reply was made before the writes, so a write never happens for a
//  request that is then answered "out of memory".
static void
s_wait_write (partition_t *self, msg_t **msg_p, msg_t *reply)
{
    overlay_commit (self->overlay);     //  the request's writes stay (s_begin)
    self->writes++;
    partition_wait (self, msg_p, &reply, partition_next_decree (self));
}

//  Holds an error reply until what the request observed is durable.
static void
s_wait_error (partition_t *self, msg_t **msg_p, int status, const char *text)
{
    msg_t *reply = msg_new_local (&actor_kind_empty, 0, NULL);
    if (!reply) {
        partition_fail (self, *msg_p, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    msg_set_status (reply, status, "%s", text);
    partition_wait (self, msg_p, &reply, partition_observed (self));
}

//  Where the open mutation stood before a request's first write.
typedef struct {
    size_t len;
    size_t nops;
} mark_t;

//  Before a request's first put or delete.
static void
s_begin (partition_t *self, mark_t *mark)
{
    mark->len = self->open ? self->open->len : 0;
    mark->nops = self->open ? self->open->nops : 0;
    overlay_begin (self->overlay);
}

//  A put or delete of the request failed (or its reply could not be made:
//  the writes must not happen without it): takes the open mutation and
//  the overlay back to the mark, drops the reply, fails the request.
static void
s_undo (partition_t *self, const mark_t *mark, msg_t *request, msg_t **reply_p)
{
    msg_destroy (reply_p);
    if (self->open)
        mutation_truncate (self->open, mark->len, mark->nops);
    overlay_rollback (self->overlay);
    partition_fail (self, request, PG__STATUS__INTERNAL, "out of memory");
}

static int
s_need_hash_key (partition_t *self, msg_t *request, const ProtobufCBinaryData *hash_key)
{
    if (hash_key->len == 0) {
        partition_fail (self, request, PG__STATUS__INVALID_ARGUMENT,
                        "this operation needs a non-empty hash key");
        return -1;
    }
    return 0;
}

static int
s_ttl_ok (partition_t *self, msg_t *request, int32_t ttl)
{
    if (ttl < 0) {
        partition_fail (self, request, PG__STATUS__INVALID_ARGUMENT,
                        "ttl %d: must be 0 (none) or positive seconds", ttl);
        return -1;
    }
    return 0;
}

void
partition_on_set (partition_t *self, msg_t **msg_p)
{
    msg_t *request = *msg_p;
    Pg__SetRequest *req = msg_body (request);
    if (partition_admit (self, request, req->route, &req->hash_key, &req->sort_key)
    ||  s_ttl_ok (self, request, req->ttl_seconds)
    ||  partition_write_admit (self, request,
                               req->hash_key.len + req->sort_key.len + req->value.len))
        return;
    size_t len;
    uint8_t *key = partition_key (request, &req->hash_key, req->sort_key.data, req->sort_key.len, &len);
    uint32_t expire = value_expire_ts (partition_now (self), req->ttl_seconds);
    msg_t *reply = s_write_reply (self, 1);
    mark_t mark;
    s_begin (self, &mark);
    if (!reply || !key
    ||  partition_put (self, key, len, req->value.data, req->value.len, expire)) {
        s_undo (self, &mark, request, &reply);
        return;
    }
    s_wait_write (self, msg_p, reply);
}

void
partition_on_del (partition_t *self, msg_t **msg_p)
{
    msg_t *request = *msg_p;
    Pg__DelRequest *req = msg_body (request);
    if (partition_admit (self, request, req->route, &req->hash_key, &req->sort_key)
    ||  partition_write_admit (self, request, req->hash_key.len + req->sort_key.len))
        return;
    size_t len;
    uint8_t *key = partition_key (request, &req->hash_key, req->sort_key.data, req->sort_key.len, &len);
    msg_t *reply = s_write_reply (self, 1);
    mark_t mark;
    s_begin (self, &mark);
    if (!reply || !key || partition_del (self, key, len)) {
        s_undo (self, &mark, request, &reply);
        return;
    }
    s_wait_write (self, msg_p, reply);
}

void
partition_on_multi_set (partition_t *self, msg_t **msg_p)
{
    msg_t *request = *msg_p;
    Pg__MultiSetRequest *req = msg_body (request);
    if (partition_admit (self, request, req->route, &req->hash_key, NULL)
    ||  s_need_hash_key (self, request, &req->hash_key)
    ||  s_ttl_ok (self, request, req->ttl_seconds))
        return;
    if (req->n_kvs == 0) {
        partition_fail (self, request, PG__STATUS__INVALID_ARGUMENT, "multi_set needs sort keys");
        return;
    }
    size_t bytes = req->hash_key.len;
    for (size_t i = 0; i < req->n_kvs; i++)
        bytes += req->kvs [i]->sort_key.len + req->kvs [i]->value.len;
    if (partition_write_admit (self, request, bytes))
        return;
    uint32_t expire = value_expire_ts (partition_now (self), req->ttl_seconds);
    msg_t *reply = s_write_reply (self, (uint32_t) req->n_kvs);
    mark_t mark;
    s_begin (self, &mark);
    for (size_t i = 0; i < req->n_kvs; i++) {
        size_t len;
        uint8_t *key = partition_key (request, &req->hash_key, req->kvs [i]->sort_key.data,
                                      req->kvs [i]->sort_key.len, &len);
        if (!reply || !key || partition_put (self, key, len, req->kvs [i]->value.data,
                                             req->kvs [i]->value.len, expire)) {
            s_undo (self, &mark, request, &reply);
            return;
        }
    }
    s_wait_write (self, msg_p, reply);
}

void
partition_on_multi_del (partition_t *self, msg_t **msg_p)
{
    msg_t *request = *msg_p;
    Pg__MultiDelRequest *req = msg_body (request);
    if (partition_admit (self, request, req->route, &req->hash_key, NULL)
    ||  s_need_hash_key (self, request, &req->hash_key))
        return;
    if (req->n_sort_keys == 0) {
        partition_fail (self, request, PG__STATUS__INVALID_ARGUMENT, "multi_del needs sort keys");
        return;
    }
    size_t bytes = req->hash_key.len;
    for (size_t i = 0; i < req->n_sort_keys; i++)
        bytes += req->sort_keys [i].len;
    if (partition_write_admit (self, request, bytes))
        return;
    msg_t *reply = s_write_reply (self, (uint32_t) req->n_sort_keys);
    mark_t mark;
    s_begin (self, &mark);
    for (size_t i = 0; i < req->n_sort_keys; i++) {
        size_t len;
        uint8_t *key = partition_key (request, &req->hash_key, req->sort_keys [i].data,
                                      req->sort_keys [i].len, &len);
        if (!reply || !key || partition_del (self, key, len)) {
            s_undo (self, &mark, request, &reply);
            return;
        }
    }
    s_wait_write (self, msg_p, reply);
}

void
partition_on_incr (partition_t *self, msg_t **msg_p)
{
    msg_t *request = *msg_p;
    Pg__IncrRequest *req = msg_body (request);
    if (partition_admit (self, request, req->route, &req->hash_key, &req->sort_key)
    ||  partition_write_admit (self, request, req->hash_key.len + req->sort_key.len + 21))
        return;
    if (req->expire_seconds < -1) {
        partition_fail (self, request, PG__STATUS__INVALID_ARGUMENT,
                        "expire_seconds %d: 0 keeps the TTL, > 0 sets it, -1 clears it",
                        req->expire_seconds);
        return;
    }
    size_t len;
    uint8_t *key = partition_key (request, &req->hash_key, req->sort_key.data, req->sort_key.len, &len);
    value_ref_t ref;
    if (!key || partition_read (self, key, len, true, &ref)) {
        partition_fail (self, request, PG__STATUS__IO_ERROR, "read failed");
        return;
    }
    int64_t result;
    int rc = ops_incr (ref.exists, ref.user, ref.user_len, req->increment, &result);
    uint32_t expire = req->expire_seconds > 0
                    ? value_expire_ts (partition_now (self), req->expire_seconds)
                    : req->expire_seconds == 0 && ref.exists ? ref.expire_ts : 0;
    partition_release (&ref);
    if (rc == OPS_INCR_NOT_INT) {
        s_wait_error (self, msg_p, PG__STATUS__INVALID_ARGUMENT, "the value is not an integer");
        return;
    }
    if (rc == OPS_INCR_OVERFLOW) {
        s_wait_error (self, msg_p, PG__STATUS__INVALID_ARGUMENT, "the result overflows int64");
        return;
    }
    char text [24];
    size_t text_len = ops_format_int64 (result, text);
    Pg__IncrReply *body;
    msg_t *reply = msg_new (&pg__incr_reply__descriptor, (void **) &body);
    mark_t mark;
    s_begin (self, &mark);
    if (!reply || partition_put (self, key, len, (const uint8_t *) text, text_len, expire)) {
        s_undo (self, &mark, request, &reply);
        return;
    }
    body->new_value = result;
    s_wait_write (self, msg_p, reply);
}

//  The check of check_and_set / check_and_mutate: reads the checked record
//  (through the overlay) and fills the check fields of a new reply.
//  Returns 0 with that reply to complete if the check passed, or -1 once
//  the request is answered (a failed or invalid check waits for the
//  writes it observed).
static int
s_check (partition_t *self, msg_t **msg_p, const ProtobufCBinaryData *hash_key,
         const ProtobufCBinaryData *check_sort_key, int check_type,
         const ProtobufCBinaryData *operand, bool return_value, msg_t **reply_p,
         Pg__CheckReply **body_p)
{
    msg_t *request = *msg_p;
    *reply_p = msg_new (&pg__check_reply__descriptor, (void **) body_p);
    if (!*reply_p) {
        partition_fail (self, request, PG__STATUS__INTERNAL, "out of memory");
        return -1;
    }
    msg_t *reply = *reply_p;
    Pg__CheckReply *body = *body_p;
    if (check_type < PG__CHECK_TYPE__NO_CHECK || check_type > PG__CHECK_TYPE__VALUE_INT_GREATER) {
        msg_destroy (reply_p);
        partition_fail (self, request, PG__STATUS__INVALID_ARGUMENT, "unknown check type %d",
                        check_type);
        return -1;
    }
    size_t len;
    uint8_t *key = partition_key (request, hash_key, check_sort_key->data, check_sort_key->len, &len);
    value_ref_t ref;
    if (!key || partition_read (self, key, len, true, &ref)) {
        msg_destroy (reply_p);
        partition_fail (self, request, PG__STATUS__IO_ERROR, "read failed");
        return -1;
    }
    int result = ops_check (check_type, operand->data, operand->len, ref.exists, ref.user, ref.user_len);
    if (return_value) {
        body->check_value_returned = true;
        body->check_value_exist = ref.exists;
        if (ref.exists) {
            body->check_value.data = msg_memdup (reply, ref.user, ref.user_len);
            body->check_value.len = ref.user_len;
        }
    }
    partition_release (&ref);
    if (result == OPS_CHECK_INVALID) {
        msg_destroy (reply_p);
        s_wait_error (self, msg_p, PG__STATUS__INVALID_ARGUMENT,
                      "integer check on a value or operand that is not an integer");
        return -1;
    }
    if (result == OPS_CHECK_FAIL) {
        msg_set_status (*reply_p, PG__STATUS__TRY_AGAIN, "check failed");
        partition_wait (self, msg_p, reply_p, partition_observed (self));
        return -1;
    }
    return 0;
}

void
partition_on_check_and_set (partition_t *self, msg_t **msg_p)
{
    msg_t *request = *msg_p;
    Pg__CheckAndSetRequest *req = msg_body (request);
    if (partition_admit (self, request, req->route, &req->hash_key, &req->check_sort_key)
    ||  s_need_hash_key (self, request, &req->hash_key)
    ||  s_ttl_ok (self, request, req->set_ttl_seconds)
    ||  partition_write_admit (self, request, req->hash_key.len + req->set_sort_key.len
                                              + req->set_value.len + req->check_operand.len))
        return;
    Pg__CheckReply *body;
    msg_t *reply;
    if (s_check (self, msg_p, &req->hash_key, &req->check_sort_key, req->check_type,
                 &req->check_operand, req->return_check_value, &reply, &body))
        return;
    const ProtobufCBinaryData *sort_key = req->set_diff_sort_key ? &req->set_sort_key
                                                                 : &req->check_sort_key;
    size_t len;
    uint8_t *key = partition_key (request, &req->hash_key, sort_key->data, sort_key->len, &len);
    uint32_t expire = value_expire_ts (partition_now (self), req->set_ttl_seconds);
    mark_t mark;
    s_begin (self, &mark);
    if (!key || partition_put (self, key, len, req->set_value.data, req->set_value.len, expire)) {
        s_undo (self, &mark, request, &reply);
        return;
    }
    body->decree = partition_next_decree (self);
    s_wait_write (self, msg_p, reply);
}

void
partition_on_check_and_mutate (partition_t *self, msg_t **msg_p)
{
    msg_t *request = *msg_p;
    Pg__CheckAndMutateRequest *req = msg_body (request);
    if (partition_admit (self, request, req->route, &req->hash_key, &req->check_sort_key)
    ||  s_need_hash_key (self, request, &req->hash_key))
        return;
    if (req->n_mutates == 0) {
        partition_fail (self, request, PG__STATUS__INVALID_ARGUMENT,
                        "check_and_mutate needs mutations");
        return;
    }
    size_t bytes = req->hash_key.len + req->check_operand.len;
    for (size_t i = 0; i < req->n_mutates; i++) {
        Pg__Mutate *m = req->mutates [i];
        if ((m->op != PG__MUTATE__OP__SET && m->op != PG__MUTATE__OP__DEL) || m->ttl_seconds < 0) {
            partition_fail (self, request, PG__STATUS__INVALID_ARGUMENT,
                            "mutation %zu: unknown op %d or negative ttl", i, m->op);
            return;
        }
        bytes += m->sort_key.len + m->value.len;
    }
    if (partition_write_admit (self, request, bytes))
        return;
    Pg__CheckReply *body;
    msg_t *reply;
    if (s_check (self, msg_p, &req->hash_key, &req->check_sort_key, req->check_type,
                 &req->check_operand, req->return_check_value, &reply, &body))
        return;
    int64_t now = partition_now (self);
    mark_t mark;
    s_begin (self, &mark);
    for (size_t i = 0; i < req->n_mutates; i++) {
        Pg__Mutate *m = req->mutates [i];
        size_t len;
        uint8_t *key = partition_key (request, &req->hash_key, m->sort_key.data, m->sort_key.len, &len);
        int rc = !key ? -1
               : m->op == PG__MUTATE__OP__SET
               ? partition_put (self, key, len, m->value.data, m->value.len,
                                value_expire_ts (now, m->ttl_seconds))
               : partition_del (self, key, len);
        if (rc) {
            s_undo (self, &mark, request, &reply);
            return;
        }
    }
    body->decree = partition_next_decree (self);
    s_wait_write (self, msg_p, reply);
}

//  ---------------------------------------------------------------------------
//  The open mutation

static mutation_t *
s_open_mutation (partition_t *self)
{
    if (!self->open && !(self->open = mutation_new ()))
        return NULL;
    partition_seal_later (self);
    return self->open;
}

//  Test-only fault point partition.put_fail_after N: the Nth put or
//  delete from now fails as if out of memory, with its op already in the
//  open mutation and not yet in the overlay: as half done as a real
//  failure can leave one.
static bool
s_fault_put (void)
{
    return fault_enabled () && fault_nth ("partition.put_fail_after");
}

int
partition_put (partition_t *self, const uint8_t *key, size_t key_len,
               const uint8_t *value, size_t value_len, uint32_t expire_ts)
{
    mutation_t *m = s_open_mutation (self);
    uint8_t *stored = m ? mutation_put (m, key, key_len, VALUE_HEADER + value_len) : NULL;
    if (!stored)
        return -1;
    //  Write time in microseconds, cluster id, delete flag 0.
    uint64_t timetag = (uint64_t) partition_now (self) * 1000 << 8
                     | (uint64_t) (self->limits.cluster_id & 0x7F) << 1;
    value_header (stored, expire_ts, timetag);
    if (value_len)
        memcpy (stored + VALUE_HEADER, value, value_len);
    if (s_fault_put ())
        return -1;
    return overlay_put (self->overlay, key, key_len, stored, VALUE_HEADER + value_len,
                        partition_next_decree (self));
}

int
partition_del (partition_t *self, const uint8_t *key, size_t key_len)
{
    mutation_t *m = s_open_mutation (self);
    if (!m || mutation_del (m, key, key_len) || s_fault_put ())
        return -1;
    return overlay_put (self->overlay, key, key_len, NULL, 0, partition_next_decree (self));
}

uint64_t
partition_observed (partition_t *self)
{
    if (self->open && self->open->nops)
        return partition_next_decree (self);
    return plist_last (self->plist);
}

int
partition_write_admit (partition_t *self, msg_t *request, size_t bytes)
{
    if ((int64_t) bytes > self->limits.max_write_bytes) {
        partition_fail (self, request, PG__STATUS__INVALID_ARGUMENT,
                        "write of %zu bytes exceeds replica/max_write_bytes (%" PRId64 ")",
                        bytes, self->limits.max_write_bytes);
        return -1;
    }
    int64_t pending = self->uncommitted_bytes + (self->open ? (int64_t) self->open->len : 0);
    if (pending + (int64_t) bytes > self->limits.max_pending_bytes) {
        partition_fail (self, request, PG__STATUS__BUSY,
                        "%s has %" PRId64 " bytes of writes waiting to commit",
                        actor_name (self->self), pending);
        return -1;
    }
    //  PacificA commits on every member; a lone primary of a replicated
    //  table would make a write durable on one disk only.
    size_t members = 1;
    for (size_t i = 0; i < self->npeers; i++)
        members += !self->peers [i]->learner;
    size_t needed = self->config.max_replica_count < 2 ? 1 : 2;
    if (members < needed) {
        partition_fail (self, request, PG__STATUS__NOT_ENOUGH_MEMBER,
                        "%s has %zu of the %zu live replicas a write needs",
                        actor_name (self->self), members, needed);
        return -1;
    }
    return 0;
}
