/*  diskuse: see diskuse.h. */
#include "actors/diskuse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  Deeper than any tree we make (replica/<id>/db/...): a bound, not a
//  limit anyone reaches, so a pathological tree cannot exhaust the stack.
#define MAX_DEPTH 16

static uint64_t
s_allocated (const struct stat *st)
{
    return (uint64_t) st->st_blocks * 512;
}

//  Adds what the directory open as fd holds; closes fd. -1 if a directory
//  could not be read to its end (the sum is short).
static int
s_walk (int fd, int depth, uint64_t *bytes, uint64_t *children)
{
    DIR *dir = fdopendir (fd);
    if (!dir) {
        close (fd);
        return -1;
    }
    int rc = 0;
    struct dirent *entry;
    while ((errno = 0, entry = readdir (dir))) {
        if (!strcmp (entry->d_name, ".") || !strcmp (entry->d_name, ".."))
            continue;
        struct stat st;
        if (fstatat (dirfd (dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW))
            continue;                   //  gone since readdir
        if (children)
            (*children)++;
        *bytes += s_allocated (&st);
        if (S_ISDIR (st.st_mode) && depth < MAX_DEPTH) {
            int sub = openat (dirfd (dir), entry->d_name,
                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0 && s_walk (sub, depth + 1, bytes, NULL))
                rc = -1;
        }
    }
    if (errno)
        rc = -1;
    closedir (dir);
    return rc;
}

int
diskuse (const char *path, uint64_t *bytes, uint64_t *children)
{
    *bytes = 0;
    if (children)
        *children = 0;
    //  The top is followed: an operator may link the log or the replicas
    //  to another disk. Links below it are not (no loops, no double counts).
    struct stat st;
    if (stat (path, &st))
        return -1;
    *bytes = s_allocated (&st);
    if (!S_ISDIR (st.st_mode))
        return 0;
    int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    return s_walk (fd, 1, bytes, children);
}
