-- Topics are identified by an immutable uuid; a name is unique only among live topics, so that a deleted topic's
-- data can be removed in the background while its name is already reused.
CREATE TABLE topics (
    topic_id        UUID        PRIMARY KEY,
    name            TEXT        NOT NULL,
    partition_count INT         NOT NULL,
    state           TEXT        NOT NULL DEFAULT 'LIVE',
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX topics_live_name ON topics (name) WHERE state = 'LIVE';

CREATE TABLE topic_configs (
    topic_id UUID NOT NULL REFERENCES topics (topic_id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (topic_id, name)
);
