/*  log: see log.h. */
#include "runtime/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int log_threshold = LOGL_NOTICE;

static int s_fd = 2;
static int64_t (*s_wall_ms) (void *ctx);
static void *s_wall_ctx;
static _Thread_local const char *t_node;
static _Thread_local const char *t_actor;

static const char s_letters [] = "EWNIDT";
static const char *s_names [] = { "error", "warning", "notice", "info", "debug", "trace" };

static int64_t
s_real_wall_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
log_emit (log_level_t level, const char *format, ...)
{
    char line [2048];
    int64_t now = s_wall_ms ? s_wall_ms (s_wall_ctx) : s_real_wall_ms ();
    time_t secs = (time_t) (now / 1000);
    struct tm tm;
    gmtime_r (&secs, &tm);
    size_t len = strftime (line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
    len += (size_t) snprintf (line + len, sizeof line - len, ".%03d %c ",
                              (int) (now % 1000), s_letters [level]);
    if (t_actor || t_node)
        len += (size_t) snprintf (line + len, sizeof line - len, "[%s@%s] ",
                                  t_actor ? t_actor : "-", t_node ? t_node : "-");
    va_list args;
    va_start (args, format);
    int n = vsnprintf (line + len, sizeof line - len - 1, format, args);
    va_end (args);
    if (n < 0)
        n = 0;
    len += (size_t) n;
    if (len > sizeof line - 2)
        len = sizeof line - 2;      //  truncated: keep it one line
    line [len++] = '\n';
    //  One write per line; a short write on a full disk is not retried
    //  forever, and logging must never fail the caller.
    ssize_t rc;
    do
        rc = write (s_fd, line, len);
    while (rc < 0 && errno == EINTR);
}

int
log_level_parse (const char *name, log_level_t *level)
{
    for (int i = 0; i <= LOGL_TRACE; i++)
        if (strcmp (name, s_names [i]) == 0) {
            *level = (log_level_t) i;
            return 0;
        }
    return -1;
}

void
log_set_level (log_level_t level)
{
    log_threshold = (int) level;
}

int
log_set_file (const char *path)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (s_fd > 2)
        close (s_fd);
    s_fd = fd;
    return 0;
}

void
log_set_context (const char *node, const char *actor)
{
    t_node = node;
    t_actor = actor;
}

void
log_set_time_source (int64_t (*wall_ms) (void *ctx), void *ctx)
{
    s_wall_ctx = ctx;
    s_wall_ms = wall_ms;
}

bool
log_limit_allow (log_limit_t *self, uint32_t burst, uint32_t *suppressed)
{
    int64_t now = s_wall_ms ? s_wall_ms (s_wall_ctx) : s_real_wall_ms ();
    if (now - self->window_start_ms >= 1000) {
        self->window_start_ms = now;
        self->in_window = 0;
    }
    if (self->in_window < burst) {
        self->in_window++;
        *suppressed = self->suppressed;
        self->suppressed = 0;
        return true;
    }
    self->suppressed++;
    return false;
}
