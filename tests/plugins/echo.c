/*  The plugin the plugin tests load: it exercises each part of the ABI on
    request, and nothing of the tree but actors/plugin.h.

        pg.Ping            answered at once with the same bytes (reply)
        pg.ActorsQuery     asked on to this node's "node" actor, whose reply
                           is passed back when it comes (ask, keep)
        pg.TargetStat      answered bodiless 20 ms later (after, keep)
        pg.TargetList      answered with bytes that are no pg.Ping (the
                           host must refuse them)
        anything else      not answered (the host answers for it)

    Settings: fail = yes makes init refuse; delay_ms (0..1000) is checked
    through config_int. Built three ways: as is, with PLUGIN_TEST_ABI set to
    another ABI version, and with PLUGIN_TEST_NO_ENTRY (no entry symbol).
*/
#include "actors/plugin.h"

#include <stdlib.h>
#include <string.h>

#ifndef PLUGIN_TEST_ABI
#define PLUGIN_TEST_ABI PLUGIN_ABI_VERSION
#endif

static const plugin_api_t *api;

typedef struct {
    int64_t delay_ms;
    plugin_request_t *waiting [16];
    int nwaiting;
} echo_t;

static int
echo_init (plugin_actor_t *self, const plugin_api_t *host, void **state_p)
{
    api = host;
    if (!strcmp (api->config_str (self, "fail", "no"), "yes")) {
        api->log (self, PLUGIN_LOG_ERROR, "told to fail (fail = yes)");
        return -1;
    }
    echo_t *echo = calloc (1, sizeof *echo);
    if (!echo)
        return -1;
    if (api->config_int (self, "delay_ms", 20, 0, 1000, &echo->delay_ms)) {
        free (echo);
        return -1;
    }
    *state_p = echo;
    api->log (self, PLUGIN_LOG_NOTICE, "echo started on %s", api->node (self));
    return 0;
}

static void
echo_on_node_reply (plugin_actor_t *self, void *state, const plugin_msg_t *reply, void *arg)
{
    plugin_request_t *request = arg;
    api->reply (self, request, reply->status, reply->error, reply->type, reply->data, reply->size);
}

static void
echo_receive (plugin_actor_t *self, void *state, const plugin_msg_t *msg)
{
    echo_t *echo = state;
    if (!strcmp (msg->type, PLUGIN_TIMER)) {
        if (msg->timer_tag < (uint64_t) echo->nwaiting && echo->waiting [msg->timer_tag]) {
            api->reply (self, echo->waiting [msg->timer_tag], PLUGIN_OK, NULL, NULL, NULL, 0);
            echo->waiting [msg->timer_tag] = NULL;
        }
        return;
    }
    if (!msg->request)
        return;
    if (!strcmp (msg->type, "pg.Ping"))
        api->reply (self, msg->request, PLUGIN_OK, NULL, "pg.Ping", msg->data, msg->size);
    else
    if (!strcmp (msg->type, "pg.ActorsQuery")) {
        api->keep (self, msg->request);
        int rc = api->ask (self, "node", "pg.ActorsQuery", msg->data, msg->size, 2000,
                           echo_on_node_reply, msg->request);
        if (rc != PLUGIN_OK)
            api->reply (self, msg->request, rc, "cannot ask node", NULL, NULL, 0);
    }
    else
    if (!strcmp (msg->type, "pg.TargetStat")) {
        if (echo->nwaiting == 16) {
            api->reply (self, msg->request, PLUGIN_BUSY, "too many waiting", NULL, NULL, 0);
            return;
        }
        api->keep (self, msg->request);
        echo->waiting [echo->nwaiting] = msg->request;
        api->after (self, echo->delay_ms, (uint64_t) echo->nwaiting++);
    }
    else
    if (!strcmp (msg->type, "pg.TargetList")) {
        //  Field 1 (varint) with a length-delimited wire type and no bytes.
        static const unsigned char garbage [] = { 0x0a, 0x7f };
        api->reply (self, msg->request, PLUGIN_OK, NULL, "pg.Ping", garbage, sizeof garbage);
    }
}

static void
echo_fini (plugin_actor_t *self, void *state)
{
    api->log (self, PLUGIN_LOG_NOTICE, "echo stopped");
    free (state);
}

static const plugin_def_t echo_def = {
    PLUGIN_TEST_ABI, "test.echo", 0, echo_init, echo_receive, echo_fini
};

#ifndef PLUGIN_TEST_NO_ENTRY
PLUGIN_EXPORT const plugin_def_t *
pegasus_plugin (void)
{
    return &echo_def;
}
#else
//  The entry under another name: a shared object, but no plugin.
const plugin_def_t *not_a_plugin (void);

const plugin_def_t *
not_a_plugin (void)
{
    return &echo_def;
}
#endif
