/*  pegasus_scan: scanners. A scanner walks a list of partitions (one for
    a hash scan; a share of the table for a full scan), fetching a batch
    per round trip and resuming after the last stored key it got, so the
    servers keep no state between batches and a scanner survives a
    failover of the partition it is in. */
#include "client/pegasus_impl.h"
#include "common/key.h"
#include "data.pb-c.h"

#include <stdlib.h>
#include <string.h>

struct pegasus_scanner_t {
    pegasus_client_t *client;
    pegasus_scan_options_t options;
    uint8_t *bytes;                     //  copies of the keys and patterns
    ProtobufCBinaryData hash_key;
    ProtobufCBinaryData start;
    ProtobufCBinaryData stop;
    ProtobufCBinaryData hash_filter;
    ProtobufCBinaryData sort_filter;
    bool hash_scan;
    uint32_t *partitions;
    size_t npartitions;
    size_t current;
    uint8_t *resume;                    //  resume after this stored key
    size_t resume_len;
    msg_t *batch;                       //  the last ScanReply
    size_t next_item;
    pegasus_record_t record;
    bool done;
};

void
pegasus_scan_options_init (pegasus_scan_options_t *options)
{
    memset (options, 0, sizeof *options);
    options->batch_size = 100;
    options->start_inclusive = true;
    options->stop_inclusive = false;
}

static pegasus_scanner_t *
s_new (pegasus_client_t *client, const pegasus_scan_options_t *options, const void *hk,
       size_t hk_len, const void *start, size_t start_len, const void *stop, size_t stop_len)
{
    pegasus_scanner_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->client = client;
    if (options)
        self->options = *options;
    else
        pegasus_scan_options_init (&self->options);
    if (self->options.batch_size <= 0)
        self->options.batch_size = 100;
    size_t total = hk_len + start_len + stop_len + self->options.hash_key_filter_pattern_len
                 + self->options.sort_key_filter_pattern_len;
    self->bytes = malloc (total ? total : 1);
    if (!self->bytes) {
        free (self);
        return NULL;
    }
    uint8_t *at = self->bytes;
    struct {
        ProtobufCBinaryData *field;
        const void *data;
        size_t len;
    } copies [] = {
        { &self->hash_key, hk, hk_len },
        { &self->start, start, start_len },
        { &self->stop, stop, stop_len },
        { &self->hash_filter, self->options.hash_key_filter_pattern,
          self->options.hash_key_filter_pattern_len },
        { &self->sort_filter, self->options.sort_key_filter_pattern,
          self->options.sort_key_filter_pattern_len },
    };
    for (size_t i = 0; i < sizeof copies / sizeof copies [0]; i++) {
        copies [i].field->data = at;
        copies [i].field->len = copies [i].len;
        if (copies [i].len)
            memcpy (at, copies [i].data, copies [i].len);
        at += copies [i].len;
    }
    return self;
}

pegasus_scanner_t *
pegasus_hash_scanner (pegasus_client_t *client, const void *hk, size_t hk_len,
                      const void *start, size_t start_len, const void *stop, size_t stop_len,
                      const pegasus_scan_options_t *options)
{
    if (hk_len == 0 || hk_len > KEY_MAX_HASH_KEY) {
        pegasus_fail (PEGASUS_INVALID_ARGUMENT, "a hash scan needs a hash key of 1..%d bytes",
                      KEY_MAX_HASH_KEY);
        return NULL;
    }
    uint32_t count = (uint32_t) pegasus_partition_count (client);
    pegasus_scanner_t *self = s_new (client, options, hk, hk_len, start, start_len, stop, stop_len);
    if (!self || !count || !(self->partitions = malloc (sizeof *self->partitions))) {
        pegasus_scanner_close (&self);
        pegasus_fail (PEGASUS_INTERNAL, "cannot make a scanner");
        return NULL;
    }
    self->hash_scan = true;
    self->partitions [0] = key_partition (key_hash (hk, hk_len, NULL, 0), count);
    self->npartitions = 1;
    return self;
}

int
pegasus_full_scanners (pegasus_client_t *client, int max_split,
                       const pegasus_scan_options_t *options, pegasus_scanner_t ***scanners)
{
    *scanners = NULL;
    int count = pegasus_partition_count (client);
    if (max_split < 1 || count < 1) {
        pegasus_fail (PEGASUS_INVALID_ARGUMENT, "max_split must be >= 1 (and the table routed)");
        return -1;
    }
    int n = max_split < count ? max_split : count;
    *scanners = calloc ((size_t) n, sizeof **scanners);
    if (!*scanners)
        return -1;
    for (int i = 0; i < n; i++) {
        //  Scanner i takes partitions i, i + n, i + 2n...
        pegasus_scanner_t *s = s_new (client, options, NULL, 0, NULL, 0, NULL, 0);
        size_t share = (size_t) ((count - i + n - 1) / n);
        if (!s || !(s->partitions = malloc (share * sizeof *s->partitions))) {
            pegasus_scanner_close (&s);
            pegasus_scanners_free (scanners, n);
            pegasus_fail (PEGASUS_INTERNAL, "out of memory");
            return -1;
        }
        for (int p = i; p < count; p += n)
            s->partitions [s->npartitions++] = (uint32_t) p;
        (*scanners) [i] = s;
    }
    return n;
}

//  Fetches the next batch of the current partition.
static int
s_fetch (pegasus_scanner_t *self)
{
    Pg__ScanRequest *r;
    msg_t *request = msg_new (&pg__scan_request__descriptor, (void **) &r), *reply;
    if (!request)
        return pegasus_fail (PEGASUS_INTERNAL, "out of memory");
    r->has_hash_key = self->hash_scan;
    r->hash_key = self->hash_key;
    r->start_sort_key = self->start;
    r->stop_sort_key = self->stop;
    r->start_inclusive = self->options.start_inclusive;
    r->stop_inclusive = self->options.stop_inclusive;
    r->hash_key_filter_type = self->options.hash_key_filter_type;
    r->hash_key_filter_pattern = self->hash_filter;
    r->sort_key_filter_type = self->options.sort_key_filter_type;
    r->sort_key_filter_pattern = self->sort_filter;
    r->no_value = self->options.no_value;
    r->batch_size = self->options.batch_size;
    r->resume_after = (ProtobufCBinaryData) { self->resume_len, self->resume };
    int rc = pegasus_execute (self->client, &request, 0, (int32_t) self->partitions [self->current],
                              true, self->options.timeout_ms, &reply);
    if (rc != PEGASUS_OK) {
        msg_destroy (&reply);
        return rc;
    }
    Pg__ScanReply *body = msg_body (reply);
    free (self->resume);
    self->resume = NULL;
    self->resume_len = 0;
    if (body->complete) {
        self->current++;
    }
    else {
        self->resume = malloc (body->next_key.len ? body->next_key.len : 1);
        if (!self->resume) {
            msg_destroy (&reply);
            return pegasus_fail (PEGASUS_INTERNAL, "out of memory");
        }
        memcpy (self->resume, body->next_key.data, body->next_key.len);
        self->resume_len = body->next_key.len;
    }
    msg_destroy (&self->batch);
    self->batch = reply;
    self->next_item = 0;
    return PEGASUS_OK;
}

int
pegasus_scanner_next (pegasus_scanner_t *self, const pegasus_record_t **record)
{
    *record = NULL;
    for (;;) {
        if (self->batch) {
            Pg__ScanReply *body = msg_body (self->batch);
            if (self->next_item < body->n_items) {
                Pg__ScanItem *item = body->items [self->next_item++];
                self->record.hash_key = item->hash_key.data;
                self->record.hash_key_len = item->hash_key.len;
                self->record.sort_key = item->sort_key.data;
                self->record.sort_key_len = item->sort_key.len;
                self->record.value = item->value.data;
                self->record.value_len = item->value.len;
                self->record.ttl_seconds = item->expire_seconds;
                *record = &self->record;
                return PEGASUS_OK;
            }
        }
        if (self->current >= self->npartitions)
            return PEGASUS_OK;          //  the end
        int rc = s_fetch (self);
        if (rc != PEGASUS_OK)
            return rc;
    }
}

void
pegasus_scanner_close (pegasus_scanner_t **self_p)
{
    pegasus_scanner_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    msg_destroy (&self->batch);
    free (self->resume);
    free (self->partitions);
    free (self->bytes);
    free (self);
}

void
pegasus_scanners_free (pegasus_scanner_t ***scanners_p, int count)
{
    pegasus_scanner_t **scanners = *scanners_p;
    if (!scanners)
        return;
    for (int i = 0; i < count; i++)
        pegasus_scanner_close (&scanners [i]);
    free (scanners);
    *scanners_p = NULL;
}
