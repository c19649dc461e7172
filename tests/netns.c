/*  netns: see netns.h for the topology and the clean-up rules.

    Every change is made by running `ip` or `nft` (fork + execv, argv
    lists, never a shell line) with the child first entering the right
    namespace through an open namespace file (setns). So the commands do
    the same thing whichever namespace the calling thread is in: after
    netns_enter_client, a command meant for the root namespace still runs
    there, because the child enters the namespace that was current when
    netns_new ran.

    The signal path cannot run commands (fork, malloc and stdio are not
    safe in a handler), so what it needs lives in static slots it can read
    without locks: the paths of the namespace files and the pids spawned.
    It SIGKILLs those pids and does what `ip netns del` does (umount2 with
    MNT_DETACH, unlink): both plain system calls.
*/
#include "tests/netns.h"
#include "tests/testutil.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUN_DIR         "/run/netns"        //  where `ip netns` keeps names
#define COMMAND_MS      10000               //  bound on one ip/nft command
#define REAP_MS         5000                //  bound on reaping a SIGKILLed child
#define MAX_LIVE        4                   //  harnesses alive at once
#define MAX_PIDS        64                  //  spawned processes per harness
#define CLIENT_HOST     200                 //  the client is 10.a.b.200
#define TABLE           "pgt"               //  nft table in every endpoint
#define MAX_ENDPOINTS   (NETNS_MAX_NODES + 1)

//  The signal handler reads these slots from whatever thread the signal
//  lands on, while the thread driving the harness writes them; so the
//  counters are atomics (lock-free on every platform we run, asserted
//  below). A path is written in full before `paths` is raised past it
//  (release), and the handler reads `paths` first (acquire), so it never
//  sees half a path. A pid entry is a single atomic int.
_Static_assert (ATOMIC_INT_LOCK_FREE == 2, "the signal handler needs lock-free ints");

typedef struct {
    atomic_int owner;                       //  pid of the creating process; 0 = free
    atomic_int paths;                       //  entries of path [] filled
    char path [MAX_ENDPOINTS + 1][64];      //  "/run/netns/pgt-<pid>-..."
    atomic_int pids [MAX_PIDS];             //  0 = free
} slot_t;

typedef struct {
    char name [32];                 //  namespace: pgt-<pid>-n<i> / -c
    char ifname [16];               //  veth end inside it: pgt<pid>n<i> / c
    char port [16];                 //  veth end on the bridge: pgt<pid>b<i> / bc
    char addr [16];
    int fd;                         //  open namespace file, -1 until made
} endpoint_t;

struct netns_t {
    pid_t pid;                      //  creator; the names carry it
    int nodes;
    int slot;
    int root_fd;                    //  the namespace netns_new ran in
    char bridge_ns [32];            //  pgt-<pid>-br
    char bridge [16];               //  pgt<pid>br
    int bridge_fd;
    endpoint_t ep [MAX_ENDPOINTS];  //  nodes 0..nodes-1, then the client
};

static slot_t s_slots [MAX_LIVE];
static netns_t *s_live [MAX_LIVE];  //  for the atexit handler (normal context)
static struct sigaction s_old_term, s_old_int;
static bool s_hooked;
static volatile sig_atomic_t s_dying;
static char s_ip [256], s_nft [256];


//  ---------------------------------------------------------------------------
//  Running ip and nft

static void
s_nap_ms (int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000 };
    nanosleep (&ts, NULL);
}

//  Waits for child pid until deadline; SIGKILLs it past the deadline.
//  Returns the wait status, or -1 if it had to be killed.
static int
s_reap (pid_t pid, int64_t deadline)
{
    int status;
    while (true) {
        pid_t rc = waitpid (pid, &status, WNOHANG);
        if (rc == pid)
            return status;
        if (rc < 0 && errno != EINTR)
            return -1;
        if (testutil_now_ms () >= deadline)
            break;
        s_nap_ms (1);
    }
    kill (pid, SIGKILL);
    while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
        ;
    return -1;
}

//  In a forked child: a message without stdio (the parent may have had
//  a stdio lock held by another thread when it forked).
static void
s_child_say (const char *a, const char *b)
{
    if (write (2, a, strlen (a)) < 0 || write (2, b, strlen (b)) < 0
    ||  write (2, "\n", 1) < 0)
        return;
}

//  In a forked child: unblocked signals, the namespace ns_fd (if >= 0),
//  stdout onto out_fd (if >= 0), then argv. Never returns.
static void __attribute__ ((noreturn))
s_child_exec (int ns_fd, int out_fd, char *const argv [])
{
    sigset_t none;
    sigemptyset (&none);
    sigprocmask (SIG_SETMASK, &none, NULL);
    if (ns_fd >= 0 && setns (ns_fd, CLONE_NEWNET)) {
        s_child_say ("netns: setns failed before ", argv [0]);
        _exit (126);
    }
    if (out_fd >= 0 && dup2 (out_fd, 1) < 0)
        _exit (126);
    execv (argv [0], argv);
    s_child_say ("netns: cannot exec ", argv [0]);
    _exit (127);
}

//  Finds a program in PATH, then in the sbin directories (a non-login
//  root shell may not have them in PATH).
static int
s_which (const char *name, char *path, size_t size)
{
    const char *env = getenv ("PATH");
    char dirs [2048];
    snprintf (dirs, sizeof dirs, "%s:/usr/sbin:/sbin:/usr/bin:/bin", env ? env : "");
    char *save = NULL;
    for (char *dir = strtok_r (dirs, ":", &save); dir; dir = strtok_r (NULL, ":", &save)) {
        if (!*dir)
            continue;
        snprintf (path, size, "%s/%s", dir, name);
        if (access (path, X_OK) == 0)
            return 0;
    }
    return -1;
}

static int
s_tools (void)
{
    if (!*s_ip && s_which ("ip", s_ip, sizeof s_ip)) {
        *s_ip = 0;
        fprintf (stderr, "netns: cannot find the 'ip' program (Debian package iproute2)\n");
        return -1;
    }
    if (!*s_nft && s_which ("nft", s_nft, sizeof s_nft)) {
        *s_nft = 0;
        fprintf (stderr, "netns: cannot find the 'nft' program (Debian package nftables)\n");
        return -1;
    }
    return 0;
}

//  Runs program with the NULL-terminated arguments that follow, in the
//  namespace open as ns_fd (-1: the caller's), within COMMAND_MS. If out
//  is given, the command's stdout is captured there (NUL-terminated,
//  truncated to size). 0 if it exited with 0; otherwise the command line,
//  where it ran and why it failed go to stderr (its own stderr is
//  inherited, so its message comes first) and -1.
static int
s_run (int ns_fd, const char *where, char *out, size_t size, const char *program, ...)
{
    const char *argv [32];
    int argc = 0;
    argv [argc++] = program;
    va_list args;
    va_start (args, program);
    const char *arg;
    while ((arg = va_arg (args, const char *)) && argc < 31)
        argv [argc++] = arg;
    va_end (args);
    argv [argc] = NULL;

    char line [1024] = "";
    size_t used = 0;
    for (int i = 0; i < argc && used + 2 < sizeof line; i++)
        used += (size_t) snprintf (line + used, sizeof line - used, "%s%s", i ? " " : "", argv [i]);

    int fds [2] = { -1, -1 };
    if (out && pipe2 (fds, O_CLOEXEC)) {
        fprintf (stderr, "netns: pipe for `%s`: %s\n", line, strerror (errno));
        return -1;
    }
    pid_t pid = fork ();
    if (pid < 0) {
        fprintf (stderr, "netns: cannot fork for `%s`: %s\n", line, strerror (errno));
        if (out) {
            close (fds [0]);
            close (fds [1]);
        }
        return -1;
    }
    if (pid == 0)
        s_child_exec (ns_fd, out ? fds [1] : -1, (char *const *) argv);
    int64_t deadline = testutil_now_ms () + COMMAND_MS;
    if (out) {
        close (fds [1]);
        size_t got = 0;
        while (true) {
            int64_t left = deadline - testutil_now_ms ();
            if (left <= 0)
                break;
            struct pollfd pfd = { fds [0], POLLIN, 0 };
            int rc = poll (&pfd, 1, (int) left);
            if (rc < 0 && errno == EINTR)
                continue;
            if (rc <= 0)
                break;
            char scratch [4096];
            bool room = got + 1 < size;
            ssize_t n = read (fds [0], room ? out + got : scratch,
                              room ? size - 1 - got : sizeof scratch);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            if (room)
                got += (size_t) n;
        }
        out [got] = 0;
        close (fds [0]);
    }
    int status = s_reap (pid, deadline);
    if (status >= 0 && WIFEXITED (status) && WEXITSTATUS (status) == 0)
        return 0;
    if (status < 0)
        fprintf (stderr, "netns: `%s` (in %s) did not finish in %d ms; killed\n",
                 line, where, COMMAND_MS);
    else
    if (WIFEXITED (status))
        fprintf (stderr, "netns: `%s` (in %s) failed with exit status %d\n",
                 line, where, WEXITSTATUS (status));
    else
        fprintf (stderr, "netns: `%s` (in %s) died of signal %d\n",
                 line, where, WTERMSIG (status));
    return -1;
}


//  ---------------------------------------------------------------------------
//  Clean-up on signals and at exit

//  Is pid a child of ours not yet reaped (running or a zombie)? WNOWAIT
//  leaves its status for whoever reaps it. A pid that was reaped may since
//  belong to somebody else: never signal it.
static bool
s_is_our_child (pid_t pid)
{
    siginfo_t info;
    memset (&info, 0, sizeof info);
    return pid > 0 && waitid (P_PID, (id_t) pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

//  Signal-safe: SIGKILL what the slot's owner spawned and unmount its
//  namespaces. Only system calls.
static void
s_slot_scrub (slot_t *slot)
{
    for (int k = 0; k < MAX_PIDS; k++) {
        pid_t pid = atomic_load_explicit (&slot->pids [k], memory_order_relaxed);
        if (s_is_our_child (pid))
            kill (pid, SIGKILL);
    }
    int paths = atomic_load_explicit (&slot->paths, memory_order_acquire);
    for (int k = 0; k < paths; k++) {
        umount2 (slot->path [k], MNT_DETACH);
        unlink (slot->path [k]);
    }
}

static void
s_on_signal (int sig)
{
    int saved = errno;
    //  Only slots this very process made: a forked child that gets the
    //  signal between fork and exec must not tear down its parent's.
    pid_t me = getpid ();
    if (!s_dying) {
        s_dying = 1;
        for (int i = 0; i < MAX_LIVE; i++)
            if (atomic_load_explicit (&s_slots [i].owner, memory_order_acquire) == me)
                s_slot_scrub (&s_slots [i]);
    }
    //  Then do what would have happened without us: the previous handler,
    //  or the default action (death by this signal, as soon as we return
    //  and it is unblocked).
    const struct sigaction *old = sig == SIGTERM ? &s_old_term : &s_old_int;
    sigaction (sig, old, NULL);
    if (old->sa_handler == SIG_DFL)
        raise (sig);
    else
    if (old->sa_handler != SIG_IGN && !(old->sa_flags & SA_SIGINFO))
        old->sa_handler (sig);
    errno = saved;
}

static void
s_at_exit (void)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (s_live [i] && s_live [i]->pid == getpid ())
            netns_destroy (&s_live [i]);
}

//  Installs the handlers once per process. A signal the process ignores
//  stays ignored.
static void
s_hook (void)
{
    if (s_hooked)
        return;
    s_hooked = true;
    atexit (s_at_exit);
    struct sigaction action;
    memset (&action, 0, sizeof action);
    action.sa_handler = s_on_signal;
    sigemptyset (&action.sa_mask);
    sigaddset (&action.sa_mask, SIGTERM);
    sigaddset (&action.sa_mask, SIGINT);
    action.sa_flags = SA_RESTART;
    sigaction (SIGTERM, NULL, &s_old_term);
    if (s_old_term.sa_handler != SIG_IGN)
        sigaction (SIGTERM, &action, NULL);
    sigaction (SIGINT, NULL, &s_old_int);
    if (s_old_int.sa_handler != SIG_IGN)
        sigaction (SIGINT, &action, NULL);
}


//  ---------------------------------------------------------------------------
//  Stale namespaces

//  A pid that names no process here. EPERM means it exists. Note that a
//  run in another pid namespace sharing /run/netns would look dead.
static bool
s_pid_dead (long long pid)
{
    if (pid <= 0 || pid > INT_MAX)
        return true;
    if (pid == getpid ())
        return false;
    return kill ((pid_t) pid, 0) < 0 && errno == ESRCH;
}

//  "pgt-<digits>-..." → the pid, or -1.
static long long
s_ns_pid (const char *name)
{
    if (strncmp (name, "pgt-", 4))
        return -1;
    char *end;
    errno = 0;
    long long pid = strtoll (name + 4, &end, 10);
    if (errno || end == name + 4 || *end != '-' || !isdigit ((unsigned char) name [4]))
        return -1;
    return pid;
}

//  "pgt<digits>[nbc]..." (a link name) → the pid, or -1.
static long long
s_link_pid (const char *name)
{
    if (strncmp (name, "pgt", 3) || !isdigit ((unsigned char) name [3]))
        return -1;
    char *end;
    errno = 0;
    long long pid = strtoll (name + 3, &end, 10);
    if (errno || (*end != 'n' && *end != 'b' && *end != 'c'))
        return -1;
    return pid;
}

//  Deletes root-namespace links (run in root_fd) whose name matches
//  `match` (a pid, or -1 for any dead one). They should never exist: every
//  link is made inside a namespace. Returns how many it found.
static int
s_sweep_links (int root_fd, long long match)
{
    static char listing [65536];
    if (s_run (root_fd, "the root namespace", listing, sizeof listing,
               s_ip, "-o", "link", "show", NULL))
        return 0;
    char names [64][16];
    int found = 0;
    char *save = NULL;
    for (char *line = strtok_r (listing, "\n", &save); line && found < 64;
         line = strtok_r (NULL, "\n", &save)) {
        //  "12: pgt123n0@if11: <BROADCAST,..."
        char *name = strstr (line, ": ");
        if (!name)
            continue;
        name += 2;
        size_t len = strcspn (name, "@:");
        if (len == 0 || len >= 16)
            continue;
        char ifname [16];
        memcpy (ifname, name, len);
        ifname [len] = 0;
        long long pid = s_link_pid (ifname);
        if (pid < 0 || (match >= 0 ? pid != match : !s_pid_dead (pid)))
            continue;
        snprintf (names [found++], 16, "%s", ifname);
    }
    for (int i = 0; i < found; i++) {
        fprintf (stderr, "netns: deleting link %s left in the root namespace\n", names [i]);
        s_run (root_fd, "the root namespace", NULL, 0, s_ip, "link", "del", names [i], NULL);
    }
    return found;
}

static int
s_sweep (int root_fd)
{
    if (s_tools ())
        return -1;
    DIR *dir = opendir (RUN_DIR);
    if (!dir && errno != ENOENT) {
        fprintf (stderr, "netns: cannot list %s: %s\n", RUN_DIR, strerror (errno));
        return -1;
    }
    //  Collect first, delete after: deleting while reading a directory
    //  may skip entries.
    enum { MAX_STALE = 256 };
    static char stale [MAX_STALE][NAME_MAX + 1];
    int count = 0;
    struct dirent *entry;
    while (dir && (entry = readdir (dir)) && count < MAX_STALE) {
        long long pid = s_ns_pid (entry->d_name);
        if (pid >= 0 && s_pid_dead (pid))
            snprintf (stale [count++], sizeof stale [0], "%s", entry->d_name);
    }
    if (dir)
        closedir (dir);
    int deleted = 0;
    for (int i = 0; i < count; i++) {
        //  Processes the dead run left inside (if it was SIGKILLed before
        //  its children got their parent-death signal) would keep the
        //  namespace alive, unnamed, and run on for ever.
        static char pids [4096];
        if (s_run (root_fd, "the root namespace", pids, sizeof pids,
                   s_ip, "netns", "pids", stale [i], NULL) == 0) {
            char *save = NULL;
            for (char *word = strtok_r (pids, " \n", &save); word;
                 word = strtok_r (NULL, " \n", &save)) {
                long pid = strtol (word, NULL, 10);
                if (pid > 1 && pid != (long) getpid ()) {
                    fprintf (stderr, "netns: killing pid %ld, left in %s\n", pid, stale [i]);
                    kill ((pid_t) pid, SIGKILL);
                }
            }
        }
        if (s_run (root_fd, "the root namespace", NULL, 0,
                   s_ip, "netns", "del", stale [i], NULL) == 0)
            deleted++;
    }
    if (deleted)
        fprintf (stderr, "netns: deleted %d stale namespace(s) of dead runs\n", deleted);
    s_sweep_links (root_fd, -1);
    return deleted;
}

int
netns_sweep_stale (void)
{
    return s_sweep (-1);
}


//  ---------------------------------------------------------------------------
//  Addresses

typedef struct {
    uint32_t net;
    int len;
} prefix_t;

//  "a.b.c.d/len" or "a.b.c.d" → prefix. 0 or -1.
static int
s_parse_prefix (const char *text, prefix_t *prefix)
{
    char copy [64];
    snprintf (copy, sizeof copy, "%s", text);
    char *slash = strchr (copy, '/');
    int len = 32;
    if (slash) {
        *slash = 0;
        char *end;
        long value = strtol (slash + 1, &end, 10);
        if (*end || value < 0 || value > 32)
            return -1;
        len = (int) value;
    }
    struct in_addr addr;
    if (inet_pton (AF_INET, copy, &addr) != 1)
        return -1;
    prefix->net = ntohl (addr.s_addr);
    prefix->len = len;
    return 0;
}

static bool
s_overlaps (prefix_t a, prefix_t b)
{
    int len = a.len < b.len ? a.len : b.len;
    uint32_t mask = len == 0 ? 0 : 0xffffffffu << (32 - len);
    return (a.net & mask) == (b.net & mask);
}

//  Every IPv4 route (all tables) and address of the root namespace, as
//  prefixes. The default route is left out: it overlaps everything, and
//  no namespace of ours has one.
static int
s_root_prefixes (int root_fd, prefix_t *prefixes, int max)
{
    static char listing [65536];
    static const char *const types [] = { "unicast", "local", "broadcast", "multicast",
        "throw", "unreachable", "prohibit", "blackhole", "nat", "anycast", NULL };
    int count = 0;
    if (s_run (root_fd, "the root namespace", listing, sizeof listing,
               s_ip, "-4", "route", "show", "table", "all", NULL))
        return -1;
    char *save = NULL;
    for (char *line = strtok_r (listing, "\n", &save); line && count < max;
         line = strtok_r (NULL, "\n", &save)) {
        char *inner = NULL;
        char *word = strtok_r (line, " \t", &inner);
        for (int t = 0; word && types [t]; t++)
            if (!strcmp (word, types [t])) {
                word = strtok_r (NULL, " \t", &inner);
                break;
            }
        if (word && strcmp (word, "default") && s_parse_prefix (word, &prefixes [count]) == 0)
            count++;
    }
    if (s_run (root_fd, "the root namespace", listing, sizeof listing,
               s_ip, "-4", "-o", "addr", "show", NULL))
        return -1;
    save = NULL;
    for (char *line = strtok_r (listing, "\n", &save); line && count < max;
         line = strtok_r (NULL, "\n", &save)) {
        //  "2: eth0    inet 192.0.2.2/24 brd ... scope global eth0"
        char *inet = strstr (line, " inet ");
        if (!inet)
            continue;
        char word [64];
        if (sscanf (inet + 6, "%63s", word) == 1 && s_parse_prefix (word, &prefixes [count]) == 0)
            count++;
    }
    return count;
}

//  Picks 10.a.b.0/24 from the pid (so two runs tend to differ, though
//  their namespaces never meet anyway) that overlaps nothing the root
//  namespace routes or owns: an address of ours must never be one that
//  means something on the host's own networks.
static int
s_pick_range (netns_t *self, unsigned *a, unsigned *b)
{
    enum { MAX_PREFIXES = 1024 };
    static prefix_t prefixes [MAX_PREFIXES];
    int count = s_root_prefixes (self->root_fd, prefixes, MAX_PREFIXES);
    if (count < 0)
        return -1;
    for (uint32_t attempt = 0; attempt < 256; attempt++) {
        uint32_t hash = (uint32_t) self->pid * 2654435761u + attempt * 0x9e3779b9u;
        *a = 64 + (hash >> 16) % 160;
        *b = (hash >> 8) & 0xff;
        prefix_t mine = { (10u << 24) | (*a << 16) | (*b << 8), 24 };
        bool clash = false;
        for (int i = 0; i < count && !clash; i++)
            clash = s_overlaps (mine, prefixes [i]);
        if (!clash)
            return 0;
    }
    fprintf (stderr, "netns: every candidate 10.x.y.0/24 overlaps a route or "
                     "address of the root namespace\n");
    return -1;
}


//  ---------------------------------------------------------------------------
//  The harness

static endpoint_t *
s_endpoint (netns_t *self, int i)
{
    if (!self)
        return NULL;
    if (i == NETNS_CLIENT)
        return &self->ep [self->nodes];
    if (i < 0 || i >= self->nodes)
        return NULL;
    return &self->ep [i];
}

//  Can this process make network namespaces? Tried in a child, so that
//  nothing here changes; the answer comes back as the child's errno.
static int
s_check_privilege (void)
{
    pid_t pid = fork ();
    if (pid < 0) {
        fprintf (stderr, "netns: cannot fork: %s\n", strerror (errno));
        return -1;
    }
    if (pid == 0)
        _exit (unshare (CLONE_NEWNET) ? errno : 0);     //  errno values fit in 8 bits
    int status = s_reap (pid, testutil_now_ms () + COMMAND_MS);
    if (status >= 0 && WIFEXITED (status) && WEXITSTATUS (status) == 0)
        return 0;
    int code = status >= 0 && WIFEXITED (status) ? WEXITSTATUS (status) : 0;
    fprintf (stderr, "netns: network namespaces could not be created: "
                     "unshare(CLONE_NEWNET) failed: %s (uid %d; these fault "
                     "tests need root, or CAP_SYS_ADMIN and CAP_NET_ADMIN)\n",
             code ? strerror (code) : "the probe did not exit", (int) geteuid ());
    return -1;
}

//  `ip netns add name`, recorded in the slot first (so a signal arriving
//  during the command still removes it), then opened.
static int
s_add_namespace (netns_t *self, const char *name, int *fd)
{
    slot_t *slot = &s_slots [self->slot];
    int k = atomic_load_explicit (&slot->paths, memory_order_relaxed);
    snprintf (slot->path [k], sizeof slot->path [k], "%s/%s", RUN_DIR, name);
    atomic_store_explicit (&slot->paths, k + 1, memory_order_release);
    if (s_run (self->root_fd, "the root namespace", NULL, 0, s_ip, "netns", "add", name, NULL))
        return -1;
    *fd = open (slot->path [k], O_RDONLY | O_CLOEXEC);
    if (*fd < 0) {
        fprintf (stderr, "netns: cannot open %s: %s\n", slot->path [k], strerror (errno));
        return -1;
    }
    return 0;
}

//  Builds one endpoint: its namespace, its veth pair (made inside it, the
//  peer end sent straight to the bridge namespace, so no link ever shows
//  in the root namespace), its address, its nft table and chain.
static int
s_add_endpoint (netns_t *self, endpoint_t *ep)
{
    if (s_add_namespace (self, ep->name, &ep->fd))
        return -1;
    char cidr [24];
    snprintf (cidr, sizeof cidr, "%s/24", ep->addr);
    if (s_run (ep->fd, ep->name, NULL, 0, s_ip, "link", "set", "lo", "up", NULL)
    ||  s_run (ep->fd, ep->name, NULL, 0, s_ip, "link", "add", ep->ifname, "type", "veth",
               "peer", "name", ep->port, "netns", self->bridge_ns, NULL)
    ||  s_run (ep->fd, ep->name, NULL, 0, s_ip, "addr", "add", cidr, "dev", ep->ifname, NULL)
    ||  s_run (ep->fd, ep->name, NULL, 0, s_ip, "link", "set", ep->ifname, "up", NULL)
    ||  s_run (self->bridge_fd, self->bridge_ns, NULL, 0, s_ip, "link", "set", ep->port,
               "master", self->bridge, "up", NULL)
    //  nft joins its arguments into one script: one argument is clearer.
    ||  s_run (ep->fd, ep->name, NULL, 0, s_nft,
               "add table inet " TABLE "; add chain inet " TABLE " input "
               "{ type filter hook input priority 0; policy accept; }", NULL))
        return -1;
    return 0;
}

netns_t *
netns_new (int nodes)
{
    if (nodes < 1 || nodes > NETNS_MAX_NODES) {
        fprintf (stderr, "netns: %d nodes: expected 1..%d\n", nodes, NETNS_MAX_NODES);
        return NULL;
    }
    if (s_tools () || s_check_privilege ())
        return NULL;
    int slot = 0;
    while (slot < MAX_LIVE && atomic_load (&s_slots [slot].owner))
        slot++;
    if (slot == MAX_LIVE) {
        fprintf (stderr, "netns: more than %d harnesses at once\n", MAX_LIVE);
        return NULL;
    }
    netns_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->pid = getpid ();
    self->nodes = nodes;
    self->slot = slot;
    self->root_fd = self->bridge_fd = -1;
    for (int i = 0; i < MAX_ENDPOINTS; i++)
        self->ep [i].fd = -1;
    s_hook ();
    atomic_store (&s_slots [slot].paths, 0);
    for (int k = 0; k < MAX_PIDS; k++)
        atomic_store (&s_slots [slot].pids [k], 0);
    atomic_store (&s_slots [slot].owner, (int) self->pid);
    s_live [slot] = self;

    self->root_fd = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self->root_fd < 0) {
        fprintf (stderr, "netns: cannot open /proc/thread-self/ns/net: %s\n", strerror (errno));
        netns_destroy (&self);
        return NULL;
    }
    s_sweep (self->root_fd);

    unsigned a, b;
    if (s_pick_range (self, &a, &b)) {
        netns_destroy (&self);
        return NULL;
    }
    //  Names: pid_max is at most 2^22 (7 digits), so "pgt" + 7 + "b" + 2
    //  digits = 13 characters, within IFNAMSIZ - 1 = 15.
    int pid = (int) self->pid;
    snprintf (self->bridge_ns, sizeof self->bridge_ns, "pgt-%d-br", pid);
    snprintf (self->bridge, sizeof self->bridge, "pgt%dbr", pid);
    for (int i = 0; i <= nodes; i++) {
        endpoint_t *ep = &self->ep [i];
        bool client = i == nodes;
        if (client) {
            snprintf (ep->name, sizeof ep->name, "pgt-%d-c", pid);
            snprintf (ep->ifname, sizeof ep->ifname, "pgt%dc", pid);
            snprintf (ep->port, sizeof ep->port, "pgt%dbc", pid);
        }
        else {
            snprintf (ep->name, sizeof ep->name, "pgt-%d-n%d", pid, i);
            snprintf (ep->ifname, sizeof ep->ifname, "pgt%dn%d", pid, i);
            snprintf (ep->port, sizeof ep->port, "pgt%db%d", pid, i);
        }
        snprintf (ep->addr, sizeof ep->addr, "10.%u.%u.%d", a, b, client ? CLIENT_HOST : i + 1);
    }
    if (s_add_namespace (self, self->bridge_ns, &self->bridge_fd)
    ||  s_run (self->bridge_fd, self->bridge_ns, NULL, 0, s_ip, "link", "set", "lo", "up", NULL)
    ||  s_run (self->bridge_fd, self->bridge_ns, NULL, 0,
               s_ip, "link", "add", self->bridge, "type", "bridge", NULL)
    ||  s_run (self->bridge_fd, self->bridge_ns, NULL, 0,
               s_ip, "link", "set", self->bridge, "up", NULL)) {
        netns_destroy (&self);
        return NULL;
    }
    for (int i = 0; i <= nodes; i++)
        if (s_add_endpoint (self, &self->ep [i])) {
            netns_destroy (&self);
            return NULL;
        }
    return self;
}

void
netns_destroy (netns_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    netns_t *self = *self_p;
    *self_p = NULL;
    slot_t *slot = &s_slots [self->slot];

    //  A process still inside would keep its namespace alive, unnamed.
    for (int k = 0; k < MAX_PIDS; k++) {
        pid_t pid = atomic_load (&slot->pids [k]);
        if (s_is_our_child (pid)) {
            fprintf (stderr, "netns: pid %d still runs in a namespace; killing it\n", (int) pid);
            kill (pid, SIGKILL);
            s_reap (pid, testutil_now_ms () + REAP_MS);
        }
    }
    //  Namespace files may exist that were never opened (a failed
    //  netns_new): delete by the recorded paths, not by the open fds.
    for (int i = 0; i < MAX_ENDPOINTS; i++)
        if (self->ep [i].fd >= 0)
            close (self->ep [i].fd);
    if (self->bridge_fd >= 0)
        close (self->bridge_fd);
    int paths = atomic_load (&slot->paths);
    for (int k = paths - 1; k >= 0; k--) {
        struct stat info;
        if (stat (slot->path [k], &info) == 0)
            s_run (self->root_fd, "the root namespace", NULL, 0, s_ip, "netns", "del",
                   slot->path [k] + strlen (RUN_DIR) + 1, NULL);
    }
    if (self->root_fd >= 0) {
        s_sweep_links (self->root_fd, self->pid);
        close (self->root_fd);
    }
    //  Release the slot last: until now a signal still cleans it.
    atomic_store (&slot->paths, 0);
    s_live [self->slot] = NULL;
    atomic_store (&slot->owner, 0);
    free (self);
}

const char *
netns_name (netns_t *self, int i)
{
    endpoint_t *ep = s_endpoint (self, i);
    return ep ? ep->name : NULL;
}

const char *
netns_addr (netns_t *self, int i)
{
    endpoint_t *ep = s_endpoint (self, i);
    return ep ? ep->addr : NULL;
}

int
netns_enter_client (netns_t *self)
{
    endpoint_t *ep = s_endpoint (self, NETNS_CLIENT);
    if (!ep)
        return -1;
    if (setns (ep->fd, CLONE_NEWNET)) {
        fprintf (stderr, "netns: cannot enter %s: %s\n", ep->name, strerror (errno));
        return -1;
    }
    return 0;
}

pid_t
netns_spawn (netns_t *self, int i, char *const argv [], int *stdout_fd)
{
    endpoint_t *ep = s_endpoint (self, i);
    if (!ep || !argv || !argv [0] || !stdout_fd)
        return -1;
    slot_t *slot = &s_slots [self->slot];
    int free_k = -1;
    for (int k = 0; k < MAX_PIDS && free_k < 0; k++) {
        pid_t pid = atomic_load (&slot->pids [k]);
        if (pid == 0 || !s_is_our_child (pid))
            free_k = k;         //  never used, or reaped by the caller
    }
    if (free_k < 0) {
        fprintf (stderr, "netns: more than %d spawned processes alive\n", MAX_PIDS);
        return -1;
    }
    int fds [2];
    if (pipe2 (fds, O_CLOEXEC)) {
        fprintf (stderr, "netns: pipe: %s\n", strerror (errno));
        return -1;
    }
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid < 0) {
        fprintf (stderr, "netns: cannot fork for %s: %s\n", argv [0], strerror (errno));
        close (fds [0]);
        close (fds [1]);
        return -1;
    }
    if (pid == 0) {
        //  If the test is SIGKILLed (no handler runs), its programs die
        //  with it. The signal comes when the forking *thread* ends: spawn
        //  from a thread that outlives the child. Checking the parent
        //  after prctl closes the race with a parent that died before.
        if (prctl (PR_SET_PDEATHSIG, SIGKILL) || getppid () != parent)
            _exit (126);
        s_child_exec (ep->fd, fds [1], argv);
    }
    atomic_store (&slot->pids [free_k], (int) pid);
    close (fds [1]);
    *stdout_fd = fds [0];
    return pid;
}

int
netns_block (netns_t *self, int from, int to)
{
    endpoint_t *source = s_endpoint (self, from), *target = s_endpoint (self, to);
    if (!source || !target || source == target) {
        fprintf (stderr, "netns: block %d -> %d: bad endpoints\n", from, to);
        return -1;
    }
    //  Dropped on arrival, in the target: the sender's kernel sees no
    //  error, just silence, as when a network loses packets. (A drop in
    //  the sender's output hook would fail its sends with EPERM.)
    return s_run (target->fd, target->name, NULL, 0, s_nft, "add", "rule", "inet", TABLE,
                  "input", "ip", "saddr", source->addr, "counter", "drop", NULL);
}

int
netns_partition (netns_t *self, const int *side_a, size_t na, const int *side_b, size_t nb)
{
    if (!self || (na && !side_a) || (nb && !side_b))
        return -1;
    int rc = 0;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++)
            if (netns_block (self, side_a [i], side_b [j])
            ||  netns_block (self, side_b [j], side_a [i]))
                rc = -1;
    return rc;
}

int
netns_isolate (netns_t *self, int i)
{
    endpoint_t *ep = s_endpoint (self, i);
    if (!ep)
        return -1;
    return s_run (self->bridge_fd, self->bridge_ns, NULL, 0,
                  s_ip, "link", "set", ep->port, "down", NULL);
}

int
netns_heal (netns_t *self)
{
    if (!self)
        return -1;
    int rc = 0;
    for (int i = 0; i <= self->nodes; i++) {
        endpoint_t *ep = &self->ep [i];
        if (s_run (ep->fd, ep->name, NULL, 0, s_nft, "flush", "chain", "inet", TABLE,
                   "input", NULL)
        ||  s_run (self->bridge_fd, self->bridge_ns, NULL, 0,
                   s_ip, "link", "set", ep->port, "up", NULL))
            rc = -1;
    }
    return rc;
}
