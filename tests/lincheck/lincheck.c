/*  lincheck: see lincheck.h.

    The search for one key follows Porcupine's checkSingle. The key's known
    calls and returns sit in one time-sorted doubly linked list; a call that
    comes before the first return in the list is a candidate to take effect
    next. Taking one lifts its call and its return out of the list;
    backtracking puts them back (dancing links), so a step costs O(1)
    besides the scan for a candidate. Every (set of linearised ops,
    register) configuration reached is remembered, so none is explored
    twice.

    UNKNOWN operations would make that search exponential, since each may
    or may not have happened and every subset of them would be tried in
    every place. Several rules keep them in check without losing any answer
    (each is argued where it is coded, and the tests check the whole
    against brute force):
      - known candidates are tried first; an UNKNOWN op is tried only right
        before an op that needs it, and only if it leaves a register some
        pending op waits for;
      - a configuration is pruned when one with fewer UNKNOWN ops linearised
        and the same register was explored and failed;
      - values no one observes are one state, and UNKNOWN writes of such
        values (and UNKNOWN deletes) are interchangeable;
      - the search succeeds once every known op is linearised.
    Known ops are numbered in invoke order, so a linearised set is mostly a
    run of ones; only the words past that run are remembered, which keeps a
    configuration a few words long however long the history.
*/
#if !defined (_GNU_SOURCE) && !defined (_POSIX_C_SOURCE)
#   define _POSIX_C_SOURCE 200809L
#endif
#include "lincheck.h"
#include "runtime/hash.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  Candidates listed in an explanation.
#define EXPLAIN_OPS 6
//  How far along the list the deepest point is looked at, for a report.
#define EXPLAIN_WALK 256

//  ---------------------------------------------------------------------
//  The history

typedef struct {
    char *str;                  //  NULL for a numeric key
    uint64_t id;
    uint64_t hash;
    bool has_initial;
    int64_t initial;
} part_t;

typedef struct {
    size_t part;
    size_t seq;                 //  index among kept operations, for reports
    uint64_t client;
    lincheck_kind_t kind;
    bool unknown;
    bool expect_absent;
    bool read_present;
    bool cas_ok;
    int64_t value;
    int64_t expected;
    int64_t read_value;
    int64_t invoke;
    int64_t complete;           //  INT64_MAX when unknown
} op_t;

struct lincheck_t {
    op_t *ops;
    size_t n_ops;
    size_t ops_cap;
    part_t *parts;              //  in order of first appearance
    size_t n_parts;
    size_t parts_cap;
    size_t *slots;              //  key table: part index + 1, 0 = empty
    size_t slots_mask;
};

//  A register as the search sees it. A value that no read returns and no
//  cas expects is "inert": nothing can tell one such value from another,
//  so they all become one state, and orders differing only in which one
//  was written meet in the cache.
typedef struct {
    int64_t value;              //  0 when absent or inert: compare by fields
    bool present;
    bool inert;                 //  present, with some inert value
} reg_t;

//  String keys and numeric keys hash apart by the seed.
static uint64_t
s_hash_key (const char *str, uint64_t id)
{
    return str ? hash_bytes (str, strlen (str)) : hash_u64 (id ^ 0x6a09e667f3bcc908ull);
}

lincheck_t *
lincheck_new (void)
{
    lincheck_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->slots = calloc (16, sizeof (size_t));
    if (!self->slots) {
        free (self);
        return NULL;
    }
    self->slots_mask = 15;
    return self;
}

void
lincheck_destroy (lincheck_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    lincheck_t *self = *self_p;
    for (size_t i = 0; i < self->n_parts; i++)
        free (self->parts [i].str);
    free (self->parts);
    free (self->slots);
    free (self->ops);
    free (self);
    *self_p = NULL;
}

//  Double the key table; the hashes are kept in the parts, so no rehash.
static int
s_slots_grow (lincheck_t *self)
{
    size_t capacity = (self->slots_mask + 1) * 2;
    size_t *slots = calloc (capacity, sizeof (size_t));
    if (!slots)
        return -1;
    for (size_t i = 0; i < self->n_parts; i++) {
        size_t j = self->parts [i].hash & (capacity - 1);
        while (slots [j])
            j = (j + 1) & (capacity - 1);
        slots [j] = i + 1;
    }
    free (self->slots);
    self->slots = slots;
    self->slots_mask = capacity - 1;
    return 0;
}

//  Find the partition of a key, creating it on first sight, so that keys
//  are checked in the order the history first mentions them.
static int
s_part_for (lincheck_t *self, const char *key, uint64_t key_id, size_t *part)
{
    uint64_t hash = s_hash_key (key, key_id);
    size_t i = hash & self->slots_mask;
    while (self->slots [i]) {
        part_t *p = &self->parts [self->slots [i] - 1];
        if (p->hash == hash
        && (key ? p->str && !strcmp (p->str, key) : !p->str && p->id == key_id)) {
            *part = self->slots [i] - 1;
            return 0;
        }
        i = (i + 1) & self->slots_mask;
    }
    if ((self->n_parts + 1) * 2 > self->slots_mask + 1) {
        if (s_slots_grow (self))
            return -1;
        i = hash & self->slots_mask;
        while (self->slots [i])
            i = (i + 1) & self->slots_mask;
    }
    if (self->n_parts == self->parts_cap) {
        size_t capacity = self->parts_cap ? self->parts_cap * 2 : 8;
        part_t *parts = realloc (self->parts, capacity * sizeof *parts);
        if (!parts)
            return -1;
        self->parts = parts;
        self->parts_cap = capacity;
    }
    part_t *p = &self->parts [self->n_parts];
    memset (p, 0, sizeof *p);
    if (key) {
        p->str = strdup (key);
        if (!p->str)
            return -1;
    }
    p->id = key ? 0 : key_id;
    p->hash = hash;
    self->slots [i] = ++self->n_parts;
    *part = self->n_parts - 1;
    return 0;
}

int
lincheck_add (lincheck_t *self, const lincheck_op_t *op)
{
    if (!self || !op)
        return -1;
    int kind = (int) op->kind;
    int outcome = (int) op->outcome;
    if (kind < LINCHECK_WRITE || kind > LINCHECK_DELETE
    ||  outcome < LINCHECK_OK || outcome > LINCHECK_UNKNOWN)
        return -1;
    if (op->outcome != LINCHECK_UNKNOWN && op->complete_time < op->invoke_time)
        return -1;
    //  A FAIL had no effect and an UNKNOWN read observed nothing we can use:
    //  neither constrains the register.
    if (op->outcome == LINCHECK_FAIL
    || (op->outcome == LINCHECK_UNKNOWN && op->kind == LINCHECK_READ))
        return 0;

    size_t part;
    if (s_part_for (self, op->key, op->key_id, &part))
        return -1;
    if (self->n_ops == self->ops_cap) {
        size_t capacity = self->ops_cap ? self->ops_cap * 2 : 64;
        op_t *ops = realloc (self->ops, capacity * sizeof *ops);
        if (!ops)
            return -1;
        self->ops = ops;
        self->ops_cap = capacity;
    }
    op_t *o = &self->ops [self->n_ops];
    memset (o, 0, sizeof *o);
    o->part = part;
    o->seq = self->n_ops;
    o->client = op->client;
    o->kind = op->kind;
    o->unknown = op->outcome == LINCHECK_UNKNOWN;
    o->invoke = op->invoke_time;
    o->complete = o->unknown ? INT64_MAX : op->complete_time;
    if (op->kind == LINCHECK_WRITE || op->kind == LINCHECK_CAS)
        o->value = op->value;
    if (op->kind == LINCHECK_CAS) {
        o->expect_absent = op->expect_absent;
        o->expected = op->expect_absent ? 0 : op->expected;
        o->cas_ok = op->cas_ok;
    }
    if (op->kind == LINCHECK_READ) {
        o->read_present = op->read_present;
        o->read_value = op->read_present ? op->read_value : 0;
    }
    self->n_ops++;
    return 0;
}

int
lincheck_set_initial (lincheck_t *self, const char *key, uint64_t key_id,
                      int64_t value)
{
    if (!self)
        return -1;
    size_t part;
    if (s_part_for (self, key, key_id, &part))
        return -1;
    self->parts [part].has_initial = true;
    self->parts [part].initial = value;
    return 0;
}

size_t
lincheck_size (lincheck_t *self)
{
    return self ? self->n_ops : 0;
}

const char *
lincheck_result_name (lincheck_result_t result)
{
    switch (result) {
        case LINCHECK_LINEARIZABLE:
            return "linearizable";
        case LINCHECK_NOT_LINEARIZABLE:
            return "not linearizable";
        case LINCHECK_UNKNOWN_TIMEOUT:
            return "unknown (budget spent)";
    }
    return "?";
}

//  The register model: whether op can take effect on state, the state it
//  leaves, and whether it set the register (a write, a delete, a cas that
//  matched) rather than only looked at it. An UNKNOWN operation always
//  can take effect: its result is unconstrained. inert says whether the
//  value op writes is inert.
static bool
s_step (const op_t *op, bool inert, reg_t state, reg_t *next, bool *sets)
{
    *next = state;
    *sets = false;
    switch (op->kind) {
        case LINCHECK_WRITE:
            *next = (reg_t) { inert ? 0 : op->value, true, inert };
            *sets = true;
            return true;
        case LINCHECK_DELETE:
            *next = (reg_t) { 0, false, false };
            *sets = true;
            return true;
        case LINCHECK_READ:
            return !state.inert
                && state.present == op->read_present
                && state.value == op->read_value;
        case LINCHECK_CAS: {
            bool match = op->expect_absent
                ? !state.present
                : state.present && !state.inert && state.value == op->expected;
            if (!op->unknown && match != op->cas_ok)
                return false;
            if (match) {
                *next = (reg_t) { inert ? 0 : op->value, true, inert };
                *sets = true;
            }
            return true;
        }
    }
    return false;
}

static bool
s_reg_equal (reg_t a, reg_t b)
{
    return a.present == b.present && a.value == b.value && a.inert == b.inert;
}

//  ---------------------------------------------------------------------
//  Budget

typedef struct {
    int64_t deadline_ns;        //  0: none
    uint64_t max_steps;         //  0: none
    uint64_t steps;
} budget_t;

static int64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

//  Count one search step, or say the budget is spent. The clock is read
//  every 1024 steps only: a step is a few nanoseconds, the clock is not.
static bool
s_budget_tick (budget_t *budget)
{
    if (budget->max_steps && budget->steps >= budget->max_steps)
        return true;
    budget->steps++;
    if (budget->deadline_ns && (budget->steps & 1023) == 0
    &&  s_now_ns () >= budget->deadline_ns)
        return true;
    return false;
}

//  ---------------------------------------------------------------------
//  The search for one key
//
//  Where the search stands is a position: the register and, right after
//  an UNKNOWN op, the register before it. That is for two rules that only
//  ever drop orders some other order can stand in for, and so keep the
//  search complete, while stopping it from trying every subset of UNKNOWN
//  ops in every place. Take any valid order. An UNKNOWN op that leaves the
//  register as it is can go to the very end (its return is at infinity,
//  so nothing waits for it, and its result is free). So can one whose next
//  op ends in the same register without it (a write overwrites it unseen).
//  One whose next op merely looks at the register and would pass without
//  it (a cas that fails either way) can swap with that op. Repeat, and
//  every UNKNOWN op left is followed by an op that needs it: a known op
//  that fails without it, or an UNKNOWN cas that matches only thanks to
//  it. So an UNKNOWN op is tried only if it leaves a register that some
//  pending known op is waiting for, or that some UNKNOWN cas expects; and
//  the op after it must need it. Positions right after an UNKNOWN op are
//  not remembered, since their options depend on the register before; the
//  next position is.
//
//  UNKNOWN ops never block anyone, so they are kept out of the list of
//  calls and returns, in a list of their own in invoke order: one is a
//  candidate once invoked by the time of the first pending return.

typedef struct node_t node_t;
struct node_t {
    node_t *prev;
    node_t *next;
    node_t *match;              //  a known call's return; else NULL
    int64_t time;
    size_t op;                  //  index into search_t.ops
};

typedef struct {
    reg_t reg;
    bool obliged;               //  the op linearised last was UNKNOWN ...
    reg_t before;               //  ... and this was the register before it
    size_t setter;              //  op that last set reg, or SIZE_MAX
} pos_t;

//  Registers the blocked known candidates wait for.
#define WANT_MAX 4
typedef struct {
    bool any;                   //  any register but the current one will do
    size_t n;
    reg_t regs [WANT_MAX];
} want_t;

typedef struct {
    uint64_t hash;
    size_t bits;                //  offset of its words in the arena
    size_t lo;                  //  known words below lo are all ones
    size_t hi;                  //  known words from hi on are all zeros
    reg_t reg;
    bool dead;                  //  explored to the end without a way through
} config_t;

typedef struct {
    node_t *call;
    size_t config;              //  SIZE_MAX if not remembered
    pos_t pos;                  //  where the search stood before call
    int phase;
    int64_t until;              //  phase 1: the first pending return's time
    want_t want;                //  phase 1: what the known candidates need
    unsigned tried;             //  phase 1: classes of ops tried (TRIED_*)
} frame_t;

//  UNKNOWN writes of inert values are interchangeable, and so are UNKNOWN
//  deletes: if an order uses one where an earlier-invoked one was free, it
//  can use that one there instead and the other in its place later (the
//  later one was free then, and stays so). So a scan tries only the first
//  of each class.
#define TRIED_INERT_WRITE 1
#define TRIED_DELETE 2

typedef struct {
    const op_t **ops;           //  known ops, then UNKNOWN ones, each by invoke
    size_t n;
    size_t n_known;
    node_t *nodes;              //  call of op i at 2i, a known return at 2i + 1
    node_t head;                //  known calls and returns, by time
    node_t uhead;               //  UNKNOWN calls, by time
    reg_t *expects;             //  sorted: what the UNKNOWN cas ops expect
    size_t n_expects;
    bool *inert;                //  per op: the value it writes is inert
    //  The linearised set. Ops are in invoke order, so the known part is
    //  mostly a run of ones then zeros; only the words between lo and hi,
    //  and the UNKNOWN part, are remembered per configuration.
    uint64_t *bits;
    size_t words;
    size_t known_words;
    size_t lo;
    size_t hi;
    uint64_t *zobrist;          //  a random word per op, for the set hash
    uint64_t hash_known;        //  XOR of zobrist over linearised known ops
    uint64_t hash_unknown;      //  likewise over linearised UNKNOWN ops
    size_t unknown_in;          //  UNKNOWN ops linearised now
    config_t *configs;
    size_t n_configs;
    size_t configs_cap;
    uint32_t *table;            //  config index + 1, 0 = empty
    size_t table_mask;
    uint64_t *arena;            //  the configs' words
    size_t arena_used;
    size_t arena_cap;
    frame_t *stack;
    size_t depth;
    //  The deepest point reached (most known ops linearised), for a report.
    size_t best;
    reg_t best_reg;
    size_t best_last;           //  op linearised last there, or SIZE_MAX
    size_t best_cand [EXPLAIN_OPS];
    size_t best_n_cand;
    size_t best_pending;        //  candidates there, counted up to the walk
    bool best_more;             //  the walk stopped short
    size_t best_blocker;        //  op whose return came first, or SIZE_MAX
} search_t;

static void
s_search_free (search_t *s)
{
    free (s->ops);
    free (s->nodes);
    free (s->expects);
    free (s->inert);
    free (s->bits);
    free (s->zobrist);
    free (s->configs);
    free (s->table);
    free (s->arena);
    free (s->stack);
}

//  Known ops by invoke, then complete, then the order they were added.
static int
s_op_compare (const void *a, const void *b)
{
    const op_t *x = *(const op_t * const *) a;
    const op_t *y = *(const op_t * const *) b;
    if (x->invoke != y->invoke)
        return x->invoke < y->invoke ? -1 : 1;
    if (x->complete != y->complete)
        return x->complete < y->complete ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

//  Time order; at equal times calls come first, so that intervals that
//  merely touch count as concurrent (the permissive reading, as Porcupine's).
//  Ties among calls or among returns go by op index, for determinism.
static int
s_node_compare (const void *a, const void *b)
{
    const node_t *x = *(const node_t * const *) a;
    const node_t *y = *(const node_t * const *) b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    bool x_call = x->match != NULL;
    bool y_call = y->match != NULL;
    if (x_call != y_call)
        return x_call ? -1 : 1;
    if (x->op != y->op)
        return x->op < y->op ? -1 : 1;
    return 0;
}

static int
s_value_compare (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a;
    int64_t y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

static int
s_reg_compare (const void *a, const void *b)
{
    const reg_t *x = a;
    const reg_t *y = b;
    if (x->present != y->present)
        return x->present ? 1 : -1;
    if (x->inert != y->inert)
        return x->inert ? 1 : -1;
    if (x->value != y->value)
        return x->value < y->value ? -1 : 1;
    return 0;
}

//  Bit of op i: known ops fill the leading words, UNKNOWN ones the rest.
static size_t
s_bit (const search_t *s, size_t i)
{
    return i < s->n_known ? i : s->known_words * 64 + (i - s->n_known);
}

//  Lay out one key's ops, its time-sorted list of known calls and returns,
//  and its list of UNKNOWN calls.
static int
s_search_init (search_t *s, const lincheck_t *self, const size_t *idx, size_t n,
               reg_t *initial)
{
    memset (s, 0, sizeof *s);
    s->n = n;
    s->ops = malloc (n * sizeof *s->ops);
    s->nodes = malloc (2 * n * sizeof *s->nodes);
    s->expects = malloc (n * sizeof *s->expects);
    s->zobrist = malloc (n * sizeof *s->zobrist);
    s->stack = malloc (n * sizeof *s->stack);
    if (!s->ops || !s->nodes || !s->expects || !s->zobrist || !s->stack)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!self->ops [idx [i]].unknown)
            s->ops [s->n_known++] = &self->ops [idx [i]];
    size_t at = s->n_known;
    for (size_t i = 0; i < n; i++)
        if (self->ops [idx [i]].unknown)
            s->ops [at++] = &self->ops [idx [i]];
    qsort (s->ops, s->n_known, sizeof *s->ops, s_op_compare);
    qsort (s->ops + s->n_known, n - s->n_known, sizeof *s->ops, s_op_compare);

    //  The values someone observes; every other value written is inert.
    s->inert = malloc (n * sizeof *s->inert);
    int64_t *observed = malloc (n * sizeof *observed);
    if (!s->inert || !observed) {
        free (observed);
        return -1;
    }
    size_t n_observed = 0;
    for (size_t i = 0; i < n; i++) {
        const op_t *op = s->ops [i];
        if (op->kind == LINCHECK_READ && op->read_present)
            observed [n_observed++] = op->read_value;
        if (op->kind == LINCHECK_CAS && !op->expect_absent)
            observed [n_observed++] = op->expected;
    }
    qsort (observed, n_observed, sizeof *observed, s_value_compare);
    for (size_t i = 0; i < n; i++) {
        const op_t *op = s->ops [i];
        s->inert [i] = (op->kind == LINCHECK_WRITE || op->kind == LINCHECK_CAS)
            && !bsearch (&op->value, observed, n_observed, sizeof *observed,
                         s_value_compare);
    }
    if (initial->present && !initial->inert
    &&  !bsearch (&initial->value, observed, n_observed, sizeof *observed,
                  s_value_compare))
        *initial = (reg_t) { 0, true, true };
    free (observed);

    s->known_words = (s->n_known + 63) / 64;
    s->words = s->known_words + (n - s->n_known + 63) / 64;
    s->bits = calloc (s->words, sizeof (uint64_t));
    if (!s->bits)
        return -1;
    //  splitmix64: a fixed seed keeps runs reproducible.
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < n; i++) {
        seed += 0x9e3779b97f4a7c15ull;
        s->zobrist [i] = hash_u64 (seed) | 1;
    }

    //  One spare slot: malloc (0) may answer NULL, which is not a failure.
    node_t **sorted = malloc ((2 * s->n_known + 1) * sizeof *sorted);
    if (!sorted)
        return -1;
    for (size_t i = 0; i < s->n_known; i++) {
        node_t *call = &s->nodes [2 * i];
        node_t *ret = &s->nodes [2 * i + 1];
        *call = (node_t) { .match = ret, .time = s->ops [i]->invoke, .op = i };
        *ret = (node_t) { .match = NULL, .time = s->ops [i]->complete, .op = i };
        sorted [2 * i] = call;
        sorted [2 * i + 1] = ret;
    }
    qsort (sorted, 2 * s->n_known, sizeof *sorted, s_node_compare);
    node_t *prev = &s->head;
    for (size_t i = 0; i < 2 * s->n_known; i++) {
        prev->next = sorted [i];
        sorted [i]->prev = prev;
        prev = sorted [i];
    }
    prev->next = NULL;
    free (sorted);

    prev = &s->uhead;
    for (size_t i = s->n_known; i < n; i++) {
        node_t *call = &s->nodes [2 * i];
        *call = (node_t) { .prev = prev, .time = s->ops [i]->invoke, .op = i };
        prev->next = call;
        prev = call;
        const op_t *op = s->ops [i];
        if (op->kind == LINCHECK_CAS)
            s->expects [s->n_expects++] = (reg_t) { op->expected, !op->expect_absent, false };
    }
    prev->next = NULL;
    qsort (s->expects, s->n_expects, sizeof *s->expects, s_reg_compare);

    s->table_mask = 1023;
    s->table = calloc (s->table_mask + 1, sizeof *s->table);
    if (!s->table)
        return -1;
    return 0;
}

//  Take a known call and its return out of the list; the nodes keep their
//  own links so that s_unlift can put them back exactly (dancing links).
static void
s_lift (node_t *call)
{
    call->prev->next = call->next;
    call->next->prev = call->prev;
    node_t *ret = call->match;
    ret->prev->next = ret->next;
    if (ret->next)
        ret->next->prev = ret->prev;
}

static void
s_unlift (node_t *call)
{
    node_t *ret = call->match;
    ret->prev->next = ret;
    if (ret->next)
        ret->next->prev = ret;
    call->prev->next = call;
    call->next->prev = call;
}

//  The same for an UNKNOWN call, alone in its list.
static void
s_ulift (node_t *call)
{
    call->prev->next = call->next;
    if (call->next)
        call->next->prev = call->prev;
}

static void
s_uunlift (node_t *call)
{
    call->prev->next = call;
    if (call->next)
        call->next->prev = call;
}

//  Add or remove op i from the linearised set, keeping the hashes and the
//  bounds of the known words current.
static void
s_flip (search_t *s, size_t i)
{
    size_t bit = s_bit (s, i);
    size_t w = bit / 64;
    uint64_t mask = 1ull << (bit % 64);
    bool was_in = (s->bits [w] & mask) != 0;
    s->bits [w] ^= mask;
    if (i >= s->n_known) {
        s->hash_unknown ^= s->zobrist [i];
        s->unknown_in += was_in ? (size_t) -1 : 1;
        return;
    }
    s->hash_known ^= s->zobrist [i];
    if (was_in) {
        if (w < s->lo)
            s->lo = w;
        while (s->hi > s->lo && s->bits [s->hi - 1] == 0)
            s->hi--;
    }
    else {
        if (w >= s->hi)
            s->hi = w + 1;
        while (s->lo < s->known_words && s->bits [s->lo] == UINT64_MAX)
            s->lo++;
    }
}

static uint64_t
s_reg_hash (reg_t reg)
{
    if (reg.inert)
        return 0x9b05688c2b3e6c1full;
    return reg.present ? hash_u64 ((uint64_t) reg.value ^ 0x510e527fade682d1ull)
                       : 0x1f83d9abfb41bd6bull;
}

//  Which linearised sets s_config_find compares with.
typedef enum {
    MATCH_EXACT,                //  the current set
    MATCH_KNOWN,                //  its known ops, no UNKNOWN op
    MATCH_KNOWN_PLUS            //  its known ops and one UNKNOWN op, plus
} match_t;

//  Find a remembered configuration with this register whose set is, per
//  how, the current set or a part of it. Returns its index or SIZE_MAX.
static size_t
s_config_find (search_t *s, uint64_t hash, reg_t reg, match_t how, size_t plus)
{
    size_t plus_bit = how == MATCH_KNOWN_PLUS ? s_bit (s, plus) : 0;
    size_t known = s->hi - s->lo;
    size_t unknown = s->words - s->known_words;
    size_t i = hash & s->table_mask;
    while (s->table [i]) {
        size_t c = s->table [i] - 1;
        const config_t *config = &s->configs [c];
        i = (i + 1) & s->table_mask;
        if (config->hash != hash || !s_reg_equal (config->reg, reg)
        ||  config->lo != s->lo || config->hi != s->hi)
            continue;
        const uint64_t *bits = s->arena + config->bits;
        if (memcmp (bits, s->bits + s->lo, known * sizeof (uint64_t)))
            continue;
        bits += known;
        bool equal = true;
        if (how == MATCH_EXACT)
            equal = !memcmp (bits, s->bits + s->known_words, unknown * sizeof (uint64_t));
        else
            for (size_t w = 0; equal && w < unknown; w++) {
                uint64_t want = 0;
                if (how == MATCH_KNOWN_PLUS && s->known_words + w == plus_bit / 64)
                    want = 1ull << (plus_bit % 64);
                equal = bits [w] == want;
            }
        if (equal)
            return c;
    }
    return SIZE_MAX;
}

static bool
s_config_dead (search_t *s, uint64_t hash, reg_t reg, match_t how, size_t plus)
{
    size_t c = s_config_find (s, hash, reg, how, plus);
    return c != SIZE_MAX && s->configs [c].dead;
}

static int
s_table_grow (search_t *s)
{
    size_t capacity = (s->table_mask + 1) * 2;
    uint32_t *table = calloc (capacity, sizeof *table);
    if (!table)
        return -1;
    for (size_t c = 0; c < s->n_configs; c++) {
        size_t i = s->configs [c].hash & (capacity - 1);
        while (table [i])
            i = (i + 1) & (capacity - 1);
        table [i] = (uint32_t) (c + 1);
    }
    free (s->table);
    s->table = table;
    s->table_mask = capacity - 1;
    return 0;
}

//  Decide whether the configuration (current set, pos) is worth exploring.
//  It is not if it was seen before: then it is dead, since configurations
//  on the current path have fewer ops. Nor if it is dominated by a dead
//  one: the same register over the same set less some UNKNOWN ops, and no
//  rule binding the next op. Whatever finishes the history from here would
//  finish it from there, the UNKNOWN ops deferred to the end (nothing waits
//  for them). Three such sets are probed: the same set (for a position
//  right after an UNKNOWN op), no UNKNOWN op, and only the UNKNOWN op that
//  set the register, if one did. Returns 1 to skip, 0 to explore (a
//  position not bound by a rule is remembered, as *config), -1 if out of
//  memory.
static int
s_visit (search_t *s, pos_t pos, size_t *config)
{
    uint64_t reg_hash = s_reg_hash (pos.reg);
    uint64_t hash = s->hash_known ^ s->hash_unknown ^ reg_hash;
    size_t same = s_config_find (s, hash, pos.reg, MATCH_EXACT, 0);
    if (same != SIZE_MAX && (!pos.obliged || s->configs [same].dead))
        return 1;
    if (s->unknown_in) {
        if (s_config_dead (s, s->hash_known ^ reg_hash, pos.reg, MATCH_KNOWN, 0))
            return 1;
        if (pos.setter != SIZE_MAX && pos.setter >= s->n_known && s->unknown_in > 1
        &&  s_config_dead (s, s->hash_known ^ s->zobrist [pos.setter] ^ reg_hash,
                           pos.reg, MATCH_KNOWN_PLUS, pos.setter))
            return 1;
    }
    *config = SIZE_MAX;
    if (pos.obliged)
        return 0;
    size_t known = s->hi - s->lo;
    size_t length = known + s->words - s->known_words;
    if ((s->n_configs + 1) * 2 > s->table_mask + 1 && s_table_grow (s))
        return -1;
    if (s->n_configs + 1 >= UINT32_MAX)
        return -1;
    if (s->n_configs == s->configs_cap) {
        size_t capacity = s->configs_cap ? s->configs_cap * 2 : 1024;
        config_t *configs = realloc (s->configs, capacity * sizeof *configs);
        if (!configs)
            return -1;
        s->configs = configs;
        s->configs_cap = capacity;
    }
    if (s->arena_used + length > s->arena_cap) {
        size_t capacity = s->arena_cap ? s->arena_cap * 2 : 4096;
        while (capacity < s->arena_used + length)
            capacity *= 2;
        uint64_t *arena = realloc (s->arena, capacity * sizeof *arena);
        if (!arena)
            return -1;
        s->arena = arena;
        s->arena_cap = capacity;
    }
    uint64_t *bits = s->arena + s->arena_used;
    memcpy (bits, s->bits + s->lo, known * sizeof (uint64_t));
    memcpy (bits + known, s->bits + s->known_words,
            (s->words - s->known_words) * sizeof (uint64_t));
    s->configs [s->n_configs] = (config_t) {
        .hash = hash, .bits = s->arena_used, .lo = s->lo, .hi = s->hi,
        .reg = pos.reg, .dead = false
    };
    s->arena_used += length;
    size_t i = hash & s->table_mask;
    while (s->table [i])
        i = (i + 1) & s->table_mask;
    s->table [i] = (uint32_t) (s->n_configs + 1);
    *config = s->n_configs++;
    return 0;
}

//  Remember the deepest point for the report: it is where a history that
//  is not linearizable first goes wrong, as far as the search could tell.
static void
s_note_deepest (search_t *s, size_t linearised, reg_t reg)
{
    s->best = linearised;
    s->best_reg = reg;
    s->best_last = s->depth ? s->stack [s->depth - 1].call->op : SIZE_MAX;
    s->best_n_cand = 0;
    s->best_pending = 0;
    s->best_more = true;
    s->best_blocker = SIZE_MAX;
    const node_t *entry = s->head.next;
    for (size_t walked = 0; entry && walked < EXPLAIN_WALK; walked++) {
        if (!entry->match) {
            s->best_blocker = entry->op;
            s->best_more = false;
            break;
        }
        if (s->best_n_cand < EXPLAIN_OPS)
            s->best_cand [s->best_n_cand++] = entry->op;
        s->best_pending++;
        entry = entry->next;
    }
    if (s->best_blocker == SIZE_MAX)
        return;
    int64_t until = s->ops [s->best_blocker]->complete;
    entry = s->uhead.next;
    for (size_t walked = 0; entry && entry->time <= until; walked++) {
        if (walked == EXPLAIN_WALK) {
            s->best_more = true;
            break;
        }
        if (s->best_n_cand < EXPLAIN_OPS)
            s->best_cand [s->best_n_cand++] = entry->op;
        s->best_pending++;
        entry = entry->next;
    }
}

//  Where op would take the search from pos, if it may be linearised there
//  at all: the model agrees, and the rules above allow it.
static bool
s_advance (const search_t *s, size_t i, pos_t pos, pos_t *next)
{
    const op_t *op = s->ops [i];
    bool sets;
    if (!s_step (op, s->inert [i], pos.reg, &next->reg, &sets))
        return false;
    if (pos.obliged) {
        //  Does op need the UNKNOWN op just before it?
        reg_t without;
        bool sets_without;
        if (s_step (op, s->inert [i], pos.before, &without, &sets_without)
        && (s_reg_equal (without, next->reg) || (!sets && !sets_without)))
            return false;
    }
    next->obliged = op->unknown;
    if (op->unknown) {
        if (s_reg_equal (next->reg, pos.reg))
            return false;
        next->before = pos.reg;
    }
    else
        next->before = (reg_t) { 0, false, false };
    next->setter = sets ? i : pos.setter;
    return true;
}

//  Before trying UNKNOWN ops from pos: collect the registers the known
//  candidates that cannot go now would accept. Returns false if no UNKNOWN
//  op can help here (nothing waits, and no UNKNOWN cas expects anything).
static bool
s_want (search_t *s, pos_t pos, want_t *want)
{
    want->any = pos.obliged;    //  only an UNKNOWN cas can go: let it try
    want->n = 0;
    for (const node_t *entry = s->head.next; entry && entry->match && !want->any;
         entry = entry->next) {
        const op_t *op = s->ops [entry->op];
        reg_t next;
        bool sets;
        if (s_step (op, s->inert [entry->op], pos.reg, &next, &sets))
            continue;
        reg_t needed;
        if (op->kind == LINCHECK_READ)
            needed = (reg_t) { op->read_value, op->read_present, false };
        else
        if (op->cas_ok)
            needed = (reg_t) { op->expected, !op->expect_absent, false };
        else {
            want->any = true;   //  a failed cas: anything but what it expects
            break;
        }
        bool seen = false;
        for (size_t k = 0; k < want->n && !seen; k++)
            seen = s_reg_equal (want->regs [k], needed);
        if (seen)
            continue;
        if (want->n == WANT_MAX)
            want->any = true;
        else
            want->regs [want->n++] = needed;
    }
    return want->any || want->n > 0 || s->n_expects > 0;
}

static bool
s_wanted (const search_t *s, const want_t *want, reg_t reg)
{
    if (want->any)
        return true;
    for (size_t k = 0; k < want->n; k++)
        if (s_reg_equal (want->regs [k], reg))
            return true;
    return s->n_expects
        && bsearch (&reg, s->expects, s->n_expects, sizeof reg, s_reg_compare);
}

//  The search proper. Returns 0 if linearizable, 1 if not, 2 if the budget
//  ran out, -1 if out of memory. Phase 0 scans the known candidates (calls
//  before the first return), phase 1 then the UNKNOWN ones, so that known
//  ops are tried first; a frame remembers its phase so that backtracking
//  resumes the scan it cut.
static int
s_search_run (search_t *s, reg_t initial, budget_t *budget)
{
    pos_t pos = { .reg = initial, .obliged = false, .setter = SIZE_MAX };
    node_t *entry = s->head.next;
    int phase = 0;
    int64_t until = 0;
    want_t want = { .any = false, .n = 0 };
    unsigned tried = 0;
    size_t known_left = s->n_known;
    bool has_unknown = s->n_known < s->n;
    s_note_deepest (s, 0, pos.reg);
    while (known_left > 0) {
        if (s_budget_tick (budget))
            return 2;
        bool exhausted;
        if (phase == 0) {
            exhausted = !entry->match;
            if (exhausted && has_unknown && s_want (s, pos, &want)) {
                phase = 1;
                until = entry->time;
                tried = 0;
                entry = s->uhead.next;
                continue;
            }
        }
        else
            exhausted = !entry || entry->time > until;
        if (!exhausted) {
            const op_t *op = s->ops [entry->op];
            if (phase == 1) {
                unsigned class = op->kind == LINCHECK_DELETE ? TRIED_DELETE
                               : op->kind == LINCHECK_WRITE && s->inert [entry->op]
                               ? TRIED_INERT_WRITE : 0;
                if (tried & class) {
                    entry = entry->next;
                    continue;
                }
                tried |= class;
            }
            pos_t next;
            if (s_advance (s, entry->op, pos, &next)
            && (phase == 0 || s_wanted (s, &want, next.reg))) {
                s_flip (s, entry->op);
                size_t config;
                int rc = s_visit (s, next, &config);
                if (rc < 0)
                    return -1;
                if (rc == 0) {
                    s->stack [s->depth++] = (frame_t) {
                        .call = entry, .config = config, .pos = pos,
                        .phase = phase, .until = until, .want = want,
                        .tried = tried
                    };
                    pos = next;
                    if (op->unknown)
                        s_ulift (entry);
                    else {
                        s_lift (entry);
                        known_left--;
                    }
                    entry = s->head.next;
                    phase = 0;
                    if (s->n_known - known_left > s->best)
                        s_note_deepest (s, s->n_known - known_left, pos.reg);
                    continue;
                }
                s_flip (s, entry->op);
            }
            entry = entry->next;
            continue;
        }
        //  Nothing more to try from here: back up one op.
        if (s->depth == 0)
            return 1;
        frame_t *frame = &s->stack [--s->depth];
        if (frame->config != SIZE_MAX)
            s->configs [frame->config].dead = true;
        pos = frame->pos;
        if (frame->call->op >= s->n_known)
            s_uunlift (frame->call);
        else {
            s_unlift (frame->call);
            known_left++;
        }
        s_flip (s, frame->call->op);
        entry = frame->call->next;
        phase = frame->phase;
        until = frame->until;
        want = frame->want;
        tried = frame->tried;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Reports

typedef struct {
    char *buf;
    size_t size;
    size_t len;
} text_t;

//  Append to a fixed buffer; once full, end it with "..." and drop the rest.
static void
s_text (text_t *text, const char *format, ...)
{
    if (text->len + 1 >= text->size)
        return;
    va_list args;
    va_start (args, format);
    int n = vsnprintf (text->buf + text->len, text->size - text->len, format, args);
    va_end (args);
    if (n < 0)
        return;
    if ((size_t) n >= text->size - text->len) {
        text->len = text->size - 1;
        if (text->size >= 4)
            memcpy (text->buf + text->size - 4, "...", 4);
    }
    else
        text->len += (size_t) n;
}

static void
s_text_state (text_t *text, reg_t state)
{
    if (state.inert)
        s_text (text, "(a value nobody reads)");
    else
    if (state.present)
        s_text (text, "%" PRId64, state.value);
    else
        s_text (text, "absent");
}

static void
s_text_op (text_t *text, const op_t *op)
{
    s_text (text, "op#%zu c%" PRIu64 " ", op->seq, op->client);
    switch (op->kind) {
        case LINCHECK_WRITE:
            s_text (text, "write(%" PRId64 ")", op->value);
            break;
        case LINCHECK_DELETE:
            s_text (text, "delete()");
            break;
        case LINCHECK_READ:
            s_text (text, "read()->");
            s_text_state (text, (reg_t) { op->read_value, op->read_present, false });
            break;
        case LINCHECK_CAS:
            if (op->expect_absent)
                s_text (text, "cas(absent,%" PRId64 ")", op->value);
            else
                s_text (text, "cas(%" PRId64 ",%" PRId64 ")", op->expected, op->value);
            s_text (text, "->%s", op->unknown ? "?" : op->cas_ok ? "ok" : "fail");
            break;
    }
    if (op->unknown)
        s_text (text, " [%" PRId64 ",?]", op->invoke);
    else
        s_text (text, " [%" PRId64 ",%" PRId64 "]", op->invoke, op->complete);
}

static void
s_text_key (text_t *text, const part_t *part)
{
    if (part->str)
        s_text (text, "\"%s\"", part->str);
    else
        s_text (text, "%" PRIu64, part->id);
}

static void
s_verdict_key (lincheck_verdict_t *verdict, const part_t *part)
{
    if (part->str)
        snprintf (verdict->key, sizeof verdict->key, "%s", part->str);
    else
        snprintf (verdict->key, sizeof verdict->key, "%" PRIu64, part->id);
    verdict->key_is_id = part->str == NULL;
    verdict->key_id = part->id;
}

//  Say where the search got stuck: how far it got, the register there, and
//  the operation whose deadline nothing could meet, with its rivals.
static void
s_explain (const search_t *s, const part_t *part, lincheck_verdict_t *verdict)
{
    text_t text = { verdict->explanation, sizeof verdict->explanation, 0 };
    s_text (&text, "key ");
    s_text_key (&text, part);
    s_text (&text, ": stuck after linearizing %zu of %zu completed ops (register ",
            s->best, s->n_known);
    s_text_state (&text, s->best_reg);
    if (s->best_last != SIZE_MAX) {
        s_text (&text, ", last ");
        s_text_op (&text, s->ops [s->best_last]);
    }
    else
        s_text (&text, ", nothing linearized yet");
    s_text (&text, ")");
    if (s->best_blocker != SIZE_MAX) {
        const op_t *blocker = s->ops [s->best_blocker];
        s_text (&text, ": ");
        s_text_op (&text, blocker);
        s_text (&text, " must take effect by t=%" PRId64
                ", but no order of the pending ops allows it", blocker->complete);
    }
    s_text (&text, "; pending (%zu%s):", s->best_pending, s->best_more ? "+" : "");
    for (size_t i = 0; i < s->best_n_cand; i++) {
        s_text (&text, i ? "; " : " ");
        s_text_op (&text, s->ops [s->best_cand [i]]);
    }
    if (s->best_pending > s->best_n_cand)
        s_text (&text, "; ...");
}

//  Check one key. Returns as s_search_run does.
static int
s_check_part (const lincheck_t *self, const part_t *part, const size_t *idx,
              size_t n, budget_t *budget, lincheck_verdict_t *verdict)
{
    search_t s;
    reg_t initial = { part->has_initial ? part->initial : 0, part->has_initial, false };
    if (s_search_init (&s, self, idx, n, &initial)) {
        s_search_free (&s);
        return -1;
    }
    int rc = s_search_run (&s, initial, budget);
    if (rc == 1)
        s_explain (&s, part, verdict);
    s_search_free (&s);
    return rc;
}

int
lincheck_check (lincheck_t *self, int64_t budget_msecs,
                uint64_t budget_steps, lincheck_verdict_t *verdict)
{
    if (!self || !verdict || budget_msecs < 0)
        return -1;
    memset (verdict, 0, sizeof *verdict);
    verdict->result = LINCHECK_LINEARIZABLE;
    if (self->n_ops == 0)
        return 0;

    //  Group the ops by key, each group in the order the ops were added.
    size_t *start = calloc (self->n_parts + 1, sizeof *start);
    size_t *order = malloc (self->n_ops * sizeof *order);
    if (!start || !order) {
        free (start);
        free (order);
        return -1;
    }
    for (size_t i = 0; i < self->n_ops; i++)
        start [self->ops [i].part + 1]++;
    for (size_t p = 0; p < self->n_parts; p++)
        start [p + 1] += start [p];
    for (size_t i = 0; i < self->n_ops; i++)
        order [start [self->ops [i].part]++] = i;
    //  Each start [p] now holds the end of group p; shift back.
    for (size_t p = self->n_parts; p > 0; p--)
        start [p] = start [p - 1];
    start [0] = 0;

    budget_t budget = {
        .deadline_ns = budget_msecs ? s_now_ns () + budget_msecs * 1000000 : 0,
        .max_steps = budget_steps,
        .steps = 0
    };
    int rc = 0;
    for (size_t p = 0; p < self->n_parts; p++) {
        size_t n = start [p + 1] - start [p];
        if (n == 0)
            continue;
        const part_t *part = &self->parts [p];
        rc = s_check_part (self, part, order + start [p], n, &budget, verdict);
        if (rc < 0)
            break;
        if (rc == 2) {
            verdict->result = LINCHECK_UNKNOWN_TIMEOUT;
            s_verdict_key (verdict, part);
            break;
        }
        verdict->keys_checked++;
        verdict->ops_checked += n;
        if (rc == 1) {
            verdict->result = LINCHECK_NOT_LINEARIZABLE;
            s_verdict_key (verdict, part);
            break;
        }
    }
    verdict->steps = budget.steps;
    free (start);
    free (order);
    return rc < 0 ? -1 : 0;
}

//  ---------------------------------------------------------------------
//  Jepsen etcd histories

typedef struct {
    long process;
    lincheck_op_t op;
} pending_t;

typedef struct {
    lincheck_op_t *ops;
    size_t n_ops;
    size_t ops_cap;
    pending_t *pending;         //  one per process with an op in flight
    size_t n_pending;
    size_t pending_cap;
} jepsen_t;

static int
s_jepsen_push (jepsen_t *j, const lincheck_op_t *op)
{
    if (j->n_ops == j->ops_cap) {
        size_t capacity = j->ops_cap ? j->ops_cap * 2 : 256;
        lincheck_op_t *ops = realloc (j->ops, capacity * sizeof *ops);
        if (!ops)
            return -1;
        j->ops = ops;
        j->ops_cap = capacity;
    }
    j->ops [j->n_ops++] = *op;
    return 0;
}

//  Next whitespace-delimited token of *cursor, NUL-terminated in place.
static char *
s_token (char **cursor)
{
    char *p = *cursor;
    while (*p && isspace ((unsigned char) *p))
        p++;
    if (!*p)
        return NULL;
    char *token = p;
    while (*p && !isspace ((unsigned char) *p))
        p++;
    if (*p)
        *p++ = '\0';
    *cursor = p;
    return token;
}

//  A whole decimal integer, or "nil" (absent) when nil_ok.
static int
s_parse_value (const char *str, bool nil_ok, bool *present, int64_t *value)
{
    if (nil_ok && !strcmp (str, "nil")) {
        *present = false;
        *value = 0;
        return 0;
    }
    char *end;
    errno = 0;
    long long v = strtoll (str, &end, 10);
    if (end == str || *end || errno)
        return -1;
    *present = true;
    *value = (int64_t) v;
    return 0;
}

//  "[expected new]", expected possibly nil.
static int
s_parse_cas (char *str, lincheck_op_t *op)
{
    size_t len = strlen (str);
    if (len < 2 || str [0] != '[' || str [len - 1] != ']')
        return -1;
    str [len - 1] = '\0';
    char *cursor = str + 1;
    char *expected = s_token (&cursor);
    char *next = s_token (&cursor);
    if (!expected || !next || s_token (&cursor))
        return -1;
    bool present;
    if (s_parse_value (expected, true, &present, &op->expected))
        return -1;
    op->expect_absent = !present;
    if (s_parse_value (next, false, &present, &op->value))
        return -1;
    return 0;
}

static pending_t *
s_pending_find (jepsen_t *j, long process)
{
    for (size_t i = 0; i < j->n_pending; i++)
        if (j->pending [i].process == process)
            return &j->pending [i];
    return NULL;
}

//  Apply one line. Returns 0 (used or skipped) or -1 (malformed).
static int
s_jepsen_line (jepsen_t *j, char *line, int64_t line_no, const char *key)
{
    char *at = strstr (line, "jepsen.util");
    if (!at)
        return 0;
    char *cursor = at + strlen ("jepsen.util");
    char *dash = s_token (&cursor);
    if (!dash || strcmp (dash, "-"))
        return 0;
    char *process_str = s_token (&cursor);
    if (!process_str)
        return -1;
    char *end;
    long process = strtol (process_str, &end, 10);
    if (end == process_str || *end)
        return 0;               //  the nemesis, or some other actor
    char *type = s_token (&cursor);
    char *f = s_token (&cursor);
    if (!type || !f)
        return -1;
    //  The value is the rest of the line: a cas value holds a space.
    while (*cursor && isspace ((unsigned char) *cursor))
        cursor++;
    char *value = cursor;
    size_t len = strlen (value);
    while (len && isspace ((unsigned char) value [len - 1]))
        value [--len] = '\0';

    lincheck_kind_t kind;
    if (!strcmp (f, ":read"))
        kind = LINCHECK_READ;
    else
    if (!strcmp (f, ":write"))
        kind = LINCHECK_WRITE;
    else
    if (!strcmp (f, ":cas"))
        kind = LINCHECK_CAS;
    else
        return -1;

    pending_t *pending = s_pending_find (j, process);
    if (!strcmp (type, ":invoke")) {
        if (pending)
            return -1;          //  a Jepsen process runs one op at a time
        lincheck_op_t op = {
            .key = key, .key_id = 0, .client = (uint64_t) process,
            .kind = kind, .outcome = LINCHECK_OK, .invoke_time = line_no
        };
        bool present;
        if (kind == LINCHECK_WRITE
        && (s_parse_value (value, false, &present, &op.value)))
            return -1;
        if (kind == LINCHECK_CAS && s_parse_cas (value, &op))
            return -1;
        if (j->n_pending == j->pending_cap) {
            size_t capacity = j->pending_cap ? j->pending_cap * 2 : 16;
            pending_t *list = realloc (j->pending, capacity * sizeof *list);
            if (!list)
                return -1;
            j->pending = list;
            j->pending_cap = capacity;
        }
        j->pending [j->n_pending++] = (pending_t) { process, op };
        return 0;
    }
    if (!pending || pending->op.kind != kind)
        return -1;
    lincheck_op_t op = pending->op;
    op.complete_time = line_no;
    if (!strcmp (type, ":ok")) {
        if (kind == LINCHECK_READ
        &&  s_parse_value (value, true, &op.read_present, &op.read_value))
            return -1;
        op.cas_ok = true;
    }
    else
    if (!strcmp (type, ":fail")) {
        //  A failed cas ran and found another value (Porcupine reads it so);
        //  a failed read or write did nothing.
        if (kind == LINCHECK_CAS)
            op.cas_ok = false;
        else
            op.outcome = LINCHECK_FAIL;
    }
    else
    if (!strcmp (type, ":info"))
        op.outcome = LINCHECK_UNKNOWN;
    else
        return -1;
    if (s_jepsen_push (j, &op))
        return -1;
    *pending = j->pending [--j->n_pending];
    return 0;
}

int
lincheck_parse_jepsen (lincheck_t *self, const char *path, const char *key)
{
    if (!self || !path)
        return -1;
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    jepsen_t j = { 0 };
    char *line = NULL;
    size_t line_cap = 0;
    int64_t line_no = 0;
    int rc = 0;
    while (getline (&line, &line_cap, file) != -1) {
        line_no++;
        if (s_jepsen_line (&j, line, line_no, key)) {
            rc = -1;
            break;
        }
    }
    if (ferror (file))
        rc = -1;
    //  Still in flight at the end: never answered, so maybe done, maybe not.
    for (size_t i = 0; rc == 0 && i < j.n_pending; i++) {
        j.pending [i].op.outcome = LINCHECK_UNKNOWN;
        rc = s_jepsen_push (&j, &j.pending [i].op);
    }
    //  Add only a whole file, so that a malformed one leaves no trace; if
    //  lincheck_add fails part way (no memory) take back what it took. Keys
    //  it created stay, empty, which changes no verdict.
    size_t n_before = self->n_ops;
    for (size_t i = 0; rc == 0 && i < j.n_ops; i++)
        rc = lincheck_add (self, &j.ops [i]);
    if (rc)
        self->n_ops = n_before;
    free (line);
    free (j.ops);
    free (j.pending);
    fclose (file);
    return rc;
}
