-- Producer ids for idempotent producers, unique across the cluster and never reused.
CREATE SEQUENCE producer_ids START WITH 1000 INCREMENT BY 1;
