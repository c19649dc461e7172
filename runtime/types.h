/*  types: registry of the protobuf message types that may cross the wire.

    A type's id is a 32-bit hash of its full proto name ("pg.Ping"), so ids
    are stable across builds and need no central enum; a collision is
    refused at registration. Local sends never need the id: receivers
    dispatch on the descriptor pointer (msg_is). Registration is rare and
    locked; lookups are lock-free.
*/
#ifndef RUNTIME_TYPES_H
#define RUNTIME_TYPES_H

#include <protobuf-c/protobuf-c.h>
#include <stdint.h>

//  Register a type for receipt from the wire. Idempotent. Returns 0, or -1
//  if another type has the same id or the table is full (logged).
int
    types_register (const ProtobufCMessageDescriptor *desc);

//  The descriptor registered under id, or NULL.
const ProtobufCMessageDescriptor *
    types_find (uint32_t id);

//  The descriptor registered under its full name ("pg.Ping"), or NULL:
//  for code that names types as text (plugins).
const ProtobufCMessageDescriptor *
    types_find_name (const char *name);

//  The wire id of a type (registered or not).
uint32_t
    types_id (const ProtobufCMessageDescriptor *desc);

#endif
