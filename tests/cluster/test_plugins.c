/*  plugins: pegasusd loading actors from shared objects (actors/plugin.h),
    as an operator configures them. A loaded plugin answers through every
    part of the ABI (reply, ask, keep, timers, settings) and shows in the
    shell's `actors` like any actor; a bad reply it builds is refused, and
    a request it ignores is answered for it. Each way a plugin can fail to
    load stops the start with exit 1 and one error line naming the plugin
    and the cause, and a plugin loaded before the failing one is stopped
    again (nothing half-starts).
*/
#include "common/wiretypes.h"
#include "runtime/rt.h"
#include "rt.pb-c.h"
#include "status.pb-c.h"
#include "target.pb-c.h"
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

typedef struct {
    char *dir;
    char cfg [4300];
    char log [4300];
    pid_t pid;
    int out;
    char address [64];
} node_t;

static const char *
s_plugin (const char *name)
{
    static char paths [4][4200];
    static int next;
    char *path = paths [next++ % 4];
    snprintf (path, sizeof paths [0], "%s", testutil_program (name));
    return path;
}

//  Writes a config with `plugins` (ZPL text of the section's body, or
//  NULL) and a filesystem target, and starts pegasusd on it. 0 once it
//  printed READY, -1 if it exited (node->pid is then 0).
static int
s_start (node_t *node, const char *plugins)
{
    memset (node, 0, sizeof *node);
    node->dir = testutil_tmpdir ("plugins");
    snprintf (node->cfg, sizeof node->cfg, "%s/node.cfg", node->dir);
    snprintf (node->log, sizeof node->log, "%s/node.log", node->dir);
    char backups [4300];
    snprintf (backups, sizeof backups, "%s/backups", node->dir);
    assert_int_equal (mkdir (backups, 0755), 0);
    FILE *file = fopen (node->cfg, "w");
    assert_non_null (file);
    fprintf (file, "node\n    data_dir = %s/data\n    log_file = %s\n"
             "transport\n    bind = 127.0.0.1:0\ntargets\n    local = %s\n",
             node->dir, node->log, backups);
    if (plugins)
        fprintf (file, "plugins\n%s", plugins);
    fclose (file);
    char *argv [] = { (char *) testutil_program ("pegasusd"), "-c", node->cfg, NULL };
    node->pid = testutil_spawn (argv, &node->out);
    assert_true (node->pid > 0);
    char line [256];
    if (testutil_read_line (node->out, line, sizeof line, 20000) == 0
    &&  sscanf (line, "READY %63s", node->address) == 1)
        return 0;
    int status;
    int64_t deadline = testutil_now_ms () + 10000;
    while (waitpid (node->pid, &status, WNOHANG) == 0 && testutil_now_ms () < deadline)
        usleep (10000);
    if (testutil_now_ms () >= deadline) {
        testutil_kill (node->pid);
        fail_msg ("pegasusd neither READY nor gone");
    }
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 1);
    node->pid = 0;
    return -1;
}

static void
s_stop (node_t *node)
{
    if (node->pid > 0)
        assert_int_equal (testutil_stop (node->pid, 10000), 0);
    close (node->out);
    testutil_rmdir (node->dir);
    free (node->dir);
}

//  The config must be refused with exactly one error line, which names the
//  plugin and says `cause`.
static void
s_refused (const char *plugins, const char *plugin, const char *cause)
{
    node_t node;
    assert_int_equal (s_start (&node, plugins), -1);
    char expect [512];
    snprintf (expect, sizeof expect, "plugin %s: ", plugin);
    if (testutil_count_lines (node.log, " E ") != 1 || testutil_count_lines (node.log, expect) < 1
    ||  testutil_count_lines (node.log, cause) != 1) {
        char command [4400];
        snprintf (command, sizeof command, "cat %s", node.log);
        assert_int_equal (system (command), 0);
        fail_msg ("wanted one error line naming %s with '%s'", plugin, cause);
    }
    assert_int_equal (testutil_count_lines (node.log, "pegasusd up"), 0);
    s_stop (&node);
}

//  ---------------------------------------------------------------------

static void
test_plugin_answers_through_every_part_of_the_abi (void **state)
{
    node_t node;
    char plugins [4400];
    snprintf (plugins, sizeof plugins, "    echo = %s\n        delay_ms = 50\n",
              s_plugin ("tests/plugins/.libs/echo.so"));
    assert_int_equal (s_start (&node, plugins), 0);
    assert_int_equal (testutil_count_lines (node.log, "echo started on"), 1);
    rt_t *rt = rt_newf ("runtime\n    workers = 1\n    log_level = error\n");
    assert_non_null (rt);
    char address [128];
    snprintf (address, sizeof address, "%s/echo", node.address);
    actor_t *echo = rt_lookup (rt, address);
    assert_non_null (echo);

    //  reply: the same bytes back.
    Pg__Ping *ping;
    msg_t *req = msg_new (&pg__ping__descriptor, (void **) &ping);
    ping->seq = 42;
    ping->note = msg_strdup (req, "through a plugin");
    msg_t *reply = NULL;
    assert_int_equal (rt_call (rt, echo, &req, 5000, &reply), PG__STATUS__OK);
    assert_true (msg_is (reply, &pg__ping__descriptor));
    Pg__Ping *pong = msg_body (reply);
    assert_int_equal (pong->seq, 42);
    assert_string_equal (pong->note, "through a plugin");
    msg_destroy (&reply);

    //  ask and keep: the plugin asks "node" and passes its answer on, in
    //  which the plugin itself is listed with its kind.
    req = msg_new (&pg__actors_query__descriptor, NULL);
    assert_int_equal (rt_call (rt, echo, &req, 5000, &reply), PG__STATUS__OK);
    assert_true (msg_is (reply, &pg__actors_reply__descriptor));
    Pg__ActorsReply *actors = msg_body (reply);
    bool listed = false, target = false;
    for (size_t i = 0; i < actors->n_actors; i++) {
        listed |= !strcmp (actors->actors [i]->name, "echo")
               && !strcmp (actors->actors [i]->kind, "test.echo");
        target |= !strcmp (actors->actors [i]->name, "local")
               && !strcmp (actors->actors [i]->kind, "target.fs");
    }
    assert_true (listed && target);
    msg_destroy (&reply);

    //  after: answered once the timer (delay_ms = 50, a setting) fired.
    Pg__TargetStat *stat;
    req = msg_new (&pg__target_stat__descriptor, (void **) &stat);
    stat->path = msg_strdup (req, "x");
    int64_t start = testutil_now_ms ();
    assert_int_equal (rt_call (rt, echo, &req, 5000, &reply), PG__STATUS__OK);
    assert_true (testutil_now_ms () - start >= 45);
    msg_destroy (&reply);

    //  A reply that does not decode as its type never leaves the node.
    req = msg_new (&pg__target_list__descriptor, NULL);
    assert_int_equal (rt_call (rt, echo, &req, 5000, &reply), PG__STATUS__INTERNAL);
    assert_non_null (strstr (msg_error (reply), "bad reply"));
    msg_destroy (&reply);

    //  A request the plugin ignores is answered for it, at once.
    req = msg_new (&pg__target_remove__descriptor, NULL);
    start = testutil_now_ms ();
    assert_int_equal (rt_call (rt, echo, &req, 5000, &reply), PG__STATUS__INVALID_ARGUMENT);
    assert_non_null (strstr (msg_error (reply), "does not answer pg.TargetRemove"));
    assert_true (testutil_now_ms () - start < 2000);
    msg_destroy (&reply);
    actor_unref (&echo);
    rt_destroy (&rt);

    //  The shell's `actors` lists it like any other.
    char command [4400];
    snprintf (command, sizeof command, "%s -e 'actors %s' > %s/actors.txt 2>&1",
              testutil_program ("pegasus"), node.address, node.dir);
    assert_int_equal (system (command), 0);
    snprintf (command, sizeof command, "%s/actors.txt", node.dir);
    assert_int_equal (testutil_count_lines (command, "test.echo"), 1);
    assert_int_equal (testutil_count_lines (command, "target.fs"), 1);

    //  A clean stop runs the plugin's fini.
    assert_int_equal (testutil_stop (node.pid, 10000), 0);
    node.pid = 0;
    assert_int_equal (testutil_count_lines (node.log, "echo stopped"), 1);
    s_stop (&node);
}

static void
test_plugin_that_cannot_load_stops_the_start (void **state)
{
    char plugins [4400];
    snprintf (plugins, sizeof plugins, "    gone = %s/no-such-plugin.so\n", testutil_program ("tests"));
    s_refused (plugins, "gone", "cannot load");

    snprintf (plugins, sizeof plugins, "    bare = %s\n", s_plugin ("tests/plugins/.libs/nosym.so"));
    s_refused (plugins, "bare", "exports no pegasus_plugin function");

    snprintf (plugins, sizeof plugins, "    old = %s\n", s_plugin ("tests/plugins/.libs/abi99.so"));
    s_refused (plugins, "old", "is built for plugin ABI 99, this pegasusd has ABI 1");

    s_refused ("    empty =\n", "empty", "no shared object named");
    snprintf (plugins, sizeof plugins, "    node = %s\n", s_plugin ("tests/plugins/.libs/echo.so"));
    s_refused (plugins, "node", "an actor of that name already runs");
    snprintf (plugins, sizeof plugins, "    local = %s\n", s_plugin ("tests/plugins/.libs/echo.so"));
    s_refused (plugins, "local", "an actor of that name already runs");
}

static void
test_plugin_whose_init_fails_stops_the_start (void **state)
{
    //  Init refuses (the plugin says why, the host says which plugin).
    node_t node;
    char plugins [4400];
    snprintf (plugins, sizeof plugins, "    echo = %s\n        fail = yes\n",
              s_plugin ("tests/plugins/.libs/echo.so"));
    assert_int_equal (s_start (&node, plugins), -1);
    assert_int_equal (testutil_count_lines (node.log, "told to fail"), 1);
    assert_int_equal (testutil_count_lines (node.log, "plugin echo: "), 1);
    assert_int_equal (testutil_count_lines (node.log, "its init failed"), 1);
    s_stop (&node);

    //  A setting out of its range is named with the range.
    snprintf (plugins, sizeof plugins, "    echo = %s\n        delay_ms = 5000\n",
              s_plugin ("tests/plugins/.libs/echo.so"));
    assert_int_equal (s_start (&node, plugins), -1);
    assert_int_equal (testutil_count_lines (node.log, "plugins/echo/delay_ms"), 1);
    assert_int_equal (testutil_count_lines (node.log, "its init failed"), 1);
    s_stop (&node);

    //  Nothing half-starts: the plugin loaded before the failing one is
    //  stopped again, and the node never serves.
    snprintf (plugins, sizeof plugins, "    first = %s\n    second = %s\n        fail = yes\n",
              s_plugin ("tests/plugins/.libs/echo.so"), s_plugin ("tests/plugins/.libs/echo.so"));
    assert_int_equal (s_start (&node, plugins), -1);
    assert_int_equal (testutil_count_lines (node.log, "echo started"), 1);
    assert_int_equal (testutil_count_lines (node.log, "echo stopped"), 1);
    assert_int_equal (testutil_count_lines (node.log, "plugin second: "), 1);
    assert_int_equal (testutil_count_lines (node.log, "pegasusd up"), 0);
    s_stop (&node);
}

int
main (void)
{
    assert_int_equal (wiretypes_register (), 0);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_plugin_answers_through_every_part_of_the_abi),
        cmocka_unit_test (test_plugin_that_cannot_load_stops_the_start),
        cmocka_unit_test (test_plugin_whose_init_fails_stops_the_start),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
