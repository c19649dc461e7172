/*  wire: see wire.h. */
#include "runtime/wire.h"

#include <string.h>

enum { WT_VARINT = 0, WT_FIXED64 = 1, WT_LEN = 2, WT_FIXED32 = 5 };
enum {
    F_FROM = 1, F_TO = 2, F_TYPE = 3, F_CORR = 4, F_FLAGS = 5, F_STATUS = 6,
    F_TIMEOUT = 7, F_ERROR = 8, F_PAYLOAD = 15
};
#define BATCH_ITEM_TAG 0x0A     //  field 1, length-delimited

static inline size_t
s_varint_size (uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static inline uint8_t *
s_put_varint (uint8_t *out, uint64_t v)
{
    while (v >= 0x80) {
        *out++ = (uint8_t) (v | 0x80);
        v >>= 7;
    }
    *out++ = (uint8_t) v;
    return out;
}

static inline uint8_t *
s_put_tag (uint8_t *out, int field, int wire_type)
{
    return s_put_varint (out, ((uint64_t) field << 3) | (uint64_t) wire_type);
}

static inline uint8_t *
s_put_bytes (uint8_t *out, int field, const void *data, size_t len)
{
    out = s_put_tag (out, field, WT_LEN);
    out = s_put_varint (out, len);
    memcpy (out, data, len);
    return out + len;
}

static inline size_t
s_bytes_size (int field, size_t len)
{
    return s_varint_size ((uint64_t) field << 3) + s_varint_size (len) + len;
}

//  Envelope body size (without the batch item's tag and length).
static size_t
s_env_size (const wire_env_t *env, size_t payload_len)
{
    size_t n = 0;
    if (env->from_actor_len)
        n += s_bytes_size (F_FROM, env->from_actor_len);
    if (env->to_actor_len)
        n += s_bytes_size (F_TO, env->to_actor_len);
    if (env->type)
        n += 1 + 4;
    if (env->corr)
        n += 1 + 8;
    if (env->flags)
        n += 1 + s_varint_size (env->flags);
    if (env->status)
        n += 1 + s_varint_size (env->status);
    if (env->timeout_ms)
        n += 1 + s_varint_size (env->timeout_ms);
    if (env->error_len)
        n += s_bytes_size (F_ERROR, env->error_len);
    if (payload_len)
        n += s_bytes_size (F_PAYLOAD, payload_len);
    return n;
}

size_t
wire_item_size (const wire_env_t *env, size_t payload_len)
{
    size_t body = s_env_size (env, payload_len);
    return 1 + s_varint_size (body) + body;
}

uint8_t *
wire_item_encode (uint8_t *out, const wire_env_t *env, size_t payload_len)
{
    *out++ = BATCH_ITEM_TAG;
    out = s_put_varint (out, s_env_size (env, payload_len));
    if (env->from_actor_len)
        out = s_put_bytes (out, F_FROM, env->from_actor, env->from_actor_len);
    if (env->to_actor_len)
        out = s_put_bytes (out, F_TO, env->to_actor, env->to_actor_len);
    if (env->type) {
        out = s_put_tag (out, F_TYPE, WT_FIXED32);
        for (int i = 0; i < 4; i++)
            *out++ = (uint8_t) (env->type >> (8 * i));
    }
    if (env->corr) {
        out = s_put_tag (out, F_CORR, WT_FIXED64);
        for (int i = 0; i < 8; i++)
            *out++ = (uint8_t) (env->corr >> (8 * i));
    }
    if (env->flags) {
        out = s_put_tag (out, F_FLAGS, WT_VARINT);
        out = s_put_varint (out, env->flags);
    }
    if (env->status) {
        out = s_put_tag (out, F_STATUS, WT_VARINT);
        out = s_put_varint (out, env->status);
    }
    if (env->timeout_ms) {
        out = s_put_tag (out, F_TIMEOUT, WT_VARINT);
        out = s_put_varint (out, env->timeout_ms);
    }
    if (env->error_len)
        out = s_put_bytes (out, F_ERROR, env->error, env->error_len);
    if (payload_len) {
        out = s_put_tag (out, F_PAYLOAD, WT_LEN);
        out = s_put_varint (out, payload_len);
    }
    return out;
}

//  Reads a varint; returns -1 on truncation or more than 10 bytes.
static inline int
s_get_varint (const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t result = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (*p >= end)
            return -1;
        uint8_t byte = *(*p)++;
        result |= (uint64_t) (byte & 0x7F) << shift;
        if (!(byte & 0x80)) {
            *v = result;
            return 0;
        }
    }
    return -1;
}

static int
s_decode_env (const uint8_t *p, const uint8_t *end, wire_env_t *env)
{
    memset (env, 0, sizeof *env);
    while (p < end) {
        uint64_t tag;
        if (s_get_varint (&p, end, &tag))
            return -1;
        uint64_t field = tag >> 3;
        int wire_type = (int) (tag & 7);
        uint64_t v = 0;
        const uint8_t *data = NULL;
        switch (wire_type) {
            case WT_VARINT:
                if (s_get_varint (&p, end, &v))
                    return -1;
                break;
            case WT_FIXED64:
                if (end - p < 8)
                    return -1;
                for (int i = 0; i < 8; i++)
                    v |= (uint64_t) p [i] << (8 * i);
                p += 8;
                break;
            case WT_FIXED32:
                if (end - p < 4)
                    return -1;
                for (int i = 0; i < 4; i++)
                    v |= (uint64_t) p [i] << (8 * i);
                p += 4;
                break;
            case WT_LEN:
                if (s_get_varint (&p, end, &v) || v > (uint64_t) (end - p))
                    return -1;
                data = p;
                p += v;
                break;
            default:
                return -1;              //  groups are not used by our protos
        }
        //  A known field with the wrong wire type is malformed.
        switch (field) {
            case F_FROM:
            case F_TO:
            case F_ERROR:
            case F_PAYLOAD:
                if (wire_type != WT_LEN)
                    return -1;
                break;
            case F_TYPE:
                if (wire_type != WT_FIXED32)
                    return -1;
                break;
            case F_CORR:
                if (wire_type != WT_FIXED64)
                    return -1;
                break;
            case F_FLAGS:
            case F_STATUS:
            case F_TIMEOUT:
                if (wire_type != WT_VARINT)
                    return -1;
                break;
            default:
                continue;               //  unknown field: skipped
        }
        switch (field) {
            case F_FROM:    env->from_actor = (const char *) data; env->from_actor_len = v; break;
            case F_TO:      env->to_actor = (const char *) data; env->to_actor_len = v; break;
            case F_ERROR:   env->error = (const char *) data; env->error_len = v; break;
            case F_PAYLOAD: env->payload = data; env->payload_len = v; break;
            case F_TYPE:    env->type = (uint32_t) v; break;
            case F_CORR:    env->corr = v; break;
            case F_FLAGS:   env->flags = (uint32_t) v; break;
            case F_STATUS:  env->status = (uint32_t) v; break;
            case F_TIMEOUT: env->timeout_ms = (uint32_t) v; break;
        }
    }
    return 0;
}

int
wire_item_next (const uint8_t **cursor, const uint8_t *end, wire_env_t *env)
{
    const uint8_t *p = *cursor;
    if (p >= end)
        return 0;
    uint64_t tag, len;
    if (s_get_varint (&p, end, &tag) || tag != BATCH_ITEM_TAG)
        return -1;
    if (s_get_varint (&p, end, &len) || len > (uint64_t) (end - p))
        return -1;
    if (s_decode_env (p, p + len, env))
        return -1;
    *cursor = p + len;
    return 1;
}
