/*  rmtree: removing a directory and everything under it, for replica data,
    checkpoints and half-copied learner files. No shell: paths go straight
    to the system calls, whatever characters they hold. */
#ifndef COMMON_RMTREE_H
#define COMMON_RMTREE_H

//  Removes path (a file or a directory tree; symbolic links are removed,
//  not followed). 0 if it is gone (or never was), -1 (logged) otherwise.
int
    rmtree (const char *path);

#endif
