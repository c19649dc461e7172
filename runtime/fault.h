/*  fault: fault-injection points for tests.

    A fault point is compiled into the code (fail an fdatasync, delay it,
    fail a write halfway) and is inert unless the process was started with
    the config key `faults/file` naming a control file; then the process
    logs a warning at start and tests switch faults on and off by
    rewriting that file. Production configs never set the key, so no
    production process can reach a fault point by accident.

    The control file holds one fault a line, `name [integer]`, with '#'
    comments and blank lines allowed:

        # the next fdatasync of the log fails with EIO
        log.fsync_eio
        log.fsync_delay_ms 200

    A missing file means no faults. A malformed line is logged once (each
    time the file is read) and ignored. Tests replace the file atomically
    (write a temp file, rename it over: fault_file_write does that); the
    process notices a new version by its inode, mtime and size, at the
    next fault check.

    Every call is thread-safe and the state is process-wide: all runtimes
    in a process share one set of faults. A fault point costs one relaxed
    atomic load when faults are not configured:

        if (fault_enabled () && fault_on ("log.fsync_eio", NULL))
            ...fail as if the disk had...

    The fault points in the tree (add yours here):

        log.fsync_eio               replica/mlog.c: the log's fdatasync fails
                                    with EIO (the log writer breaks, its
                                    replicas hear IO_ERROR)
        log.fsync_delay_ms N        replica/mlog.c: N ms before each of the
                                    log's fdatasyncs (a slow disk)
        partition.put_fail_after N  replica/partition_write.c: the Nth put or
                                    delete from now fails as if out of memory
        db.write_stall_ms N         replica/db.c: a RocksDB write stalls N ms
                                    (one that may not block fails at once)
        stub.apply_delay_ms N       replica/stub.c: applying a full
                                    configuration sync takes N ms longer
        clock.wall_offset_ms N      runtime/rtclock.c: the wall clock is off
                                    by N ms (negative: behind)
        meta.drop_replies_to_port N meta/meta.c: meta's beacon replies to the
                                    server listening on port N are lost
        meta.drop_replies_to_ip N   meta/meta.c: ... to the server at IPv4
                                    address N (a 32-bit number)
*/
#ifndef RUNTIME_FAULT_H
#define RUNTIME_FAULT_H

#include <czmq.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>

//  Reads `faults/file` from config. Empty or absent: fault injection off
//  (and off again if an earlier call turned it on). Otherwise on, with a
//  warning in the log. 0, or -1 (logged) if the path is unusable.
int
    fault_configure (zconfig_t *config);

//  True if fault injection is configured. One relaxed atomic load,
//  inline: call sites on the data path guard with it.
extern atomic_bool fault_on_flag;

static inline bool
fault_enabled (void)
{
    return atomic_load_explicit (&fault_on_flag, memory_order_relaxed);
}

//  Is fault `name` on now? Its integer argument goes to *arg (0 if the
//  line has none; arg may be NULL). Re-reads the control file first if it
//  changed. False whenever fault injection is off.
bool
    fault_on (const char *name, int64_t *arg);

//  For "fail the Nth time" faults (`name N`): counts this call and is true
//  on exactly the Nth call since the line `name N` appeared in the file
//  (the count carries over rereads of the file while the line stays the
//  same). False whenever the fault is off or N < 1.
bool
    fault_nth (const char *name);

//  The delay fault `name` asks for now, in ms (its argument; 0 if it is
//  off or has none).
int64_t
    fault_delay_ms (const char *name);

//  Sleeps ms milliseconds (through signals; none if ms <= 0): for delay
//  faults.
void
    fault_sleep_ms (int64_t ms);

//  Test helper: replaces the control file at path with text, atomically
//  (a temp file in the same directory, renamed over it). 0 or -1.
int
    fault_file_write (const char *path, const char *text);

#endif
