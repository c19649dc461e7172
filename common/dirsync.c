/*  dirsync: see dirsync.h. */
#include "common/dirsync.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int
dirsync (const char *dir)
{
    int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync (fd);
    int saved = errno;
    close (fd);
    errno = saved;
    return rc;
}
