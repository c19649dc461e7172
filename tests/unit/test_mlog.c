/*  mlog: records round-trip; segments roll; reopening finds every record;
    a torn tail is truncated and logged; a flipped byte in an older segment
    loses that record and the rest of its segment, but is never returned;
    segments started from a zero-filled spare keep their size while written,
    and their zeros end them cleanly, while a torn record before the zeros
    is still found; the fault points of the sync (EIO, a slow disk). */
#include "replica/mlog.h"
#include "runtime/fault.h"
#include "tests/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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

//  A whole spare at once, as the log's helper writes it step by step.
static int
s_make_spare (const char *dir, uint64_t bytes)
{
    mlog_spare_t *spare = mlog_spare_new (dir, bytes);
    int rc = spare ? 1 : -1;
    while (rc == 1)
        rc = mlog_spare_step (spare, 1 << 20);
    mlog_spare_destroy (&spare);
    return rc;
}

static off_t
s_file_size (const char *dir, const char *name)
{
    char path [4200];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat (path, &st) ? -1 : st.st_size;
}

static void
test_spare_segments (void **state)
{
    (void) state;
    char *dir = testutil_tmpdir ("mlog");
    const uint64_t segment = 4000;      //  ~25 records
    mlog_t *log = mlog_open (dir, segment, NULL, NULL, NULL);
    assert_non_null (log);
    //  The first segment had no spare: it asks for one, once.
    assert_true (mlog_wants_spare (log));
    assert_false (mlog_wants_spare (log));
    assert_int_equal (s_make_spare (dir, segment), 0);
    assert_int_equal (s_file_size (dir, "spare"), (off_t) segment);
    assert_int_equal (s_file_size (dir, "spare.tmp"), -1);
    assert_int_equal (s_make_spare (dir, segment), 0);       //  one is ready: kept
    //  Roll into it: segment 2 is the spare, full size from its start.
    for (uint64_t d = 1; d <= 30; d++)
        s_append (log, d);
    assert_int_equal (mlog_sync (log, true), 0);
    assert_int_equal (mlog_current_segment (log), 2);
    assert_true (mlog_wants_spare (log));
    assert_int_equal (s_file_size (dir, "spare"), -1);
    assert_int_equal (s_file_size (dir, "log.0000000000000002"), (off_t) segment);
    //  Reopen: every record back, the zeros neither torn nor corrupt, the
    //  last segment's zeros given back.
    assert_int_equal (s_make_spare (dir, segment), 0);
    for (uint64_t d = 31; d <= 40; d++)
        s_append (log, d);
    mlog_sync (log, true);
    mlog_close (&log);
    seen_t seen = { 0 };
    mlog_stats_t stats;
    log = mlog_open (dir, segment, s_seen, &seen, &stats);
    assert_non_null (log);
    assert_int_equal (seen.n, 40);
    for (size_t i = 0; i < seen.n; i++)
        assert_int_equal (seen.decrees [i], i + 1);
    assert_int_equal (stats.torn_bytes, 0);
    assert_int_equal (stats.corrupt_bytes, 0);
    off_t last = s_file_size (dir, "log.0000000000000002");
    assert_int_equal (last, 16 + 15 * (off_t) mlog_record_size (100));
    //  The reopen started segment 3 from the spare made above.
    assert_int_equal (mlog_current_segment (log), 3);
    assert_int_equal (s_file_size (dir, "log.0000000000000003"), (off_t) segment);
    //  A log whose segment grows as written moves on to a ready spare at
    //  once; one already in a spare does not.
    assert_int_equal (mlog_use_spare (log), 0);
    assert_int_equal (mlog_current_segment (log), 3);
    mlog_close (&log);
    log = mlog_open (dir, segment, NULL, NULL, NULL);           //  segment 4, grown
    assert_int_equal (mlog_current_segment (log), 4);
    s_append (log, 41);
    assert_int_equal (mlog_use_spare (log), 0);                 //  no spare yet
    assert_int_equal (mlog_current_segment (log), 4);
    assert_int_equal (s_make_spare (dir, segment), 0);
    assert_int_equal (mlog_use_spare (log), 0);
    assert_int_equal (mlog_current_segment (log), 5);
    assert_int_equal (s_file_size (dir, "log.0000000000000005"), (off_t) segment);
    s_append (log, 42);
    mlog_sync (log, true);
    mlog_close (&log);
    memset (&seen, 0, sizeof seen);
    log = mlog_open (dir, segment, s_seen, &seen, &stats);
    assert_int_equal (seen.n, 42);
    assert_int_equal (seen.decrees [40], 41);
    assert_int_equal (seen.decrees [41], 42);
    mlog_close (&log);
    testutil_rmdir (dir);
    free (dir);
}

static void
test_torn_record_in_a_spare (void **state)
{
    (void) state;
    char *dir = testutil_tmpdir ("mlog");
    const uint64_t segment = 1 << 16;
    assert_int_equal (s_make_spare (dir, segment), 0);
    mlog_t *log = mlog_open (dir, segment, NULL, NULL, NULL);
    for (uint64_t d = 1; d <= 10; d++)
        s_append (log, d);
    mlog_sync (log, true);
    mlog_close (&log);
    //  Half of a record written over the zeros after the tenth, as a crash
    //  in the middle of a write would leave it.
    char path [4200];
    snprintf (path, sizeof path, "%s/log.%016x", dir, 1);
    assert_int_equal (s_file_size (dir, "log.0000000000000001"), (off_t) segment);
    uint8_t payload [100], record [200];
    memset (payload, 11, sizeof payload);
    mlog_record_t r = { 7, 3, 1, 11, 10, 1000, payload, 100 };
    mlog_record_encode (record, &r);
    int fd = open (path, O_WRONLY);
    off_t end = 16 + 10 * (off_t) mlog_record_size (100);
    assert_int_equal (pwrite (fd, record, 60, end), 60);
    close (fd);
    seen_t seen = { 0 };
    mlog_stats_t stats;
    log = mlog_open (dir, segment, s_seen, &seen, &stats);
    assert_non_null (log);
    assert_int_equal (seen.n, 10);
    assert_int_equal (stats.torn_bytes, segment - (uint64_t) end);
    assert_int_equal (s_file_size (dir, "log.0000000000000001"), end);
    mlog_close (&log);
    testutil_rmdir (dir);
    free (dir);
}

//  The disk fault points of the sync: with log.fsync_eio in the control
//  file a sync fails with EIO (nothing is lost: the records stay dirty);
//  with the file emptied, syncs work again and every record is there.
//  log.fsync_delay_ms makes a sync take at least that long.
static void
test_fsync_faults (void **state)
{
    (void) state;
    char *dir = testutil_tmpdir ("mlog");
    char faults [4200];
    snprintf (faults, sizeof faults, "%s/faults", dir);
    assert_int_equal (testutil_faults_file (faults), 0);

    mlog_t *log = mlog_open (dir, 1 << 20, NULL, NULL, NULL);
    assert_non_null (log);
    s_append (log, 1);
    assert_int_equal (mlog_sync (log, true), 0);
    assert_int_equal (fault_file_write (faults, "log.fsync_eio\n"), 0);
    s_append (log, 2);
    errno = 0;
    assert_int_equal (mlog_sync (log, true), -1);
    assert_int_equal (errno, EIO);
    assert_int_equal (mlog_sync (log, true), -1);               //  still failing
    //  Not durable is not a sync: no fdatasync, no fault.
    s_append (log, 3);
    assert_int_equal (mlog_sync (log, false), 0);
    assert_int_equal (fault_file_write (faults, ""), 0);
    assert_int_equal (mlog_sync (log, true), 0);
    s_append (log, 4);
    assert_int_equal (mlog_sync (log, true), 0);

    //  A slow disk: the sync waits the delay, then succeeds.
    assert_int_equal (fault_file_write (faults, "log.fsync_delay_ms 150\n"), 0);
    s_append (log, 5);
    int64_t start = testutil_now_ms ();
    assert_int_equal (mlog_sync (log, true), 0);
    assert_true (testutil_now_ms () - start >= 150);
    assert_int_equal (fault_file_write (faults, ""), 0);
    mlog_close (&log);

    seen_t seen = { 0 };
    log = mlog_open (dir, 1 << 20, s_seen, &seen, NULL);
    assert_non_null (log);
    assert_int_equal (seen.n, 5);
    mlog_close (&log);
    testutil_faults_off ();
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
        cmocka_unit_test (test_spare_segments),
        cmocka_unit_test (test_torn_record_in_a_spare),
        cmocka_unit_test (test_fsync_faults),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
