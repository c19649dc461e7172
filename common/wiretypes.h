/*  wiretypes: registers every message type of proto/ for receipt from the
    wire, so a server, the client library and the tests all decode the
    same set. Idempotent and thread-safe; call before starting a runtime. */
#ifndef COMMON_WIRETYPES_H
#define COMMON_WIRETYPES_H

//  0, or -1 if two types collide (logged: rename one).
int
    wiretypes_register (void);

#endif
