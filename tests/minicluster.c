/*  minicluster: see minicluster.h. */
#include "tests/minicluster.h"
#include "tests/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
s_launch (minicluster_t *self, int i, const char *bind)
{
    char dir [4200], path [4300];
    snprintf (dir, sizeof dir, "%s/%s%d", self->dir, i ? "replica" : "meta", i);
    snprintf (path, sizeof path, "%s.cfg", dir);
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
             "%s\n",
             i ? "replica" : "meta", dir, dir, bind, self->meta,
             self->product_timing ? "" : "    node_grace_ms = 2000\n",
             self->product_timing ? "" : "    beacon_ms = 200\n",
             self->extra ? self->extra : "");
    fclose (cfg);
    char *argv [] = { (char *) testutil_program ("pegasusd"), "-c", path, NULL };
    int out;
    pid_t pid = testutil_spawn (argv, &out);
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
    if (replicas < 1 || replicas > MINICLUSTER_MAX)
        return NULL;
    minicluster_t *self = calloc (1, sizeof *self);
    if (!self || !(self->dir = testutil_tmpdir ("cluster"))) {
        free (self);
        return NULL;
    }
    self->nreplicas = replicas;
    self->extra = extra;
    self->product_timing = product_timing;
    if (s_launch (self, 0, "127.0.0.1:0")) {
        minicluster_stop (&self);
        return NULL;
    }
    snprintf (self->meta, sizeof self->meta, "%s", self->addresses [0]);
    for (int i = 1; i <= replicas; i++)
        if (s_launch (self, i, "127.0.0.1:0")) {
            minicluster_stop (&self);
            return NULL;
        }
    return self;
}

void
minicluster_kill (minicluster_t *self, int i)
{
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
        if (self->pids [i])
            testutil_stop (self->pids [i], 10000);
    if (self->dir) {
        if (!getenv ("TEST_KEEP"))
            testutil_rmdir (self->dir);
        else
            fprintf (stderr, "minicluster: kept %s\n", self->dir);
        free (self->dir);
    }
    free (self);
}
