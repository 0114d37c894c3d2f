-- A single row: which broker is the cluster controller, until when, and a fencing epoch for its decisions.
CREATE TABLE controller_lease (
    id               INT         PRIMARY KEY CHECK (id = 1),
    holder_node      INT,
    lease_epoch      BIGINT      NOT NULL,
    lease_expires_at TIMESTAMPTZ NOT NULL
);
INSERT INTO controller_lease (id, holder_node, lease_epoch, lease_expires_at) VALUES (1, NULL, 0, now());
