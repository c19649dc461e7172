/*  echo: see echo.h. */
#include "tests/echo.h"
#include "rt.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    echo_t *echo;               //  the caller's, or `own`
    echo_t own;
} state_t;

static int
s_init (actor_t *self, void *args)
{
    state_t *state = calloc (1, sizeof *state);
    if (!state)
        return -1;
    state->echo = args ? args : &state->own;
    actor_set_state (self, state);
    return 0;
}

static void
s_receive (actor_t *self, msg_t **msg_p)
{
    echo_t *echo = ((state_t *) actor_state (self))->echo;
    if (!msg_is (*msg_p, &pg__ping__descriptor))
        return;
    Pg__Ping *in = msg_body (*msg_p), *out;
    if (!msg_is_request (*msg_p)) {
        if (in->seq != echo->last + 1)
            echo->disorder++;
        echo->last = in->seq;
        echo->tells++;
        return;
    }
    msg_t *reply = msg_new_sized (&pg__ping__descriptor, in->data.len, (void **) &out);
    if (!reply)
        return;
    if (!strcmp (in->note, "stats")) {
        char note [64];
        snprintf (note, sizeof note, "disorder=%llu", (unsigned long long) echo->disorder);
        out->seq = echo->tells;
        out->note = msg_strdup (reply, note);
    }
    else {
        out->seq = in->seq;
        out->note = msg_strdup (reply, in->note);
        out->data.data = msg_memdup (reply, in->data.data, in->data.len);
        out->data.len = in->data.len;
    }
    actor_reply (self, *msg_p, &reply);
}

static void
s_fini (actor_t *self)
{
    free (actor_state (self));
}

const actor_ops_t echo_ops = { "echo", s_init, s_receive, s_fini };

msg_t *
echo_ping (uint64_t seq, const char *note, size_t size)
{
    Pg__Ping *ping;
    msg_t *msg = msg_new_sized (&pg__ping__descriptor, size, (void **) &ping);
    if (!msg)
        return NULL;
    ping->seq = seq;
    ping->note = msg_strdup (msg, note);
    if (size) {
        ping->data.data = msg_alloc (msg, size);
        for (size_t i = 0; i < size; i++)
            ping->data.data [i] = (uint8_t) (seq + i);
        ping->data.len = size;
    }
    return msg;
}
