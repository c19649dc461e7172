/*  mlog: records round-trip; segments roll; reopening finds every record;
    a torn tail is truncated and logged; a flipped byte in an older segment
    loses that record and the rest of its segment, but is never returned. */
#include "replica/mlog.h"
#include "tests/testutil.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

typedef struct {
    uint64_t decrees [1000];
    size_t n;
    mlog_loc_t locs [1000];
} seen_t;

static void
s_seen (void *ctx, const mlog_record_t *r, mlog_loc_t loc)
{
    seen_t *seen = ctx;
    //  Every payload is 100 bytes of (decree & 0xFF).
    assert_int_equal (r->payload_len, 100);
    for (int i = 0; i < 100; i++)
        assert_int_equal (r->payload [i], (uint8_t) r->decree);
    assert_int_equal (r->app_id, 7);
    assert_int_equal (r->partition, (uint32_t) (r->decree % 4));
    seen->locs [seen->n] = loc;
    seen->decrees [seen->n++] = r->decree;
}

static void
s_append (mlog_t *log, uint64_t decree)
{
    uint8_t payload [100], record [200];
    memset (payload, (int) (decree & 0xFF), sizeof payload);
    mlog_record_t r = { 7, (uint32_t) (decree % 4), 1, decree, decree - 1, 1000, payload, 100 };
    mlog_record_encode (record, &r);
    mlog_loc_t loc;
    assert_int_equal (mlog_append (log, record, mlog_record_size (100), &loc), 0);
}

static void
test_round_trip_and_roll (void **state)
{
    (void) state;
    char *dir = testutil_tmpdir ("mlog");
    mlog_t *log = mlog_open (dir, 2000, NULL, NULL, NULL);      //  ~12 records a segment
    assert_non_null (log);
    for (uint64_t d = 1; d <= 100; d++)
        s_append (log, d);
    assert_int_equal (mlog_sync (log, true), 0);
    assert_true (mlog_current_segment (log) > 5);
    //  Reads by location, before and after a reopen.
    mlog_close (&log);
    seen_t seen = { 0 };
    mlog_stats_t stats;
    log = mlog_open (dir, 2000, s_seen, &seen, &stats);
    assert_non_null (log);
    assert_int_equal (seen.n, 100);
    for (size_t i = 0; i < 100; i++)
        assert_int_equal (seen.decrees [i], i + 1);
    assert_int_equal (stats.torn_bytes, 0);
    assert_int_equal (stats.corrupt_bytes, 0);
    uint8_t buf [256];
    mlog_record_t r;
    assert_int_equal (mlog_read (log, seen.locs [42], buf, &r), 0);
    assert_int_equal (r.decree, 43);
    //  Records still in the write buffer can be read too.
    s_append (log, 101);
    mlog_close (&log);
    testutil_rmdir (dir);
    free (dir);
}

static void
test_torn_tail (void **state)
{
    (void) state;
    char *dir = testutil_tmpdir ("mlog");
    mlog_t *log = mlog_open (dir, 1 << 20, NULL, NULL, NULL);
    for (uint64_t d = 1; d <= 10; d++)
        s_append (log, d);
    mlog_sync (log, true);
    mlog_close (&log);
    //  The only segment is the last one: cut its last record in half, as a
    //  crash in the middle of a write would.
    char path [4200];
    snprintf (path, sizeof path, "%s/log.%016x", dir, 1);
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    assert_int_equal (truncate (path, st.st_size - 50), 0);
    seen_t seen = { 0 };
    mlog_stats_t stats;
    log = mlog_open (dir, 1 << 20, s_seen, &seen, &stats);
    assert_non_null (log);
    assert_int_equal (seen.n, 9);                   //  the torn record is gone
    assert_int_equal (stats.torn_bytes, mlog_record_size (100) - 50);
    assert_int_equal (stats.corrupt_bytes, 0);
    assert_int_equal (stat (path, &st), 0);
    assert_int_equal ((size_t) st.st_size, 16 + 9 * mlog_record_size (100));   //  truncated
    //  Appending after the repair works, and a reopen sees a clean log.
    s_append (log, 10);
    mlog_sync (log, true);
    mlog_close (&log);
    memset (&seen, 0, sizeof seen);
    log = mlog_open (dir, 1 << 20, s_seen, &seen, &stats);
    assert_int_equal (seen.n, 10);
    assert_int_equal (stats.torn_bytes, 0);
    mlog_close (&log);
    testutil_rmdir (dir);
    free (dir);
}

static void
test_flipped_byte (void **state)
{
    (void) state;
    char *dir = testutil_tmpdir ("mlog");
    mlog_t *log = mlog_open (dir, 1 << 20, NULL, NULL, NULL);
    for (uint64_t d = 1; d <= 10; d++)
        s_append (log, d);
    mlog_sync (log, true);
    mlog_close (&log);
    log = mlog_open (dir, 1 << 20, NULL, NULL, NULL);   //  a later segment exists now
    s_append (log, 11);
    mlog_sync (log, true);
    mlog_close (&log);
    //  Flip one payload byte of record 5 in the first segment.
    char path [4200];
    snprintf (path, sizeof path, "%s/log.%016x", dir, 1);
    int fd = open (path, O_RDWR);
    off_t at = 16 + 4 * (off_t) mlog_record_size (100) + 70;
    uint8_t byte;
    assert_int_equal (pread (fd, &byte, 1, at), 1);
    byte ^= 0x40;
    assert_int_equal (pwrite (fd, &byte, 1, at), 1);
    close (fd);
    seen_t seen = { 0 };
    mlog_stats_t stats;
    log = mlog_open (dir, 1 << 20, s_seen, &seen, &stats);
    assert_non_null (log);
    //  Records 1-4 and the later segment's 11: never the corrupt 5.
    assert_int_equal (seen.n, 5);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal (seen.decrees [i], i + 1);
    assert_int_equal (seen.decrees [4], 11);
    assert_int_equal (stats.corrupt_bytes, 6 * mlog_record_size (100));
    mlog_close (&log);
    testutil_rmdir (dir);
    free (dir);
}

static void
test_decode_rejects_garbage (void **state)
{
    (void) state;
    uint8_t payload [10] = { 1 }, record [100];
    mlog_record_t r = { 1, 2, 3, 4, 3, 5, payload, 10 }, out;
    mlog_record_encode (record, &r);
    size_t size = mlog_record_size (10);
    assert_int_equal (mlog_record_decode (record, size, &out), size);
    assert_int_equal (out.decree, 4);
    for (size_t len = 0; len < size; len++)
        assert_int_equal (mlog_record_decode (record, len, &out), 0);
    for (size_t i = 0; i < size; i++) {
        record [i] ^= 1;
        assert_int_equal (mlog_record_decode (record, size, &out), 0);
        record [i] ^= 1;
    }
}

static void
test_remove_segment (void **state)
{
    (void) state;
    char *dir = testutil_tmpdir ("mlog");
    mlog_t *log = mlog_open (dir, 2000, NULL, NULL, NULL);
    for (uint64_t d = 1; d <= 50; d++)
        s_append (log, d);
    mlog_sync (log, true);
    uint64_t bytes = mlog_bytes (log);
    assert_int_equal (mlog_remove_segment (log, 1), 0);
    assert_true (mlog_bytes (log) < bytes);
    assert_int_equal (mlog_remove_segment (log, 1), -1);                        //  gone
    assert_int_equal (mlog_remove_segment (log, mlog_current_segment (log)), -1);   //  current
    mlog_close (&log);
    seen_t seen = { 0 };
    log = mlog_open (dir, 2000, s_seen, &seen, NULL);
    assert_true (seen.n < 50 && seen.n > 30);
    assert_true (seen.decrees [0] > 1);
    mlog_close (&log);
    testutil_rmdir (dir);
    free (dir);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_round_trip_and_roll),
        cmocka_unit_test (test_torn_tail),
        cmocka_unit_test (test_flipped_byte),
        cmocka_unit_test (test_decode_rejects_garbage),
        cmocka_unit_test (test_remove_segment),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
