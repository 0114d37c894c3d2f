-- Dynamic broker configs set through the Admin API (IncrementalAlterConfigs / AlterConfigs on a BROKER resource):
-- broker is the resource name, '' for the cluster-wide default or a node id. Only configs the broker accepts are
-- stored (today the replication throttles that kafka-reassign-partitions.sh sets and clears).
CREATE TABLE broker_configs (
    broker TEXT NOT NULL,
    name   TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (broker, name)
);
