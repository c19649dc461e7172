/*  fstarget: the built-in backup target on a real directory, through the
    checks every target must pass (tests/targetcheck.c: chunked puts with
    per-chunk and whole-file CRC32C, resume from a partial upload across a
    restart of the target, files visible only when whole, get, list with
    paging, stat, remove, refusal of paths outside the rules), and what is
    its own: nothing lands outside its root, and a root that is not a
    writable directory is refused at start.
*/
#include "actors/fstarget.h"
#include "common/crc.h"
#include "common/wiretypes.h"
#include "status.pb-c.h"
#include "target.pb-c.h"
#include "runtime/rt.h"
#include "tests/targetcheck.h"
#include "tests/testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

typedef struct {
    targetcheck_t check;
    char *dir;
} fixture_t;

static void
s_restart (targetcheck_t *check)
{
    fixture_t *f = check->ctx;
    actor_stop (&check->target);
    check->target = fstarget_spawn (check->rt, "local", f->dir);
}

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    f->dir = testutil_tmpdir ("fstarget");
    f->check.rt = rt_newf ("runtime\n    workers = 1\n    pinned_threads = 2\n    log_level = error\n");
    assert_non_null (f->check.rt);
    f->check.target = fstarget_spawn (f->check.rt, "local", f->dir);
    assert_non_null (f->check.target);
    f->check.restart = s_restart;
    f->check.ctx = f;
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    actor_stop (&f->check.target);
    rt_destroy (&f->check.rt);
    testutil_rmdir (f->dir);
    free (f->dir);
    free (f);
    return 0;
}

#define CHECK(name) \
    static void test_##name (void **state) { targetcheck_##name (&((fixture_t *) *state)->check); }

CHECK (put_then_get_round_trip)
CHECK (unfinished_upload_is_invisible_and_resumes)
CHECK (whole_file_mismatch_keeps_nothing)
CHECK (list_pages_in_path_order)
CHECK (remove_files_and_trees)

static void
test_paths_outside_the_rules_are_refused (void **state)
{
    fixture_t *f = *state;
    targetcheck_paths_outside_the_rules_are_refused (&f->check);
    //  Nothing landed outside the root, nor inside it.
    char command [4400];
    snprintf (command, sizeof command, "test -z \"$(ls -A %s)\" && test ! -e %s/../etc", f->dir, f->dir);
    assert_int_equal (system (command), 0);
}

//  The CRC a file was checked against comes back with stat (an extended
//  attribute), so an uploader can skip a file the target holds whole.
static void
test_stat_reports_the_crc (void **state)
{
    fixture_t *f = *state;
    static const char data [] = "a file whose crc the target keeps";
    uint32_t crc = crc32c (0, data, sizeof data);
    Pg__TargetPut *put;
    msg_t *req = msg_new (&pg__target_put__descriptor, (void **) &put);
    put->path = msg_strdup (req, "c/file");
    put->data.data = msg_memdup (req, data, sizeof data);
    put->data.len = sizeof data;
    put->crc32c = crc;
    put->last = true;
    put->file_size = sizeof data;
    put->file_crc32c = crc;
    msg_t *reply = NULL;
    assert_int_equal (rt_call (f->check.rt, f->check.target, &req, 10000, &reply), PG__STATUS__OK);
    msg_destroy (&reply);
    Pg__TargetStat *stat;
    req = msg_new (&pg__target_stat__descriptor, (void **) &stat);
    stat->path = msg_strdup (req, "c/file");
    assert_int_equal (rt_call (f->check.rt, f->check.target, &req, 10000, &reply), PG__STATUS__OK);
    assert_int_equal (((Pg__TargetStatReply *) msg_body (reply))->crc32c, crc);
    msg_destroy (&reply);
}

static void
test_root_must_be_a_writable_directory (void **state)
{
    fixture_t *f = *state;
    char path [4300];
    snprintf (path, sizeof path, "%s/missing", f->dir);
    assert_null (fstarget_spawn (f->check.rt, "other", path));
    snprintf (path, sizeof path, "%s/file", f->dir);
    FILE *file = fopen (path, "w");
    fclose (file);
    assert_null (fstarget_spawn (f->check.rt, "other", path));
}

int
main (void)
{
    assert_int_equal (wiretypes_register (), 0);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_put_then_get_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_unfinished_upload_is_invisible_and_resumes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_whole_file_mismatch_keeps_nothing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_list_pages_in_path_order, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_remove_files_and_trees, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_paths_outside_the_rules_are_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_stat_reports_the_crc, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_root_must_be_a_writable_directory, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
