-- Where each leader epoch of a partition starts: the high watermark when its owner opened it at that epoch (appends
-- at the epoch start there, and never below). Answers OffsetForLeaderEpoch, which consumers use to validate their
-- position after a leader change. Logs never truncate here, so it only ever confirms positions.
CREATE TABLE leader_epochs (
    topic_id     UUID   NOT NULL,
    partition    INT    NOT NULL,
    leader_epoch INT    NOT NULL,
    start_offset BIGINT NOT NULL,
    PRIMARY KEY (topic_id, partition, leader_epoch),
    FOREIGN KEY (topic_id, partition) REFERENCES partitions (topic_id, partition) ON DELETE CASCADE
);
