/*  minicluster: a real cluster for tests: one meta server and N replica
    servers, each a pegasusd process on 127.0.0.1 with a port the kernel
    picks, in a temporary directory. Servers can be killed (SIGKILL) and
    restarted on the same address with their data; everything started is
    stopped by pid. */
#ifndef TESTS_MINICLUSTER_H
#define TESTS_MINICLUSTER_H

#include "tests/netns.h"

#include <stdbool.h>
#include <sys/types.h>

#define MINICLUSTER_MAX 8
#define MINICLUSTER_NETNS_PORT 34601

typedef struct {
    int replicas;                       //  replica servers (1..MINICLUSTER_MAX)
    const char *extra;                  //  extra config text for every server, or NULL
    bool product_timing;                //  the product's beacon and grace, not the tests' short ones
    bool colocated;                     //  server 0 runs meta and replica in one process
    bool faults;                        //  each server reads faults from its own file
    //  Each server in its own network namespace (server i in node i of
    //  the harness, on its address and port 34601), for network faults.
    //  The caller keeps the harness and enters its client namespace.
    netns_t *netns;
} minicluster_opts_t;

typedef struct {
    char *dir;
    char meta [64];                     //  the meta server's address
    int nreplicas;
    pid_t pids [MINICLUSTER_MAX + 1];   //  [0] = meta, [1..] = replicas
    bool paused [MINICLUSTER_MAX + 1];  //  SIGSTOPped (continued before it is stopped)
    char addresses [MINICLUSTER_MAX + 1][64];
    const char *extra;                  //  extra config text for every server
    bool product_timing;                //  the product's beacon and grace, not the tests' short ones
    bool colocated;
    bool faults;
    netns_t *netns;
} minicluster_t;

//  Starts meta and `replicas` replica servers. extra: more ZPL config for
//  every server (or NULL). NULL on failure (reported on stderr).
minicluster_t *
    minicluster_start (int replicas, const char *extra);

//  The same, with the product's default beacon, lease and grace instead of
//  the shorter ones that keep tests quick (failover figures use these).
minicluster_t *
    minicluster_start_timed (int replicas, const char *extra, bool product_timing);

//  The same, with options.
minicluster_t *
    minicluster_start_with (const minicluster_opts_t *opts);

//  The path of server i's log file.
void
    minicluster_log_path (minicluster_t *self, int i, char *out, size_t size);

//  Sets server i's faults (the text of its fault file, runtime/fault.h;
//  "" for none). The cluster must have been started with faults. 0 or -1.
int
    minicluster_fault (minicluster_t *self, int i, const char *text);

//  SIGSTOPs / SIGCONTs server i.
void
    minicluster_pause (minicluster_t *self, int i);

void
    minicluster_resume (minicluster_t *self, int i);

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
