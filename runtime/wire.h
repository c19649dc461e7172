/*  wire: encoding of envelopes inside a batch frame.

    A frame is a pg.Batch (proto/rt.proto): a sequence of items, each the
    field-1 tag, a length and one pg.Envelope. The envelope's payload field
    (15) is written last, so a sender packs the payload straight into the
    frame after the header fields, and a receiver gets pointers into the
    frame without copying.

    This is hand-written rather than protobuf-c's generic unpack because it
    runs on the I/O thread for every message: it decodes in place with no
    allocation. It accepts any valid encoding of the same messages (fields
    in any order, unknown fields skipped), so other protobuf implementations
    interoperate; tests check it against protobuf-c both ways.
*/
#ifndef RUNTIME_WIRE_H
#define RUNTIME_WIRE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *from_actor;
    size_t from_actor_len;
    const char *to_actor;
    size_t to_actor_len;
    uint32_t type;
    uint64_t corr;
    uint32_t flags;
    uint32_t status;
    uint32_t timeout_ms;
    const char *error;
    size_t error_len;
    const uint8_t *payload;
    size_t payload_len;
} wire_env_t;

//  Bytes of one batch item holding env with a payload of payload_len.
size_t
    wire_item_size (const wire_env_t *env, size_t payload_len);

//  Writes an item up to its payload bytes and returns where the
//  payload_len payload bytes go. out must hold wire_item_size bytes.
uint8_t *
    wire_item_encode (uint8_t *out, const wire_env_t *env, size_t payload_len);

//  Reads the next item of a batch at *cursor (< end). Returns 1 with env
//  filled (pointers into the frame) and *cursor advanced, 0 at the end,
//  -1 if the bytes are not a valid batch item (the rest of the frame is
//  then unusable).
int
    wire_item_next (const uint8_t **cursor, const uint8_t *end, wire_env_t *env);

#endif
