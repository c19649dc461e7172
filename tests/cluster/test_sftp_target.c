/*  sftp_target: the example plugin (examples/sftp_target) loaded by a real
    pegasusd, against OpenSSH's real sshd on a loopback port with keys made
    for the test. It passes every check a backup target must pass
    (tests/targetcheck.c), with "restart" a SIGKILL of pegasusd, so resume
    reads the partial file back from the server. It also reconnects after
    the server was down (answering UNREACHABLE meanwhile), and refuses a
    server whose host key is not the known one.

    SFTP_PLUGIN names the shared object to load (the SDK test passes one
    built outside the tree); by default the one built here.
*/
#include "common/wiretypes.h"
#include "runtime/rt.h"
#include "status.pb-c.h"
#include "target.pb-c.h"
#include "tests/targetcheck.h"
#include "tests/testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#define SSHD "/usr/sbin/sshd"

typedef struct {
    targetcheck_t check;
    char *dir;
    char plugin [4200];
    int ssh_port;
    pid_t sshd;
    pid_t node;
    int node_out;
    char address [64];
} fixture_t;

static fixture_t s_f;

static void
s_run (const char *format, ...)
{
    char command [8192];
    va_list args;
    va_start (args, format);
    vsnprintf (command, sizeof command, format, args);
    va_end (args);
    if (system (command) != 0)
        fail_msg ("failed: %s", command);
}

static bool
s_port_open (void *ctx)
{
    int port = *(int *) ctx;
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    bool open = connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0;
    close (fd);
    return open;
}

static void
s_sshd_start (fixture_t *f)
{
    char config [4300];
    snprintf (config, sizeof config, "%s/sshd_config", f->dir);
    char *argv [] = { SSHD, "-D", "-e", "-f", config, NULL };
    int out;
    f->sshd = testutil_spawn (argv, &out);
    assert_true (f->sshd > 0);
    close (out);
    assert_true (testutil_wait (s_port_open, &f->ssh_port, 10000));
}

//  Stops the server and its sessions: each connection is a tree of
//  processes under the listener (in sessions of their own), which
//  outlives the listener by design.
static void
s_sshd_stop (fixture_t *f)
{
    s_run ("k () { for c in $(pgrep -P $1); do k $c; done; kill -KILL $1 2>/dev/null; }; "
           "for c in $(pgrep -P %d); do k $c; done; true", (int) f->sshd);
    testutil_stop (f->sshd, 5000);
    f->sshd = 0;
}

static void
s_node_start (fixture_t *f)
{
    char config [4300];
    snprintf (config, sizeof config, "%s/node.cfg", f->dir);
    char *argv [] = { (char *) testutil_program ("pegasusd"), "-c", config, NULL };
    f->node = testutil_spawn (argv, &f->node_out);
    assert_true (f->node > 0);
    char line [256];
    assert_int_equal (testutil_read_line (f->node_out, line, sizeof line, 20000), 0);
    assert_int_equal (sscanf (line, "READY %63s", f->address), 1);
}

static actor_t *
s_lookup (fixture_t *f, const char *name)
{
    char address [128];
    snprintf (address, sizeof address, "%s/%s", f->address, name);
    actor_t *actor = rt_lookup (f->check.rt, address);
    assert_non_null (actor);
    return actor;
}

static void
s_restart (targetcheck_t *check)
{
    fixture_t *f = check->ctx;
    testutil_kill (f->node);
    close (f->node_out);
    actor_unref (&check->target);
    s_node_start (f);
    check->target = s_lookup (f, "sftp");
}

static int
s_setup (void **state)
{
    fixture_t *f = &s_f;
    f->dir = testutil_tmpdir ("sftp");
    const char *plugin = getenv ("SFTP_PLUGIN");
    snprintf (f->plugin, sizeof f->plugin, "%s", plugin && *plugin ? plugin
              : testutil_program ("examples/sftp_target/.libs/sftp_target.so"));
    struct passwd *me = getpwuid (getuid ());
    assert_non_null (me);
    //  sshd wants its privilege separation directory, which a fresh
    //  machine's package install may not have made (no systemd).
    if (getuid () == 0)
        mkdir ("/run/sshd", 0755);
    s_run ("ssh-keygen -q -t ed25519 -N '' -f %s/host_key", f->dir);
    s_run ("ssh-keygen -q -t ed25519 -N '' -f %s/other_host_key", f->dir);
    s_run ("ssh-keygen -q -t ed25519 -N '' -f %s/client_key", f->dir);
    s_run ("cp %s/client_key.pub %s/authorized_keys && mkdir %s/remote", f->dir, f->dir, f->dir);
    f->ssh_port = testutil_free_port ();
    assert_true (f->ssh_port > 0);
    s_run ("printf '[127.0.0.1]:%d %%s\\n' \"$(cut -d' ' -f1,2 %s/host_key.pub)\" > %s/known_hosts",
           f->ssh_port, f->dir, f->dir);
    s_run ("printf '[127.0.0.1]:%d %%s\\n' \"$(cut -d' ' -f1,2 %s/other_host_key.pub)\" > %s/other_known_hosts",
           f->ssh_port, f->dir, f->dir);
    char path [4300];
    snprintf (path, sizeof path, "%s/sshd_config", f->dir);
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fprintf (file, "Port %d\nListenAddress 127.0.0.1\nHostKey %s/host_key\nPidFile %s/sshd.pid\n"
             "AuthorizedKeysFile %s/authorized_keys\nPasswordAuthentication no\n"
             "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
             "PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n"
             "Subsystem sftp internal-sftp\nLogLevel ERROR\n",
             f->ssh_port, f->dir, f->dir, f->dir);
    fclose (file);
    snprintf (path, sizeof path, "%s/node.cfg", f->dir);
    file = fopen (path, "w");
    assert_non_null (file);
#define SETTINGS "        host = 127.0.0.1\n        port = %d\n" \
        "        user = %s\n        identity = %s/client_key\n" \
        "        known_hosts = %s/%s\n        root = %s/remote\n" \
        "        timeout_ms = 5000\n"
    fprintf (file, "node\n    data_dir = %s/data\n    log_file = %s/node.log\n"
             "transport\n    bind = 127.0.0.1:0\nplugins\n    sftp = %s\n",
             f->dir, f->dir, f->plugin);
    fprintf (file, SETTINGS, f->ssh_port, me->pw_name, f->dir, f->dir, "known_hosts", f->dir);
    //  A second instance of the same plugin that knows another host key.
    fprintf (file, "    sftp_stranger = %s\n", f->plugin);
    fprintf (file, SETTINGS, f->ssh_port, me->pw_name, f->dir, f->dir, "other_known_hosts", f->dir);
    fclose (file);
    s_sshd_start (f);
    s_node_start (f);
    f->check.rt = rt_newf ("runtime\n    workers = 1\n    log_level = error\n");
    assert_non_null (f->check.rt);
    f->check.target = s_lookup (f, "sftp");
    f->check.restart = s_restart;
    f->check.ctx = f;
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = &s_f;
    actor_unref (&f->check.target);
    rt_destroy (&f->check.rt);
    if (f->node > 0)
        assert_int_equal (testutil_stop (f->node, 10000), 0);
    close (f->node_out);
    if (f->sshd > 0)
        s_sshd_stop (f);
    testutil_rmdir (f->dir);
    free (f->dir);
    return 0;
}

#define CHECK(name) \
    static void test_##name (void **state) { targetcheck_##name (&s_f.check); }

CHECK (put_then_get_round_trip)
CHECK (unfinished_upload_is_invisible_and_resumes)
CHECK (whole_file_mismatch_keeps_nothing)
CHECK (list_pages_in_path_order)
CHECK (remove_files_and_trees)
CHECK (paths_outside_the_rules_are_refused)

static int
s_stat (fixture_t *f, actor_t *target, const char *path, char *error, size_t size)
{
    Pg__TargetStat *stat;
    msg_t *req = msg_new (&pg__target_stat__descriptor, (void **) &stat);
    stat->path = msg_strdup (req, path);
    msg_t *reply = NULL;
    int status = rt_call (f->check.rt, target, &req, 20000, &reply);
    snprintf (error, size, "%s", reply ? msg_error (reply) : "");
    msg_destroy (&reply);
    return status;
}

static void
test_files_land_on_the_server (void **state)
{
    fixture_t *f = &s_f;
    //  What the checks stored is on the server's disk, under root.
    char path [4300];
    snprintf (path, sizeof path, "%s/remote/b1/t1/p0/000012.sst", f->dir);
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    assert_int_equal (st.st_size, 3 * 1048576 + 12345);
}

static void
test_server_down_then_back (void **state)
{
    fixture_t *f = &s_f;
    char error [512];
    assert_int_equal (s_stat (f, f->check.target, "b1/empty", error, sizeof error), PG__STATUS__OK);
    s_sshd_stop (f);
    //  The connection is gone: the next request finds out, and the one
    //  after cannot connect.
    assert_int_equal (s_stat (f, f->check.target, "b1/empty", error, sizeof error),
                      PG__STATUS__UNREACHABLE);
    assert_int_equal (s_stat (f, f->check.target, "b1/empty", error, sizeof error),
                      PG__STATUS__UNREACHABLE);
    assert_non_null (strstr (error, "127.0.0.1"));
    s_sshd_start (f);
    int status = s_stat (f, f->check.target, "b1/empty", error, sizeof error);
    if (status != PG__STATUS__OK)
        fail_msg ("%d: %s", status, error);
}

static void
test_unknown_host_key_is_refused (void **state)
{
    fixture_t *f = &s_f;
    actor_t *stranger = s_lookup (f, "sftp_stranger");
    char error [512];
    assert_int_equal (s_stat (f, stranger, "b1/empty", error, sizeof error), PG__STATUS__UNREACHABLE);
    if (!strstr (error, "host key"))
        fail_msg ("%s", error);
    actor_unref (&stranger);
}

int
main (void)
{
    if (access (SSHD, X_OK)) {
        fprintf (stderr, "%s is missing: apt-get install openssh-server (./run.sh installs it)\n", SSHD);
        return 1;
    }
    assert_int_equal (wiretypes_register (), 0);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_put_then_get_round_trip),
        cmocka_unit_test (test_unfinished_upload_is_invisible_and_resumes),
        cmocka_unit_test (test_whole_file_mismatch_keeps_nothing),
        cmocka_unit_test (test_list_pages_in_path_order),
        cmocka_unit_test (test_remove_files_and_trees),
        cmocka_unit_test (test_paths_outside_the_rules_are_refused),
        cmocka_unit_test (test_files_land_on_the_server),
        cmocka_unit_test (test_server_down_then_back),
        cmocka_unit_test (test_unknown_host_key_is_refused),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
