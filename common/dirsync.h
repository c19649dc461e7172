/*  dirsync: making a directory's entries durable (a file created or
    renamed in it survives a crash only once its directory is synced). */
#ifndef REPLICA_DIRSYNC_H
#define REPLICA_DIRSYNC_H

//  fsyncs the directory. 0, or -1 with errno set.
int
    dirsync (const char *dir);

#endif
