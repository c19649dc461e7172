/*  log: levelled, one line per event, with node and actor in every line.

        2026-11-25 10:00:00.123 I [replica.1.3@127.0.0.1:34801] opened, decree 42

    The [actor@node] context is thread-local: the scheduler sets it around
    each actor turn, so callers never pass it. Each line is formatted into a
    buffer and written with one write(2), so lines from several threads do
    not interleave. Levels follow zsys: error, warning, notice, info, debug,
    plus trace for per-message detail.
*/
#ifndef RUNTIME_LOG_H
#define RUNTIME_LOG_H

#include <stdbool.h>
#include <stdint.h>

//  LOGL_, not LOG_: <syslog.h> (pulled in by czmq) owns LOG_INFO and friends.
typedef enum {
    LOGL_ERROR = 0,
    LOGL_WARNING,
    LOGL_NOTICE,
    LOGL_INFO,
    LOGL_DEBUG,
    LOGL_TRACE
} log_level_t;

extern int log_threshold;

#define log_enabled(level) ((int) (level) <= log_threshold)
#define LOG_AT(level, ...) \
    do { if (log_enabled (level)) log_emit ((level), __VA_ARGS__); } while (0)
#define log_error(...)   LOG_AT (LOGL_ERROR, __VA_ARGS__)
#define log_warning(...) LOG_AT (LOGL_WARNING, __VA_ARGS__)
#define log_notice(...)  LOG_AT (LOGL_NOTICE, __VA_ARGS__)
#define log_info(...)    LOG_AT (LOGL_INFO, __VA_ARGS__)
#define log_debug(...)   LOG_AT (LOGL_DEBUG, __VA_ARGS__)
#define log_trace(...)   LOG_AT (LOGL_TRACE, __VA_ARGS__)

void
    log_emit (log_level_t level, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

//  Parses "error", "warning", "notice", "info", "debug", "trace".
//  Returns 0 and sets *level, or -1 for an unknown name.
int
    log_level_parse (const char *name, log_level_t *level);

void
    log_set_level (log_level_t level);

//  Log to this file (appending) instead of stderr. Returns 0 or -1.
int
    log_set_file (const char *path);

//  Thread-local context printed as [actor@node]. Strings are borrowed:
//  they must outlive the context (the scheduler points at actor names).
void
    log_set_context (const char *node, const char *actor);

//  Timestamps come from this function (ms since the epoch); the runtime
//  points it at its clock so a simulated clock shows in the log.
void
    log_set_time_source (int64_t (*wall_ms) (void *ctx), void *ctx);

//  Rate limit for a repeated event: allows `burst` lines per second, then
//  counts what it suppressed and reports the count on the next line.
typedef struct {
    int64_t window_start_ms;
    uint32_t in_window;
    uint32_t suppressed;
} log_limit_t;

//  Returns true if a line may be written now; *suppressed is set to the
//  number of lines dropped since the last allowed one. Not thread-safe:
//  one limiter per thread or actor.
bool
    log_limit_allow (log_limit_t *self, uint32_t burst, uint32_t *suppressed);

#endif
