/*  config: see config.h. */
#include "runtime/config.h"
#include "runtime/log.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

//  Keys read, for config_dump: a small table (a node reads some 80 keys).
#define SEEN_MAX 512

typedef struct {
    char path [96];
    const char *kind;
    char dflt [128];
    char value [128];
    bool conflict;                      //  read with another default too
} seen_t;

static seen_t s_seen [SEEN_MAX];
static size_t s_nseen;
static pthread_mutex_t s_seen_lock = PTHREAD_MUTEX_INITIALIZER;

static void
s_note (const char *path, const char *kind, const char *dflt, const char *value)
{
    pthread_mutex_lock (&s_seen_lock);
    size_t i = 0;
    while (i < s_nseen && strcmp (s_seen [i].path, path))
        i++;
    if (i < s_nseen) {
        if (strcmp (s_seen [i].dflt, dflt))
            s_seen [i].conflict = true;
    }
    else
    if (s_nseen < SEEN_MAX) {
        seen_t *seen = &s_seen [s_nseen++];
        snprintf (seen->path, sizeof seen->path, "%s", path);
        seen->kind = kind;
        snprintf (seen->dflt, sizeof seen->dflt, "%s", dflt);
        snprintf (seen->value, sizeof seen->value, "%s", value);
    }
    pthread_mutex_unlock (&s_seen_lock);
}

static void
s_note_int (const char *path, const char *kind, int64_t dflt, int64_t value)
{
    char d [32], v [32];
    snprintf (d, sizeof d, "%" PRId64, dflt);
    snprintf (v, sizeof v, "%" PRId64, value);
    s_note (path, kind, d, v);
}

static int
s_by_path (const void *a, const void *b)
{
    return strcmp (((const seen_t *) a)->path, ((const seen_t *) b)->path);
}

void
config_dump (FILE *out)
{
    pthread_mutex_lock (&s_seen_lock);
    qsort (s_seen, s_nseen, sizeof s_seen [0], s_by_path);
    for (size_t i = 0; i < s_nseen; i++)
        fprintf (out, "%s %s = %s (default %s%s)\n", s_seen [i].kind, s_seen [i].path,
                 s_seen [i].value, s_seen [i].dflt,
                 s_seen [i].conflict ? "; ALSO READ WITH ANOTHER DEFAULT" : "");
    pthread_mutex_unlock (&s_seen_lock);
}

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
    int rc = s_ranged (cfg, path, dflt, min, max, out, false);
    if (rc == 0)
        s_note_int (path, "int", dflt, *out);
    return rc;
}

int
config_size (zconfig_t *cfg, const char *path, int64_t dflt, int64_t min,
             int64_t max, int64_t *out)
{
    int rc = s_ranged (cfg, path, dflt, min, max, out, true);
    if (rc == 0)
        s_note_int (path, "size", dflt, *out);
    return rc;
}

int
config_bool (zconfig_t *cfg, const char *path, bool dflt, bool *out)
{
    const char *raw = s_raw (cfg, path);
    if (!raw)
        *out = dflt;
    else
    if (!strcmp (raw, "true") || !strcmp (raw, "yes") || !strcmp (raw, "1"))
        *out = true;
    else
    if (!strcmp (raw, "false") || !strcmp (raw, "no") || !strcmp (raw, "0"))
        *out = false;
    else {
        log_error ("config: %s = '%s': expected true or false", path, raw);
        return -1;
    }
    s_note (path, "bool", dflt ? "true" : "false", *out ? "true" : "false");
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
            s_note (path, "enum", dflt, raw);
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
    s_note (path, "str", dflt ? dflt : "", raw ? raw : dflt ? dflt : "");
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
