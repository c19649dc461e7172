/*  diskuse: see diskuse.h. */
#include "replica/diskuse.h"

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

//  Adds what the directory open as fd holds; closes fd.
static void
s_walk (int fd, int depth, uint64_t *bytes, uint64_t *children)
{
    DIR *dir = fdopendir (fd);
    if (!dir) {
        close (fd);
        return;
    }
    struct dirent *entry;
    while ((entry = readdir (dir))) {
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
            if (sub >= 0)
                s_walk (sub, depth + 1, bytes, NULL);
        }
    }
    closedir (dir);
}

int
diskuse (const char *path, uint64_t *bytes, uint64_t *children)
{
    *bytes = 0;
    if (children)
        *children = 0;
    struct stat st;
    if (lstat (path, &st))
        return -1;
    *bytes = s_allocated (&st);
    if (!S_ISDIR (st.st_mode))
        return 0;
    int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    s_walk (fd, 1, bytes, children);
    return 0;
}
