-- Where the committed batches of each partition live. One row covers a contiguous run of batches of one partition
-- stored contiguously in one object: one row per partition per WAL flush, or one per chunk of a segment object.
CREATE TABLE batch_index (
    topic_id      UUID   NOT NULL,
    partition     INT    NOT NULL,
    base_offset   BIGINT NOT NULL,
    last_offset   BIGINT NOT NULL,
    max_timestamp BIGINT NOT NULL,
    batch_count   INT    NOT NULL,
    object_key    TEXT   NOT NULL REFERENCES objects (object_key),
    byte_position BIGINT NOT NULL,
    byte_size     INT    NOT NULL,
    PRIMARY KEY (topic_id, partition, base_offset)
);
CREATE INDEX batch_index_object ON batch_index (object_key);
