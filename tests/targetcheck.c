/*  targetcheck: what every backup target must do, as checks any target
    actor can be put through: the built-in filesystem target in process
    (test_fstarget) and the example SFTP plugin in a real pegasusd against
    a real sshd (test_sftp_target). One contract, one set of checks. */
#include "tests/targetcheck.h"
#include "common/crc.h"
#include "status.pb-c.h"
#include "target.pb-c.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>


//  One put; returns its status and, if OK, what the reply says is held.
static int
s_put (targetcheck_t *f, const char *path, uint64_t offset, const void *data, size_t len,
       uint32_t crc, bool last, uint64_t file_size, uint32_t file_crc, uint64_t *held)
{
    Pg__TargetPut *put;
    msg_t *req = msg_new (&pg__target_put__descriptor, (void **) &put);
    put->path = msg_strdup (req, path);
    put->offset = offset;
    put->data.data = msg_memdup (req, data, len ? len : 1);
    put->data.len = len;
    put->crc32c = crc;
    put->last = last;
    put->file_size = file_size;
    put->file_crc32c = file_crc;
    msg_t *reply = NULL;
    int status = rt_call (f->rt, f->target, &req, 10000, &reply);
    if (status == PG__STATUS__OK && held)
        *held = ((Pg__TargetPutReply *) msg_body (reply))->held;
    msg_destroy (&reply);
    return status;
}

//  Puts a whole file in chunks of `chunk` bytes.
static int
s_put_file (targetcheck_t *f, const char *path, const uint8_t *data, size_t len, size_t chunk)
{
    uint32_t file_crc = crc32c (0, data, len);
    size_t offset = 0;
    do {
        size_t n = len - offset < chunk ? len - offset : chunk;
        bool last = offset + n == len;
        int status = s_put (f, path, offset, data + offset, n, crc32c (0, data + offset, n),
                            last, last ? len : 0, last ? file_crc : 0, NULL);
        if (status != PG__STATUS__OK)
            return status;
        offset += n;
    } while (offset < len);
    return PG__STATUS__OK;
}

static int
s_stat (targetcheck_t *f, const char *path, Pg__TargetStatReply *out)
{
    Pg__TargetStat *stat;
    msg_t *req = msg_new (&pg__target_stat__descriptor, (void **) &stat);
    stat->path = msg_strdup (req, path);
    msg_t *reply = NULL;
    int status = rt_call (f->rt, f->target, &req, 10000, &reply);
    if (status == PG__STATUS__OK)
        *out = *(Pg__TargetStatReply *) msg_body (reply);
    msg_destroy (&reply);
    return status;
}

//  Reads a whole file back through get; returns its status, the bytes in
//  a malloc'd *data.
static int
s_get_file (targetcheck_t *f, const char *path, uint8_t **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    uint64_t size = 0;
    do {
        Pg__TargetGet *get;
        msg_t *req = msg_new (&pg__target_get__descriptor, (void **) &get);
        get->path = msg_strdup (req, path);
        get->offset = *len;
        get->max_bytes = 300000;
        msg_t *reply = NULL;
        int status = rt_call (f->rt, f->target, &req, 10000, &reply);
        if (status != PG__STATUS__OK) {
            msg_destroy (&reply);
            return status;
        }
        Pg__TargetGetReply *body = msg_body (reply);
        assert_int_equal (body->crc32c, crc32c (0, body->data.data, body->data.len));
        size = body->file_size;
        *data = realloc (*data, *len + body->data.len + 1);
        memcpy (*data + *len, body->data.data, body->data.len);
        *len += body->data.len;
        bool empty = body->data.len == 0;
        msg_destroy (&reply);
        if (empty)
            break;
    } while (*len < size);
    return PG__STATUS__OK;
}

//  Files under prefix, through every page of list.
static size_t
s_list_count (targetcheck_t *f, const char *prefix)
{
    size_t count = 0;
    char after [1100] = "";
    for (;;) {
        Pg__TargetList *list;
        msg_t *req = msg_new (&pg__target_list__descriptor, (void **) &list);
        list->prefix = msg_strdup (req, prefix);
        list->start_after = msg_strdup (req, after);
        msg_t *reply = NULL;
        assert_int_equal (rt_call (f->rt, f->target, &req, 10000, &reply), PG__STATUS__OK);
        Pg__TargetListReply *body = msg_body (reply);
        count += body->n_entries;
        bool more = body->more && body->n_entries;
        if (more)
            snprintf (after, sizeof after, "%s", body->entries [body->n_entries - 1]->path);
        msg_destroy (&reply);
        if (!more)
            return count;
    }
}

static uint8_t *
s_random_bytes (size_t len, unsigned seed)
{
    uint8_t *data = malloc (len);
    srand (seed);
    for (size_t i = 0; i < len; i++)
        data [i] = (uint8_t) rand ();
    return data;
}

//  ---------------------------------------------------------------------

void
targetcheck_put_then_get_round_trip (targetcheck_t *f)
{
    size_t len = 3 * 1048576 + 12345;
    uint8_t *data = s_random_bytes (len, 1);
    assert_int_equal (s_put_file (f, "b1/t1/p0/000012.sst", data, len, 1048576), PG__STATUS__OK);
    Pg__TargetStatReply st;
    assert_int_equal (s_stat (f, "b1/t1/p0/000012.sst", &st), PG__STATUS__OK);
    assert_true (st.exists);
    assert_int_equal (st.size, len);
    assert_int_equal (st.partial_size, 0);
    uint8_t *back;
    size_t back_len;
    assert_int_equal (s_get_file (f, "b1/t1/p0/000012.sst", &back, &back_len), PG__STATUS__OK);
    assert_int_equal (back_len, len);
    assert_memory_equal (back, data, len);
    free (back);
    //  An empty file is a file too.
    assert_int_equal (s_put_file (f, "b1/empty", data, 0, 1048576), PG__STATUS__OK);
    assert_int_equal (s_stat (f, "b1/empty", &st), PG__STATUS__OK);
    assert_true (st.exists);
    assert_int_equal (st.size, 0);
    free (data);
}

void
targetcheck_unfinished_upload_is_invisible_and_resumes (targetcheck_t *f)
{
    size_t len = 5 * 65536;
    uint8_t *data = s_random_bytes (len, 2);
    uint64_t held = 0;
    for (size_t at = 0; at < 3 * 65536; at += 65536)
        assert_int_equal (s_put (f, "x/y", at, data + at, 65536, crc32c (0, data + at, 65536),
                                 false, 0, 0, &held), PG__STATUS__OK);
    assert_int_equal (held, 3 * 65536);
    //  Not visible to get or stat while unfinished; stat says where to resume.
    Pg__TargetStatReply st;
    assert_int_equal (s_stat (f, "x/y", &st), PG__STATUS__OK);
    assert_false (st.exists);
    assert_int_equal (st.partial_size, 3 * 65536);
    uint8_t *back;
    size_t back_len;
    assert_int_equal (s_get_file (f, "x/y", &back, &back_len), PG__STATUS__NOT_FOUND);

    //  A chunk out of place is refused, naming what is held.
    assert_int_equal (s_put (f, "x/y", 65536, data, 10, crc32c (0, data, 10), false, 0, 0, NULL),
                      PG__STATUS__INVALID_ARGUMENT);
    //  A chunk whose bytes do not match its CRC is refused; nothing is stored.
    assert_int_equal (s_put (f, "x/y", 3 * 65536, data + 3 * 65536, 65536, 12345, false, 0, 0, NULL),
                      PG__STATUS__BAD_MESSAGE);
    assert_int_equal (s_stat (f, "x/y", &st), PG__STATUS__OK);
    assert_int_equal (st.partial_size, 3 * 65536);

    //  The target restarts (a node restart): the partial file is read back
    //  and the upload resumes where stat says.
    f->restart (f);
    assert_non_null (f->target);
    assert_int_equal (s_stat (f, "x/y", &st), PG__STATUS__OK);
    assert_int_equal (st.partial_size, 3 * 65536);
    size_t at = st.partial_size;
    assert_int_equal (s_put (f, "x/y", at, data + at, 65536, crc32c (0, data + at, 65536),
                             false, 0, 0, NULL), PG__STATUS__OK);
    at += 65536;
    assert_int_equal (s_put (f, "x/y", at, data + at, 65536, crc32c (0, data + at, 65536),
                             true, len, crc32c (0, data, len), &held), PG__STATUS__OK);
    assert_int_equal (held, len);
    assert_int_equal (s_get_file (f, "x/y", &back, &back_len), PG__STATUS__OK);
    assert_int_equal (back_len, len);
    assert_memory_equal (back, data, len);
    free (back);
    free (data);
}

void
targetcheck_whole_file_mismatch_keeps_nothing (targetcheck_t *f)
{
    uint8_t *data = s_random_bytes (100000, 3);
    //  The sender's whole-file CRC is not what arrived.
    assert_int_equal (s_put (f, "bad", 0, data, 100000, crc32c (0, data, 100000), true, 100000,
                             crc32c (0, data, 99999), NULL), PG__STATUS__BAD_MESSAGE);
    //  Nor its size.
    assert_int_equal (s_put (f, "bad", 0, data, 100000, crc32c (0, data, 100000), true, 100001,
                             crc32c (0, data, 100000), NULL), PG__STATUS__BAD_MESSAGE);
    Pg__TargetStatReply st;
    assert_int_equal (s_stat (f, "bad", &st), PG__STATUS__OK);
    assert_false (st.exists);
    assert_int_equal (st.partial_size, 0);
    //  An existing file is replaced only by a complete new one.
    assert_int_equal (s_put_file (f, "bad", data, 1000, 1000), PG__STATUS__OK);
    assert_int_equal (s_put (f, "bad", 0, data, 10, crc32c (0, data, 10), false, 0, 0, NULL),
                      PG__STATUS__OK);
    assert_int_equal (s_stat (f, "bad", &st), PG__STATUS__OK);
    assert_true (st.exists);
    assert_int_equal (st.size, 1000);
    assert_int_equal (st.partial_size, 10);
    free (data);
}

void
targetcheck_list_pages_in_path_order (targetcheck_t *f)
{
    const char *paths [] = { "b2/t/p1/b", "b2/t/p0/a", "b2/manifest", "b3/x", "b2/t/p0/c" };
    for (int i = 0; i < 5; i++)
        assert_int_equal (s_put_file (f, paths [i], (const uint8_t *) "abc", 3, 3), PG__STATUS__OK);
    //  An unfinished upload is not listed.
    assert_int_equal (s_put (f, "b2/t/p0/d", 0, "ab", 2, crc32c (0, "ab", 2), false, 0, 0, NULL),
                      PG__STATUS__OK);
    const char *want [] = { "b2/manifest", "b2/t/p0/a", "b2/t/p0/c", "b2/t/p1/b" };
    char after [64] = "";
    size_t seen = 0;
    for (int page = 0; page < 3; page++) {
        Pg__TargetList *list;
        msg_t *req = msg_new (&pg__target_list__descriptor, (void **) &list);
        list->prefix = msg_strdup (req, "b2");
        list->start_after = msg_strdup (req, after);
        list->limit = 2;
        msg_t *reply = NULL;
        assert_int_equal (rt_call (f->rt, f->target, &req, 10000, &reply), PG__STATUS__OK);
        Pg__TargetListReply *body = msg_body (reply);
        for (size_t i = 0; i < body->n_entries; i++) {
            assert_string_equal (body->entries [i]->path, want [seen]);
            assert_int_equal (body->entries [i]->size, 3);
            seen++;
        }
        bool more = body->more;
        if (body->n_entries)
            snprintf (after, sizeof after, "%s", body->entries [body->n_entries - 1]->path);
        msg_destroy (&reply);
        if (!more)
            break;
    }
    assert_int_equal (seen, 4);
    //  A prefix nothing is under lists nothing.
    Pg__TargetList *list;
    msg_t *req = msg_new (&pg__target_list__descriptor, (void **) &list);
    list->prefix = msg_strdup (req, "b9");
    msg_t *reply = NULL;
    assert_int_equal (rt_call (f->rt, f->target, &req, 10000, &reply), PG__STATUS__OK);
    assert_int_equal (((Pg__TargetListReply *) msg_body (reply))->n_entries, 0);
    msg_destroy (&reply);
}

void
targetcheck_remove_files_and_trees (targetcheck_t *f)
{
    assert_int_equal (s_put_file (f, "r/a/1", (const uint8_t *) "x", 1, 1), PG__STATUS__OK);
    assert_int_equal (s_put_file (f, "r/a/2", (const uint8_t *) "x", 1, 1), PG__STATUS__OK);
    assert_int_equal (s_put (f, "r/a/3", 0, "ab", 2, crc32c (0, "ab", 2), false, 0, 0, NULL),
                      PG__STATUS__OK);
    Pg__TargetRemove *remove;
    msg_t *req = msg_new (&pg__target_remove__descriptor, (void **) &remove);
    remove->path = msg_strdup (req, "r/a/1");
    msg_t *reply = NULL;
    assert_int_equal (rt_call (f->rt, f->target, &req, 10000, &reply), PG__STATUS__OK);
    msg_destroy (&reply);
    Pg__TargetStatReply st;
    assert_int_equal (s_stat (f, "r/a/1", &st), PG__STATUS__OK);
    assert_false (st.exists);
    //  A directory goes only when asked for recursively, with its uploads.
    req = msg_new (&pg__target_remove__descriptor, (void **) &remove);
    remove->path = msg_strdup (req, "r");
    assert_int_equal (rt_call (f->rt, f->target, &req, 10000, &reply), PG__STATUS__INVALID_ARGUMENT);
    msg_destroy (&reply);
    req = msg_new (&pg__target_remove__descriptor, (void **) &remove);
    remove->path = msg_strdup (req, "r");
    remove->recursive = true;
    assert_int_equal (rt_call (f->rt, f->target, &req, 10000, &reply), PG__STATUS__OK);
    msg_destroy (&reply);
    assert_int_equal (s_list_count (f, "r"), 0);
    assert_int_equal (s_stat (f, "r/a/3", &st), PG__STATUS__OK);
    assert_int_equal (st.partial_size, 0);
    //  Removing what is not there is done, not an error (retention retries).
    req = msg_new (&pg__target_remove__descriptor, (void **) &remove);
    remove->path = msg_strdup (req, "r/a/1");
    assert_int_equal (rt_call (f->rt, f->target, &req, 10000, &reply), PG__STATUS__OK);
    msg_destroy (&reply);
}

void
targetcheck_paths_outside_the_rules_are_refused (targetcheck_t *f)
{
    char long_path [1100];
    memset (long_path, 'a', sizeof long_path - 1);
    long_path [sizeof long_path - 1] = 0;
    for (size_t i = 100; i < sizeof long_path - 1; i += 100)
        long_path [i] = '/';
    size_t before = s_list_count (f, "");
    const char *bad [] = { "", "../x", "a/../../x", "/etc/passwd", "a//b", "a/", ".hidden",
                           "a/.x.part", "a b", "a\\b", "x\n", long_path };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        assert_int_equal (s_put (f, bad [i], 0, "a", 1, crc32c (0, "a", 1), true, 1,
                                 crc32c (0, "a", 1), NULL), PG__STATUS__INVALID_ARGUMENT);
        Pg__TargetStatReply st;
        assert_int_equal (s_stat (f, bad [i], &st), PG__STATUS__INVALID_ARGUMENT);
        uint8_t *data;
        size_t len;
        assert_int_equal (s_get_file (f, bad [i], &data, &len), PG__STATUS__INVALID_ARGUMENT);
    }
    //  Nothing was written.
    assert_int_equal (s_list_count (f, ""), before);
}

