-- Brokers run as a Deployment, so pods have no ordinal: each broker leases a node id. A row whose lease has
-- expired may be taken over by a new broker, which bumps broker_epoch so that the old holder can tell.
CREATE TABLE brokers (
    node_id          INT         PRIMARY KEY,
    instance_id      TEXT        NOT NULL,
    broker_epoch     BIGINT      NOT NULL,
    host             TEXT        NOT NULL,
    port             INT         NOT NULL,
    rack             TEXT,
    registered_at    TIMESTAMPTZ NOT NULL,
    lease_expires_at TIMESTAMPTZ NOT NULL
);
