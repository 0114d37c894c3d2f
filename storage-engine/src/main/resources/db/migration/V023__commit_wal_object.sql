-- A WAL object's commit in one call. As statements sent one at a time (lock, object, index rows, high watermarks,
-- producer state, aborted transactions) it took six round trips, each waiting to be scheduled on a busy machine while
-- the partitions' rows stayed locked: 5 ms of a produce request's 24 in the broker. The rules are those the broker
-- applied before (FlushCommitter): the partitions' rows are locked in primary-key order (no deadlocks between
-- brokers); a partition commits only if this node owns it at the entry's epoch and its high watermark is the
-- entry's base offset (offsets stay dense, invariant D2); the object's live bytes count only committed entries, and
-- without any the object gets no row (the orphan sweeper removes it).
--
-- Entries are given as parallel arrays, one element per partition; producers and aborted transactions name their
-- entry by its 1-based position in them. Returns, per partition found live, the row as locked and the outcome:
-- COMMITTED, FENCED (other owner or epoch) or DIVERGED (other high watermark); a partition not returned is unknown
-- (deleted, or its topic is being deleted).
CREATE FUNCTION commit_wal_object(
    p_object_key TEXT, p_kind TEXT, p_object_size BIGINT, p_node INT,
    p_topic_ids UUID[], p_partitions INT[], p_epochs INT[], p_base_offsets BIGINT[], p_last_offsets BIGINT[],
    p_max_timestamps BIGINT[], p_batch_counts INT[], p_positions BIGINT[], p_sizes INT[],
    p_producer_entries INT[], p_producer_ids BIGINT[], p_producer_epochs SMALLINT[], p_producer_timestamps BIGINT[],
    p_producer_recent BYTEA[], p_producer_txn_first_offsets BIGINT[], p_producer_coordinator_epochs INT[],
    p_aborted_entries INT[], p_aborted_last_offsets BIGINT[], p_aborted_producer_ids BIGINT[],
    p_aborted_first_offsets BIGINT[])
RETURNS TABLE (entry INT, outcome TEXT, found_owner INT, found_epoch INT, found_high_watermark BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    committed BOOLEAN[] := array_fill(false, ARRAY[cardinality(p_topic_ids)]);
    live BIGINT := 0;
    r RECORD;
BEGIN
    FOR r IN
        SELECT e.ord, p.owner_node, p.leader_epoch, p.high_watermark
        FROM unnest(p_topic_ids, p_partitions) WITH ORDINALITY AS e(topic_id, partition_no, ord)
        JOIN partitions p ON p.topic_id = e.topic_id AND p.partition = e.partition_no
        JOIN topics t ON t.topic_id = p.topic_id AND t.state = 'LIVE'
        ORDER BY p.topic_id, p.partition
        FOR UPDATE OF p
    LOOP
        entry := r.ord;
        found_owner := r.owner_node;
        found_epoch := r.leader_epoch;
        found_high_watermark := r.high_watermark;
        IF r.owner_node IS DISTINCT FROM p_node OR r.leader_epoch <> p_epochs[r.ord] THEN
            outcome := 'FENCED';
        ELSIF r.high_watermark <> p_base_offsets[r.ord] THEN
            outcome := 'DIVERGED';
        ELSE
            outcome := 'COMMITTED';
            committed[r.ord] := true;
            live := live + p_sizes[r.ord];
        END IF;
        RETURN NEXT;
    END LOOP;
    IF live = 0 THEN
        RETURN;
    END IF;
    INSERT INTO objects (object_key, kind, size_bytes, live_bytes, state, created_by)
    VALUES (p_object_key, p_kind, p_object_size, live, 'LIVE', p_node);
    INSERT INTO batch_index (topic_id, partition, base_offset, last_offset, max_timestamp, batch_count, object_key,
                             byte_position, byte_size)
    SELECT e.topic_id, e.partition_no, e.base_offset, e.last_offset, e.max_timestamp, e.batch_count, p_object_key,
           e.byte_position, e.byte_size
    FROM unnest(p_topic_ids, p_partitions, p_base_offsets, p_last_offsets, p_max_timestamps, p_batch_counts,
                p_positions, p_sizes) WITH ORDINALITY
         AS e(topic_id, partition_no, base_offset, last_offset, max_timestamp, batch_count, byte_position, byte_size,
              ord)
    WHERE committed[e.ord];
    UPDATE partitions p SET high_watermark = e.last_offset + 1
    FROM unnest(p_topic_ids, p_partitions, p_last_offsets) WITH ORDINALITY AS e(topic_id, partition_no, last_offset, ord)
    WHERE committed[e.ord] AND p.topic_id = e.topic_id AND p.partition = e.partition_no;
    INSERT INTO producer_state (topic_id, partition, producer_id, producer_epoch, last_timestamp, recent_batches,
                                txn_first_offset, coordinator_epoch)
    SELECT p_topic_ids[s.entry_no], p_partitions[s.entry_no], s.producer_id, s.producer_epoch, s.last_timestamp,
           s.recent_batches, s.txn_first_offset, s.coordinator_epoch
    FROM unnest(p_producer_entries, p_producer_ids, p_producer_epochs, p_producer_timestamps, p_producer_recent,
                p_producer_txn_first_offsets, p_producer_coordinator_epochs)
         AS s(entry_no, producer_id, producer_epoch, last_timestamp, recent_batches, txn_first_offset,
              coordinator_epoch)
    WHERE committed[s.entry_no]
    ON CONFLICT (topic_id, partition, producer_id) DO UPDATE SET
        producer_epoch = EXCLUDED.producer_epoch, last_timestamp = EXCLUDED.last_timestamp,
        recent_batches = EXCLUDED.recent_batches, txn_first_offset = EXCLUDED.txn_first_offset,
        coordinator_epoch = EXCLUDED.coordinator_epoch;
    INSERT INTO aborted_transactions (topic_id, partition, last_offset, producer_id, first_offset)
    SELECT p_topic_ids[a.entry_no], p_partitions[a.entry_no], a.last_offset, a.producer_id, a.first_offset
    FROM unnest(p_aborted_entries, p_aborted_last_offsets, p_aborted_producer_ids, p_aborted_first_offsets)
         AS a(entry_no, last_offset, producer_id, first_offset)
    WHERE committed[a.entry_no];
END
$$;
