/*  echo: the test actor that answers Pings.

    - a Ping request gets a Ping reply with the same seq, data and note;
    - a Ping tell is counted, and its seq checked to follow the last one;
    - a Ping request whose note is "stats" gets seq = tells counted and
      note = "disorder=<n>".
*/
#ifndef TESTS_ECHO_H
#define TESTS_ECHO_H

#include "runtime/actor.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t tells;
    uint64_t last;
    uint64_t disorder;
} echo_t;

//  args: an echo_t the actor updates (may be NULL: it keeps its own).
extern const actor_ops_t echo_ops;

//  A Ping with seq, a note and `size` bytes of data (byte i = seq + i).
msg_t *
    echo_ping (uint64_t seq, const char *note, size_t size);

#endif
