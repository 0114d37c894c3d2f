-- Idempotent producer state per partition, committed in the same transaction as the batches it describes, so that
-- a new owner detects duplicates of batches acknowledged by the previous one. recent_batches holds up to five
-- (first sequence, last sequence, base offset, last offset) entries, as Kafka keeps.
CREATE TABLE producer_state (
    topic_id       UUID     NOT NULL,
    partition      INT      NOT NULL,
    producer_id    BIGINT   NOT NULL,
    producer_epoch SMALLINT NOT NULL,
    last_timestamp BIGINT   NOT NULL,
    recent_batches BYTEA    NOT NULL,
    PRIMARY KEY (topic_id, partition, producer_id)
);
