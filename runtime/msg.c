/*  msg: see msg.h.

    A block is sized for the header, the payload struct and a guess of its
    strings; when the arena runs out, msg_alloc takes an overflow chunk from
    malloc and links it on `extra`, freed with the message.
*/
#include "runtime/msg.h"
#include "runtime/actor.h"
#include "runtime/pool.h"
#include "runtime/types.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_EXTRA 64
#define CHUNK_MIN 1024

struct msg_extra_t {
    msg_extra_t *next;
    void *ptr;
    void (*free_fn) (void *);
};

static msg_t *
s_block (size_t payload)
{
    size_t size = sizeof (msg_t) + payload;
    if (size > UINT32_MAX)
        return NULL;
    msg_t *self = pool_alloc (size);
    if (!self)
        return NULL;
    memset (self, 0, sizeof *self);
    self->block_size = (uint32_t) size;
    self->arena_cur = self->data;
    self->arena_end = (uint8_t *) self + pool_block_size (size);
    return self;
}

msg_t *
msg_new_sized (const ProtobufCMessageDescriptor *desc, size_t extra, void **body_p)
{
    msg_t *self = s_block (desc->sizeof_message + extra);
    if (!self)
        return NULL;
    self->kind = desc;
    self->flags = MSG_F_PB;
    self->body = msg_alloc (self, desc->sizeof_message);
    protobuf_c_message_init (desc, self->body);
    if (body_p)
        *body_p = self->body;
    return self;
}

msg_t *
msg_new (const ProtobufCMessageDescriptor *desc, void **body_p)
{
    return msg_new_sized (desc, DEFAULT_EXTRA, body_p);
}

msg_t *
msg_new_local (const msg_kind_t *kind, size_t size, void **body_p)
{
    msg_t *self = s_block (size + DEFAULT_EXTRA);
    if (!self)
        return NULL;
    self->kind = kind;
    self->body = size ? msg_alloc (self, size) : NULL;
    if (self->body)
        memset (self->body, 0, size);
    if (body_p)
        *body_p = self->body;
    return self;
}

msg_t *
msg_new_packed (const ProtobufCMessageDescriptor *desc, uint32_t type,
                const void *packed, size_t len, size_t strings)
{
    //  Room for the bytes, the unpacked struct, and roughly the bytes again
    //  (strings and bytes fields are copied out when unpacking).
    msg_t *self = s_block (len + desc->sizeof_message + len + strings + DEFAULT_EXTRA);
    if (!self)
        return NULL;
    self->kind = desc;
    self->flags = MSG_F_PB | MSG_F_PACKED;
    self->type = type;
    uint8_t *copy = msg_alloc (self, len ? len : 1);
    if (len)
        memcpy (copy, packed, len);
    self->packed = copy;
    self->packed_len = (uint32_t) len;
    return self;
}

msg_t *
msg_new_packing (const ProtobufCMessage *body)
{
    const ProtobufCMessageDescriptor *desc = body->descriptor;
    size_t len = protobuf_c_message_get_packed_size (body);
    msg_t *self = s_block (len + desc->sizeof_message + len + DEFAULT_EXTRA);
    if (!self)
        return NULL;
    self->kind = desc;
    self->flags = MSG_F_PB | MSG_F_PACKED;
    self->type = types_id (desc);
    uint8_t *bytes = msg_alloc (self, len ? len : 1);
    protobuf_c_message_pack (body, bytes);
    self->packed = bytes;
    self->packed_len = (uint32_t) len;
    return self;
}

void
msg_destroy (msg_t **self_p)
{
    msg_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    msg_extra_t *extra = self->extra;
    while (extra) {
        msg_extra_t *next = extra->next;
        extra->free_fn (extra->ptr);
        free (extra);
        extra = next;
    }
    if (self->from)
        actor_unref (&self->from);
    pool_free (self, self->block_size);
}

void *
msg_body (msg_t *self)
{
    return self->body;
}

const char *
msg_kind_name (const msg_t *self)
{
    if (!self->kind)
        return "(none)";
    if (self->flags & MSG_F_PB)
        return ((const ProtobufCMessageDescriptor *) self->kind)->name;
    return ((const msg_kind_t *) self->kind)->name;
}

void *
msg_alloc (msg_t *self, size_t size)
{
    size = (size + 7) & ~(size_t) 7;
    if ((size_t) (self->arena_end - self->arena_cur) >= size) {
        void *ptr = self->arena_cur;
        self->arena_cur += size;
        return ptr;
    }
    //  Out of arena: a new chunk becomes the arena (the old tail is lost,
    //  which costs less than tracking it).
    size_t chunk = size > CHUNK_MIN ? size : CHUNK_MIN;
    uint8_t *mem = malloc (chunk);
    if (!mem)
        return NULL;
    if (msg_attach (self, mem, free)) {
        free (mem);
        return NULL;
    }
    self->arena_cur = mem + size;
    self->arena_end = mem + chunk;
    return mem;
}

char *
msg_strdup (msg_t *self, const char *string)
{
    return msg_memdup (self, string, strlen (string) + 1);
}

void *
msg_memdup (msg_t *self, const void *data, size_t size)
{
    void *copy = msg_alloc (self, size ? size : 1);
    if (copy && size)
        memcpy (copy, data, size);
    return copy;
}

int
msg_attach (msg_t *self, void *ptr, void (*free_fn) (void *))
{
    msg_extra_t *extra = malloc (sizeof *extra);
    if (!extra)
        return -1;
    extra->ptr = ptr;
    extra->free_fn = free_fn;
    extra->next = self->extra;
    self->extra = extra;
    return 0;
}

void
msg_set_status (msg_t *self, int status, const char *format, ...)
{
    self->status = (uint16_t) status;
    self->error = NULL;
    if (!format || !*format)
        return;
    char text [512];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    self->error = msg_strdup (self, text);
}

static void *
s_arena_alloc (void *data, size_t size)
{
    return msg_alloc (data, size);
}

static void
s_arena_free (void *data, void *ptr)
{
    (void) data;
    (void) ptr;     //  arena memory dies with the message
}

//  The arena allocator of an unpack from the network, with a budget: a
//  few bytes on the wire may ask for far more memory (an empty submessage
//  is two bytes and unpacks to its whole struct, a pointer and protobuf-c's
//  32-byte scan record), so a hostile 16 MB frame could make one unpack
//  allocate gigabytes. Past the budget the allocation fails, which fails
//  the unpack.
typedef struct {
    msg_t *msg;
    size_t budget;                      //  bytes still allowed
} capped_t;

static void *
s_capped_alloc (void *data, size_t size)
{
    capped_t *capped = data;
    size_t rounded = (size + 7) & ~(size_t) 7;      //  as msg_alloc counts it
    if (rounded < size || rounded > capped->budget)
        return NULL;
    capped->budget -= rounded;
    return msg_alloc (capped->msg, size);
}

size_t
msg_unpack_cap (size_t packed_len)
{
    return MSG_UNPACK_FACTOR * packed_len + MSG_UNPACK_SLACK;
}

int
msg_unpack (msg_t *self)
{
    if (!(self->flags & MSG_F_PACKED))
        return 0;
    capped_t capped = { self, msg_unpack_cap (self->packed_len) };
    ProtobufCAllocator allocator = { s_capped_alloc, s_arena_free, &capped };
    ProtobufCMessage *body = protobuf_c_message_unpack (self->kind, &allocator,
                                                        self->packed_len, self->packed);
    if (!body)
        return -1;
    self->body = body;
    self->flags &= (uint16_t) ~MSG_F_PACKED;
    return 0;
}

void *
msg_copy_body (msg_t *self, const ProtobufCMessage *source)
{
    size_t len = protobuf_c_message_get_packed_size (source);
    uint8_t stack [512];
    uint8_t *bytes = len <= sizeof stack ? stack : malloc (len);
    if (!bytes)
        return NULL;
    protobuf_c_message_pack (source, bytes);
    //  No budget here, unlike msg_unpack: the bytes are our own packing of
    //  a struct already in memory, so the copy needs what the original
    //  (itself unpacked under a budget, or built locally) already holds.
    ProtobufCAllocator allocator = { s_arena_alloc, s_arena_free, self };
    void *copy = protobuf_c_message_unpack (source->descriptor, &allocator, len, bytes);
    if (bytes != stack)
        free (bytes);
    return copy;
}

size_t
msg_payload_size (const msg_t *self)
{
    if (self->flags & MSG_F_PACKED)
        return self->packed_len;
    return protobuf_c_message_get_packed_size (self->body);
}

void
msg_payload_pack (const msg_t *self, uint8_t *out)
{
    if (self->flags & MSG_F_PACKED)
        memcpy (out, self->packed, self->packed_len);
    else
        protobuf_c_message_pack (self->body, out);
}
