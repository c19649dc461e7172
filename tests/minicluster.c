/*  minicluster: see minicluster.h. */
#include "tests/minicluster.h"
#include "tests/testutil.h"
#include "runtime/fault.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
s_fault_path (minicluster_t *self, int i, char *out, size_t size)
{
    snprintf (out, size, "%s/%s%d.faults", self->dir, i ? "replica" : "meta", i);
}

void
minicluster_log_path (minicluster_t *self, int i, char *out, size_t size)
{
    snprintf (out, size, "%s/%s%d.log", self->dir, i ? "replica" : "meta", i);
}

static int
s_launch (minicluster_t *self, int i, const char *bind)
{
    char dir [4200], path [4300], faults [4300] = "";
    snprintf (dir, sizeof dir, "%s/%s%d", self->dir, i ? "replica" : "meta", i);
    snprintf (path, sizeof path, "%s.cfg", dir);
    if (self->faults)
        s_fault_path (self, i, faults, sizeof faults);
    const char *meta = self->meta;
    FILE *cfg = fopen (path, "w");
    if (!cfg)
        return -1;
    fprintf (cfg,
             "node\n    roles = %s\n    data_dir = %s\n    log_file = %s.log\n"
             "runtime\n    workers = 2\n    log_level = info\n"
             "transport\n    bind = %s\n"
             "meta\n    servers = %s\n%s"
             "replica\n    checkpoint_ms = 500\n%s"
             "    block_cache = 16M\n    write_budget = 32M\n"
             "%s%s%s\n%s\n",
             i ? "replica" : self->colocated ? "meta,replica" : "meta", dir, dir, bind, meta,
             self->product_timing ? "" : "    node_grace_ms = 2000\n",
             self->product_timing ? "" : "    beacon_ms = 200\n",
             *faults ? "faults\n    file = " : "", faults, *faults ? "\n" : "",
             self->extra ? self->extra : "");
    fclose (cfg);
    char *argv [] = { (char *) testutil_program ("pegasusd"), "-c", path, NULL };
    int out;
    pid_t pid = self->netns ? netns_spawn (self->netns, i, argv, &out) : testutil_spawn (argv, &out);
    if (pid < 0)
        return -1;
    char line [300];
    if (testutil_read_line (out, line, sizeof line, 20000) || strncmp (line, "READY ", 6)) {
        fprintf (stderr, "minicluster: server %d did not start (see %s.log)\n", i, dir);
        testutil_kill (pid);
        close (out);
        return -1;
    }
    close (out);
    self->pids [i] = pid;
    snprintf (self->addresses [i], sizeof self->addresses [i], "%.63s", line + 6);
    return 0;
}

minicluster_t *
minicluster_start (int replicas, const char *extra)
{
    return minicluster_start_timed (replicas, extra, false);
}

minicluster_t *
minicluster_start_timed (int replicas, const char *extra, bool product_timing)
{
    minicluster_opts_t opts = { .replicas = replicas, .extra = extra,
                                .product_timing = product_timing };
    return minicluster_start_with (&opts);
}

minicluster_t *
minicluster_start_with (const minicluster_opts_t *opts)
{
    int replicas = opts->replicas;
    if (replicas < 1 || replicas > MINICLUSTER_MAX)
        return NULL;
    minicluster_t *self = calloc (1, sizeof *self);
    if (!self || !(self->dir = testutil_tmpdir ("cluster"))) {
        free (self);
        return NULL;
    }
    self->nreplicas = replicas;
    self->extra = opts->extra;
    self->product_timing = opts->product_timing;
    self->colocated = opts->colocated;
    self->faults = opts->faults;
    self->netns = opts->netns;
    //  A co-located server 0 must know its own address as meta's before
    //  it starts: it gets a port picked here.
    char bind [64] = "127.0.0.1:0";
    if (self->netns) {
        snprintf (bind, sizeof bind, "%s:%d", netns_addr (self->netns, 0), MINICLUSTER_NETNS_PORT);
        snprintf (self->meta, sizeof self->meta, "%s", bind);
    }
    else
    if (self->colocated) {
        int port = testutil_free_port ();
        if (port <= 0) {
            minicluster_stop (&self);
            return NULL;
        }
        snprintf (bind, sizeof bind, "127.0.0.1:%d", port);
        snprintf (self->meta, sizeof self->meta, "%s", bind);
    }
    if (s_launch (self, 0, bind)) {
        minicluster_stop (&self);
        return NULL;
    }
    snprintf (self->meta, sizeof self->meta, "%s", self->addresses [0]);
    for (int i = 1; i <= replicas; i++) {
        char address [64] = "127.0.0.1:0";
        if (self->netns)
            snprintf (address, sizeof address, "%s:%d", netns_addr (self->netns, i),
                      MINICLUSTER_NETNS_PORT);
        if (s_launch (self, i, address)) {
            minicluster_stop (&self);
            return NULL;
        }
    }
    return self;
}

int
minicluster_fault (minicluster_t *self, int i, const char *text)
{
    if (!self->faults || i < 0 || i > self->nreplicas)
        return -1;
    char path [4300];
    s_fault_path (self, i, path, sizeof path);
    return fault_file_write (path, text);
}

void
minicluster_pause (minicluster_t *self, int i)
{
    if (!self->pids [i] || kill (self->pids [i], SIGSTOP))
        return;
    self->paused [i] = true;
    //  kill() returns before every thread has stopped: a request sent at
    //  once could still be served. Wait (1 s at most) until the kernel
    //  says the process is stopped.
    char path [64], stat [512];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) self->pids [i]);
    int64_t until = testutil_now_ms () + 1000;
    while (testutil_now_ms () < until) {
        FILE *file = fopen (path, "r");
        size_t n = file ? fread (stat, 1, sizeof stat - 1, file) : 0;
        if (file)
            fclose (file);
        stat [n] = 0;
        const char *close = strrchr (stat, ')');
        if (!close || close [1] != ' ' || close [2] == 'T' || close [2] == 't')
            return;
        usleep (1000);
    }
}

void
minicluster_resume (minicluster_t *self, int i)
{
    if (self->pids [i] && self->paused [i])
        kill (self->pids [i], SIGCONT);
    self->paused [i] = false;
}

void
minicluster_kill (minicluster_t *self, int i)
{
    minicluster_resume (self, i);
    testutil_kill (self->pids [i]);
    self->pids [i] = 0;
}

int
minicluster_restart (minicluster_t *self, int i)
{
    if (self->pids [i])
        minicluster_kill (self, i);
    //  The port may linger for a moment after the kill: retry the bind.
    for (int attempt = 0; attempt < 50; attempt++) {
        if (s_launch (self, i, self->addresses [i]) == 0)
            return 0;
        usleep (100000);
    }
    return -1;
}

void
minicluster_stop (minicluster_t **self_p)
{
    minicluster_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    for (int i = self->nreplicas; i >= 0; i--)
        if (self->pids [i]) {
            minicluster_resume (self, i);
            testutil_stop (self->pids [i], 10000);
        }
    if (self->dir) {
        if (!getenv ("TEST_KEEP"))
            testutil_rmdir (self->dir);
        else
            fprintf (stderr, "minicluster: kept %s\n", self->dir);
        free (self->dir);
    }
    free (self);
}
