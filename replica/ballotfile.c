/*  ballotfile: see ballotfile.h. The file holds one line, the ballot in
    decimal; a torn write cannot be seen because the new file replaces the
    old one by rename only once it is synced. */
#include "replica/ballotfile.h"
#include "common/dirsync.h"
#include "runtime/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NAME "ballot"

int
ballotfile_read (const char *dir, uint64_t *ballot)
{
    char path [4200], text [32];
    snprintf (path, sizeof path, "%s/" NAME, dir);
    *ballot = 0;
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        log_error ("cannot open %s: %s", path, strerror (errno));
        return -1;
    }
    ssize_t n = read (fd, text, sizeof text - 1);
    close (fd);
    if (n <= 0) {
        log_error ("cannot read %s: %s", path, n < 0 ? strerror (errno) : "empty");
        return -1;
    }
    text [n] = 0;
    char *end;
    errno = 0;
    unsigned long long value = strtoull (text, &end, 10);
    if (errno || end == text || (*end && *end != '\n')) {
        log_error ("%s does not hold a ballot", path);
        return -1;
    }
    *ballot = value;
    return 0;
}

int
ballotfile_write (const char *dir, uint64_t ballot)
{
    char path [4200], temp [4300], text [32];
    snprintf (path, sizeof path, "%s/" NAME, dir);
    snprintf (temp, sizeof temp, "%s/" NAME ".new", dir);
    int len = snprintf (text, sizeof text, "%" PRIu64 "\n", ballot);
    int fd = open (temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        log_error ("cannot create %s: %s", temp, strerror (errno));
        return -1;
    }
    bool ok = write (fd, text, (size_t) len) == len && fsync (fd) == 0;
    int saved = errno;
    ok = close (fd) == 0 && ok;
    if (!ok || rename (temp, path)) {
        log_error ("cannot record ballot %" PRIu64 " in %s: %s", ballot, path,
                   strerror (ok ? errno : saved));
        unlink (temp);
        return -1;
    }
    if (dirsync (dir)) {
        log_error ("cannot sync %s after recording ballot %" PRIu64 ": %s", dir, ballot,
                   strerror (errno));
        return -1;
    }
    return 0;
}
