/*  status: the wire status enum (proto/status.proto) as text. */
#ifndef RUNTIME_STATUS_H
#define RUNTIME_STATUS_H

#include "status.pb-c.h"

//  "OK", "BUSY", ...; "UNKNOWN" for a value outside the enum.
const char *
    status_name (int status);

#endif
