/*  ballotfile: the highest ballot a replica has led at, kept in a small
    file of its directory and made durable before it leads.

    A primary gives each decree out once per ballot; secondaries take a
    prepare of a (decree, ballot) they already hold as the same entry.
    A primary that restarted has lost what it gave out but had not yet
    logged, so if it led again at the same ballot it could give one of
    those decrees other content, and the secondaries would acknowledge
    bytes they never stored. So a replica writes the ballot here, synced,
    before it acts as primary, and never leads at a ballot at or below
    the one it finds here; meta must make a new configuration instead.
*/
#ifndef REPLICA_BALLOTFILE_H
#define REPLICA_BALLOTFILE_H

#include <stdint.h>

//  The ballot recorded in dir (0 if none was ever). 0, or -1 if the file
//  exists but cannot be read or does not hold one (logged).
int
    ballotfile_read (const char *dir, uint64_t *ballot);

//  Records ballot in dir durably: a new file written and synced, renamed
//  over the old one, and the directory synced. 0 or -1 (logged).
int
    ballotfile_write (const char *dir, uint64_t ballot);

#endif
