/*  The network-namespace harness (tests/netns.h) does what fault tests
    will rely on: two rt-node processes, each in its own namespace on a
    fixed port, and this test's client runtime in the client namespace.
    Isolating a node, one-way drops in either direction and a partition
    between the nodes cut exactly the traffic they name, healing restores
    it on the same connections, and clean-up leaves nothing behind. Stale
    namespaces of dead runs are swept, and without privilege netns_new
    fails with a message that says so.

    Needs root: without it this test fails (FAULTS.md: fault tests never
    pass silently). */
#include "runtime/actor.h"
#include "runtime/rt.h"
#include "tests/echo.h"
#include "tests/netns.h"
#include "tests/testutil.h"
#include "rt.pb-c.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

//  Every namespace has its own ports, so one fixed port serves all nodes.
#define PORT        7000
#define CUT_MS      1000        //  an ask during a cut waits this long
#define RECOVER_MS  15000       //  bound on TCP resuming after a heal

//  ---------------------------------------------------------------------------
//  Helpers

//  Absolute path of a system program (testutil_spawn wants one).
static const char *
s_tool (const char *name)
{
    static char path [4][256];
    static int next;
    const char *dirs [] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };
    char *slot = path [next++ % 4];
    for (size_t i = 0; i < sizeof dirs / sizeof dirs [0]; i++) {
        snprintf (slot, 256, "%s/%s", dirs [i], name);
        if (access (slot, X_OK) == 0)
            return slot;
    }
    return name;
}

//  Runs argv (argv[0] an absolute path) in the calling thread's namespace,
//  collects its stdout in out, returns its exit code (-1 if it did not
//  exit within 10 s: then it is killed).
static int
s_capture (char *const argv [], char *out, size_t size)
{
    int fd;
    pid_t pid = testutil_spawn (argv, &fd);
    if (pid < 0)
        return -1;
    size_t used = 0;
    out [0] = 0;
    char line [1024];
    int64_t until = testutil_now_ms () + 10000;
    while (testutil_read_line (fd, line, sizeof line, until - testutil_now_ms ()) == 0) {
        size_t len = strlen (line);
        if (used + len + 2 > size)
            continue;               //  drain the rest, keep what fits
        memcpy (out + used, line, len);
        out [used + len] = '\n';
        used += len + 1;
        out [used] = 0;
    }
    close (fd);
    int status;
    while (waitpid (pid, &status, WNOHANG) == 0) {
        if (testutil_now_ms () > until) {
            testutil_kill (pid);
            return -1;
        }
        usleep (1000);
    }
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static bool
s_ns_exists (const char *name)
{
    char path [300];
    snprintf (path, sizeof path, "/run/netns/%s", name);
    return access (path, F_OK) == 0;
}

typedef struct {
    pid_t pid;
    int out;
    char node [256];
} child_t;

static int
s_start (netns_t *ns, int i, child_t *child)
{
    char bind [64];
    snprintf (bind, sizeof bind, "%s:%d", netns_addr (ns, i), PORT);
    char *argv [] = { (char *) testutil_program ("tests/rt-node"), bind, NULL };
    child->pid = netns_spawn (ns, i, argv, &child->out);
    if (child->pid < 0)
        return -1;
    char line [300];
    if (testutil_read_line (child->out, line, sizeof line, 10000)
    ||  strncmp (line, "READY ", 6)) {
        testutil_kill (child->pid);
        close (child->out);
        child->pid = -1;
        return -1;
    }
    snprintf (child->node, sizeof child->node, "%.255s", line + 6);
    return 0;
}

static int
s_ask (rt_t *rt, actor_t *echo, uint64_t seq, int64_t timeout_ms)
{
    msg_t *req = echo_ping (seq, "", 0), *reply = NULL;
    int rc = rt_call (rt, echo, &req, timeout_ms, &reply);
    if (rc == PG__STATUS__OK) {
        Pg__Ping *body = msg_body (reply);
        assert_int_equal (body->seq, seq);
    }
    msg_destroy (&reply);
    return rc;
}

//  After a heal: asks until one is answered, within RECOVER_MS. One long
//  ask rather than many short ones, so the only replies that can come
//  late are those of the asks made during the cut. Returns the ms it took.
static int64_t
s_recover (rt_t *rt, actor_t *echo, uint64_t seq)
{
    int64_t start = testutil_now_ms (), until = start + RECOVER_MS;
    int rc;
    do
        rc = s_ask (rt, echo, seq, until - testutil_now_ms ());
    while (rc != PG__STATUS__OK && testutil_now_ms () + 10 < until);
    assert_int_equal (rc, PG__STATUS__OK);
    return testutil_now_ms () - start;
}

static uint64_t
s_late (rt_t *rt)
{
    rt_stats_t stats;
    rt_stats (rt, &stats);
    return stats.late_replies;
}

//  A TCP connection from inside one namespace to address:PORT, made by a
//  thread that enters that namespace (setns moves only the calling
//  thread), so that node-to-node traffic can be checked without a
//  runtime in each node.
typedef struct {
    const char *ns;
    const char *addr;
    bool connected;
} probe_t;

static void *
s_probe_thread (void *arg)
{
    probe_t *probe = arg;
    char path [300];
    snprintf (path, sizeof path, "/run/netns/%s", probe->ns);
    int nsfd = open (path, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0)
        return NULL;
    int rc = setns (nsfd, CLONE_NEWNET);
    close (nsfd);
    if (rc)
        return NULL;
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons (PORT) };
    inet_pton (AF_INET, probe->addr, &to.sin_addr);
    if (connect (fd, (struct sockaddr *) &to, sizeof to) == 0)
        probe->connected = true;
    else
    if (errno == EINPROGRESS) {
        struct pollfd pfd = { fd, POLLOUT, 0 };
        int error = -1;
        socklen_t len = sizeof error;
        if (poll (&pfd, 1, 500) == 1
        &&  getsockopt (fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0 && error == 0)
            probe->connected = true;
    }
    close (fd);
    return NULL;
}

static bool
s_reachable (netns_t *ns, int from, int to)
{
    probe_t probe = { netns_name (ns, from), netns_addr (ns, to), false };
    pthread_t thread;
    assert_int_equal (pthread_create (&thread, NULL, s_probe_thread, &probe), 0);
    pthread_join (thread, NULL);
    return probe.connected;
}


//  ---------------------------------------------------------------------------
//  Without privilege netns_new fails and says why

//  Drops packets from -> to: an ask of node 0 times out while node 1
//  answers; after the heal node 0 answers again, and exactly one late
//  reply (to the ask that timed out) arrives.
static void
s_one_way (netns_t *ns, rt_t *rt, actor_t **echo, int from, int to, const char *label,
           uint64_t *seq)
{
    uint64_t late = s_late (rt);
    assert_int_equal (netns_block (ns, from, to), 0);
    assert_int_equal (s_ask (rt, echo [0], ++*seq, CUT_MS), PG__STATUS__TIMEOUT);
    assert_int_equal (s_ask (rt, echo [1], ++*seq, 5000), PG__STATUS__OK);
    assert_int_equal (netns_heal (ns), 0);
    int64_t took = s_recover (rt, echo [0], ++*seq);
    fprintf (stderr, "%s: node 0 answered %lld ms after heal; late replies %llu\n", label,
             (long long) took, (unsigned long long) (s_late (rt) - late));
    assert_int_equal (s_late (rt) - late, 1);
}

static void
test_no_privilege (void **state)
{
    (void) state;
    int fds [2];
    assert_int_equal (pipe (fds), 0);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        //  Root without capabilities: what an unprivileged run looks like.
        dup2 (fds [1], 2);
        close (fds [0]);
        struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
        struct __user_cap_data_struct data [2];
        memset (data, 0, sizeof data);
        if (syscall (SYS_capset, &header, data))
            _exit (2);
        netns_t *ns = netns_new (1);
        _exit (ns ? 1 : 0);
    }
    close (fds [1]);
    char message [2048] = "", line [1024];
    size_t used = 0;
    while (used < sizeof message - 1
       &&  testutil_read_line (fds [0], line, sizeof line, 10000) == 0)
        used += (size_t) snprintf (message + used, sizeof message - used, "%s\n", line);
    close (fds [0]);
    int status = testutil_stop (pid, 10000);
    fprintf (stderr, "without capabilities, netns_new said: %s", message);
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 0);     //  netns_new returned NULL
    assert_non_null (strstr (message, "network namespaces could not be created"));
    assert_non_null (strstr (message, "Operation not permitted"));
}


//  ---------------------------------------------------------------------------
//  Stale namespaces of dead runs are swept; those of live ones are not

static void
test_sweep_stale (void **state)
{
    (void) state;
    //  A pid above pid_max can never be live.
    long pid_max = 4194304;
    FILE *file = fopen ("/proc/sys/kernel/pid_max", "r");
    if (file) {
        if (fscanf (file, "%ld", &pid_max) != 1)
            pid_max = 4194304;
        fclose (file);
    }
    long dead = pid_max + 1000;
    assert_true (kill ((pid_t) dead, 0) < 0 && errno == ESRCH);
    long live = (long) getppid ();

    char node [64], bridge [64], mine [64], veth [32], port [32], out [4096];
    snprintf (node, sizeof node, "pgt-%ld-n0", dead);
    snprintf (bridge, sizeof bridge, "pgt-%ld-br", dead);
    snprintf (mine, sizeof mine, "pgt-%ld-n0", live);
    snprintf (veth, sizeof veth, "pgt%ldn0", dead);
    snprintf (port, sizeof port, "pgt%ldb0", dead);
    assert_true (strlen (port) < 16);               //  IFNAMSIZ
    char *ip = (char *) s_tool ("ip");
    char *add_node [] = { ip, "netns", "add", node, NULL };
    char *add_bridge [] = { ip, "netns", "add", bridge, NULL };
    char *add_mine [] = { ip, "netns", "add", mine, NULL };
    char *add_veth [] = { ip, "-n", node, "link", "add", veth, "type", "veth",
                          "peer", "name", port, "netns", bridge, NULL };
    assert_int_equal (s_capture (add_node, out, sizeof out), 0);
    assert_int_equal (s_capture (add_bridge, out, sizeof out), 0);
    assert_int_equal (s_capture (add_mine, out, sizeof out), 0);
    assert_int_equal (s_capture (add_veth, out, sizeof out), 0);

    //  A program the dead run left running inside: swept with it.
    char *stray_argv [] = { ip, "netns", "exec", node, (char *) s_tool ("sleep"), "30", NULL };
    int stray_out;
    pid_t stray = testutil_spawn (stray_argv, &stray_out);
    assert_true (stray > 0);
    char *pids [] = { ip, "netns", "pids", node, NULL };
    char want [32];
    snprintf (want, sizeof want, "%d\n", (int) stray);
    int64_t until = testutil_now_ms () + 5000;
    while (testutil_now_ms () < until
       &&  (s_capture (pids, out, sizeof out) || strcmp (out, want)))
        usleep (2000);
    assert_string_equal (out, want);    //  `ip netns exec` became the program

    int swept = netns_sweep_stale ();
    assert_true (swept >= 2);
    int status = testutil_stop (stray, 5000);
    close (stray_out);
    assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
    assert_false (s_ns_exists (node));
    assert_false (s_ns_exists (bridge));
    assert_true (s_ns_exists (mine));               //  its pid is alive
    char *del_mine [] = { ip, "netns", "del", mine, NULL };
    assert_int_equal (s_capture (del_mine, out, sizeof out), 0);
    assert_false (s_ns_exists (mine));
}


//  ---------------------------------------------------------------------------
//  Faults between real processes

static struct {
    netns_t *ns;
    child_t child [2];
    rt_t *rt;
    actor_t *echo [2];
    int home;                       //  this thread's namespace before the client's
} s;

//  Runs also when an assert fails: stops what the test started, by pid.
static int
s_teardown (void **state)
{
    (void) state;
    for (int i = 0; i < 2; i++) {
        actor_unref (&s.echo [i]);
        if (s.child [i].pid > 0) {
            testutil_stop (s.child [i].pid, 10000);
            close (s.child [i].out);
            s.child [i].pid = -1;
        }
    }
    rt_destroy (&s.rt);
    if (s.home >= 0) {
        setns (s.home, CLONE_NEWNET);
        close (s.home);
        s.home = -1;
    }
    netns_destroy (&s.ns);
    return 0;
}

static void
test_faults (void **state)
{
    (void) state;
    s.home = -1;
    s.child [0].pid = s.child [1].pid = -1;
    s.ns = netns_new (2);
    if (!s.ns)
        fail_msg ("network namespaces could not be created (the reason is above); "
                  "this fault test needs root and does not skip");
    netns_t *ns = s.ns;
    char expect [64];
    snprintf (expect, sizeof expect, "pgt-%d-n1", (int) getpid ());
    assert_string_equal (netns_name (ns, 1), expect);
    snprintf (expect, sizeof expect, "pgt-%d-c", (int) getpid ());
    assert_string_equal (netns_name (ns, NETNS_CLIENT), expect);
    assert_null (netns_name (ns, 2));
    assert_null (netns_addr (ns, -2));
    fprintf (stderr, "node 0 %s, node 1 %s, client %s\n",
             netns_addr (ns, 0), netns_addr (ns, 1), netns_addr (ns, NETNS_CLIENT));

    for (int i = 0; i < 2; i++) {
        assert_int_equal (s_start (ns, i, &s.child [i]), 0);
        snprintf (expect, sizeof expect, "%s:%d", netns_addr (ns, i), PORT);
        assert_string_equal (s.child [i].node, expect);
    }
    s.home = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    assert_true (s.home >= 0);
    assert_int_equal (netns_enter_client (ns), 0);

    //  The client namespace routes its /24 and nothing else: no way out.
    char out [8192], prefix [32];
    char *routes [] = { (char *) s_tool ("ip"), "-4", "route", "show", "table", "all", NULL };
    assert_int_equal (s_capture (routes, out, sizeof out), 0);
    snprintf (prefix, sizeof prefix, "%s", netns_addr (ns, NETNS_CLIENT));
    strrchr (prefix, '.') [1] = 0;              //  "10.a.b."
    for (char *line = strtok (out, "\n"); line; line = strtok (NULL, "\n"))
        if (strncmp (line, "local 127.", 10) && strncmp (line, "broadcast 127.", 14)
        &&  !strstr (line, prefix))
            fail_msg ("the client namespace routes elsewhere: %s", line);

    //  The runtime's threads (ZeroMQ's among them) start now, in here.
    s.rt = rt_newf ("runtime\n    workers = 2\n    log_level = error\n");
    assert_non_null (s.rt);
    rt_t *rt = s.rt;
    for (int i = 0; i < 2; i++) {
        char address [300];
        snprintf (address, sizeof address, "%s/echo", s.child [i].node);
        s.echo [i] = rt_lookup (rt, address);
        assert_non_null (s.echo [i]);
        assert_int_equal (s_ask (rt, s.echo [i], 1, 10000), PG__STATUS__OK);
    }
    actor_t **echo = s.echo;
    uint64_t seq = 100;

    //  Isolated: node 0 is silent, node 1 unaffected.
    uint64_t late = s_late (rt);
    assert_int_equal (netns_isolate (ns, 0), 0);
    assert_int_equal (s_ask (rt, echo [0], ++seq, CUT_MS), PG__STATUS__TIMEOUT);
    assert_int_equal (s_ask (rt, echo [1], ++seq, 5000), PG__STATUS__OK);
    assert_int_equal (netns_heal (ns), 0);
    int64_t took = s_recover (rt, echo [0], ++seq);
    //  The ask made during the cut sat in the client's TCP send queue; it
    //  was retransmitted after the heal, node 0 ran it (the transport gives
    //  it its remaining timeout on arrival) and answered too late: a
    //  timed-out request may still have happened.
    fprintf (stderr, "isolate: node 0 answered %lld ms after heal; late replies %llu\n",
             (long long) took, (unsigned long long) (s_late (rt) - late));
    assert_int_equal (s_late (rt) - late, 1);

    //  Client -> node 0 dropped: the request never arrives; node 1 answers.
    //  As above, it is delivered after the heal.
    s_one_way (ns, rt, echo, NETNS_CLIENT, 0, "block client->0", &seq);

    //  Node 0 -> client dropped, the other way open: request/reply fails
    //  all the same. The request reaches node 0, which runs it and
    //  replies, but its reply (and its TCP ACKs) are dropped, so the ask
    //  times out; the client keeps retransmitting the unacknowledged
    //  request, node 0 its reply. After the heal the reply gets through
    //  and is counted as late. One-way loss at the IP level is two-way
    //  loss for anything that needs an answer, TCP included.
    s_one_way (ns, rt, echo, 0, NETNS_CLIENT, "block 0->client", &seq);

    //  A partition between the nodes cuts node 0 <-> node 1 (checked with
    //  plain TCP connects from inside each node's namespace), not the client.
    assert_true (s_reachable (ns, 0, 1));
    assert_true (s_reachable (ns, 1, 0));
    int side_a [] = { 0 }, side_b [] = { 1 };
    assert_int_equal (netns_partition (ns, side_a, 1, side_b, 1), 0);
    assert_false (s_reachable (ns, 0, 1));
    assert_false (s_reachable (ns, 1, 0));
    assert_true (s_reachable (ns, NETNS_CLIENT, 0));
    assert_true (s_reachable (ns, NETNS_CLIENT, 1));
    assert_int_equal (s_ask (rt, echo [0], ++seq, 5000), PG__STATUS__OK);
    assert_int_equal (s_ask (rt, echo [1], ++seq, 5000), PG__STATUS__OK);
    assert_int_equal (netns_heal (ns), 0);
    assert_true (s_reachable (ns, 0, 1));
    assert_true (s_reachable (ns, 1, 0));

    //  Stop everything by pid; then the namespaces go, leaving nothing.
    for (int i = 0; i < 2; i++) {
        actor_unref (&s.echo [i]);
        int status = testutil_stop (s.child [i].pid, 10000);
        close (s.child [i].out);
        s.child [i].pid = -1;
        assert_true (WIFEXITED (status));
        assert_int_equal (WEXITSTATUS (status), 0);
    }
    rt_destroy (&s.rt);
    assert_int_equal (setns (s.home, CLONE_NEWNET), 0);
    close (s.home);
    s.home = -1;
    netns_destroy (&s.ns);
    netns_destroy (&s.ns);                          //  safe twice

    char mark [32];
    snprintf (mark, sizeof mark, "pgt-%d-", (int) getpid ());
    char *list [] = { (char *) s_tool ("ip"), "netns", "list", NULL };
    assert_int_equal (s_capture (list, out, sizeof out), 0);
    assert_null (strstr (out, mark));
    snprintf (mark, sizeof mark, "pgt%d", (int) getpid ());
    char *links [] = { (char *) s_tool ("ip"), "-o", "link", "show", NULL };
    assert_int_equal (s_capture (links, out, sizeof out), 0);
    assert_null (strstr (out, mark));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_no_privilege),
        cmocka_unit_test (test_sweep_stale),
        cmocka_unit_test_teardown (test_faults, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
