-- Who owned a partition before its current owner (node id and the epoch of its registration), and whether that
-- owner handed it over itself after flushing and committing everything it had acknowledged. With the volume WAL
-- a new owner that took a partition without such a hand-over waits for that registration's lease to expire and
-- replays its WAL before serving.
ALTER TABLE partitions ADD COLUMN previous_owner INT;
ALTER TABLE partitions ADD COLUMN previous_owner_epoch BIGINT;
ALTER TABLE partitions ADD COLUMN previous_owner_released BOOLEAN NOT NULL DEFAULT TRUE;
