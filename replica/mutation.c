/*  mutation: see mutation.h. The protobuf wire format, by hand, for the one
    message on the write path (protobuf-c would unpack into a malloc'd tree
    per mutation on every replica).

        Mutation   = ( 0x0A varint(len) MutationOp )*
        MutationOp = [ 0x08 kind ] 0x12 varint(len) key 0x1A varint(len) value
*/
#include "replica/mutation.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define TAG_OPS   0x0A                  //  field 1, length-delimited
#define TAG_KIND  0x08                  //  field 1, varint
#define TAG_KEY   0x12                  //  field 2, length-delimited
#define TAG_VALUE 0x1A                  //  field 3, length-delimited

mutation_t *
mutation_new (void)
{
    return calloc (1, sizeof (mutation_t));
}

void
mutation_destroy (mutation_t **self_p)
{
    mutation_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    free (self->bytes);
    free (self);
}

uint8_t *
mutation_take (mutation_t *self, size_t *len)
{
    uint8_t *bytes = self->bytes;
    *len = self->len;
    self->bytes = NULL;
    self->len = self->capacity = self->nops = 0;
    return bytes;
}

static size_t
s_varint_size (uint64_t value)
{
    size_t size = 1;
    while (value >= 0x80) {
        value >>= 7;
        size++;
    }
    return size;
}

static uint8_t *
s_varint (uint8_t *out, uint64_t value)
{
    while (value >= 0x80) {
        *out++ = (uint8_t) (value | 0x80);
        value >>= 7;
    }
    *out++ = (uint8_t) value;
    return out;
}

static uint8_t *
s_reserve (mutation_t *self, size_t bytes)
{
    if (self->len + bytes > self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 256;
        if (capacity < self->len + bytes)
            capacity = self->len + bytes;
        uint8_t *grown = realloc (self->bytes, capacity);
        if (!grown)
            return NULL;
        self->bytes = grown;
        self->capacity = capacity;
    }
    uint8_t *at = self->bytes + self->len;
    self->len += bytes;
    return at;
}

//  Appends one op and returns where its value goes.
static uint8_t *
s_append (mutation_t *self, int kind, const uint8_t *key, size_t key_len, size_t value_len,
          bool has_value)
{
    size_t body = (kind ? 2 : 0) + 1 + s_varint_size (key_len) + key_len
                + (has_value ? 1 + s_varint_size (value_len) + value_len : 0);
    uint8_t *out = s_reserve (self, 1 + s_varint_size (body) + body);
    if (!out)
        return NULL;
    *out++ = TAG_OPS;
    out = s_varint (out, body);
    if (kind) {
        *out++ = TAG_KIND;
        *out++ = (uint8_t) kind;
    }
    *out++ = TAG_KEY;
    out = s_varint (out, key_len);
    if (key_len)
        memcpy (out, key, key_len);
    out += key_len;
    if (has_value) {
        *out++ = TAG_VALUE;
        out = s_varint (out, value_len);
    }
    self->nops++;
    return out;
}

uint8_t *
mutation_put (mutation_t *self, const uint8_t *key, size_t key_len, size_t value_len)
{
    return s_append (self, MUTATION_PUT, key, key_len, value_len, true);
}

int
mutation_del (mutation_t *self, const uint8_t *key, size_t key_len)
{
    return s_append (self, MUTATION_DEL, key, key_len, 0, false) ? 0 : -1;
}

void
mutation_truncate (mutation_t *self, size_t len, size_t nops)
{
    //  Ops are appended whole, so a length taken between two appends is
    //  always the end of an op: cutting there leaves valid bytes.
    assert (len <= self->len && nops <= self->nops);
    self->len = len;
    self->nops = nops;
}

//  ---------------------------------------------------------------------------
//  Reading untrusted bytes

typedef struct {
    const uint8_t *at;
    const uint8_t *end;
} cursor_t;

static int
s_read_varint (cursor_t *c, uint64_t *value)
{
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (c->at == c->end)
            return -1;
        uint8_t byte = *c->at++;
        result |= (uint64_t) (byte & 0x7F) << shift;
        if (!(byte & 0x80)) {
            *value = result;
            return 0;
        }
    }
    return -1;                          //  more than 10 bytes
}

static int
s_read_bytes (cursor_t *c, const uint8_t **data, size_t *len)
{
    uint64_t n;
    if (s_read_varint (c, &n) || n > (uint64_t) (c->end - c->at))
        return -1;
    *data = c->at;
    *len = (size_t) n;
    c->at += n;
    return 0;
}

//  Skips a field of an unknown number (a newer writer may add some).
static int
s_skip (cursor_t *c, uint64_t tag)
{
    uint64_t ignored;
    const uint8_t *data;
    size_t len;
    switch (tag & 7) {
        case 0: return s_read_varint (c, &ignored);
        case 1: if (c->end - c->at < 8) return -1; c->at += 8; return 0;
        case 2: return s_read_bytes (c, &data, &len);
        case 5: if (c->end - c->at < 4) return -1; c->at += 4; return 0;
        default: return -1;             //  groups and invalid wire types
    }
}

typedef struct {
    int kind;
    const uint8_t *key;
    size_t key_len;
    const uint8_t *value;
    size_t value_len;
} op_t;

static int
s_read_op (const uint8_t *data, size_t len, op_t *op)
{
    cursor_t c = { data, data + len };
    *op = (op_t) { MUTATION_PUT, (const uint8_t *) "", 0, (const uint8_t *) "", 0 };
    while (c.at < c.end) {
        uint64_t tag, kind;
        if (s_read_varint (&c, &tag))
            return -1;
        if (tag == TAG_KIND) {
            if (s_read_varint (&c, &kind) || kind > MUTATION_DEL)
                return -1;
            op->kind = (int) kind;
        }
        else
        if (tag == TAG_KEY) {
            if (s_read_bytes (&c, &op->key, &op->key_len))
                return -1;
        }
        else
        if (tag == TAG_VALUE) {
            if (s_read_bytes (&c, &op->value, &op->value_len))
                return -1;
        }
        else
        if ((tag >> 3) == 0 || s_skip (&c, tag))
            return -1;
    }
    return 0;
}

//  One pass over the ops; calls fn for each when fn is not NULL.
static long
s_pass (const uint8_t *bytes, size_t len, mutation_fn *fn, void *ctx)
{
    cursor_t c = { bytes, bytes + len };
    long count = 0;
    while (c.at < c.end) {
        uint64_t tag;
        if (s_read_varint (&c, &tag))
            return -1;
        if (tag != TAG_OPS) {
            if ((tag >> 3) == 0 || s_skip (&c, tag))
                return -1;
            continue;
        }
        const uint8_t *data;
        size_t n;
        op_t op;
        if (s_read_bytes (&c, &data, &n) || s_read_op (data, n, &op))
            return -1;
        if (fn)
            fn (ctx, op.kind, op.key, op.key_len, op.value, op.value_len);
        count++;
    }
    return count;
}

long
mutation_walk (const uint8_t *bytes, size_t len, mutation_fn *fn, void *ctx)
{
    if (!bytes && len)
        return -1;
    long count = s_pass (bytes, len, NULL, NULL);
    if (count <= 0 || !fn)
        return count;
    return s_pass (bytes, len, fn, ctx);
}
