/*  testutil: helpers shared by the tests.

    Nothing here sleeps for a fixed time to "let things settle": waits poll
    a condition until a deadline, so tests are fast when the machine is and
    still pass when it is slow.
*/
#ifndef TESTS_TESTUTIL_H
#define TESTS_TESTUTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

//  Monotonic milliseconds.
int64_t
    testutil_now_ms (void);

//  Polls cond(ctx) every millisecond until true or timeout_ms passes.
bool
    testutil_wait (bool (*cond) (void *ctx), void *ctx, int64_t timeout_ms);

//  Makes a fresh directory under $TMPDIR (or /tmp); returns a malloc'd path.
char *
    testutil_tmpdir (const char *prefix);

//  rm -rf of a directory made by testutil_tmpdir.
void
    testutil_rmdir (const char *path);

//  Turns every fault point of this process off (a config without the
//  key), so one test's faults never leak into the next.
void
    testutil_faults_off (void);

//  Turns this process's fault points on, read from the control file path
//  (runtime/fault.h). fault_configure's result: 0 or -1.
int
    testutil_faults_file (const char *path);

//  How many lines of the file contain needle; -1 if it cannot be read.
int
    testutil_count_lines (const char *path, const char *needle);

//  Starts argv[0] (a path) with its stdout connected to a pipe; returns the
//  pid and sets *out_fd to the pipe's read end. -1 on failure.
pid_t
    testutil_spawn (char *const argv [], int *out_fd);

//  Reads one line (without the newline) from fd within timeout_ms into
//  buffer. Returns 0, or -1 on timeout or EOF.
int
    testutil_read_line (int fd, char *buffer, size_t size, int64_t timeout_ms);

//  SIGKILLs pid (if > 0) and reaps it.
void
    testutil_kill (pid_t pid);

//  Sends SIGTERM, waits up to timeout_ms for exit, then SIGKILLs. Returns
//  the exit status (as from waitpid) or -1 if it had to be killed.
int
    testutil_stop (pid_t pid, int64_t timeout_ms);

//  Path of a built program: $(builddir)/<name> via the TEST_BUILDDIR
//  environment variable set by the harness, else "./<name>".
const char *
    testutil_program (const char *name);

//  A TCP port on 127.0.0.1 free right now (the kernel's pick), or -1. For
//  a server that must know its own address before it starts.
int
    testutil_free_port (void);

#endif
