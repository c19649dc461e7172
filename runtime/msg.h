/*  msg: a message between actors.

    A message is one pool-allocated block: a small header, then an arena
    that holds the payload struct and everything it points to. The payload
    is either a protobuf-c struct (a "wire" message, which may go to another
    node) or raw bytes of a local-only kind (which may carry pointers and
    never leaves the process). Sending to a local actor passes the block's
    pointer: no copy, no encoding. A message from the network holds its
    packed bytes until the receiving worker unpacks them into the same
    arena, with one allocator call per field and no malloc.

        Pg__Ping *ping;
        msg_t *msg = msg_new (&pg__ping__descriptor, (void **) &ping);
        ping->seq = 7;
        ping->note = msg_strdup (msg, "hello");
        actor_send (self, peer, &msg);          //  takes ownership

    Receivers dispatch on the kind: if (msg_is (msg, &pg__ping__descriptor)).
*/
#ifndef RUNTIME_MSG_H
#define RUNTIME_MSG_H

#include "runtime/mpscq.h"

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct msg_t msg_t;
typedef struct actor_t actor_t;

//  A local-only message kind: a static object whose address is the kind.
typedef struct {
    const char *name;
} msg_kind_t;

//  Wire flags (Envelope.flags).
#define MSG_REQUEST 1u
#define MSG_REPLY   2u

//  Private to runtime/: header fields, exposed so the runtime's hot paths
//  read them without calls. Everyone else uses the functions below.
#define MSG_F_PB      0x0100u     //  kind is a ProtobufCMessageDescriptor
#define MSG_F_PACKED  0x0200u     //  body not yet unpacked from `packed`
#define MSG_F_TIMER   0x0400u     //  delivered by a timer; corr = timer id
#define MSG_F_BYPASS  0x0800u     //  not counted against the mailbox bound
#define MSG_F_POSTPONED 0x1000u   //  put back by actor_postpone

typedef struct msg_extra_t msg_extra_t;

struct msg_t {
    mpscq_node_t node;            //  mailbox link; first member
    const void *kind;             //  descriptor or msg_kind_t
    uint16_t flags;               //  MSG_REQUEST/MSG_REPLY | MSG_F_*
    uint16_t status;              //  replies: pg status
    uint32_t block_size;          //  what pool_alloc was asked for
    uint64_t corr;
    int64_t deadline_ns;          //  requests: caller's deadline, 0 = none
    actor_t *from;                //  local sender of a request (ref) or NULL
    const char *from_node;        //  remote sender (arena) or NULL
    const char *from_actor;       //  remote sender's actor (arena) or NULL
    void *body;
    const uint8_t *packed;        //  wire bytes until unpacked (arena)
    uint32_t packed_len;
    uint32_t type;                //  wire type id of packed bytes
    const char *error;            //  replies: message for a non-OK status
    uint8_t *arena_cur;
    uint8_t *arena_end;
    msg_extra_t *extra;           //  overflow chunks and attachments
    _Alignas (16) uint8_t data [];
};

//  New wire message of a protobuf type, its struct initialised to defaults
//  and returned in *body_p (if not NULL). NULL if out of memory.
msg_t *
    msg_new (const ProtobufCMessageDescriptor *desc, void **body_p);

//  Same, reserving `extra` arena bytes for strings and arrays.
msg_t *
    msg_new_sized (const ProtobufCMessageDescriptor *desc, size_t extra,
                   void **body_p);

//  New local-only message with `size` zeroed payload bytes.
msg_t *
    msg_new_local (const msg_kind_t *kind, size_t size, void **body_p);

//  New message holding packed wire bytes (copied in) of a registered type.
//  `strings` reserves arena room for header strings set by the caller.
msg_t *
    msg_new_packed (const ProtobufCMessageDescriptor *desc, uint32_t type,
                    const void *packed, size_t len, size_t strings);

//  New wire message holding `body` packed: a snapshot (later changes to
//  body do not show). Sending it remotely copies the bytes without packing
//  again; a local receiver gets it unpacked. NULL if out of memory.
msg_t *
    msg_new_packing (const ProtobufCMessage *body);

void
    msg_destroy (msg_t **self_p);

//  The payload: protobuf struct or local bytes. For a message from the
//  network it is unpacked by the runtime before receive() sees it.
void *
    msg_body (msg_t *self);

//  True if the message is of this kind (descriptor or msg_kind_t).
static inline bool
msg_is (const msg_t *self, const void *kind)
{
    return self->kind == kind;
}

//  True if the message came over the network from a node other than
//  `node` (a local one did not): for what only one server may send.
static inline bool
msg_from_other (const msg_t *self, const char *node)
{
    return self->from_node && strcmp (self->from_node, node) != 0;
}

//  The protobuf type of a wire message, NULL for a local-only kind.
static inline const ProtobufCMessageDescriptor *
msg_descriptor (const msg_t *self)
{
    return (self->flags & MSG_F_PB) ? self->kind : NULL;
}

//  Name of the message's kind, for logs.
const char *
    msg_kind_name (const msg_t *self);

//  Arena allocation: lives and dies with the message. NULL if out of memory.
void *
    msg_alloc (msg_t *self, size_t size);

char *
    msg_strdup (msg_t *self, const char *string);

void *
    msg_memdup (msg_t *self, const void *data, size_t size);

//  A deep copy of a protobuf message, living in this message's arena (to
//  put another actor's state in a reply without sharing it). NULL if out
//  of memory.
void *
    msg_copy_body (msg_t *self, const ProtobufCMessage *source);

//  Ties an external buffer's lifetime to the message: free_fn(ptr) runs
//  when the message is destroyed. Lets a payload point into, say, a value
//  RocksDB returned, without copying it. Returns 0 or -1 (then the caller
//  still owns ptr).
int
    msg_attach (msg_t *self, void *ptr, void (*free_fn) (void *));

static inline bool
msg_is_request (const msg_t *self)
{
    return (self->flags & MSG_REQUEST) != 0;
}

static inline bool
msg_is_reply (const msg_t *self)
{
    return (self->flags & MSG_REPLY) != 0;
}

//  A reply's status (pg status; 0 = OK) and its message, "" if none.
static inline int
msg_status (const msg_t *self)
{
    return self->status;
}

static inline const char *
msg_error (const msg_t *self)
{
    return self->error ? self->error : "";
}

//  Set a reply's status and message (formatted into the arena).
void
    msg_set_status (msg_t *self, int status, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

//  Runtime: unpack a packed payload in place. 0, or -1 if it does not
//  decode, or if decoding would take more than msg_unpack_cap (packed
//  bytes) of memory (the transport then answers BAD_MESSAGE).
int
    msg_unpack (msg_t *self);

//  The most memory one unpack may allocate: MSG_UNPACK_FACTOR times the
//  packed length plus MSG_UNPACK_SLACK.
//
//  protobuf-c needs, per element of a repeated field, the element's struct
//  (56 to 112 bytes for our submessages, 16 for bytes), a pointer, and a
//  32-byte scan record (up to 64 with its slab doubling), whatever the
//  element's size on the wire. So the bytes-to-memory ratio depends on
//  how small the elements are, and a hostile frame of empty submessages
//  (two bytes each) reaches 92x: 1.5 GB for a 16 MB frame.
//
//  Measured on the largest legit messages (tests/unit/test_msg.c decodes
//  each): a 1 MB PrepareRequest 1.0x; QueryConfigReply of 1024 partitions
//  with details 5x; LearnReply of tiny entries 7x; multi_get and scan
//  replies of 1-byte keys 8 to 9.3x. The factor 8 covers messages of
//  ordinary elements at any size. Messages of many tiny elements need
//  more per byte but are bounded by the server's limits: BeaconRequest of
//  10,000 fresh replicas 12x (1.5 MB), batch_get of 1000 1-byte keys 30x
//  (0.15 MB), and the worst, write requests at replica/max_write_bytes
//  (1M) made of 3-byte sort keys: a check_and_mutate of 350,000 of them
//  needs 45 MB for 2.3 MB of wire, 27 MB above 8x. The slack covers
//  that. A hostile 16 MB frame gets 160 MB at most instead of 1.5 GB.
#define MSG_UNPACK_FACTOR 8
#define MSG_UNPACK_SLACK (32u << 20)

size_t
    msg_unpack_cap (size_t packed_len);

//  Runtime: size of the payload on the wire, and packing it into out.
size_t
    msg_payload_size (const msg_t *self);

void
    msg_payload_pack (const msg_t *self, uint8_t *out);

#endif
