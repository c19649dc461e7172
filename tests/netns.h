/*  netns: network namespaces for fault tests: one per node, one for the
    client, joined by a bridge that the test can cut.

    Topology (P = the test's pid, 10.a.b.0/24 a range picked per run):

        pgt-P-n0  [pgtPn0 10.a.b.1] ---veth--- [pgtPb0] \
        pgt-P-n1  [pgtPn1 10.a.b.2] ---veth--- [pgtPb1]  +-- bridge pgtPbr,
        ...                                              |   in namespace
        pgt-P-c   [pgtPc  10.a.b.200] -veth--- [pgtPbc] /    pgt-P-br

    Each node (and the client) has its own namespace, so servers can all
    bind the same fixed port on their own address, and a fault is applied
    to one node's traffic without touching anybody else's. The bridge
    namespace has no uplink and no namespace has a route off the /24, so
    traffic can reach nothing but these namespaces (FAULTS.md, "Network").

    Faults:
    - netns_block (from, to): an nftables rule in `to`'s namespace drops
      packets from `from`'s address. One-way: `to` can still send to `from`.
      The packets leave the sender and vanish, as on a lossy network; the
      sender's kernel gets no error, TCP just retransmits.
    - netns_isolate (i): the bridge-side end of i's veth goes down: the
      cable is pulled at the switch, so i's frames and everybody's frames
      to i are silently lost.
    - netns_heal: every rule flushed and every bridge port up. Connections
      are not reset: TCP resumes at its next retransmission, which after a
      long cut may be seconds away (exponential backoff).

    Clean-up: everything is created under names that carry P, and removed
    by name: netns_destroy; an atexit handler for a test that returns
    without destroying; a SIGTERM/SIGINT handler (run-test.sh's timeout
    sends SIGTERM) that SIGKILLs the processes netns_spawn started and
    unmounts the namespaces with plain system calls (nothing else is safe
    in a signal handler), then lets the signal kill the process. Deleting a
    namespace deletes its veth ends and rules with it; no link is ever made
    in the root namespace. A run killed by SIGKILL leaves its namespaces
    behind: netns_sweep_stale, run by every netns_new, removes those of
    pids that no longer exist.

    Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and the `ip` (iproute2) and
    `nft` (nftables) programs. Without them netns_new fails and says why;
    tests must then fail, not skip (FAULTS.md).

    Not thread-safe: one thread drives a harness.
*/
#ifndef TESTS_NETNS_H
#define TESTS_NETNS_H

#include <stddef.h>
#include <sys/types.h>

typedef struct netns_t netns_t;

//  The client's namespace, wherever an endpoint index is taken.
#define NETNS_CLIENT (-1)
//  Most node namespaces in one harness.
#define NETNS_MAX_NODES 32

//  Creates `nodes` node namespaces, the client namespace and the bridge
//  namespace, all wired and up. Sweeps stale namespaces of dead runs
//  first. NULL on failure (reported on stderr; everything created so far
//  is removed).
netns_t *
    netns_new (int nodes);

//  Deletes the namespaces (with their links and rules) this harness made.
//  Stop the processes you spawned first: any still running are SIGKILLed
//  and reaped here, since a live process keeps a namespace alive.
//  Safe on NULL and twice.
void
    netns_destroy (netns_t **self_p);

//  Endpoint i's namespace name: "pgt-<pid>-n<i>", or "pgt-<pid>-c" for
//  NETNS_CLIENT. NULL if i is out of range.
const char *
    netns_name (netns_t *self, int i);

//  Endpoint i's IPv4 address (dotted quad), or NULL if out of range.
const char *
    netns_addr (netns_t *self, int i);

//  Moves the calling thread into the client namespace. Threads it starts
//  afterwards inherit it, so call it before starting a runtime (ZeroMQ's
//  I/O threads make the sockets). Other threads stay where they were.
int
    netns_enter_client (netns_t *self);

//  Like testutil_spawn, but the child enters endpoint i's namespace before
//  exec: the pid returned is the program's own, so killing it by pid
//  kills the program. Stdout is a pipe whose read end is *stdout_fd.
//  The child gets SIGKILL if the test dies (PR_SET_PDEATHSIG), which
//  Linux sends when the *calling thread* ends: spawn from a thread that
//  outlives the child (the main thread, say). -1 on failure.
pid_t
    netns_spawn (netns_t *self, int i, char *const argv [], int *stdout_fd);

//  Drops every packet from endpoint `from` to endpoint `to` (one way).
int
    netns_block (netns_t *self, int from, int to);

//  Drops packets both ways between every member of side_a and every
//  member of side_b; traffic within a side and to others is untouched.
int
    netns_partition (netns_t *self, const int *side_a, size_t na,
                     const int *side_b, size_t nb);

//  Cuts endpoint i off from everyone (its bridge port goes down).
int
    netns_isolate (netns_t *self, int i);

//  Removes every rule and brings every bridge port up.
int
    netns_heal (netns_t *self);

//  Deletes every namespace named pgt-<pid>-* (and any root-namespace link
//  named pgt<pid>*) whose pid is not a live process, SIGKILLing processes
//  still inside them. Returns how many namespaces it deleted, or -1 if it
//  could not look.
int
    netns_sweep_stale (void);

#endif
