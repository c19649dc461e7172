/*  plugin: the ABI of an actor that lives in a shared object.

    A plugin is a shared object that pegasusd loads at start-up because its
    config names it:

        plugins
            sftp = /usr/local/lib/pegasus-c/plugins/sftp_target.so
                host = backup.example.com       # the plugin's own settings
                port = 22

    Each key under `plugins` is one actor on the node, named by the key
    ("sftp"); the keys nested under it are that actor's settings. The shared
    object exports one function, `pegasus_plugin`, that returns a static
    description (plugin_def_t): the ABI version it was built against, the
    kind of actor it makes (what `actors` shows), and the functions the host
    calls on the actor's thread: init once, receive per message, fini once.

    This header is the whole contract. A plugin includes nothing else of
    pegasus-c and links nothing of it: everything it may do goes through the
    function table (plugin_api_t) the host hands to init, so a plugin built
    once keeps loading as the server changes, as long as the ABI's major
    version is the same.

    Messages cross the ABI as protobuf wire bytes named by their full type
    name ("pg.TargetPut"). The .proto files of the messages a plugin may
    meet are installed beside this header (`pkg-config --variable=protodir
    pegasus-plugin`); a plugin compiles the ones it needs with protoc-c and
    decodes with its own copy. Protobuf's own rules (fields added, never
    renumbered) keep old plugins reading new messages.

    The plugin's actor obeys the runtime's rules: its state is its own, it
    never shares it with another thread, it reaches time and timers only
    through the table, and it never blocks a shared worker: a plugin that
    calls blocking libraries (a network file transfer, say) sets
    PLUGIN_PINNED and gets a thread of its own.

    A minimal plugin (see docs/custom-actors.md for one step by step):

        static const plugin_api_t *api;

        static int
        hello_init (plugin_actor_t *self, const plugin_api_t *host, void **state_p)
        {
            api = host;
            *state_p = NULL;
            return 0;
        }

        static void
        hello_receive (plugin_actor_t *self, void *state, const plugin_msg_t *msg)
        {
            if (msg->request && !strcmp (msg->type, "pg.Ping"))
                api->reply (self, msg->request, 0, NULL, "pg.Ping", msg->data, msg->size);
        }

        static const plugin_def_t def = {
            PLUGIN_ABI_VERSION, "hello", 0, hello_init, hello_receive, NULL
        };

        PLUGIN_EXPORT const plugin_def_t *pegasus_plugin (void) { return &def; }
*/
#ifndef PEGASUS_PLUGIN_H
#define PEGASUS_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Major version: a host loads only plugins built for the same one. Bumped
//  when anything below changes incompatibly; additions at the end of
//  plugin_api_t do not bump it (a plugin checks api->size for them).
#define PLUGIN_ABI_VERSION 1

//  The symbol every plugin exports. Build plugins with -fvisibility=hidden
//  and mark the entry PLUGIN_EXPORT: nothing else of the plugin (its copy
//  of generated protobuf code, say) is then visible to the server or to
//  another plugin, so no two copies of a symbol can meet.
#define PLUGIN_ENTRY "pegasus_plugin"
#define PLUGIN_EXPORT __attribute__ ((visibility ("default")))

//  plugin_def_t.flags: the actor calls blocking libraries, so it runs on a
//  thread of its own instead of the shared workers.
#define PLUGIN_PINNED 1u

//  The host's side of one plugin actor; opaque to the plugin.
typedef struct plugin_actor_t plugin_actor_t;

//  A request the plugin has to answer (exactly once) with api->reply.
//  Valid until the end of the receive call it came with, unless the
//  plugin calls api->keep, which makes it valid until api->reply.
typedef struct plugin_request_t plugin_request_t;

//  Status codes a plugin meets most (proto/status.proto holds them all).
enum {
    PLUGIN_OK = 0,
    PLUGIN_NOT_FOUND = 1,
    PLUGIN_TIMEOUT = 2,
    PLUGIN_INVALID_ARGUMENT = 3,
    PLUGIN_BUSY = 10,
    PLUGIN_NO_ACTOR = 12,
    PLUGIN_BAD_MESSAGE = 13,
    PLUGIN_UNREACHABLE = 14,
    PLUGIN_IO_ERROR = 15,
    PLUGIN_INTERNAL = 16
};

//  The message type of the plugin's own timers (api->after).
#define PLUGIN_TIMER "plugin.timer"

//  A message as the plugin sees it; everything is valid for the duration
//  of the call it is passed to.
typedef struct {
    const char *type;               //  full protobuf type name; PLUGIN_TIMER for a timer; "" if bodiless
    const void *data;               //  the body, protobuf wire bytes (NULL if size is 0)
    size_t size;
    int status;                     //  replies: PLUGIN_OK or an error
    const char *error;              //  replies: what went wrong, "" if nothing
    plugin_request_t *request;      //  non-NULL if the sender waits for a reply
    uint64_t timer_tag;             //  PLUGIN_TIMER: the tag given to api->after
} plugin_msg_t;

//  Reply callback of api->ask: runs on the plugin's thread, exactly once
//  per successful ask, with the reply or an error status (PLUGIN_TIMEOUT,
//  PLUGIN_NO_ACTOR, PLUGIN_UNREACHABLE...).
typedef void (plugin_reply_fn) (plugin_actor_t *self, void *state,
                                const plugin_msg_t *reply, void *arg);

//  Log levels of api->log.
enum {
    PLUGIN_LOG_ERROR = 0,
    PLUGIN_LOG_WARNING,
    PLUGIN_LOG_NOTICE,
    PLUGIN_LOG_INFO,
    PLUGIN_LOG_DEBUG
};

//  What the host offers. Every function takes the calling actor and must
//  be called on its thread (inside init, receive, a reply callback or fini).
//  Addresses are actor names: "name" on this node, "host:port/name" on
//  another. Functions returning int return PLUGIN_OK or a status.
typedef struct {
    uint32_t abi_version;           //  PLUGIN_ABI_VERSION of the host
    uint32_t size;                  //  sizeof the host's table: fields past it are absent

    //  One-way message of `type` with body bytes data[0..size).
    int (*send) (plugin_actor_t *self, const char *to, const char *type,
                 const void *data, size_t size);
    //  Request; cb runs once later with the reply, if this returned OK.
    int (*ask) (plugin_actor_t *self, const char *to, const char *type,
                const void *data, size_t size, int64_t timeout_ms,
                plugin_reply_fn *cb, void *arg);
    //  Answer a request: status PLUGIN_OK with a body (type and data; type
    //  NULL for none), or an error status and a message (error, may be
    //  NULL). Consumes the request whatever it returns.
    int (*reply) (plugin_actor_t *self, plugin_request_t *request, int status,
                  const char *error, const char *type, const void *data, size_t size);
    //  Keep a request past the receive call, to answer it later.
    void (*keep) (plugin_actor_t *self, plugin_request_t *request);

    //  Timer: a PLUGIN_TIMER message with timer_tag = tag after delay_ms.
    //  Returns an id for cancel, 0 on failure.
    uint64_t (*after) (plugin_actor_t *self, int64_t delay_ms, uint64_t tag);
    void (*cancel) (plugin_actor_t *self, uint64_t timer_id);
    //  The runtime's clocks: monotonic ms for durations, wall ms for stamps.
    int64_t (*now_ms) (plugin_actor_t *self);
    int64_t (*wall_ms) (plugin_actor_t *self);
    //  The actor's deterministic random source.
    uint64_t (*random) (plugin_actor_t *self);

    //  One line in the node's log, tagged with the actor's name.
    void (*log) (plugin_actor_t *self, int level, const char *format, ...)
        __attribute__ ((format (printf, 3, 4)));

    //  The plugin's settings (keys nested under its key in `plugins`). A
    //  string (dflt if absent; owned by the host), or an integer in
    //  [min, max] (K/M/G suffixes allowed): returns 0, or -1 after logging
    //  a line that names the key, its value and the range.
    const char *(*config_str) (plugin_actor_t *self, const char *key, const char *dflt);
    int (*config_int) (plugin_actor_t *self, const char *key, int64_t dflt,
                       int64_t min, int64_t max, int64_t *out);

    //  The actor's name, and its node's address ("host:port").
    const char *(*name) (plugin_actor_t *self);
    const char *(*node) (plugin_actor_t *self);
} plugin_api_t;

//  What a plugin exports through PLUGIN_ENTRY.
typedef struct {
    uint32_t abi_version;           //  PLUGIN_ABI_VERSION the plugin was built with
    const char *kind;               //  what `actors` shows, e.g. "target.sftp"
    uint32_t flags;                 //  PLUGIN_PINNED
    //  Runs once as the node starts, before the actor gets any message.
    //  Reads settings and sets *state_p (passed to every later call); it
    //  sends nothing and must not block (connect on the first request
    //  instead). 0, or -1 to refuse: the node then does not start, so log
    //  why first.
    int (*init) (plugin_actor_t *self, const plugin_api_t *api, void **state_p);
    void (*receive) (plugin_actor_t *self, void *state, const plugin_msg_t *msg);
    //  Runs once when the node stops; frees the state. May be NULL.
    void (*fini) (plugin_actor_t *self, void *state);
} plugin_def_t;

typedef const plugin_def_t *(plugin_entry_fn) (void);

//  The entry every plugin defines: returns its static description.
PLUGIN_EXPORT const plugin_def_t *
    pegasus_plugin (void);

#ifdef __cplusplus
}
#endif

#endif
