/*  pluginhost: loads the plugins a node's config names and runs each as an
    actor, translating between the runtime and the ABI of plugin.h.

    Every key of the `plugins` section is one plugin: the key names the
    actor, the value is the shared object's path, and keys nested under it
    are the plugin's settings. Loading is all or nothing: the first plugin
    that cannot load (a missing file, no PLUGIN_ENTRY symbol, another ABI
    version, a bad description, init refusing) is reported in one log line
    naming the key, the path and the cause, and every plugin loaded before
    it is stopped and unloaded again.
*/
#ifndef ACTORS_PLUGINHOST_H
#define ACTORS_PLUGINHOST_H

#include "runtime/rt.h"

#include <czmq.h>

typedef struct pluginhost_t pluginhost_t;

//  Loads and spawns every plugin of config (none is fine). NULL if one
//  failed (logged once); nothing stays loaded then.
pluginhost_t *
    pluginhost_new (rt_t *rt, zconfig_t *config);

//  Stops the plugins' actors (their fini runs) and unloads them.
void
    pluginhost_destroy (pluginhost_t **self_p);

//  How many plugins run.
int
    pluginhost_count (pluginhost_t *self);

#endif
