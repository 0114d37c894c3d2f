-- One row per partition: its owner (the only broker that may append), the leader epoch that fences previous
-- owners, and the committed bounds of its log. high_watermark is the next offset to be committed.
CREATE TABLE partitions (
    topic_id         UUID   NOT NULL REFERENCES topics (topic_id) ON DELETE CASCADE,
    partition        INT    NOT NULL,
    owner_node       INT,
    leader_epoch     INT    NOT NULL DEFAULT 0,
    log_start_offset BIGINT NOT NULL DEFAULT 0,
    high_watermark   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (topic_id, partition)
);
CREATE INDEX partitions_owner ON partitions (owner_node);
