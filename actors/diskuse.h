/*  diskuse: how much disk a directory tree takes, as du counts it
    (allocated blocks, not file lengths: a preallocated manifest or a
    sparse file costs what it holds on disk). Blocking: call it from a
    pinned actor ("files"). */
#ifndef ACTORS_DISKUSE_H
#define ACTORS_DISKUSE_H

#include <stdint.h>

//  Bytes allocated under path (itself included, followed if a symbolic
//  link; links below it are not followed), and how many entries sit
//  directly inside it. 0, or -1 with errno set if path or a directory
//  under it cannot be read (the sum is then short). Entries that vanish
//  during the walk are skipped: replicas open and close meanwhile.
int
    diskuse (const char *path, uint64_t *bytes, uint64_t *children);

#endif
