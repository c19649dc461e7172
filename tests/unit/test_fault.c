/*  fault: off unless configured, loud when on; the control file's lines,
    comments and malformed lines (logged once, ignored); rewrites seen at
    the next check, even several within one mtime tick; a missing file
    means no faults; fault_nth's count; checks from several threads while
    the file changes. */
#include "runtime/fault.h"
#include "runtime/log.h"
#include "tests/testutil.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

typedef struct {
    char *dir;
    char file [4200];
    char log [4200];
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    f->dir = testutil_tmpdir ("fault");
    snprintf (f->file, sizeof f->file, "%s/faults", f->dir);
    snprintf (f->log, sizeof f->log, "%s/log", f->dir);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    testutil_faults_off ();
    testutil_rmdir (f->dir);
    free (f->dir);
    free (f);
    return 0;
}

static void
test_off_unless_configured (void **state)
{
    fixture_t *f = *state;
    assert_false (fault_enabled ());
    assert_int_equal (fault_file_write (f->file, "log.fsync_eio\n"), 0);
    int64_t arg = 7;
    assert_false (fault_on ("log.fsync_eio", &arg));
    assert_int_equal (arg, 0);
    assert_false (fault_nth ("log.fsync_eio"));
    //  A config without the key keeps it off.
    zconfig_t *config = zconfig_str_load ("runtime\n    workers = 1\n");
    assert_int_equal (fault_configure (config), 0);
    zconfig_destroy (&config);
    assert_false (fault_enabled ());
    assert_false (fault_on ("log.fsync_eio", NULL));
}

static void
test_control_file (void **state)
{
    fixture_t *f = *state;
    log_set_level (LOGL_NOTICE);
    assert_int_equal (log_set_file (f->log), 0);
    //  Configured before the file exists: on, but no faults yet.
    assert_int_equal (testutil_faults_file (f->file), 0);
    assert_true (fault_enabled ());
    assert_int_equal (testutil_count_lines (f->log, "FAULT INJECTION ENABLED"), 1);
    assert_int_equal (testutil_count_lines (f->log, "never use this in production"), 1);
    assert_false (fault_on ("log.fsync_eio", NULL));

    assert_int_equal (fault_file_write (f->file,
        "# comment line\n"
        "\n"
        "log.fsync_eio\n"
        "log.fsync_delay_ms 250   # a trailing comment\n"
        "   spaced.out\t-3  \n"
        "too many words\n"
        "bad.arg 12x\n"
        "bad/name 1\n"), 0);
    int64_t arg = -1;
    assert_true (fault_on ("log.fsync_eio", &arg));
    assert_int_equal (arg, 0);
    assert_true (fault_on ("log.fsync_delay_ms", &arg));
    assert_int_equal (arg, 250);
    assert_true (fault_on ("spaced.out", &arg));
    assert_int_equal (arg, -3);
    assert_true (fault_on ("log.fsync_eio", NULL));
    assert_false (fault_on ("too", NULL));
    assert_false (fault_on ("bad.arg", &arg));
    assert_int_equal (arg, 0);
    assert_false (fault_on ("bad/name", NULL));
    assert_false (fault_on ("log", NULL));
    //  Each malformed line was logged once, however often faults are checked.
    for (int i = 0; i < 10; i++)
        fault_on ("log.fsync_eio", NULL);
    assert_int_equal (testutil_count_lines (f->log, "'too many words'"), 1);
    assert_int_equal (testutil_count_lines (f->log, "'bad.arg 12x'"), 1);
    assert_int_equal (testutil_count_lines (f->log, "'bad/name 1'"), 1);

    //  Emptied: nothing on. Removed: nothing on. Back: on again.
    assert_int_equal (fault_file_write (f->file, ""), 0);
    assert_false (fault_on ("log.fsync_eio", NULL));
    assert_int_equal (fault_file_write (f->file, "log.fsync_eio\n"), 0);
    assert_true (fault_on ("log.fsync_eio", NULL));
    assert_int_equal (unlink (f->file), 0);
    assert_false (fault_on ("log.fsync_eio", NULL));
    assert_int_equal (fault_file_write (f->file, "log.fsync_eio\n"), 0);
    assert_true (fault_on ("log.fsync_eio", NULL));

    //  Turned off by a config without the key, whatever the file says.
    zconfig_t *none = zconfig_str_load ("");
    assert_int_equal (fault_configure (none), 0);
    zconfig_destroy (&none);
    assert_false (fault_enabled ());
    assert_false (fault_on ("log.fsync_eio", NULL));
    log_set_level (LOGL_ERROR);
}

//  Versions of the same size written back to back, faster than a coarse
//  mtime clock ticks: every one is seen.
static void
test_rewrites_same_size (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (testutil_faults_file (f->file), 0);
    for (int i = 0; i < 500; i++) {
        char text [32];
        snprintf (text, sizeof text, "x.y %d\n", i % 10);
        assert_int_equal (fault_file_write (f->file, text), 0);
        int64_t arg;
        assert_true (fault_on ("x.y", &arg));
        assert_int_equal (arg, i % 10);
    }
}

static void
test_nth (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (testutil_faults_file (f->file), 0);
    assert_int_equal (fault_file_write (f->file, "p.fail 3\n"), 0);
    assert_false (fault_nth ("p.fail"));
    assert_false (fault_nth ("p.fail"));
    //  Another line added: p.fail's count carries over.
    assert_int_equal (fault_file_write (f->file, "p.fail 3\nother\n"), 0);
    assert_true (fault_nth ("p.fail"));
    for (int i = 0; i < 10; i++)
        assert_false (fault_nth ("p.fail"));
    //  A new N counts afresh; N < 1 never fires.
    assert_int_equal (fault_file_write (f->file, "p.fail 1\n"), 0);
    assert_true (fault_nth ("p.fail"));
    assert_false (fault_nth ("p.fail"));
    assert_int_equal (fault_file_write (f->file, "p.fail 0\n"), 0);
    assert_false (fault_nth ("p.fail"));
    assert_false (fault_nth ("absent"));
}

static void
test_bad_path (void **state)
{
    fixture_t *f = *state;
    //  A directory is not a control file.
    assert_int_equal (testutil_faults_file (f->dir), -1);
    assert_false (fault_enabled ());
}

typedef struct {
    fixture_t *f;
    atomic_bool stop;
    atomic_int seen_on;
    atomic_int bad;                     //  arguments no version had
} race_t;

static bool
s_seen_on (void *arg)
{
    return atomic_load (&((race_t *) arg)->seen_on) > 0;
}

static void *
s_checker (void *arg)
{
    race_t *race = arg;
    while (!atomic_load (&race->stop)) {
        int64_t value;
        if (fault_on ("r.x", &value)) {
            if (value < 1 || value > 3)
                atomic_fetch_add (&race->bad, 1);
            atomic_fetch_add (&race->seen_on, 1);
        }
    }
    return NULL;
}

static void
test_threads (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (testutil_faults_file (f->file), 0);
    race_t race = { f, false, 0, 0 };
    pthread_t threads [3];
    for (int i = 0; i < 3; i++)
        assert_int_equal (pthread_create (&threads [i], NULL, s_checker, &race), 0);
    for (int i = 0; i < 300; i++) {
        char text [32];
        snprintf (text, sizeof text, i % 4 ? "r.x %d\n" : "# off %d\n", 1 + i % 3);
        assert_int_equal (fault_file_write (f->file, text), 0);
    }
    //  The last version has r.x on: the checkers see it.
    bool seen = testutil_wait (s_seen_on, &race, 10000);
    atomic_store (&race.stop, true);
    for (int i = 0; i < 3; i++)
        pthread_join (threads [i], NULL);
    assert_true (seen);
    assert_int_equal (atomic_load (&race.bad), 0);
}

int
main (void)
{
    log_set_level (LOGL_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_off_unless_configured, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_control_file, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_rewrites_same_size, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_nth, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_bad_path, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_threads, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
