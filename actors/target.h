/*  target: what every backup target shares, whoever wrote it: the rules
    of a path in the target API (proto/target.proto) and the chunk sizes.
    The built-in filesystem target and the backup's uploader use these; a
    plugin target follows the same rules, documented in the .proto. */
#ifndef ACTORS_TARGET_H
#define ACTORS_TARGET_H

#include <stdbool.h>
#include <stddef.h>

#define TARGET_PATH_MAX 1024
#define TARGET_NAME_MAX 255
//  A put's or a get's chunk: big enough that a round trip per chunk costs
//  little against the bytes, far under the transport's frame limit.
#define TARGET_CHUNK_DEFAULT (1u << 20)
#define TARGET_CHUNK_MAX (16u << 20)
#define TARGET_LIST_DEFAULT 1000u

//  NULL if path is a valid target path (relative, '/'-separated components
//  of [A-Za-z0-9._-] not starting with '.'), else why not. The empty path
//  (the root) is valid only if allow_root.
const char *
    target_path_check (const char *path, bool allow_root);

#endif
