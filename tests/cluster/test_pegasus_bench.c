/*  pegasus-bench against a real 3-replica cluster, as an operator runs
    it: it creates its table, loads records that then read back through
    the client library, runs every workload with throughput and
    percentiles in its JSON line and no errors, paces to a target rate,
    and refuses bad command lines with exit 2 and a message. */
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
#include <sys/wait.h>
#include <cmocka.h>

static minicluster_t *s_cluster;
static char s_out [65536];

//  Runs pegasus-bench with args; its exit status, output in s_out.
static int
s_bench (const char *args)
{
    char command [8192];
    snprintf (command, sizeof command, "timeout 60 %s -m %s %s 2>&1",
              testutil_program ("pegasus-bench"), s_cluster->meta, args);
    FILE *p = popen (command, "r");
    assert_non_null (p);
    size_t n = fread (s_out, 1, sizeof s_out - 1, p);
    s_out [n] = 0;
    int status = pclose (p);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

//  The count of operation `op` in the JSON line (-1 if absent).
static int64_t
s_count (const char *op)
{
    const char *json = strstr (s_out, "{\"tool\":\"pegasus-bench\"");
    if (!json)
        fail_msg ("no JSON line in:\n%s", s_out);
    char field [64];
    snprintf (field, sizeof field, "\"%s\":{\"count\":", op);
    const char *at = strstr (json, field);
    return at ? strtoll (at + strlen (field), NULL, 10) : -1;
}

static void
s_no_errors (void)
{
    if (!strstr (s_out, "\"errors\":{}}"))
        fail_msg ("errors reported:\n%s", s_out);
    double p99 = 0;
    const char *at = strstr (s_out, "\"p99_us\":");
    assert_non_null (at);
    p99 = strtod (at + 9, NULL);
    assert_true (p99 > 0);
}

static int
s_setup (void **state)
{
    (void) state;
    s_cluster = minicluster_start (3, NULL);
    return s_cluster ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void) state;
    minicluster_stop (&s_cluster);
    return 0;
}

static void
test_bad_command_lines (void **state)
{
    (void) state;
    assert_int_equal (s_bench ("-w z"), 2);
    assert_non_null (strstr (s_out, "workload 'z'"));
    assert_int_equal (s_bench ("--threads 0"), 2);
    assert_non_null (strstr (s_out, "threads = '0'"));
    assert_int_equal (s_bench ("--records -5"), 2);
    assert_int_equal (s_bench ("--duration soon"), 2);
    assert_int_equal (s_bench ("--dist pareto"), 2);
    assert_int_equal (s_bench ("--bogus"), 2);
    assert_non_null (strstr (s_out, "unknown option '--bogus'"));
    assert_int_equal (s_bench ("extra"), 2);
    assert_int_equal (s_bench ("--help"), 0);
    assert_non_null (strstr (s_out, "usage: pegasus-bench"));
    //  An unreachable meta server (a later -m wins): exit 1 with a
    //  reason, not a hang.
    assert_int_equal (s_bench ("-m 127.0.0.1:1 --timeout-ms 1000"), 1);
    assert_non_null (strstr (s_out, "pegasus-bench: "));
}

static void
test_load_then_read_back (void **state)
{
    (void) state;
    assert_int_equal (s_bench ("-t bench_load --partitions 4 -n 500 --load-only -T 2 -i 8"), 0);
    assert_non_null (strstr (s_out, "created table bench_load"));
    assert_non_null (strstr (s_out, "loaded 500 records"));
    assert_non_null (strstr (s_out, ", 0 failed"));
    //  Every record is there, with a value of the default 100 bytes.
    pegasus_client_t *client = pegasus_client_open (s_cluster->meta, "bench_load", 5000);
    assert_non_null (client);
    for (int r = 0; r < 500; r += 37) {
        char key [32];
        snprintf (key, sizeof key, "user%012d", r);
        void *value = NULL;
        size_t len = 0;
        assert_int_equal (pegasus_get (client, key, 16, "", 0, &value, &len, 5000), PEGASUS_OK);
        assert_int_equal (len, 100);
        pegasus_free (value);
    }
    pegasus_client_close (&client);
}

static void
test_workloads (void **state)
{
    (void) state;
    //  a: reads and updates, on the table loaded above.
    assert_int_equal (s_bench ("-t bench_load -w a -n 500 -d 1 --warmup 0.2 -T 2 -i 4"), 0);
    assert_true (s_count ("read") > 0);
    assert_true (s_count ("update") > 0);
    assert_int_equal (s_count ("scan"), -1);
    s_no_errors ();
    assert_non_null (strstr (s_out, "\"not_found\":0"));
    //  c: reads only; f: read-modify-writes; d: inserts and reads.
    assert_int_equal (s_bench ("-t bench_load -w c -n 500 -d 1 --warmup 0 -T 1 -i 8"), 0);
    assert_true (s_count ("read") > 0);
    assert_int_equal (s_count ("update"), -1);
    s_no_errors ();
    assert_int_equal (s_bench ("-t bench_load -w f -n 500 -d 1 --warmup 0 -T 1 -i 4"), 0);
    assert_true (s_count ("rmw") > 0);
    s_no_errors ();
    assert_int_equal (s_bench ("-t bench_load -w d -n 500 -d 1 --warmup 0 -T 1 -i 4"), 0);
    assert_true (s_count ("insert") > 0);
    s_no_errors ();
    //  e: scans within hash keys of 100 sort keys each, on its own table.
    assert_int_equal (s_bench ("-t bench_scan --partitions 4 -w e -n 1000 --load -d 1 --warmup 0 -T 1 -i 2"), 0);
    assert_true (s_count ("scan") > 0);
    s_no_errors ();
}

static void
test_paced (void **state)
{
    (void) state;
    //  200 ops/s for 2 s: about 400 ops, not as many as it could do.
    assert_int_equal (s_bench ("-t bench_load -w write -n 500 -d 2 --warmup 0 -T 2 -i 4 -r 200"), 0);
    int64_t n = s_count ("update");
    if (n < 300 || n > 440)
        fail_msg ("paced at 200/s for 2 s but did %" PRId64 ":\n%s", n, s_out);
    assert_non_null (strstr (s_out, "paced"));
    s_no_errors ();
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_bad_command_lines),
        cmocka_unit_test (test_load_then_read_back),
        cmocka_unit_test (test_workloads),
        cmocka_unit_test (test_paced),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
