/*  config: see config.h. */
#include "runtime/config.h"
#include "runtime/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *
s_raw (zconfig_t *cfg, const char *path)
{
    if (!cfg)
        return NULL;
    zconfig_t *item = zconfig_locate (cfg, path);
    if (!item)
        return NULL;
    const char *value = zconfig_value (item);
    return value && *value ? value : NULL;
}

static int
s_parse_int (const char *text, int64_t multiplier_allowed, int64_t *out)
{
    errno = 0;
    char *end = NULL;
    long long v = strtoll (text, &end, 10);
    if (errno || end == text)
        return -1;
    int64_t mult = 1;
    if (multiplier_allowed && *end) {
        switch (*end) {
            case 'k': case 'K': mult = 1024; break;
            case 'm': case 'M': mult = 1024 * 1024; break;
            case 'g': case 'G': mult = 1024LL * 1024 * 1024; break;
            default: return -1;
        }
        end++;
        if (*end == 'B' || *end == 'b')
            end++;
    }
    if (*end)
        return -1;
    if (v != 0 && (v > INT64_MAX / mult || v < INT64_MIN / mult))
        return -1;
    *out = (int64_t) v * mult;
    return 0;
}

static int
s_ranged (zconfig_t *cfg, const char *path, int64_t dflt, int64_t min,
          int64_t max, int64_t *out, bool sized)
{
    const char *raw = s_raw (cfg, path);
    if (!raw) {
        *out = dflt;
        return 0;
    }
    int64_t v;
    if (s_parse_int (raw, sized, &v) || v < min || v > max) {
        log_error ("config: %s = '%s': expected %s in [%lld, %lld]", path, raw,
                   sized ? "a size (K/M/G suffix allowed)" : "an integer",
                   (long long) min, (long long) max);
        return -1;
    }
    *out = v;
    return 0;
}

int
config_int (zconfig_t *cfg, const char *path, int64_t dflt, int64_t min,
            int64_t max, int64_t *out)
{
    return s_ranged (cfg, path, dflt, min, max, out, false);
}

int
config_size (zconfig_t *cfg, const char *path, int64_t dflt, int64_t min,
             int64_t max, int64_t *out)
{
    return s_ranged (cfg, path, dflt, min, max, out, true);
}

int
config_bool (zconfig_t *cfg, const char *path, bool dflt, bool *out)
{
    const char *raw = s_raw (cfg, path);
    if (!raw) {
        *out = dflt;
        return 0;
    }
    if (!strcmp (raw, "true") || !strcmp (raw, "yes") || !strcmp (raw, "1"))
        *out = true;
    else
    if (!strcmp (raw, "false") || !strcmp (raw, "no") || !strcmp (raw, "0"))
        *out = false;
    else {
        log_error ("config: %s = '%s': expected true or false", path, raw);
        return -1;
    }
    return 0;
}

int
config_enum (zconfig_t *cfg, const char *path, const char *dflt,
             const char *const *choices, int *out)
{
    const char *raw = s_raw (cfg, path);
    if (!raw)
        raw = dflt;
    for (int i = 0; choices [i]; i++)
        if (!strcmp (raw, choices [i])) {
            *out = i;
            return 0;
        }
    char allowed [256] = "";
    for (int i = 0; choices [i]; i++) {
        if (i)
            strncat (allowed, ", ", sizeof allowed - strlen (allowed) - 1);
        strncat (allowed, choices [i], sizeof allowed - strlen (allowed) - 1);
    }
    log_error ("config: %s = '%s': expected one of %s", path, raw, allowed);
    return -1;
}

const char *
config_str (zconfig_t *cfg, const char *path, const char *dflt)
{
    const char *raw = s_raw (cfg, path);
    return raw ? raw : dflt;
}

zconfig_t *
config_load (const char *path)
{
    if (access (path, R_OK) != 0) {
        log_error ("config: cannot read %s: %s", path, strerror (errno));
        return NULL;
    }
    zconfig_t *cfg = zconfig_load (path);
    if (!cfg)
        log_error ("config: %s is not valid ZPL", path);
    return cfg;
}
