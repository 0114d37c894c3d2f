-- Merging WAL objects walks the live ones oldest first (CompactionStore.oldestWalObjects).
CREATE INDEX objects_live_wal ON objects (created_at, object_key) WHERE kind = 'WAL' AND state = 'LIVE';
