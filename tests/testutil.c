/*  testutil: see testutil.h. */
#include "tests/testutil.h"
#include "runtime/fault.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int64_t
testutil_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool
testutil_wait (bool (*cond) (void *ctx), void *ctx, int64_t timeout_ms)
{
    int64_t until = testutil_now_ms () + timeout_ms;
    do {
        if (cond (ctx))
            return true;
        struct timespec ts = { 0, 1000000 };
        nanosleep (&ts, NULL);
    } while (testutil_now_ms () < until);
    return cond (ctx);
}

char *
testutil_tmpdir (const char *prefix)
{
    const char *base = getenv ("TMPDIR");
    char path [4096];
    snprintf (path, sizeof path, "%s/%s.XXXXXX", base && *base ? base : "/tmp", prefix);
    if (!mkdtemp (path))
        return NULL;
    return strdup (path);
}

void
testutil_rmdir (const char *path)
{
    if (!path || !*path || strlen (path) < 8)
        return;                 //  never rm -rf something short like "/"
    char command [4200];
    snprintf (command, sizeof command, "rm -rf '%s'", path);
    if (system (command) != 0)
        fprintf (stderr, "testutil: could not remove %s\n", path);
}

pid_t
testutil_spawn (char *const argv [], int *out_fd)
{
    int fds [2];
    if (pipe (fds))
        return -1;
    pid_t pid = fork ();
    if (pid < 0) {
        close (fds [0]);
        close (fds [1]);
        return -1;
    }
    if (pid == 0) {
        dup2 (fds [1], 1);
        close (fds [0]);
        close (fds [1]);
        execv (argv [0], argv);
        fprintf (stderr, "testutil: cannot run %s: %s\n", argv [0], strerror (errno));
        _exit (127);
    }
    close (fds [1]);
    fcntl (fds [0], F_SETFD, FD_CLOEXEC);
    *out_fd = fds [0];
    return pid;
}

int
testutil_read_line (int fd, char *buffer, size_t size, int64_t timeout_ms)
{
    int64_t until = testutil_now_ms () + timeout_ms;
    size_t n = 0;
    while (n + 1 < size) {
        int64_t left = until - testutil_now_ms ();
        if (left <= 0)
            return -1;
        struct pollfd pfd = { fd, POLLIN, 0 };
        int rc = poll (&pfd, 1, (int) left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            return -1;
        char c;
        ssize_t got = read (fd, &c, 1);
        if (got <= 0)
            return -1;
        if (c == '\n') {
            buffer [n] = 0;
            return 0;
        }
        buffer [n++] = c;
    }
    buffer [n] = 0;
    return 0;
}

void
testutil_kill (pid_t pid)
{
    if (pid <= 0)
        return;
    kill (pid, SIGKILL);
    while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

int
testutil_stop (pid_t pid, int64_t timeout_ms)
{
    if (pid <= 0)
        return -1;
    kill (pid, SIGTERM);
    int64_t until = testutil_now_ms () + timeout_ms;
    while (testutil_now_ms () < until) {
        int status;
        pid_t rc = waitpid (pid, &status, WNOHANG);
        if (rc == pid)
            return status;
        struct timespec ts = { 0, 5000000 };
        nanosleep (&ts, NULL);
    }
    testutil_kill (pid);
    return -1;
}

const char *
testutil_program (const char *name)
{
    static char path [4096];
    const char *dir = getenv ("TEST_BUILDDIR");
    snprintf (path, sizeof path, "%s/%s", dir && *dir ? dir : ".", name);
    return path;
}

int
testutil_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0 };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    int port = -1;
    if (bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0
    &&  getsockname (fd, (struct sockaddr *) &addr, &len) == 0)
        port = ntohs (addr.sin_port);
    close (fd);
    return port;
}

void
testutil_faults_off (void)
{
    zconfig_t *none = zconfig_str_load ("");
    fault_configure (none);
    zconfig_destroy (&none);
}

int
testutil_faults_file (const char *path)
{
    char text [4400];
    snprintf (text, sizeof text, "faults\n    file = \"%s\"\n", path);
    zconfig_t *config = zconfig_str_load (text);
    int rc = config ? fault_configure (config) : -1;
    zconfig_destroy (&config);
    return rc;
}

int
testutil_count_lines (const char *path, const char *needle)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    char line [2048];
    int count = 0;
    while (fgets (line, sizeof line, file))
        count += strstr (line, needle) != NULL;
    fclose (file);
    return count;
}
