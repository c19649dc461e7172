/*  mlog: the node's mutation log on disk.

    One log per replica server, shared by all its replicas, so one fsync
    makes a whole round of writes durable (group commit across replicas);
    each replica's own log is the subsequence of records that carry its
    (app_id, partition), indexed by the log writer.

    A segment file "log.<seq, 16 hex digits>" starts with a 16-byte header
    ("PGLOG001" and the seq) followed by records:

        [magic "PGMR" 4][body length 4][crc32c of the body 4]
        body: [app_id 4][partition 4][ballot 8][decree 8][last_committed 8]
              [timestamp_ms 8][payload length 4][payload]

    all little-endian. On open every segment is scanned: a record whose
    magic, length or checksum is wrong ends the segment. In the last segment
    that is a torn tail from a crash, and the file is truncated there; in an
    older one it is corruption, logged, and what follows is lost. Either
    way a bad record is never returned.

    A new segment may start from a spare: a file ("spare") already written
    full of zeros and made durable, by mlog_spare_* on another thread.
    Appending into blocks that exist spares each fdatasync the inode
    update that growing the file costs (measured about 1.4x the syncs per
    second here). The zeros after the last record end a segment cleanly:
    they are neither a torn tail nor corruption.
*/
#ifndef REPLICA_MLOG_H
#define REPLICA_MLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MLOG_RECORD_OVERHEAD 56         //  record bytes besides the payload

typedef struct mlog_t mlog_t;

typedef struct {
    uint32_t app_id;
    uint32_t partition;
    uint64_t ballot;
    uint64_t decree;
    uint64_t last_committed;
    int64_t timestamp_ms;
    const uint8_t *payload;
    uint32_t payload_len;
} mlog_record_t;

typedef struct {
    uint64_t segment;
    uint64_t offset;
    uint32_t size;
} mlog_loc_t;

//  What a scan found, for the log and for tests.
typedef struct {
    uint64_t segments;
    uint64_t records;
    uint64_t torn_bytes;                //  truncated from the last segment
    uint64_t corrupt_bytes;             //  unreadable in older segments
} mlog_stats_t;

typedef void (mlog_scan_fn) (void *ctx, const mlog_record_t *record, mlog_loc_t loc);

//  Opens (creating) the log in dir; calls fn for every valid record in
//  order; repairs a torn tail; opens a fresh segment for appends. Returns
//  NULL on an I/O error (logged).
mlog_t *
    mlog_open (const char *dir, uint64_t segment_bytes, mlog_scan_fn *fn, void *ctx,
               mlog_stats_t *stats);

void
    mlog_close (mlog_t **self_p);

static inline size_t
mlog_record_size (uint32_t payload_len)
{
    return MLOG_RECORD_OVERHEAD + (size_t) payload_len;
}

//  Encodes a record into out (mlog_record_size bytes).
void
    mlog_record_encode (uint8_t *out, const mlog_record_t *record);

//  Decodes and checks one record at the start of in. Returns its size, or
//  0 if the bytes are not a whole valid record.
size_t
    mlog_record_decode (const uint8_t *in, size_t len, mlog_record_t *record);

//  Appends one encoded record (buffered; durable after mlog_sync). Sets its
//  location. Rolls to a new segment past segment_bytes. 0 or -1 (logged).
int
    mlog_append (mlog_t *self, const uint8_t *record, size_t len, mlog_loc_t *loc);

//  Writes what is buffered and, if durable, fdatasyncs every segment
//  written since the last sync. 0 or -1 (logged; errno says why). A failed
//  sync leaves its segments to sync again. Test-only fault points (see
//  runtime/fault.h): log.fsync_eio fails it with EIO, log.fsync_delay_ms N
//  delays each fdatasync by N ms.
int
    mlog_sync (mlog_t *self, bool durable);

//  Reads the record at loc into buf (loc.size bytes) and decodes it (its
//  payload points into buf). 0, or -1 if it cannot be read or is corrupt.
int
    mlog_read (mlog_t *self, mlog_loc_t loc, uint8_t *buf, mlog_record_t *record);

//  The segment appends go to now.
uint64_t
    mlog_current_segment (mlog_t *self);

//  Deletes a segment that is not the current one. 0 or -1.
int
    mlog_remove_segment (mlog_t *self, uint64_t segment);

//  Bytes in all segments on disk.
uint64_t
    mlog_bytes (mlog_t *self);

//  True if the next segment would start without a spare: someone should
//  write one (mlog_spare_*). Cleared until the next segment is started.
bool
    mlog_wants_spare (mlog_t *self);

//  If the current segment grows as written and a spare is ready, moves on
//  to a segment started from it. 0 or -1 (logged; the log is unusable).
int
    mlog_use_spare (mlog_t *self);

//  Writes dir/spare: `bytes` zeros, durable, renamed into place whole, in
//  steps a caller spaces out so the disk serves the log's own syncs in
//  between. For any thread (it touches only that file). NULL on failure
//  (logged).
typedef struct mlog_spare_t mlog_spare_t;

mlog_spare_t *
    mlog_spare_new (const char *dir, uint64_t bytes);

//  Writes and syncs up to `chunk` more zeros: 1 if more is to do, 0 once
//  the spare is in place, -1 on failure (logged).
int
    mlog_spare_step (mlog_spare_t *self, size_t chunk);

//  Drops an unfinished spare's file.
void
    mlog_spare_destroy (mlog_spare_t **self_p);

#endif
