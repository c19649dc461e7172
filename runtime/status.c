/*  status: see status.h. */
#include "runtime/status.h"

const char *
status_name (int status)
{
    const ProtobufCEnumValue *value =
        protobuf_c_enum_descriptor_get_value (&pg__status__descriptor, status);
    return value ? value->name : "UNKNOWN";
}
