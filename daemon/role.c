/*  role: see role.h. */
#include "daemon/role.h"
#include "meta/meta.h"
#include "replica/stub.h"

#include "runtime/log.h"

#include <stdbool.h>
#include <string.h>

static int
s_meta_start (rt_t *rt, zconfig_t *config, void **ctx_p)
{
    *ctx_p = meta_spawn (rt, config);
    return *ctx_p ? 0 : -1;
}

static int
s_replica_start (rt_t *rt, zconfig_t *config, void **ctx_p)
{
    *ctx_p = stub_spawn (rt, config);
    return *ctx_p ? 0 : -1;
}

//  Both roles are one actor that owns the rest: stopping it (from outside
//  the runtime, so this waits for its fini) stops the role.
static void
s_stop (void **ctx_p)
{
    actor_t *actor = *ctx_p;
    actor_stop (&actor);
    *ctx_p = NULL;
}

static const role_t s_meta = { "meta", s_meta_start, s_stop };
static const role_t s_replica = { "replica", s_replica_start, s_stop };

const role_t *const role_table [] = {
    &s_meta,
    &s_replica,
    NULL
};

int
role_check (zconfig_t *config, const role_t *const *roles, int count)
{
    bool meta = false, replica = false;
    for (int i = 0; i < count; i++) {
        meta |= roles [i] == &s_meta;
        replica |= roles [i] == &s_replica;
    }
    if (!meta || !replica)
        return 0;                       //  meta checks the beacons it gets
    int64_t grace, lease, beacon;
    char why [400];
    if (meta_timing (config, &grace, &lease) || stub_beacon_ms (config, &beacon))
        return -1;
    if (meta_beacon_fits (beacon, lease, why, sizeof why)) {
        log_error ("config: %s", why);
        return -1;
    }
    return 0;
}

const role_t *
role_find (const char *name)
{
    for (int i = 0; role_table [i]; i++)
        if (!strcmp (role_table [i]->name, name))
            return role_table [i];
    return NULL;
}
