/*  The pegasus shell against a real cluster: every admin and data
    command through `pegasus -m <meta> -e ...` and a script on stdin, their
    output, and their exit status on errors. */
#include "tests/minicluster.h"
#include "tests/testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

static minicluster_t *s_cluster;

//  Runs the shell with -e commands (or with stdin from `script` if
//  commands is NULL). Returns its exit status; output in out (stdout and
//  stderr together).
static int
s_shell (const char *commands, const char *script, char *out, size_t size)
{
    char path [4200], command [16384];
    snprintf (path, sizeof path, "%s/script.txt", s_cluster->dir);
    if (script) {
        FILE *f = fopen (path, "w");
        fputs (script, f);
        fclose (f);
        snprintf (command, sizeof command, "%s -m %s < %s 2>&1", testutil_program ("pegasus"),
                  s_cluster->meta, path);
    }
    else
        snprintf (command, sizeof command, "%s -m %s -e \"%s\" 2>&1", testutil_program ("pegasus"),
                  s_cluster->meta, commands);
    FILE *p = popen (command, "r");
    size_t n = fread (out, 1, size - 1, p);
    out [n] = 0;
    int status = pclose (p);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static int
s_setup (void **state)
{
    (void) state;
    s_cluster = minicluster_start (3, NULL);
    if (!s_cluster)
        print_error ("setup: the cluster did not start\n");
    return s_cluster ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void) state;
    minicluster_stop (&s_cluster);
    return 0;
}

#define EXPECT(text) do { \
    if (!strstr (out, text)) \
        fail_msg ("expected '%s' in:\n%s", text, out); \
} while (0)

static void
test_admin_commands (void **state)
{
    (void) state;
    char out [65536];
    //  Wait until the replica servers are known.
    int64_t until = testutil_now_ms () + 20000;
    do
        s_shell ("nodes", NULL, out, sizeof out);
    while (!strstr (out, "3 alive") && testutil_now_ms () < until);
    EXPECT ("3 nodes, 3 alive");
    assert_int_equal (s_shell ("create demo -p 8 -r 3", NULL, out, sizeof out), 0);
    EXPECT ("table demo is ready");
    assert_int_equal (s_shell ("ls", NULL, out, sizeof out), 0);
    EXPECT ("demo");
    EXPECT ("1 tables");
    assert_int_equal (s_shell ("app demo -d", NULL, out, sizeof out), 0);
    EXPECT ("serving 8/8");
    assert_int_equal (s_shell ("actors", NULL, out, sizeof out), 0);
    EXPECT ("meta");
    EXPECT ("node");
    //  On a replica server: serving partitions run on the I/O thread, the
    //  log writer on a pinned thread of its own.
    char command [128];
    snprintf (command, sizeof command, "actors %s", s_cluster->addresses [1]);
    assert_int_equal (s_shell (command, NULL, out, sizeof out), 0);
    EXPECT ("THREAD");
    EXPECT (" io\n");
    EXPECT ("pinned-0");
    EXPECT ("logwriter");
    //  Errors: clear message, non-zero exit.
    assert_int_equal (s_shell ("create demo", NULL, out, sizeof out), 1);
    EXPECT ("ERROR APP_EXIST");
    assert_int_equal (s_shell ("create bad -p 3", NULL, out, sizeof out), 1);
    EXPECT ("ERROR INVALID_ARGUMENT");
    assert_int_equal (s_shell ("use nothing", NULL, out, sizeof out), 1);
    EXPECT ("ERROR APP_NOT_EXIST");
    assert_int_equal (s_shell ("get a b", NULL, out, sizeof out), 1);
    EXPECT ("use <table>");
    assert_int_equal (s_shell ("frobnicate", NULL, out, sizeof out), 1);
    EXPECT ("unknown command");
    assert_int_equal (s_shell ("set 'unterminated", NULL, out, sizeof out), 1);
    EXPECT ("unterminated quote");
}

static void
test_data_commands (void **state)
{
    (void) state;
    char out [65536];
    const char *script =
        "use demo\n"
        "set alice email a@x.org\n"
        "get alice email\n"
        "exist alice email\n"
        "set alice tmp gone 100\n"
        "ttl alice tmp\n"
        "del alice tmp\n"
        "get alice tmp\n"
        "multi_set bob s1 v1 s2 v2 s3 v3 s4 v4\n"
        "multi_get bob s1 s3 nope\n"
        "multi_get_range bob s2 s4 -a true -b true -r\n"
        "multi_get_sortkeys bob\n"
        "sortkey_count bob\n"
        "multi_del bob s1 s2\n"
        "sortkey_count bob\n"
        "incr counter n 5\n"
        "incr counter n -2\n"
        "check_and_set lock -c owner -t value_not_exist -s owner -v me -r\n"
        "check_and_set lock -c owner -t value_not_exist -s owner -v you -r\n"
        "check_and_mutate doc -c v -t value_not_exist -m set body hello -m set v 1\n"
        "get doc body\n"
        "set bin \"k\\x00ey\" \"v\\xffal\\\"ue\"\n"
        "get bin \"k\\x00ey\"\n"
        "scan bob\n"
        "full_scan -p 2 -n 3\n"
        "count_data -p 3\n"
        "batch_get alice email bob s4 no body\n";
    assert_int_equal (s_shell (NULL, script, out, sizeof out), 0);
    EXPECT ("\"a@x.org\"");
    EXPECT ("true");
    EXPECT ("ttl_seconds: 10");         //  100, or 99 a second later
    EXPECT ("NOT_FOUND");
    EXPECT ("\"bob\" : \"s3\" => \"v3\"");
    EXPECT ("2 key-value pairs got.");  //  multi_get s1 s3 nope
    EXPECT ("3 key-value pairs got.");  //  range s2..s4 reversed
    EXPECT ("count: 4");
    EXPECT ("2 sort keys deleted");
    EXPECT ("count: 2");
    EXPECT ("\n3\n");                   //  5 - 2
    EXPECT ("check passed: written");
    EXPECT ("check failed: nothing written");
    EXPECT ("check value: \"me\"");
    EXPECT ("\"hello\"");
    EXPECT ("\"v\\xFFal\\\"ue\"");      //  binary round-trips, escaped
    EXPECT ("3 key-value pairs got.");
    EXPECT ("2 of 3 found.");
    //  The range came back in reverse order.
    char *s4 = strstr (out, "\"bob\" : \"s4\" => \"v4\"");
    char *s2 = strstr (out, "\"bob\" : \"s2\" => \"v2\"");
    assert_true (s4 && s2 && s4 < s2);
    //  A script with a failing command exits 1 but runs the rest.
    assert_int_equal (s_shell (NULL, "use demo\nincr alice email\nget alice email\n", out, sizeof out), 1);
    EXPECT ("ERROR INVALID_ARGUMENT");
    EXPECT ("\"a@x.org\"");
    //  Several commands in one -e.
    assert_int_equal (s_shell ("use demo; get alice email; drop demo; ls -a", NULL, out, sizeof out), 0);
    EXPECT ("dropped");
    assert_int_equal (s_shell ("recall 1 demo2", NULL, out, sizeof out), 0);
    EXPECT ("table demo2 is ready");
    assert_int_equal (s_shell ("use demo2; get alice email", NULL, out, sizeof out), 0);
    EXPECT ("\"a@x.org\"");
}

//  The example client program, against the same cluster.
static void
test_example_kv (void **state)
{
    (void) state;
    char command [4200], out [8192];
    snprintf (command, sizeof command, "%s %s kv_example 2>&1", testutil_program ("examples/kv"),
              s_cluster->meta);
    for (int run = 1; run <= 2; run++) {
        FILE *p = popen (command, "r");
        size_t n = fread (out, 1, sizeof out - 1, p);
        out [n] = 0;
        assert_int_equal (pclose (p), 0);
        EXPECT ("email: alice@example.org");
        EXPECT (run == 1 ? "visits: 1" : "visits: 2");
        EXPECT (run == 1 ? "lock: taken" : "lock: held by someone");
        EXPECT ("city = Lisbon");
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_admin_commands),
        cmocka_unit_test (test_data_commands),
        cmocka_unit_test (test_example_kv),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
