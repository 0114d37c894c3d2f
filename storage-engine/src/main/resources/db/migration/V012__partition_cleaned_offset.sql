-- Key compaction (cleanup.policy=compact): offsets below cleaned_offset have been compacted, so a run maps keys from
-- there on (Kafka's cleaner checkpoint, the "first dirty offset"). Below the log start offset it means nothing.
ALTER TABLE partitions ADD COLUMN cleaned_offset BIGINT NOT NULL DEFAULT 0;
