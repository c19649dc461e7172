/*  mlog: see mlog.h.

    Appends collect in a buffer and reach the file in one pwrite at sync
    time (or when the buffer passes WRITE_CHUNK), so a round of group commit
    costs one write and one fdatasync whatever the number of records. Every
    open starts a fresh segment: the last scanned one may have been cut at
    a torn tail, and never appending to a file that was repaired keeps the
    repair simple. A new segment is made durable in its directory (fsync of
    the directory) before the first record goes into it.
*/
#include "replica/mlog.h"
#include "common/dirsync.h"
#include "common/crc.h"
#include "runtime/fault.h"
#include "runtime/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SEGMENT_MAGIC "PGLOG001"
#define SEGMENT_HEADER 16
#define RECORD_MAGIC 0x524D4750u        //  "PGMR" little-endian
#define BODY_FIXED 44                   //  body bytes besides the payload
#define WRITE_CHUNK (1u << 20)
#define SPARE_NAME "spare"

typedef struct {
    uint64_t seq;
    int fd;
    uint64_t size;                      //  bytes in the file
    bool dirty;                         //  written since the last fdatasync
    bool spare;                         //  started from a spare
} segment_t;

struct mlog_t {
    char *dir;
    int dir_fd;
    uint64_t segment_bytes;
    segment_t *segments;                //  by seq; the last is current
    size_t nsegments;
    size_t capacity;
    uint8_t *buffer;                    //  appended, not yet written
    size_t buffered;
    size_t buffer_capacity;
    uint64_t bytes;
    bool spare_wanted;                  //  the current segment used the spare
};

//  ---------------------------------------------------------------------------
//  Records

static inline void
s_put32 (uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p [i] = (uint8_t) (v >> (8 * i));
}

static inline void
s_put64 (uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p [i] = (uint8_t) (v >> (8 * i));
}

static inline uint32_t
s_get32 (const uint8_t *p)
{
    return (uint32_t) p [0] | (uint32_t) p [1] << 8 | (uint32_t) p [2] << 16
         | (uint32_t) p [3] << 24;
}

static inline uint64_t
s_get64 (const uint8_t *p)
{
    return (uint64_t) s_get32 (p) | (uint64_t) s_get32 (p + 4) << 32;
}

void
mlog_record_encode (uint8_t *out, const mlog_record_t *r)
{
    uint8_t *body = out + 12;
    s_put32 (body, r->app_id);
    s_put32 (body + 4, r->partition);
    s_put64 (body + 8, r->ballot);
    s_put64 (body + 16, r->decree);
    s_put64 (body + 24, r->last_committed);
    s_put64 (body + 32, (uint64_t) r->timestamp_ms);
    s_put32 (body + 40, r->payload_len);
    if (r->payload_len)
        memcpy (body + BODY_FIXED, r->payload, r->payload_len);
    uint32_t body_len = BODY_FIXED + r->payload_len;
    s_put32 (out, RECORD_MAGIC);
    s_put32 (out + 4, body_len);
    s_put32 (out + 8, crc32c (0, body, body_len));
}

size_t
mlog_record_decode (const uint8_t *in, size_t len, mlog_record_t *r)
{
    if (len < MLOG_RECORD_OVERHEAD || s_get32 (in) != RECORD_MAGIC)
        return 0;
    uint32_t body_len = s_get32 (in + 4);
    if (body_len < BODY_FIXED || (size_t) body_len > len - 12)
        return 0;
    const uint8_t *body = in + 12;
    if (crc32c (0, body, body_len) != s_get32 (in + 8))
        return 0;
    uint32_t payload_len = s_get32 (body + 40);
    if (payload_len != body_len - BODY_FIXED)
        return 0;
    r->app_id = s_get32 (body);
    r->partition = s_get32 (body + 4);
    r->ballot = s_get64 (body + 8);
    r->decree = s_get64 (body + 16);
    r->last_committed = s_get64 (body + 24);
    r->timestamp_ms = (int64_t) s_get64 (body + 32);
    r->payload_len = payload_len;
    r->payload = body + BODY_FIXED;
    return 12 + (size_t) body_len;
}

//  ---------------------------------------------------------------------------
//  Segments

static void
s_segment_path (mlog_t *self, uint64_t seq, char *path, size_t size)
{
    snprintf (path, size, "%s/log.%016" PRIx64, self->dir, seq);
}

static segment_t *
s_find (mlog_t *self, uint64_t seq)
{
    size_t lo = 0, hi = self->nsegments;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (self->segments [mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < self->nsegments && self->segments [lo].seq == seq ? &self->segments [lo] : NULL;
}

static segment_t *
s_current (mlog_t *self)
{
    return &self->segments [self->nsegments - 1];
}

static int
s_add_segment (mlog_t *self, uint64_t seq, int fd, uint64_t size)
{
    if (self->nsegments == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 16;
        segment_t *segments = realloc (self->segments, capacity * sizeof *segments);
        if (!segments)
            return -1;
        self->segments = segments;
        self->capacity = capacity;
    }
    self->segments [self->nsegments++] = (segment_t) { seq, fd, size, false, false };
    self->bytes += size;
    return 0;
}

static int
s_write_all (int fd, const uint8_t *data, size_t len, uint64_t offset)
{
    while (len) {
        ssize_t n = pwrite (fd, data, len, (off_t) offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t) n;
        offset += (uint64_t) n;
    }
    return 0;
}

//  True if dir/spare is a whole spare of at least `bytes` (its path in
//  spare): only a finished one is ever renamed to that name.
static bool
s_spare_ready (const char *dir, uint64_t bytes, char *spare, size_t size)
{
    snprintf (spare, size, "%s/" SPARE_NAME, dir);
    struct stat st;
    return stat (spare, &st) == 0 && (uint64_t) st.st_size >= bytes;
}

//  Takes dir/spare as segment seq's file: an fd on it, or -1 if there is
//  no spare ready.
static int
s_take_spare (mlog_t *self, const char *path)
{
    char spare [4200];
    if (!s_spare_ready (self->dir, self->segment_bytes, spare, sizeof spare))
        return -1;
    if (rename (spare, path)) {
        log_warning ("mlog: cannot use %s: %s", spare, strerror (errno));
        return -1;
    }
    int fd = open (path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        unlink (path);
    return fd;
}

static int
s_new_segment (mlog_t *self, uint64_t seq)
{
    char path [4200];
    s_segment_path (self, seq, path, sizeof path);
    int fd = s_take_spare (self, path);
    bool spare = fd >= 0;
    self->spare_wanted = true;          //  used, or there was none
    if (fd < 0)
        fd = open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        log_error ("mlog: cannot create %s: %s", path, strerror (errno));
        return -1;
    }
    uint8_t header [SEGMENT_HEADER];
    memcpy (header, SEGMENT_MAGIC, 8);
    s_put64 (header + 8, seq);
    //  The header and the directory entry are made durable now, so a
    //  segment that a later fdatasync covers is always findable.
    if (s_write_all (fd, header, sizeof header, 0) || fdatasync (fd) || fsync (self->dir_fd)) {
        log_error ("mlog: cannot initialise %s: %s", path, strerror (errno));
        close (fd);
        unlink (path);
        return -1;
    }
    if (s_add_segment (self, seq, fd, SEGMENT_HEADER)) {
        close (fd);
        return -1;
    }
    s_current (self)->spare = spare;
    return 0;
}

static int
s_flush_buffer (mlog_t *self)
{
    if (!self->buffered)
        return 0;
    segment_t *current = s_current (self);
    if (s_write_all (current->fd, self->buffer, self->buffered, current->size)) {
        log_error ("mlog: write to segment %016" PRIx64 " failed: %s", current->seq,
                   strerror (errno));
        return -1;
    }
    current->size += self->buffered;
    current->dirty = true;
    self->bytes += self->buffered;
    self->buffered = 0;
    return 0;
}

//  ---------------------------------------------------------------------------
//  Recovery

static int
s_compare_seq (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

//  Scans one segment, calling fn per valid record. Truncates (last) or
//  reports (older) what follows the first bad byte.
static int
s_scan_segment (mlog_t *self, uint64_t seq, bool last, mlog_scan_fn *fn, void *ctx,
                mlog_stats_t *stats)
{
    char path [4200];
    s_segment_path (self, seq, path, sizeof path);
    int fd = open (path, O_RDWR | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat (fd, &st)) {
        log_error ("mlog: cannot open %s: %s", path, strerror (errno));
        if (fd >= 0)
            close (fd);
        return -1;
    }
    uint64_t size = (uint64_t) st.st_size;
    uint8_t *data = size ? malloc (size) : NULL;
    if (size && !data) {
        close (fd);
        return -1;
    }
    uint64_t got = 0;
    while (got < size) {
        ssize_t n = pread (fd, data + got, size - got, (off_t) got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (uint64_t) n;
    }
    uint64_t valid = 0;
    bool zeros = false;                 //  only zeros follow: a spare's end
    if (got == size && size >= SEGMENT_HEADER && !memcmp (data, SEGMENT_MAGIC, 8)
    &&  s_get64 (data + 8) == seq) {
        valid = SEGMENT_HEADER;
        mlog_record_t record;
        size_t n;
        while ((n = mlog_record_decode (data + valid, size - valid, &record)) > 0) {
            if (fn)
                fn (ctx, &record, (mlog_loc_t) { seq, valid, (uint32_t) n });
            stats->records++;
            valid += n;
        }
        zeros = true;
        for (uint64_t i = valid; i < size && zeros; i++)
            zeros = data [i] == 0;
    }
    free (data);
    if (valid < size && zeros) {
        //  Never appended to again: give the unused zeros back.
        if (last && (ftruncate (fd, (off_t) valid) || fdatasync (fd))) {
            log_error ("mlog: cannot truncate %s: %s", path, strerror (errno));
            close (fd);
            return -1;
        }
        size = valid;
    }
    if (valid < size) {
        if (last) {
            log_warning ("mlog: torn tail in %s: %" PRIu64 " bytes after offset %" PRIu64
                         " truncated", path, size - valid, valid);
            stats->torn_bytes += size - valid;
            if (ftruncate (fd, (off_t) valid) || fdatasync (fd)) {
                log_error ("mlog: cannot truncate %s: %s", path, strerror (errno));
                close (fd);
                return -1;
            }
        }
        else {
            log_error ("mlog: corruption in %s at offset %" PRIu64 ": %" PRIu64
                       " bytes unreadable", path, valid, size - valid);
            stats->corrupt_bytes += size - valid;
        }
    }
    stats->segments++;
    return s_add_segment (self, seq, fd, valid < size && last ? valid : size);
}

mlog_t *
mlog_open (const char *dir, uint64_t segment_bytes, mlog_scan_fn *fn, void *ctx,
           mlog_stats_t *stats)
{
    mlog_stats_t ignored;
    if (!stats)
        stats = &ignored;
    memset (stats, 0, sizeof *stats);
    if (mkdir (dir, 0755) && errno != EEXIST) {
        log_error ("mlog: cannot create %s: %s", dir, strerror (errno));
        return NULL;
    }
    mlog_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->dir = strdup (dir);
    self->segment_bytes = segment_bytes;
    self->dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    self->buffer_capacity = WRITE_CHUNK;
    self->buffer = malloc (self->buffer_capacity);
    DIR *d = opendir (dir);
    if (!self->dir || self->dir_fd < 0 || !self->buffer || !d) {
        log_error ("mlog: cannot open %s: %s", dir, strerror (errno));
        if (d)
            closedir (d);
        mlog_close (&self);
        return NULL;
    }
    uint64_t *seqs = NULL;
    size_t n = 0, capacity = 0;
    struct dirent *entry;
    while ((entry = readdir (d))) {
        char *end;
        if (strncmp (entry->d_name, "log.", 4) || strlen (entry->d_name) != 20)
            continue;
        uint64_t seq = strtoull (entry->d_name + 4, &end, 16);
        if (*end)
            continue;
        if (n == capacity) {
            capacity = capacity ? capacity * 2 : 16;
            uint64_t *grown = realloc (seqs, capacity * sizeof *seqs);
            if (!grown) {
                free (seqs);
                closedir (d);
                mlog_close (&self);
                return NULL;
            }
            seqs = grown;
        }
        seqs [n++] = seq;
    }
    closedir (d);
    if (n)
        qsort (seqs, n, sizeof *seqs, s_compare_seq);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = s_scan_segment (self, seqs [i], i == n - 1, fn, ctx, stats);
    uint64_t next = n ? seqs [n - 1] + 1 : 1;
    free (seqs);
    if (rc || s_new_segment (self, next)) {
        mlog_close (&self);
        return NULL;
    }
    return self;
}

void
mlog_close (mlog_t **self_p)
{
    mlog_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    if (self->nsegments)
        s_flush_buffer (self);
    for (size_t i = 0; i < self->nsegments; i++)
        close (self->segments [i].fd);
    if (self->dir_fd >= 0)
        close (self->dir_fd);
    free (self->segments);
    free (self->buffer);
    free (self->dir);
    free (self);
}

//  ---------------------------------------------------------------------------
//  Appending and reading

int
mlog_append (mlog_t *self, const uint8_t *record, size_t len, mlog_loc_t *loc)
{
    segment_t *current = s_current (self);
    if (current->size + self->buffered > SEGMENT_HEADER
    &&  current->size + self->buffered + len > self->segment_bytes) {
        if (s_flush_buffer (self) || s_new_segment (self, current->seq + 1))
            return -1;
        current = s_current (self);
    }
    if (self->buffered + len > self->buffer_capacity) {
        if (s_flush_buffer (self))
            return -1;
        if (len > self->buffer_capacity) {
            uint8_t *bigger = realloc (self->buffer, len);
            if (!bigger)
                return -1;
            self->buffer = bigger;
            self->buffer_capacity = len;
        }
    }
    loc->segment = current->seq;
    loc->offset = current->size + self->buffered;
    loc->size = (uint32_t) len;
    memcpy (self->buffer + self->buffered, record, len);
    self->buffered += len;
    return 0;
}

//  fdatasync of a segment at sync time, with the test-only fault points
//  of a failing disk (log.fsync_eio: fails with EIO, as a real one would,
//  so it takes the same error path) and of a slow one (log.fsync_delay_ms
//  N: N ms more before the real call).
static int
s_fdatasync (int fd)
{
    if (fault_enabled ()) {
        fault_sleep_ms (fault_delay_ms ("log.fsync_delay_ms"));
        if (fault_on ("log.fsync_eio", NULL)) {
            errno = EIO;
            return -1;
        }
    }
    return fdatasync (fd);
}

int
mlog_sync (mlog_t *self, bool durable)
{
    if (s_flush_buffer (self))
        return -1;
    if (!durable)
        return 0;
    for (size_t i = 0; i < self->nsegments; i++) {
        segment_t *segment = &self->segments [i];
        if (!segment->dirty)
            continue;
        if (s_fdatasync (segment->fd)) {
            int error = errno;          //  the caller's to read, not the log's
            log_error ("mlog: fdatasync of segment %016" PRIx64 " failed: %s",
                       segment->seq, strerror (error));
            errno = error;
            return -1;
        }
        segment->dirty = false;
    }
    return 0;
}

int
mlog_read (mlog_t *self, mlog_loc_t loc, uint8_t *buf, mlog_record_t *record)
{
    segment_t *segment = s_find (self, loc.segment);
    if (!segment)
        return -1;
    if (segment == s_current (self) && loc.offset >= segment->size) {
        //  Still in the write buffer.
        uint64_t at = loc.offset - segment->size;
        if (at + loc.size > self->buffered)
            return -1;
        memcpy (buf, self->buffer + at, loc.size);
    }
    else {
        uint64_t got = 0;
        while (got < loc.size) {
            ssize_t n = pread (segment->fd, buf + got, loc.size - got, (off_t) (loc.offset + got));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return -1;
            got += (uint64_t) n;
        }
    }
    return mlog_record_decode (buf, loc.size, record) == loc.size ? 0 : -1;
}

uint64_t
mlog_current_segment (mlog_t *self)
{
    return s_current (self)->seq;
}

int
mlog_remove_segment (mlog_t *self, uint64_t seq)
{
    segment_t *segment = s_find (self, seq);
    if (!segment || segment == s_current (self))
        return -1;
    char path [4200];
    s_segment_path (self, seq, path, sizeof path);
    if (unlink (path)) {
        log_error ("mlog: cannot remove %s: %s", path, strerror (errno));
        return -1;
    }
    close (segment->fd);
    self->bytes -= segment->size;
    size_t index = (size_t) (segment - self->segments);
    memmove (segment, segment + 1, (self->nsegments - index - 1) * sizeof *segment);
    self->nsegments--;
    return 0;
}

uint64_t
mlog_bytes (mlog_t *self)
{
    return self->bytes + self->buffered;
}

int
mlog_use_spare (mlog_t *self)
{
    segment_t *current = s_current (self);
    char spare [4200];
    if (current->spare || !s_spare_ready (self->dir, self->segment_bytes, spare, sizeof spare))
        return 0;
    if (s_flush_buffer (self) || s_new_segment (self, current->seq + 1))
        return -1;
    return 0;
}

bool
mlog_wants_spare (mlog_t *self)
{
    bool wanted = self->spare_wanted;
    self->spare_wanted = false;
    return wanted;
}

struct mlog_spare_t {
    char tmp [4200];
    char path [4200];
    char *dir;
    int fd;
    uint64_t bytes;
    uint64_t done;
    uint8_t *zeros;
    size_t zeros_len;
};

mlog_spare_t *
mlog_spare_new (const char *dir, uint64_t bytes)
{
    mlog_spare_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->fd = -1;
    self->bytes = bytes;
    self->dir = strdup (dir);
    snprintf (self->tmp, sizeof self->tmp, "%s/" SPARE_NAME ".tmp", dir);
    if (self->dir && s_spare_ready (dir, bytes, self->path, sizeof self->path))
        self->done = bytes;             //  one is ready
    else
    if (self->dir)
        self->fd = open (self->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (!self->dir || (self->done < bytes && self->fd < 0)) {
        log_error ("mlog: cannot prepare a spare segment in %s: %s", dir, strerror (errno));
        mlog_spare_destroy (&self);
    }
    return self;
}

int
mlog_spare_step (mlog_spare_t *self, size_t chunk)
{
    if (self->done >= self->bytes && self->fd < 0)
        return 0;
    if (chunk > self->zeros_len) {
        free (self->zeros);
        self->zeros = calloc (1, chunk);
        self->zeros_len = self->zeros ? chunk : 0;
    }
    int rc = self->zeros ? 0 : -1;
    if (rc == 0 && self->done < self->bytes) {
        size_t n = self->bytes - self->done < chunk ? (size_t) (self->bytes - self->done) : chunk;
        rc = s_write_all (self->fd, self->zeros, n, self->done);
        if (rc == 0)
            rc = fdatasync (self->fd);
        if (rc == 0)
            self->done += n;
    }
    if (rc == 0 && self->done >= self->bytes) {
        close (self->fd);
        self->fd = -1;
        rc = rename (self->tmp, self->path);
        if (rc == 0)
            rc = dirsync (self->dir);
        if (rc == 0)
            return 0;
    }
    if (rc) {
        log_error ("mlog: cannot prepare a spare segment in %s: %s", self->dir, strerror (errno));
        return -1;
    }
    return 1;
}

void
mlog_spare_destroy (mlog_spare_t **self_p)
{
    mlog_spare_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    if (self->fd >= 0) {
        close (self->fd);
        unlink (self->tmp);             //  unfinished: never a spare
    }
    free (self->zeros);
    free (self->dir);
    free (self);
}
