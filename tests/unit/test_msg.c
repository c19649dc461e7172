/*  msg: arena, overflow chunks, attachments, pack and unpack; unpacking
    refuses a payload that would take far more memory than its bytes, and
    takes the largest legit messages. */
#include "runtime/msg.h"
#include "rt.pb-c.h"
#include "data.pb-c.h"
#include "meta.pb-c.h"
#include "replica.pb-c.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static int s_freed;

static void
s_count_free (void *ptr)
{
    (void) ptr;
    s_freed++;
}

static void
test_protobuf_body (void **state)
{
    (void) state;
    Pg__Ping *ping;
    msg_t *msg = msg_new (&pg__ping__descriptor, (void **) &ping);
    assert_non_null (msg);
    assert_true (msg_is (msg, &pg__ping__descriptor));
    assert_ptr_equal (msg_body (msg), ping);
    assert_int_equal (ping->seq, 0);
    ping->seq = 42;
    ping->note = msg_strdup (msg, "hello");
    assert_string_equal (ping->note, "hello");
    assert_string_equal (msg_kind_name (msg), "pg.Ping");
    msg_destroy (&msg);
    assert_null (msg);
    msg_destroy (&msg);                 //  safe twice
}

static void
test_arena_overflow_and_attach (void **state)
{
    (void) state;
    static const msg_kind_t kind = { "test.local" };
    uint64_t *body;
    msg_t *msg = msg_new_local (&kind, sizeof *body, (void **) &body);
    assert_int_equal (*body, 0);
    //  Far more than the block holds: overflow chunks, freed with the msg.
    for (int i = 0; i < 100; i++) {
        char *big = msg_alloc (msg, 5000);
        assert_non_null (big);
        memset (big, i, 5000);
    }
    s_freed = 0;
    assert_int_equal (msg_attach (msg, msg, s_count_free), 0);
    msg_destroy (&msg);
    assert_int_equal (s_freed, 1);
}

static void
test_packed_round_trip (void **state)
{
    (void) state;
    Pg__Ping *ping;
    msg_t *msg = msg_new (&pg__ping__descriptor, (void **) &ping);
    ping->seq = 7;
    ping->note = msg_strdup (msg, "note");
    uint8_t data [100];
    ping->data.data = msg_memdup (msg, "abc", 3);
    ping->data.len = 3;
    size_t len = msg_payload_size (msg);
    assert_true (len < sizeof data);
    msg_payload_pack (msg, data);
    msg_destroy (&msg);

    msg_t *packed = msg_new_packed (&pg__ping__descriptor, 1, data, len, 0);
    assert_int_equal (msg_payload_size (packed), len);
    assert_int_equal (msg_unpack (packed), 0);
    Pg__Ping *back = msg_body (packed);
    assert_int_equal (back->seq, 7);
    assert_string_equal (back->note, "note");
    assert_memory_equal (back->data.data, "abc", 3);
    assert_int_equal (msg_unpack (packed), 0);          //  idempotent
    msg_destroy (&packed);

    //  Bytes that are not a Ping do not unpack.
    uint8_t junk [] = { 0x0A, 0x7F, 0x01 };
    msg_t *bad = msg_new_packed (&pg__ping__descriptor, 1, junk, sizeof junk, 0);
    assert_int_equal (msg_unpack (bad), -1);
    msg_destroy (&bad);
}

static void
test_status (void **state)
{
    (void) state;
    static const msg_kind_t kind = { "test.status" };
    msg_t *msg = msg_new_local (&kind, 0, NULL);
    assert_int_equal (msg_status (msg), 0);
    assert_string_equal (msg_error (msg), "");
    msg_set_status (msg, 10, "queue %d full", 3);
    assert_int_equal (msg_status (msg), 10);
    assert_string_equal (msg_error (msg), "queue 3 full");
    msg_destroy (&msg);
}

//  ---------------------------------------------------------------------------
//  The memory cap of unpacking

//  body packed into a message of its type, as the transport delivers one.
static msg_t *
s_packed (const ProtobufCMessage *body)
{
    size_t len = protobuf_c_message_get_packed_size (body);
    uint8_t *bytes = malloc (len ? len : 1);
    assert_non_null (bytes);
    protobuf_c_message_pack (body, bytes);
    msg_t *msg = msg_new_packed (body->descriptor, 1, bytes, len, 0);
    free (bytes);
    assert_non_null (msg);
    return msg;
}

//  Hostile payloads in a 16 MB frame (transport/max_frame): a
//  QueryConfigReply of 2 bytes per PartitionConfig (field 2, length 0),
//  which protobuf-c unpacks into ~180 bytes each (1.5 GB without a cap),
//  and a MultiDelRequest of 2 bytes per empty sort key (~60 each). Both
//  must fail to decode, having allocated at most the cap.
static void
test_unpack_memory_cap (void **state)
{
    (void) state;
    size_t len = 16 << 20;
    uint8_t *bytes = malloc (len);
    for (size_t i = 0; i < len; i += 2) {
        bytes [i] = 0x12;
        bytes [i + 1] = 0;
    }
    msg_t *msg = msg_new_packed (&pg__query_config_reply__descriptor, 1, bytes, len, 0);
    assert_int_equal (msg_unpack (msg), -1);
    msg_destroy (&msg);
    //  The same shape, small, is a legit (if odd) message: it decodes.
    msg = msg_new_packed (&pg__query_config_reply__descriptor, 1, bytes, 2000, 0);
    assert_int_equal (msg_unpack (msg), 0);
    assert_int_equal (((Pg__QueryConfigReply *) msg_body (msg))->n_partitions, 1000);
    msg_destroy (&msg);
    for (size_t i = 0; i < len; i += 2)
        bytes [i] = 0x1A;               //  MultiDelRequest.sort_keys, length 0
    msg = msg_new_packed (&pg__multi_del_request__descriptor, 1, bytes, len, 0);
    assert_int_equal (msg_unpack (msg), -1);
    msg_destroy (&msg);
    free (bytes);
    assert_int_equal (msg_unpack_cap (len), 8 * len + (32 << 20));
}

static uint8_t s_keys [3 * 400000];

static void
s_decodes (const ProtobufCMessage *body)
{
    msg_t *msg = s_packed (body);
    assert_int_equal (msg_unpack (msg), 0);
    msg_destroy (&msg);
}

//  The largest legit messages decode under the cap: each at the size a
//  default config lets it reach, made of the smallest elements that make
//  the most memory per wire byte.
static void
test_unpack_legit_big (void **state)
{
    (void) state;
    //  A prepare of a 1 MB mutation (replica/max_write_bytes).
    Pg__PrepareRequest prepare = PG__PREPARE_REQUEST__INIT;
    prepare.app_id = 1;
    prepare.ballot = 3;
    prepare.decree = 1000000;
    prepare.mutation.len = 1 << 20;
    prepare.mutation.data = calloc (1, 1 << 20);
    s_decodes (&prepare.base);
    free (prepare.mutation.data);

    //  A learn reply of replica/learn_chunk_bytes (1M) of one-put mutations.
    static const uint8_t put [] = { 0x0A, 0x07, 0x12, 0x03, 0x00, 0x01, 'a', 0x1A, 0x00 };
    size_t n = (1 << 20) / 19;
    Pg__LearnReply learn = PG__LEARN_REPLY__INIT;
    Pg__LearnEntry *entries = calloc (n, sizeof *entries);
    learn.entries = calloc (n, sizeof *learn.entries);
    for (size_t i = 0; i < n; i++) {
        pg__learn_entry__init (&entries [i]);
        entries [i].decree = 1000000 + i;
        entries [i].ballot = 3;
        entries [i].mutation.data = (uint8_t *) put;
        entries [i].mutation.len = sizeof put;
        learn.entries [i] = &entries [i];
    }
    learn.n_entries = n;
    learn.type = PG__LEARN_TYPE__LEARN_MUTATIONS;
    s_decodes (&learn.base);
    free (entries);
    free (learn.entries);

    //  A beacon of 10,000 freshly created replicas (few fields set).
    n = 10000;
    Pg__BeaconRequest beacon = PG__BEACON_REQUEST__INIT;
    beacon.node = "127.0.0.1:34801";
    Pg__ReplicaReport *reports = calloc (n, sizeof *reports);
    beacon.replicas = calloc (n, sizeof *beacon.replicas);
    for (size_t i = 0; i < n; i++) {
        pg__replica_report__init (&reports [i]);
        reports [i].app_id = 1 + (uint32_t) i / 1024;
        reports [i].partition_index = (uint32_t) i % 1024;
        reports [i].ballot = 1;
        reports [i].state = PG__REPLICA_STATE__REPLICA_SERVING;
        reports [i].role = PG__REPLICA_ROLE__ROLE_SECONDARY;
        beacon.replicas [i] = &reports [i];
    }
    beacon.n_replicas = n;
    s_decodes (&beacon.base);
    free (reports);
    free (beacon.replicas);

    //  The routing of a 1024-partition table, with every replica's details.
    n = 1024;
    Pg__QueryConfigReply query = PG__QUERY_CONFIG_REPLY__INIT;
    Pg__AppInfo app = PG__APP_INFO__INIT;
    app.name = "table";
    app.partition_count = (uint32_t) n;
    query.app = &app;
    char *secondaries [] = { "127.0.0.1:34802", "127.0.0.1:34803" };
    Pg__PartitionConfig *configs = calloc (n, sizeof *configs);
    Pg__ReplicaDetail *details = calloc (3 * n, sizeof *details);
    query.partitions = calloc (n, sizeof *query.partitions);
    query.replicas = calloc (3 * n, sizeof *query.replicas);
    query.serving = calloc (n, sizeof *query.serving);
    for (size_t i = 0; i < n; i++) {
        pg__partition_config__init (&configs [i]);
        configs [i].app_id = 1;
        configs [i].partition_index = (uint32_t) i;
        configs [i].ballot = 3;
        configs [i].primary = "127.0.0.1:34801";
        configs [i].secondaries = secondaries;
        configs [i].n_secondaries = 2;
        query.partitions [i] = &configs [i];
        query.serving [i] = (uint32_t) i;
    }
    for (size_t i = 0; i < 3 * n; i++) {
        pg__replica_detail__init (&details [i]);
        details [i].partition_index = (uint32_t) i / 3;
        details [i].node = secondaries [i % 2];
        details [i].ballot = 3;
        query.replicas [i] = &details [i];
    }
    query.n_partitions = query.n_serving = n;
    query.n_replicas = 3 * n;
    s_decodes (&query.base);
    free (configs);
    free (details);
    free (query.partitions);
    free (query.replicas);
    free (query.serving);

    //  batch_get of replica/max_batch_keys (1000) 1-byte keys, none found.
    n = 1000;
    Pg__FullKey *keys = calloc (n, sizeof *keys);
    Pg__BatchGetItem *items = calloc (n, sizeof *items);
    Pg__BatchGetRequest batch = PG__BATCH_GET_REQUEST__INIT;
    Pg__BatchGetReply batch_reply = PG__BATCH_GET_REPLY__INIT;
    batch.keys = calloc (n, sizeof *batch.keys);
    batch_reply.items = calloc (n, sizeof *batch_reply.items);
    for (size_t i = 0; i < n; i++) {
        pg__full_key__init (&keys [i]);
        keys [i].hash_key.data = s_keys + i;
        keys [i].hash_key.len = 1;
        batch.keys [i] = &keys [i];
        pg__batch_get_item__init (&items [i]);
        items [i].hash_key = keys [i].hash_key;
        batch_reply.items [i] = &items [i];
    }
    batch.n_keys = batch_reply.n_items = n;
    s_decodes (&batch.base);
    s_decodes (&batch_reply.base);
    free (keys);
    free (items);
    free (batch.keys);
    free (batch_reply.items);

    //  multi_get and scan replies of replica/max_kv_count (10000) records
    //  of 1-byte keys without values.
    n = 10000;
    Pg__KeyValue *kvs = calloc (n, sizeof *kvs);
    Pg__ScanItem *scanned = calloc (n, sizeof *scanned);
    Pg__MultiGetReply multi_get = PG__MULTI_GET_REPLY__INIT;
    Pg__ScanReply scan = PG__SCAN_REPLY__INIT;
    multi_get.kvs = calloc (n, sizeof *multi_get.kvs);
    scan.items = calloc (n, sizeof *scan.items);
    for (size_t i = 0; i < n; i++) {
        pg__key_value__init (&kvs [i]);
        kvs [i].sort_key.data = s_keys + i;
        kvs [i].sort_key.len = 1;
        kvs [i].expire_seconds = -1;
        multi_get.kvs [i] = &kvs [i];
        pg__scan_item__init (&scanned [i]);
        scanned [i].hash_key = kvs [i].sort_key;
        scanned [i].expire_seconds = -1;
        scan.items [i] = &scanned [i];
    }
    multi_get.n_kvs = scan.n_items = n;
    s_decodes (&multi_get.base);
    s_decodes (&scan.base);
    free (kvs);
    free (scanned);
    free (multi_get.kvs);
    free (scan.items);

    //  Writes of replica/max_write_bytes (1M) of distinct 3-byte sort keys
    //  (empty values): the most memory per wire byte a write can take.
    n = (1 << 20) / 3;
    for (size_t i = 0; i < n; i++) {
        s_keys [3 * i] = (uint8_t) i;
        s_keys [3 * i + 1] = (uint8_t) (i >> 8);
        s_keys [3 * i + 2] = (uint8_t) (i >> 16);
    }
    Pg__Mutate *mutates = calloc (n, sizeof *mutates);
    Pg__KeyValue *pairs = calloc (n, sizeof *pairs);
    ProtobufCBinaryData *sort_keys = calloc (n, sizeof *sort_keys);
    Pg__CheckAndMutateRequest mutate = PG__CHECK_AND_MUTATE_REQUEST__INIT;
    Pg__MultiSetRequest multi_set = PG__MULTI_SET_REQUEST__INIT;
    Pg__MultiDelRequest multi_del = PG__MULTI_DEL_REQUEST__INIT;
    mutate.mutates = calloc (n, sizeof *mutate.mutates);
    multi_set.kvs = calloc (n, sizeof *multi_set.kvs);
    for (size_t i = 0; i < n; i++) {
        sort_keys [i].data = s_keys + 3 * i;
        sort_keys [i].len = 3;
        pg__mutate__init (&mutates [i]);
        mutates [i].sort_key = sort_keys [i];
        mutate.mutates [i] = &mutates [i];
        pg__key_value__init (&pairs [i]);
        pairs [i].sort_key = sort_keys [i];
        multi_set.kvs [i] = &pairs [i];
    }
    mutate.hash_key = multi_set.hash_key = multi_del.hash_key = sort_keys [0];
    mutate.n_mutates = multi_set.n_kvs = multi_del.n_sort_keys = n;
    multi_del.sort_keys = sort_keys;
    s_decodes (&mutate.base);
    s_decodes (&multi_set.base);
    s_decodes (&multi_del.base);
    free (mutates);
    free (pairs);
    free (sort_keys);
    free (mutate.mutates);
    free (multi_set.kvs);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_protobuf_body),
        cmocka_unit_test (test_arena_overflow_and_attach),
        cmocka_unit_test (test_packed_round_trip),
        cmocka_unit_test (test_status),
        cmocka_unit_test (test_unpack_memory_cap),
        cmocka_unit_test (test_unpack_legit_big),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
