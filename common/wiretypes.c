/*  wiretypes: see wiretypes.h. */
#include "common/wiretypes.h"
#include "runtime/types.h"
#include "data.pb-c.h"
#include "meta.pb-c.h"
#include "replica.pb-c.h"
#include "target.pb-c.h"
#include "backup.pb-c.h"

#include <stddef.h>

int
wiretypes_register (void)
{
    static const ProtobufCMessageDescriptor *const types [] = {
        &pg__route__descriptor,
        &pg__key_value__descriptor,
        &pg__set_request__descriptor,
        &pg__del_request__descriptor,
        &pg__write_reply__descriptor,
        &pg__get_request__descriptor,
        &pg__get_reply__descriptor,
        &pg__ttl_request__descriptor,
        &pg__ttl_reply__descriptor,
        &pg__multi_set_request__descriptor,
        &pg__multi_del_request__descriptor,
        &pg__multi_get_request__descriptor,
        &pg__multi_get_reply__descriptor,
        &pg__sortkey_count_request__descriptor,
        &pg__count_reply__descriptor,
        &pg__incr_request__descriptor,
        &pg__incr_reply__descriptor,
        &pg__check_and_set_request__descriptor,
        &pg__mutate__descriptor,
        &pg__check_and_mutate_request__descriptor,
        &pg__check_reply__descriptor,
        &pg__scan_request__descriptor,
        &pg__scan_item__descriptor,
        &pg__scan_reply__descriptor,
        &pg__full_key__descriptor,
        &pg__batch_get_request__descriptor,
        &pg__batch_get_item__descriptor,
        &pg__batch_get_reply__descriptor,
        &pg__mutation_op__descriptor,
        &pg__mutation__descriptor,
        &pg__app_info__descriptor,
        &pg__partition_config__descriptor,
        &pg__create_app_request__descriptor,
        &pg__create_app_reply__descriptor,
        &pg__drop_app_request__descriptor,
        &pg__drop_app_reply__descriptor,
        &pg__recall_app_request__descriptor,
        &pg__recall_app_reply__descriptor,
        &pg__list_apps_request__descriptor,
        &pg__list_apps_reply__descriptor,
        &pg__query_config_request__descriptor,
        &pg__query_config_reply__descriptor,
        &pg__node_info__descriptor,
        &pg__list_nodes_request__descriptor,
        &pg__list_nodes_reply__descriptor,
        &pg__replica_report__descriptor,
        &pg__beacon_request__descriptor,
        &pg__assignment__descriptor,
        &pg__beacon_reply__descriptor,
        &pg__replica_detail__descriptor,
        &pg__update_config_request__descriptor,
        &pg__update_config_reply__descriptor,
        &pg__config_proposal__descriptor,
        &pg__propose_request__descriptor,
        &pg__set_meta_level_request__descriptor,
        &pg__get_meta_level_request__descriptor,
        &pg__meta_level_reply__descriptor,
        &pg__prepare_request__descriptor,
        &pg__prepare_reply__descriptor,
        &pg__group_check_request__descriptor,
        &pg__group_check_reply__descriptor,
        &pg__group_check_batch__descriptor,
        &pg__group_check_batch_reply__descriptor,
        &pg__add_learner_request__descriptor,
        &pg__learn_request__descriptor,
        &pg__learn_entry__descriptor,
        &pg__checkpoint_file__descriptor,
        &pg__learn_reply__descriptor,
        &pg__file_chunk_request__descriptor,
        &pg__file_chunk_reply__descriptor,
        &pg__server_info_query__descriptor,
        &pg__server_info_reply__descriptor,
        &pg__target_put__descriptor,
        &pg__target_put_reply__descriptor,
        &pg__target_get__descriptor,
        &pg__target_get_reply__descriptor,
        &pg__target_list__descriptor,
        &pg__target_entry__descriptor,
        &pg__target_list_reply__descriptor,
        &pg__target_stat__descriptor,
        &pg__target_stat_reply__descriptor,
        &pg__target_remove__descriptor,
        &pg__backup_file__descriptor,
        &pg__backup_partition__descriptor,
        &pg__backup_job__descriptor,
        &pg__backup_request__descriptor,
        &pg__backup_reply__descriptor,
        &pg__query_backup_request__descriptor,
        &pg__query_backup_reply__descriptor,
        &pg__cancel_backup_request__descriptor,
        &pg__backup_partition_request__descriptor,
        &pg__backup_partition_reply__descriptor,
        &pg__backup_manifest__descriptor
    };
    for (size_t i = 0; i < sizeof types / sizeof types [0]; i++)
        if (types_register (types [i]))
            return -1;
    return 0;
}
