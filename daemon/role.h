/*  role: what a pegasusd node runs besides its runtime.

    A node's config names its roles (`node/roles = meta,replica`); each role
    starts its actors on the node's runtime and stops them at exit. Roles
    register here; the daemon knows them only through this table.
*/
#ifndef DAEMON_ROLE_H
#define DAEMON_ROLE_H

#include "runtime/rt.h"

#include <czmq.h>

typedef struct {
    const char *name;
    //  Start the role's actors. Returns 0, or -1 (logged) to refuse start.
    int (*start) (rt_t *rt, zconfig_t *config, void **ctx_p);
    //  Stop them (the runtime is still up).
    void (*stop) (void **ctx_p);
} role_t;

//  The roles this build has, NULL-terminated.
extern const role_t *const role_table [];

//  The role named `name`, or NULL.
const role_t *
    role_find (const char *name);

//  Checks what the roles need of each other in one process before any
//  starts (meta's lease against the replica's beacon interval). 0, or -1
//  with a message naming the keys to change.
int
    role_check (zconfig_t *config, const role_t *const *roles, int count);

#endif
