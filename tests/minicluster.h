/*  minicluster: a real cluster for tests: one meta server and N replica
    servers, each a pegasusd process on 127.0.0.1 with a port the kernel
    picks, in a temporary directory. Servers can be killed (SIGKILL) and
    restarted on the same address with their data; everything started is
    stopped by pid. */
#ifndef TESTS_MINICLUSTER_H
#define TESTS_MINICLUSTER_H

#include <stdbool.h>
#include <sys/types.h>

#define MINICLUSTER_MAX 8

typedef struct {
    char *dir;
    char meta [64];                     //  the meta server's address
    int nreplicas;
    pid_t pids [MINICLUSTER_MAX + 1];   //  [0] = meta, [1..] = replicas
    char addresses [MINICLUSTER_MAX + 1][64];
    const char *extra;                  //  extra config text for every server
    bool product_timing;                //  the product's beacon and grace, not the tests' short ones
} minicluster_t;

//  Starts meta and `replicas` replica servers. extra: more ZPL config for
//  every server (or NULL). NULL on failure (reported on stderr).
minicluster_t *
    minicluster_start (int replicas, const char *extra);

//  The same, with the product's default beacon, lease and grace instead of
//  the shorter ones that keep tests quick (failover figures use these).
minicluster_t *
    minicluster_start_timed (int replicas, const char *extra, bool product_timing);

//  SIGKILLs server i (0 = meta).
void
    minicluster_kill (minicluster_t *self, int i);

//  Starts server i again on its address, with its data. 0 or -1.
int
    minicluster_restart (minicluster_t *self, int i);

//  Stops every server (SIGTERM, then SIGKILL) and removes the directory.
void
    minicluster_stop (minicluster_t **self_p);

#endif
