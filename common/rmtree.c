/*  rmtree: see rmtree.h. */
#include "common/rmtree.h"
#include "runtime/log.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
s_remove (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void) st;
    (void) ftw;
    int rc = type == FTW_DP ? rmdir (path) : unlink (path);
    if (rc && errno != ENOENT) {
        log_error ("cannot remove %s: %s", path, strerror (errno));
        return -1;
    }
    return 0;
}

int
rmtree (const char *path)
{
    struct stat st;
    if (lstat (path, &st) && errno == ENOENT)
        return 0;
    //  Depth first (FTW_DEPTH), never crossing into what a link points at.
    return nftw (path, s_remove, 16, FTW_DEPTH | FTW_PHYS) ? -1 : 0;
}
