/*  targetcheck: the checks every backup target must pass (the contract of
    proto/target.proto), run against a target actor through its messages.
    Each check uses its own paths, so all can run against one root. */
#ifndef TESTS_TARGETCHECK_H
#define TESTS_TARGETCHECK_H

#include "runtime/rt.h"

typedef struct targetcheck_t targetcheck_t;

struct targetcheck_t {
    rt_t *rt;                       //  a runtime of the test's own
    actor_t *target;                //  the target (local or remote)
    //  Restarts the target (its process, or its actor), then points
    //  target at it again: uploads it had open are lost, partial files stay.
    void (*restart) (targetcheck_t *self);
    void *ctx;
};

void targetcheck_put_then_get_round_trip (targetcheck_t *self);
void targetcheck_unfinished_upload_is_invisible_and_resumes (targetcheck_t *self);
void targetcheck_whole_file_mismatch_keeps_nothing (targetcheck_t *self);
void targetcheck_list_pages_in_path_order (targetcheck_t *self);
void targetcheck_remove_files_and_trees (targetcheck_t *self);
void targetcheck_paths_outside_the_rules_are_refused (targetcheck_t *self);

#endif
