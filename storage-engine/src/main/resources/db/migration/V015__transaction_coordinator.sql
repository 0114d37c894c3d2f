-- The transaction coordinator's state, one row per transactional id (Kafka keeps it in __transaction_state). A
-- transactional id hashes onto a partition of the internal topic __transaction_state, whose owner is its coordinator;
-- every write checks that owner and epoch in the same transaction, so a coordinator that lost the partition writes
-- nothing. The columns are Kafka's TransactionMetadata.
CREATE TABLE transactions (
    transactional_id      TEXT     PRIMARY KEY,
    coordinator_partition INT      NOT NULL,
    producer_id           BIGINT   NOT NULL,
    prev_producer_id      BIGINT   NOT NULL,
    next_producer_id      BIGINT   NOT NULL,
    producer_epoch        SMALLINT NOT NULL,
    last_producer_epoch   SMALLINT NOT NULL,
    timeout_ms            INT      NOT NULL,
    state                 TEXT     NOT NULL,
    txn_start_ms          BIGINT   NOT NULL,
    last_update_ms        BIGINT   NOT NULL,
    client_txn_version    SMALLINT NOT NULL
);
CREATE INDEX transactions_by_coordinator ON transactions (coordinator_partition);

-- The partitions a transaction has written to (or will commit offsets to): its markers go there.
CREATE TABLE transaction_partitions (
    transactional_id TEXT NOT NULL REFERENCES transactions ON DELETE CASCADE,
    topic            TEXT NOT NULL,
    partition        INT  NOT NULL,
    PRIMARY KEY (transactional_id, topic, partition)
);
