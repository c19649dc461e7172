/*  config: typed, validated reads from a ZPL tree (czmq zconfig).

    Every value that can change behaviour is read through these, with its
    default and its valid range, so a bad config value is refused at start
    with a message naming the key, the value and what was expected.

        int64_t workers;
        if (config_int (cfg, "runtime/workers", 2, 1, 256, &workers))
            return -1;      //  already logged
*/
#ifndef RUNTIME_CONFIG_H
#define RUNTIME_CONFIG_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

//  Integer in [min, max]. A NULL cfg or a missing key gives the default.
int
    config_int (zconfig_t *cfg, const char *path, int64_t dflt,
                int64_t min, int64_t max, int64_t *out);

//  Byte size with optional K/M/G suffix (powers of 1024), in [min, max].
int
    config_size (zconfig_t *cfg, const char *path, int64_t dflt,
                 int64_t min, int64_t max, int64_t *out);

//  "true"/"false"/"yes"/"no"/"1"/"0".
int
    config_bool (zconfig_t *cfg, const char *path, bool dflt, bool *out);

//  One of `choices` (NULL-terminated); *out is its index.
int
    config_enum (zconfig_t *cfg, const char *path, const char *dflt,
                 const char *const *choices, int *out);

//  A string (borrowed from cfg, or dflt). Never fails.
const char *
    config_str (zconfig_t *cfg, const char *path, const char *dflt);

//  Load a ZPL file; logs and returns NULL if it is missing or malformed.
zconfig_t *
    config_load (const char *path);

//  Every key read so far in this process, sorted, one a line:
//      <kind> <path> = <value> (default <default>)
//  kind is int, size, bool, enum or str; sizes in bytes. A key read with
//  two different defaults shows both (a bug: one key, one default). For
//  `pegasusd --print-config`, and the test that holds docs/pegasus.cfg to
//  the code's defaults.
void
    config_dump (FILE *out);

#endif
