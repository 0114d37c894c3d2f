-- Every object the engine has committed a reference to. An object PUT whose commit failed has no row here and is
-- removed by the orphan sweeper. live_bytes counts bytes still referenced by the batch index; an object with no
-- live bytes is marked DELETING and removed from the bucket after a grace period, so that readers holding an old
-- index entry can still finish.
CREATE TABLE objects (
    object_key      TEXT        PRIMARY KEY,
    kind            TEXT        NOT NULL,
    size_bytes      BIGINT      NOT NULL,
    live_bytes      BIGINT      NOT NULL,
    state           TEXT        NOT NULL,
    created_by      INT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    deletable_after TIMESTAMPTZ
);
CREATE INDEX objects_deleting ON objects (state, deletable_after);
