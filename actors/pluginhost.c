/*  pluginhost: see pluginhost.h.

    The host side of each plugin is an ordinary actor whose state is a
    plugin_actor_t; its receive function turns each message into a
    plugin_msg_t (the body packed to wire bytes) and calls the plugin's.
    The plugin answers through the function table below, which builds real
    messages again from type names and bytes, refusing bytes that do not
    decode as the type they claim, so a plugin's mistake is an error it is
    told about, never a malformed message in the system.
*/
#include "actors/pluginhost.h"
#include "actors/plugin.h"
#include "runtime/config.h"
#include "runtime/log.h"
#include "runtime/registry.h"
#include "runtime/types.h"
#include "status.pb-c.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct plugin_actor_t {
    const plugin_def_t *def;
    void *state;                    //  the plugin's
    actor_t *actor;                 //  itself, set by init (borrowed)
    actor_t *ref;                   //  the spawner's reference (owned)
    zconfig_t *config;
    char *key;                      //  its key under `plugins`: the actor's name
    void *dl;                       //  dlopen handle
    actor_ops_t ops;
    uint8_t *buf;                   //  scratch: bodies packed for the plugin
    size_t buf_cap;
    plugin_request_t *kept;         //  requests kept past their receive, unanswered
};

struct plugin_request_t {
    msg_t *msg;                     //  NULL once answered
    bool kept;
    plugin_request_t *prev, *next;  //  in the kept list while kept
};

struct pluginhost_t {
    plugin_actor_t **plugins;
    int count;
};

typedef struct {
    uint64_t tag;
} timer_body_t;

static const msg_kind_t s_kind_timer = { PLUGIN_TIMER };

typedef struct {
    plugin_reply_fn *cb;
    void *arg;
} ask_t;

//  ---------------------------------------------------------------------
//  Messages to the plugin

//  Fills *view with msg as the plugin sees it. -1 for a local-only kind,
//  which carries pointers and has no wire form a plugin could read.
static int
s_view (plugin_actor_t *self, msg_t *msg, plugin_msg_t *view)
{
    memset (view, 0, sizeof *view);
    view->status = msg_status (msg);
    view->error = msg_error (msg);
    view->type = "";
    if (msg_is (msg, &actor_kind_empty))
        return 0;
    const ProtobufCMessageDescriptor *desc = msg_descriptor (msg);
    if (!desc)
        return -1;
    size_t size = msg_payload_size (msg);
    if (size > self->buf_cap) {
        uint8_t *buf = realloc (self->buf, size);
        if (!buf)
            return -1;
        self->buf = buf;
        self->buf_cap = size;
    }
    msg_payload_pack (msg, self->buf);
    view->type = desc->name;
    view->data = size ? self->buf : NULL;
    view->size = size;
    return 0;
}

static void
s_receive (actor_t *actor, msg_t **msg_p)
{
    plugin_actor_t *self = actor_state (actor);
    msg_t *msg = *msg_p;
    plugin_msg_t view;
    if (msg_is (msg, &s_kind_timer)) {
        memset (&view, 0, sizeof view);
        view.type = PLUGIN_TIMER;
        view.error = "";
        view.timer_tag = ((timer_body_t *) msg_body (msg))->tag;
    }
    else
    if (s_view (self, msg, &view)) {
        if (msg_is_request (msg))
            actor_reply_error (actor, msg, PG__STATUS__INVALID_ARGUMENT,
                               "%s takes wire messages only, not %s",
                               self->key, msg_kind_name (msg));
        return;
    }
    plugin_request_t *request = NULL;
    if (msg_is_request (msg)) {
        request = calloc (1, sizeof *request);
        if (!request) {
            actor_reply_error (actor, msg, PG__STATUS__INTERNAL, "out of memory");
            return;
        }
        request->msg = msg;
        *msg_p = NULL;
        view.request = request;
    }
    self->def->receive (self, self->state, &view);
    if (request && !request->kept) {
        //  Answered at once, or never: an unanswered request gets an error
        //  now rather than leaving its sender to time out.
        if (request->msg) {
            actor_reply_error (actor, request->msg, PG__STATUS__INVALID_ARGUMENT,
                               "%s (%s) does not answer %s", self->key,
                               self->def->kind, view.type [0] ? view.type : "bodiless requests");
            msg_destroy (&request->msg);
        }
        free (request);
    }
}

static void
s_on_reply (actor_t *actor, msg_t **reply_p, void *arg)
{
    plugin_actor_t *self = actor_state (actor);
    ask_t ask = *(ask_t *) arg;
    free (arg);
    plugin_msg_t view;
    if (s_view (self, *reply_p, &view)) {
        view.type = "";
        view.status = PG__STATUS__BAD_MESSAGE;
        view.error = "the reply is of a local-only kind";
    }
    ask.cb (self, self->state, &view, ask.arg);
}

//  ---------------------------------------------------------------------
//  The function table

//  A message of `type` holding data, checked to decode as that type; or
//  NULL with *status set (logged here: the plugin learns only the code).
static msg_t *
s_build (plugin_actor_t *self, const char *type, const void *data, size_t size, int *status)
{
    if (!type || !*type) {
        if (size) {
            log_warning ("%s: a body of %zu bytes without a type", self->key, size);
            *status = PG__STATUS__INVALID_ARGUMENT;
            return NULL;
        }
        msg_t *msg = msg_new_local (&actor_kind_empty, 0, NULL);
        *status = msg ? PG__STATUS__OK : PG__STATUS__INTERNAL;
        return msg;
    }
    const ProtobufCMessageDescriptor *desc = types_find_name (type);
    if (!desc) {
        log_warning ("%s: unknown message type %s", self->key, type);
        *status = PG__STATUS__INVALID_ARGUMENT;
        return NULL;
    }
    if (size > UINT32_MAX) {
        *status = PG__STATUS__BAD_MESSAGE;
        return NULL;
    }
    msg_t *msg = msg_new_packed (desc, types_id (desc), data, size, 0);
    if (!msg) {
        *status = PG__STATUS__INTERNAL;
        return NULL;
    }
    if (msg_unpack (msg)) {
        log_warning ("%s: %zu bytes that do not decode as %s", self->key, size, type);
        msg_destroy (&msg);
        *status = PG__STATUS__BAD_MESSAGE;
        return NULL;
    }
    *status = PG__STATUS__OK;
    return msg;
}

static actor_t *
s_resolve (plugin_actor_t *self, const char *to)
{
    actor_t *peer = to ? rt_lookup (actor_rt (self->actor), to) : NULL;
    if (!peer)
        log_warning ("%s: no actor %s", self->key, to ? to : "(null)");
    return peer;
}

static int
s_api_send (plugin_actor_t *self, const char *to, const char *type,
            const void *data, size_t size)
{
    int status;
    actor_t *peer = s_resolve (self, to);
    if (!peer)
        return PG__STATUS__NO_ACTOR;
    msg_t *msg = s_build (self, type, data, size, &status);
    if (msg)
        status = actor_send (self->actor, peer, &msg);
    actor_unref (&peer);
    return status;
}

static int
s_api_ask (plugin_actor_t *self, const char *to, const char *type, const void *data,
           size_t size, int64_t timeout_ms, plugin_reply_fn *cb, void *arg)
{
    if (!cb || timeout_ms <= 0)
        return PG__STATUS__INVALID_ARGUMENT;
    int status;
    actor_t *peer = s_resolve (self, to);
    if (!peer)
        return PG__STATUS__NO_ACTOR;
    msg_t *msg = s_build (self, type, data, size, &status);
    ask_t *ask = msg ? malloc (sizeof *ask) : NULL;
    if (ask) {
        ask->cb = cb;
        ask->arg = arg;
        status = actor_ask (self->actor, peer, &msg, timeout_ms, s_on_reply, ask);
        if (status != PG__STATUS__OK)
            free (ask);
    }
    else
    if (msg) {
        msg_destroy (&msg);
        status = PG__STATUS__INTERNAL;
    }
    actor_unref (&peer);
    return status;
}

static int
s_api_reply (plugin_actor_t *self, plugin_request_t *request, int status,
             const char *error, const char *type, const void *data, size_t size)
{
    if (!request || !request->msg)
        return PG__STATUS__INVALID_ARGUMENT;
    int rc;
    if (status != PG__STATUS__OK)
        rc = actor_reply_error (self->actor, request->msg, status, "%s", error ? error : "");
    else {
        msg_t *reply = s_build (self, type, data, size, &rc);
        if (reply)
            rc = actor_reply (self->actor, request->msg, &reply);
        else
            //  The sender still gets an answer: the plugin's error.
            actor_reply_error (self->actor, request->msg, PG__STATUS__INTERNAL,
                               "%s built a bad reply", self->key);
    }
    msg_destroy (&request->msg);
    if (request->kept) {
        if (request->prev)
            request->prev->next = request->next;
        else
            self->kept = request->next;
        if (request->next)
            request->next->prev = request->prev;
        free (request);
    }
    return rc;
}

static void
s_api_keep (plugin_actor_t *self, plugin_request_t *request)
{
    if (!request || request->kept)
        return;
    request->kept = true;
    request->prev = NULL;
    request->next = self->kept;
    if (self->kept)
        self->kept->prev = request;
    self->kept = request;
}

static uint64_t
s_api_after (plugin_actor_t *self, int64_t delay_ms, uint64_t tag)
{
    timer_body_t *body;
    msg_t *msg = msg_new_local (&s_kind_timer, sizeof *body, (void **) &body);
    if (!msg)
        return 0;
    body->tag = tag;
    return actor_send_after (self->actor, delay_ms < 0 ? 0 : delay_ms, &msg);
}

static void
s_api_cancel (plugin_actor_t *self, uint64_t timer_id)
{
    actor_cancel (self->actor, timer_id);
}

static int64_t
s_api_now_ms (plugin_actor_t *self)
{
    return actor_now_ms (self->actor);
}

static int64_t
s_api_wall_ms (plugin_actor_t *self)
{
    return actor_wall_ms (self->actor);
}

static uint64_t
s_api_random (plugin_actor_t *self)
{
    return rtrand_next (actor_random (self->actor));
}

static void
s_api_log (plugin_actor_t *self, int level, const char *format, ...)
{
    if (level < PLUGIN_LOG_ERROR)
        level = PLUGIN_LOG_ERROR;
    if (level > PLUGIN_LOG_DEBUG)
        level = PLUGIN_LOG_DEBUG;
    if (!log_enabled (level))
        return;
    char line [2048];
    va_list args;
    va_start (args, format);
    vsnprintf (line, sizeof line, format, args);
    va_end (args);
    log_emit ((log_level_t) level, "%s", line);
}

//  "plugins/<key>/<name>" in buf; false if it does not fit.
static bool
s_setting_path (plugin_actor_t *self, const char *name, char *buf, size_t size)
{
    int n = snprintf (buf, size, "plugins/%s/%s", self->key, name ? name : "");
    return n > 0 && (size_t) n < size && name && *name && !strchr (name, '/');
}

static const char *
s_api_config_str (plugin_actor_t *self, const char *name, const char *dflt)
{
    char path [512];
    if (!s_setting_path (self, name, path, sizeof path))
        return dflt;
    return config_str (self->config, path, dflt);
}

static int
s_api_config_int (plugin_actor_t *self, const char *name, int64_t dflt,
                  int64_t min, int64_t max, int64_t *out)
{
    char path [512];
    if (!s_setting_path (self, name, path, sizeof path)) {
        log_error ("%s: bad setting name %s", self->key, name ? name : "(null)");
        return -1;
    }
    return config_size (self->config, path, dflt, min, max, out);
}

static const char *
s_api_name (plugin_actor_t *self)
{
    return self->key;
}

static const char *
s_api_node (plugin_actor_t *self)
{
    return rt_node (actor_rt (self->actor));
}

static const plugin_api_t s_api = {
    .abi_version = PLUGIN_ABI_VERSION,
    .size = sizeof (plugin_api_t),
    .send = s_api_send,
    .ask = s_api_ask,
    .reply = s_api_reply,
    .keep = s_api_keep,
    .after = s_api_after,
    .cancel = s_api_cancel,
    .now_ms = s_api_now_ms,
    .wall_ms = s_api_wall_ms,
    .random = s_api_random,
    .log = s_api_log,
    .config_str = s_api_config_str,
    .config_int = s_api_config_int,
    .name = s_api_name,
    .node = s_api_node
};

//  ---------------------------------------------------------------------
//  Loading

static int
s_init (actor_t *actor, void *args)
{
    plugin_actor_t *self = args;
    self->actor = actor;
    actor_set_state (actor, self);
    return self->def->init && self->def->init (self, &s_api, &self->state) ? -1 : 0;
}

static void
s_fini (actor_t *actor)
{
    plugin_actor_t *self = actor_state (actor);
    if (self->def->fini)
        self->def->fini (self, self->state);
    self->state = NULL;
    //  Requests it kept and never answered: their senders hear now.
    while (self->kept) {
        plugin_request_t *request = self->kept;
        self->kept = request->next;
        actor_reply_error (actor, request->msg, PG__STATUS__SHUTDOWN, "%s stopped", self->key);
        msg_destroy (&request->msg);
        free (request);
    }
}

static void
s_unload (plugin_actor_t **self_p)
{
    plugin_actor_t *self = *self_p;
    if (!self)
        return;
    actor_stop (&self->ref);            //  returns after fini ran
    if (self->dl)
        dlclose (self->dl);
    free (self->buf);
    free (self->key);
    free (self);
    *self_p = NULL;
}

//  Loads the plugin of one `plugins` key and spawns its actor. NULL after
//  one log line naming the key, the path and what failed.
static plugin_actor_t *
s_load (rt_t *rt, zconfig_t *config, const char *key)
{
    char path_key [300];
    snprintf (path_key, sizeof path_key, "plugins/%s", key);
    const char *path = config_str (config, path_key, "");
    if (!registry_valid_name (key, strlen (key))) {
        log_error ("plugin %s: the key is not a valid actor name (1 to 128 of A-Z a-z 0-9 . _ : -)", key);
        return NULL;
    }
    actor_t *taken = rt_lookup (rt, key);
    if (taken) {
        actor_unref (&taken);
        log_error ("plugin %s: an actor of that name already runs on this node", key);
        return NULL;
    }
    if (!*path) {
        log_error ("plugin %s: no shared object named (plugins/%s = /path/to/plugin.so)", key, key);
        return NULL;
    }
    plugin_actor_t *self = calloc (1, sizeof *self);
    if (!self || !(self->key = strdup (key))) {
        free (self);
        log_error ("plugin %s: out of memory", key);
        return NULL;
    }
    self->config = config;
    dlerror ();
    self->dl = dlopen (path, RTLD_NOW | RTLD_LOCAL);
    if (!self->dl) {
        const char *why = dlerror ();
        log_error ("plugin %s: cannot load %s: %s", key, path, why ? why : "unknown error");
        s_unload (&self);
        return NULL;
    }
    //  POSIX hands a function back as a void *; the copy makes the cast
    //  well defined.
    plugin_entry_fn *entry;
    void *sym = dlsym (self->dl, PLUGIN_ENTRY);
    memcpy (&entry, &sym, sizeof entry);
    if (!sym) {
        log_error ("plugin %s: %s exports no %s function: not a pegasus-c plugin",
                   key, path, PLUGIN_ENTRY);
        s_unload (&self);
        return NULL;
    }
    self->def = entry ();
    const char *bad = NULL;
    if (!self->def)
        bad = "returned no description";
    else
    if (self->def->abi_version != PLUGIN_ABI_VERSION) {
        log_error ("plugin %s: %s is built for plugin ABI %u, this pegasusd has ABI %u: "
                   "rebuild it against this version's plugin.h",
                   key, path, self->def->abi_version, PLUGIN_ABI_VERSION);
        s_unload (&self);
        return NULL;
    }
    else
    if (!self->def->kind || !*self->def->kind || strlen (self->def->kind) > 64)
        bad = "names no kind (1 to 64 characters)";
    else
    if (!self->def->receive)
        bad = "has no receive function";
    else
    if (self->def->flags & ~PLUGIN_PINNED)
        bad = "sets flags this pegasusd does not know";
    if (bad) {
        log_error ("plugin %s: %s %s", key, path, bad);
        s_unload (&self);
        return NULL;
    }
    self->ops.kind = self->def->kind;
    self->ops.init = s_init;
    self->ops.receive = s_receive;
    self->ops.fini = s_fini;
    actor_opts_t opts = { .pinned = (self->def->flags & PLUGIN_PINNED) != 0 };
    self->ref = actor_spawn (rt, key, &self->ops, self, &opts);
    if (!self->ref) {
        log_error ("plugin %s: %s (%s) refused to start: its init failed",
                   key, path, self->def->kind);
        s_unload (&self);
        return NULL;
    }
    log_notice ("plugin %s: %s (%s) loaded%s", key, path, self->def->kind,
                opts.pinned ? ", on a pinned thread" : "");
    return self;
}

pluginhost_t *
pluginhost_new (rt_t *rt, zconfig_t *config)
{
    pluginhost_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    zconfig_t *section = config ? zconfig_locate (config, "plugins") : NULL;
    int total = 0;
    for (zconfig_t *item = section ? zconfig_child (section) : NULL; item; item = zconfig_next (item))
        total++;
    if (total && !(self->plugins = calloc ((size_t) total, sizeof *self->plugins))) {
        log_error ("plugins: out of memory");
        free (self);
        return NULL;
    }
    for (zconfig_t *item = section ? zconfig_child (section) : NULL; item; item = zconfig_next (item)) {
        plugin_actor_t *plugin = s_load (rt, config, zconfig_name (item));
        if (!plugin) {
            pluginhost_destroy (&self);
            return NULL;
        }
        self->plugins [self->count++] = plugin;
    }
    return self;
}

void
pluginhost_destroy (pluginhost_t **self_p)
{
    pluginhost_t *self = *self_p;
    if (!self)
        return;
    //  Last loaded first: a plugin may use one loaded before it.
    while (self->count > 0)
        s_unload (&self->plugins [--self->count]);
    free (self->plugins);
    free (self);
    *self_p = NULL;
}

int
pluginhost_count (pluginhost_t *self)
{
    return self->count;
}
