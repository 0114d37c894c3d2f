-- Transactions on a partition (Kafka's producer state and transaction index). txn_first_offset is the first offset of
-- the producer's transaction still open on the partition (-1: none): the last stable offset stops there, also after
-- the partition moves. coordinator_epoch is the epoch of the coordinator that wrote the producer's last marker, so an
-- older coordinator's marker is refused.
ALTER TABLE producer_state ADD COLUMN txn_first_offset BIGINT NOT NULL DEFAULT -1;
ALTER TABLE producer_state ADD COLUMN coordinator_epoch INT NOT NULL DEFAULT -1;

-- Aborted transactions per partition (Kafka's .txnindex): a read_committed fetch gets those overlapping what it reads
-- and skips their records. last_offset is the offset of the ABORT marker, unique per partition. Rows are written in
-- the commit that makes the marker durable.
CREATE TABLE aborted_transactions (
    topic_id     UUID   NOT NULL,
    partition    INT    NOT NULL,
    last_offset  BIGINT NOT NULL,
    producer_id  BIGINT NOT NULL,
    first_offset BIGINT NOT NULL,
    PRIMARY KEY (topic_id, partition, last_offset)
);
