-- A broker registers before it has started (group coordinator, ownership passes): until it marks itself serving it is
-- live (its partitions are not orphans) but no target for new partitions and not listed to clients, as a fenced
-- broker in KRaft. Rows of brokers that predate this column are serving.
ALTER TABLE brokers ADD COLUMN serving BOOLEAN NOT NULL DEFAULT TRUE;
