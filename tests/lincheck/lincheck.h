/*  lincheck: a linearizability checker for histories of key-value registers.

    Each key is an independent register holding a 64-bit integer or nothing
    ("absent"); it starts absent unless lincheck_set_initial says otherwise.
    Operations are WRITE (v), READ (-> v or absent), CAS (expected, new)
    (-> ok or fail) and DELETE. Each has an invoke and a complete time in
    any monotonic unit; two operations whose intervals touch (one completes
    at the very time the other is invoked) count as concurrent.

    Outcomes:
      OK       completed; its result (for READ and CAS) is known.
      FAIL     definitely had no effect: dropped from the history.
      UNKNOWN  timed out or crashed: it may have taken effect at any time
               after its invoke, or never; its result is unconstrained.
               An UNKNOWN READ says nothing and is dropped.

    The check partitions the history by key and runs, for each key, the
    Wing & Gong / Lowe search with memoisation of (linearised set, register
    value), as Porcupine (github.com/anishathalye/porcupine) does. The
    search is bounded by a time and/or step budget; when it runs out the
    verdict is LINCHECK_UNKNOWN_TIMEOUT. Not thread-safe.
*/
#ifndef TESTS_LINCHECK_H
#define TESTS_LINCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    LINCHECK_WRITE,
    LINCHECK_READ,
    LINCHECK_CAS,
    LINCHECK_DELETE
} lincheck_kind_t;

typedef enum {
    LINCHECK_OK,
    LINCHECK_FAIL,
    LINCHECK_UNKNOWN
} lincheck_outcome_t;

typedef enum {
    LINCHECK_LINEARIZABLE,
    LINCHECK_NOT_LINEARIZABLE,
    LINCHECK_UNKNOWN_TIMEOUT
} lincheck_result_t;

//  One operation as the client saw it. Fields a kind does not use are
//  ignored, so designated initialisers are the easy way to fill it.
typedef struct {
    const char *key;            //  string key (copied); NULL = use key_id
    uint64_t key_id;            //  numeric key, when key is NULL
    uint64_t client;            //  process or client id, for reports only
    lincheck_kind_t kind;
    lincheck_outcome_t outcome;
    int64_t value;              //  WRITE: value written; CAS: new value
    int64_t expected;           //  CAS: value expected
    bool expect_absent;         //  CAS: expects the key absent instead
    bool read_present;          //  READ, OK: a value was returned
    int64_t read_value;         //  READ, OK: the value returned
    bool cas_ok;                //  CAS, OK: the swap happened
    int64_t invoke_time;
    int64_t complete_time;      //  ignored when outcome is UNKNOWN
} lincheck_op_t;

typedef struct {
    lincheck_result_t result;
    //  The key that is not linearizable, or whose search ran out of budget;
    //  "" when linearizable. Numeric keys are printed in decimal and flagged
    //  by key_is_id. A string key longer than the buffer is truncated.
    char key [128];
    bool key_is_id;
    uint64_t key_id;
    //  For NOT_LINEARIZABLE: the deepest point the search reached and the
    //  operations it could not order from there, as text.
    char explanation [1024];
    size_t keys_checked;        //  keys whose search finished
    size_t ops_checked;         //  operations those searches took in
    uint64_t steps;             //  search steps, over all keys
} lincheck_verdict_t;

typedef struct lincheck_t lincheck_t;

//  Create an empty history. Returns NULL if out of memory.
lincheck_t *
    lincheck_new (void);

//  Free the history and everything it holds; sets *self_p to NULL.
void
    lincheck_destroy (lincheck_t **self_p);

//  Add one operation (copied, key included). FAIL operations and UNKNOWN
//  reads are accepted and dropped. Returns 0, or -1 on a bad argument (an
//  unknown kind or outcome, or an OK/FAIL operation completing before it
//  was invoked) or no memory.
int
    lincheck_add (lincheck_t *self, const lincheck_op_t *op);

//  Give a key the value it held before the history began (key NULL: use
//  key_id). Returns 0 or -1.
int
    lincheck_set_initial (lincheck_t *self, const char *key, uint64_t key_id,
                          int64_t value);

//  Number of operations kept for checking (FAIL and UNKNOWN reads left out).
size_t
    lincheck_size (lincheck_t *self);

//  Check the history, key by key, in the order keys first appeared; stop at
//  the first key that is not linearizable. budget_msecs bounds the wall
//  time and budget_steps the search steps of the whole check; 0 means no
//  bound. Fills *verdict and returns 0, or returns -1 on a bad argument or
//  no memory. The history is left as it was: it can be checked again, or
//  grown and checked again.
int
    lincheck_check (lincheck_t *self, int64_t budget_msecs,
                    uint64_t budget_steps, lincheck_verdict_t *verdict);

//  Read a Jepsen etcd register history (lines "INFO jepsen.util - <process>
//  :invoke|:ok|:fail|:info :read|:write|:cas <value>") into the history,
//  all on one key (key NULL: numeric key 0). Times are line numbers.
//  :info means the outcome is unknown; an operation still pending at the
//  end of the file is unknown too; a :fail cas completed and found the
//  expected value missing. Lines of other loggers, blank lines and lines of
//  non-numeric processes (the nemesis) are skipped. Returns 0, or -1 if the
//  file cannot be read or is malformed, in which case nothing is added.
int
    lincheck_parse_jepsen (lincheck_t *self, const char *path, const char *key);

//  "linearizable", "not linearizable" or "unknown (budget spent)".
const char *
    lincheck_result_name (lincheck_result_t result);

#endif
