-- Requested ownership moves (AlterPartitionReassignments, the controller's balancing): the current owner hands the
-- partition over to target_node (flush, commit, one metadata update) and the row goes. Moving never copies data.
CREATE TABLE partition_moves (
    topic_id     UUID        NOT NULL,
    partition    INT         NOT NULL,
    target_node  INT         NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (topic_id, partition),
    FOREIGN KEY (topic_id, partition) REFERENCES partitions (topic_id, partition) ON DELETE CASCADE
);

-- A broker shutting down cleanly: live until it has handed everything over, but no target for new partitions.
ALTER TABLE brokers ADD COLUMN draining BOOLEAN NOT NULL DEFAULT FALSE;

-- Where an operator placed the partition (AlterPartitionReassignments): the controller's balancing leaves it there
-- and brings it back there when that broker returns, like Kafka's preferred replica.
ALTER TABLE partitions ADD COLUMN preferred_owner INT;
