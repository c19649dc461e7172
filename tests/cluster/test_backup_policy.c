/*  Periodic backups as an operator runs them, through the shell against a
    real cluster: a policy of one-minute interval fires on its series (each
    backup starts within a few seconds of a whole minute), its older backups
    beyond `keep` are removed from the target as new ones complete, it
    survives a meta restart, disabling stops it and enabling starts it
    again; bad settings are refused with the reason, and a refused change
    leaves the policy as it was.
*/
#include "client/pegasus.h"
#include "tests/minicluster.h"
#include "tests/testutil.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

static minicluster_t *s_cluster;
static char *s_backups;

//  Runs shell commands; their output in a malloc'd string, the exit status
//  in *status.
static char *
s_shell (int *status, const char *format, ...)
{
    char commands [2048], line [8192];
    va_list args;
    va_start (args, format);
    vsnprintf (commands, sizeof commands, format, args);
    va_end (args);
    snprintf (line, sizeof line, "%s -m %s -e \"%s\" 2>&1", testutil_program ("pegasus"),
              s_cluster->meta, commands);
    FILE *pipe = popen (line, "r");
    assert_non_null (pipe);
    char *out = calloc (1, 1 << 16);
    size_t n = fread (out, 1, (1 << 16) - 1, pipe);
    out [n] = 0;
    *status = pclose (pipe);
    return out;
}

static void
s_ok (const char *commands, const char *expect)
{
    int status;
    char *out = s_shell (&status, "%s", commands);
    if (status != 0 || (expect && !strstr (out, expect)))
        fail_msg ("'%s' gave %d: %s", commands, status, out);
    free (out);
}

static void
s_refused (const char *commands, const char *expect)
{
    int status;
    char *out = s_shell (&status, "%s", commands);
    if (status == 0 || !strstr (out, expect))
        fail_msg ("'%s' gave %d, not a refusal with '%s': %s", commands, status, expect, out);
    free (out);
}

//  Completed backups of the policy, oldest first (ids into ids).
static size_t
s_completed (uint64_t *ids, size_t max, int64_t *starts)
{
    pegasus_backup_t *b;
    size_t n, count = 0;
    assert_int_equal (pegasus_query_backups (s_cluster->meta, 0, &b, &n, 10000), PEGASUS_OK);
    for (size_t i = 0; i < n && count < max; i++)
        if (!strcmp (b [i].policy, "daily") && b [i].state == PEGASUS_JOB_COMPLETED) {
            starts [count] = b [i].start_ms;
            ids [count++] = b [i].id;
        }
    pegasus_backups_free (b, n);
    return count;
}

static void
test_policy_fires_on_time_and_keeps_the_last (void **state)
{
    s_ok ("create p1 -p 2 -r 3; use p1; set a b c; set d e f", NULL);
    //  Bad settings, each refused with its reason.
    s_refused ("add_backup_policy -p daily -b local -a p1 -i 59 -s 00:00 -c 1", "interval");
    s_refused ("add_backup_policy -p daily -b local -a p1 -i 60 -s 24:00 -c 1", "HH:MM");
    s_refused ("add_backup_policy -p daily -b nosuch -a p1 -i 60 -s 00:00 -c 1", "no backup target");
    s_refused ("add_backup_policy -p daily -b local -a p1,nosuch -i 60 -s 00:00 -c 1", "no table nosuch");
    s_refused ("add_backup_policy -p a/b -b local -a p1 -i 60 -s 00:00 -c 1", "policy name");
    //  Every minute from 00:00 UTC, keeping one.
    s_ok ("add_backup_policy -p daily -b local -a p1 -i 60 -s 00:00 -c 1", "added");
    s_refused ("add_backup_policy -p daily -b local -a p1 -i 60 -s 00:00 -c 1", "exists");
    s_ok ("ls_backup_policy", "daily");
    //  A refused change leaves it as it was.
    s_refused ("modify_backup_policy -p daily -a nosuch", "no table nosuch");
    s_ok ("query_backup_policy -p daily", " p1\n");
    //  Persisted: a restarted meta has it.
    minicluster_kill (s_cluster, 0);
    assert_int_equal (minicluster_restart (s_cluster, 0), 0);
    s_ok ("ls_backup_policy", "enabled");
    //  Two firings, each on a whole minute; after the second completes
    //  only one backup is kept and the first one's files are gone.
    uint64_t ids [8];
    int64_t starts [8];
    int64_t until = testutil_now_ms () + 200000;
    while (s_completed (ids, 8, starts) < 1 && testutil_now_ms () < until)
        usleep (500000);
    assert_int_equal (s_completed (ids, 8, starts), 1);
    uint64_t first = ids [0];
    assert_true (starts [0] % 60000 < 5000);
    char path [4300];
    snprintf (path, sizeof path, "%s/%" PRIu64 "/manifest", s_backups, first);
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    while ((s_completed (ids, 8, starts) < 1 || ids [0] == first) && testutil_now_ms () < until)
        usleep (500000);
    assert_int_equal (s_completed (ids, 8, starts), 1);
    assert_true (ids [0] > first);
    assert_true (starts [0] % 60000 < 5000);
    snprintf (path, sizeof path, "%s/%" PRIu64, s_backups, first);
    int64_t gone = testutil_now_ms () + 10000;
    while (stat (path, &st) == 0 && testutil_now_ms () < gone)
        usleep (100000);
    assert_int_not_equal (stat (path, &st), 0);
    //  Disabled: no next time; enabled: one again.
    s_ok ("disable_backup_policy -p daily; ls_backup_policy", "disabled");
    pegasus_backup_policy_t *policies;
    size_t n;
    assert_int_equal (pegasus_list_backup_policies (s_cluster->meta, "daily", &policies, &n, 10000),
                      PEGASUS_OK);
    assert_int_equal (n, 1);
    assert_false (policies [0].enabled);
    assert_int_equal (policies [0].next_fire_ms, 0);
    pegasus_backup_policies_free (policies, n);
    s_ok ("enable_backup_policy -p daily", "enabled");
    assert_int_equal (pegasus_list_backup_policies (s_cluster->meta, "daily", &policies, &n, 10000),
                      PEGASUS_OK);
    assert_true (policies [0].enabled);
    assert_true (policies [0].next_fire_ms > testutil_now_ms () - 1000);
    assert_int_equal (policies [0].next_fire_ms % 60000, 0);
    pegasus_backup_policies_free (policies, n);
    s_ok ("modify_backup_policy -p daily -i 3600 -c 3; query_backup_policy -p daily", "3600");
    s_refused ("enable_backup_policy -p nosuch", "no policy nosuch");
}

static int
s_setup (void **state)
{
    s_backups = testutil_tmpdir ("backups");
    static char extra [4400];
    snprintf (extra, sizeof extra, "targets\n    local = %s\n", s_backups);
    s_cluster = minicluster_start (3, extra);
    return s_cluster ? 0 : -1;
}

static int
s_teardown (void **state)
{
    minicluster_stop (&s_cluster);
    testutil_rmdir (s_backups);
    free (s_backups);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_policy_fires_on_time_and_keeps_the_last),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
