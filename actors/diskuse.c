/*  diskuse: see diskuse.h. */
#include "actors/diskuse.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

//  nftw passes no context: the walk's sums, one walk per thread at a time.
static _Thread_local struct {
    uint64_t bytes;
    uint64_t children;
    int failed_errno;
} s_walk;

static int
s_add (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void) path;
    if (type == FTW_NS)
        return 0;                       //  gone since its directory was read
    if (type == FTW_DNR && !s_walk.failed_errno)
        s_walk.failed_errno = errno ? errno : EACCES;
    s_walk.bytes += (uint64_t) st->st_blocks * 512;
    s_walk.children += ftw->level == 1;
    return 0;
}

int
diskuse (const char *path, uint64_t *bytes, uint64_t *children)
{
    //  The top is followed (realpath): an operator may link the log or the
    //  replicas to another disk. Links below it are not (FTW_PHYS: no
    //  loops, no double counts), as rmtree walks.
    char top [PATH_MAX];
    *bytes = 0;
    if (children)
        *children = 0;
    if (!realpath (path, top))
        return -1;
    s_walk.bytes = s_walk.children = 0;
    s_walk.failed_errno = 0;
    if (nftw (top, s_add, 16, FTW_PHYS))
        return -1;
    *bytes = s_walk.bytes;
    if (children)
        *children = s_walk.children;
    if (s_walk.failed_errno) {
        errno = s_walk.failed_errno;
        return -1;
    }
    return 0;
}
