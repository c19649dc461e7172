/*  fault: see fault.h.

    The state is one process-wide table behind a mutex, plus an atomic
    flag read without the lock so that a fault point costs a load when
    injection is off. Every fault_on call stats the control file and
    re-reads it if its identity (device, inode, mtime in ns, size) differs
    from the version loaded, so a test's rename takes effect at the next
    check, with no thread or timer watching the file.

    The loaded version's file stays open: while we hold its inode, a later
    version (a new file renamed over it) cannot be given the same inode
    number, so two versions written within one tick of a coarse mtime
    clock, of the same size, are still told apart.
*/
#include "runtime/fault.h"
#include "runtime/config.h"
#include "runtime/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME_MAX_LEN 63
#define FILE_MAX (64 * 1024)            //  a control file is a few lines

typedef struct {
    char name [NAME_MAX_LEN + 1];
    int64_t arg;
    uint64_t calls;                     //  fault_nth: calls counted so far
} fault_t;

typedef struct {
    pthread_mutex_t lock;
    char *path;                         //  NULL: off
    bool loaded;                        //  the fields below describe a version
    bool present;                       //  ...which existed (else: no faults)
    dev_t dev;
    ino_t ino;
    struct timespec mtime;
    off_t size;
    int fd;                             //  the loaded version, held open
    fault_t *faults;
    size_t nfaults;
} state_t;

static state_t s_state = { PTHREAD_MUTEX_INITIALIZER, NULL, false, false, 0, 0, { 0, 0 },
                           0, -1, NULL, 0 };

//  Written under s_state.lock, after the path it announces (release);
//  read without the lock (relaxed): a reader that sees true takes the lock
//  before it touches the state, and the lock orders the rest.
atomic_bool fault_on_flag;

static void
s_forget (state_t *self)
{
    if (self->fd >= 0)
        close (self->fd);
    self->fd = -1;
    free (self->faults);
    self->faults = NULL;
    self->nfaults = 0;
    self->loaded = self->present = false;
}

static bool
s_valid_name (const char *name)
{
    size_t len = strlen (name);
    if (len == 0 || len > NAME_MAX_LEN)
        return false;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
            || *c == '_' || *c == '.' || *c == '-'))
            return false;
    return true;
}

//  Parses one line into *fault. 1: a fault; 0: blank or comment; -1:
//  malformed. Modifies line.
static int
s_parse_line (char *line, fault_t *fault)
{
    char *hash = strchr (line, '#');
    if (hash)
        *hash = 0;
    char *save = NULL;
    char *name = strtok_r (line, " \t\r", &save);
    if (!name)
        return 0;
    char *arg = strtok_r (NULL, " \t\r", &save);
    if (strtok_r (NULL, " \t\r", &save) || !s_valid_name (name))
        return -1;
    int64_t value = 0;
    if (arg) {
        errno = 0;
        char *end = NULL;
        long long v = strtoll (arg, &end, 10);
        if (errno || end == arg || *end)
            return -1;
        value = (int64_t) v;
    }
    memset (fault, 0, sizeof *fault);
    strcpy (fault->name, name);
    fault->arg = value;
    return 1;
}

//  Reads the version open on fd into a new table; carries fault_nth
//  counts over for lines that did not change. Logs malformed lines (once
//  per version: each version is read once) and what is now on.
static void
s_load (state_t *self, int fd)
{
    char *text = malloc (FILE_MAX + 1);
    size_t len = 0;
    while (text && len < FILE_MAX) {
        ssize_t n = pread (fd, text + len, FILE_MAX - len, (off_t) len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t) n;
    }
    size_t lines = 1;
    for (size_t i = 0; text && i < len; i++)
        lines += text [i] == '\n';
    fault_t *faults = text ? calloc (lines, sizeof *faults) : NULL;
    if (!faults) {
        log_error ("faults: out of memory reading %s: no faults", self->path);
        free (text);
        return;
    }
    text [len] = 0;
    size_t nfaults = 0;
    int lineno = 0;
    char on [256] = "";
    for (char *save = NULL, *line = strtok_r (text, "\n", &save); line;
         line = strtok_r (NULL, "\n", &save)) {
        lineno++;
        char copy [128];
        snprintf (copy, sizeof copy, "%s", line);
        fault_t fault;
        int rc = s_parse_line (line, &fault);
        if (rc < 0)
            log_warning ("faults: %s line %d '%s': expected 'name [integer]'; ignored",
                         self->path, lineno, copy);
        if (rc <= 0)
            continue;
        for (size_t i = 0; i < self->nfaults; i++)
            if (!strcmp (self->faults [i].name, fault.name) && self->faults [i].arg == fault.arg)
                fault.calls = self->faults [i].calls;
        faults [nfaults++] = fault;
        size_t used = strlen (on);
        snprintf (on + used, sizeof on - used, "%s%s %" PRId64, used ? ", " : "",
                  fault.name, fault.arg);
    }
    free (text);
    free (self->faults);
    self->faults = faults;
    self->nfaults = nfaults;
    log_notice ("faults: %s read: %s", self->path, nfaults ? on : "no faults on");
}

//  Makes the table match the file on disk now. Called under the lock.
static void
s_refresh (state_t *self)
{
    struct stat st;
    if (stat (self->path, &st)) {
        if (!self->loaded || self->present) {
            //  Gone (or never there): no faults.
            s_forget (self);
            self->loaded = true;
        }
        return;
    }
    if (self->loaded && self->present && st.st_dev == self->dev && st.st_ino == self->ino
    &&  st.st_mtim.tv_sec == self->mtime.tv_sec && st.st_mtim.tv_nsec == self->mtime.tv_nsec
    &&  st.st_size == self->size)
        return;
    int fd = open (self->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat (fd, &st)) {
        //  Renamed away between the stat and the open: read it next time.
        if (fd >= 0)
            close (fd);
        return;
    }
    //  The identity is taken from the file we read, not from the stat
    //  above, so a version replaced in between is read again next time.
    s_load (self, fd);
    if (self->fd >= 0)
        close (self->fd);
    self->fd = fd;
    self->loaded = self->present = true;
    self->dev = st.st_dev;
    self->ino = st.st_ino;
    self->mtime = st.st_mtim;
    self->size = st.st_size;
}

//  Set while this thread holds the lock: a fault point reached from the
//  lock's own work (reading the file logs, and a log line reads the
//  clock, which has a fault point) is off, instead of a deadlock.
static _Thread_local bool s_inside;

int
fault_configure (zconfig_t *config)
{
    const char *path = config_str (config, "faults/file", "");
    state_t *self = &s_state;
    pthread_mutex_lock (&self->lock);
    atomic_store_explicit (&fault_on_flag, false, memory_order_relaxed);
    s_forget (self);
    free (self->path);
    self->path = NULL;
    if (!*path) {
        pthread_mutex_unlock (&self->lock);
        return 0;
    }
    struct stat st;
    if (strlen (path) >= PATH_MAX || (stat (path, &st) == 0 && !S_ISREG (st.st_mode))
    ||  !(self->path = strdup (path))) {
        pthread_mutex_unlock (&self->lock);
        log_error ("config: faults/file = '%s': expected the path of a regular file "
                   "(or of none yet)", path);
        return -1;
    }
    log_warning ("FAULT INJECTION ENABLED: faults are read from %s; never use this in production",
                 path);
    s_inside = true;
    s_refresh (self);
    s_inside = false;
    atomic_store_explicit (&fault_on_flag, true, memory_order_release);
    pthread_mutex_unlock (&self->lock);
    return 0;
}

//  The fault's entry after a refresh, or NULL. Called under the lock.
static fault_t *
s_find (state_t *self, const char *name)
{
    if (!self->path)
        return NULL;                    //  turned off since the flag was read
    s_refresh (self);
    fault_t *found = NULL;
    for (size_t i = 0; i < self->nfaults; i++)
        if (!strcmp (self->faults [i].name, name))
            found = &self->faults [i];  //  the last line of a name wins
    return found;
}

bool
fault_on (const char *name, int64_t *arg)
{
    if (arg)
        *arg = 0;
    if (!fault_enabled () || s_inside)
        return false;
    pthread_mutex_lock (&s_state.lock);
    s_inside = true;
    fault_t *fault = s_find (&s_state, name);
    if (fault && arg)
        *arg = fault->arg;
    s_inside = false;
    pthread_mutex_unlock (&s_state.lock);
    return fault != NULL;
}

bool
fault_nth (const char *name)
{
    if (!fault_enabled () || s_inside)
        return false;
    pthread_mutex_lock (&s_state.lock);
    s_inside = true;
    fault_t *fault = s_find (&s_state, name);
    bool hit = fault && fault->arg >= 1 && ++fault->calls == (uint64_t) fault->arg;
    s_inside = false;
    pthread_mutex_unlock (&s_state.lock);
    return hit;
}

int
fault_file_write (const char *path, const char *text)
{
    static atomic_uint s_seq;
    char temp [PATH_MAX];
    if (snprintf (temp, sizeof temp, "%s.tmp.%ld.%u", path, (long) getpid (),
                  atomic_fetch_add_explicit (&s_seq, 1, memory_order_relaxed)) >= (int) sizeof temp)
        return -1;
    int fd = open (temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t len = strlen (text), done = 0;
    while (done < len) {
        ssize_t n = write (fd, text + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t) n;
    }
    if (close (fd) || done < len || rename (temp, path)) {
        unlink (temp);
        return -1;
    }
    return 0;
}

int64_t
fault_delay_ms (const char *name)
{
    int64_t ms;
    return fault_enabled () && fault_on (name, &ms) && ms > 0 ? ms : 0;
}

void
fault_sleep_ms (int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec pause = { ms / 1000, (long) (ms % 1000) * 1000000 };
    while (nanosleep (&pause, &pause) && errno == EINTR)
        ;
}
