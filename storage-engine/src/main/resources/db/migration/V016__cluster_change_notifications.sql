-- Brokers keep a cached picture of the cluster (live brokers, topics, owners, moves, the controller) and refresh it
-- when told that it changed, instead of polling it: every change to what that picture holds notifies the channel
-- diskless_cluster when its transaction commits. Hot updates (high watermarks on every commit, lease renewals) are
-- filtered out by the row triggers' conditions and notify nothing.
CREATE FUNCTION notify_cluster_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('diskless_cluster', TG_TABLE_NAME);
    RETURN NULL;
END
$$;

CREATE TRIGGER topics_changed AFTER INSERT OR UPDATE OR DELETE ON topics
    FOR EACH STATEMENT EXECUTE FUNCTION notify_cluster_change();
CREATE TRIGGER topic_configs_changed AFTER INSERT OR UPDATE OR DELETE ON topic_configs
    FOR EACH STATEMENT EXECUTE FUNCTION notify_cluster_change();
CREATE TRIGGER partition_moves_changed AFTER INSERT OR UPDATE OR DELETE ON partition_moves
    FOR EACH STATEMENT EXECUTE FUNCTION notify_cluster_change();
CREATE TRIGGER partitions_added_or_removed AFTER INSERT OR DELETE ON partitions
    FOR EACH STATEMENT EXECUTE FUNCTION notify_cluster_change();
CREATE TRIGGER partition_owner_changed AFTER UPDATE ON partitions
    FOR EACH ROW
    WHEN (OLD.owner_node IS DISTINCT FROM NEW.owner_node
          OR OLD.leader_epoch <> NEW.leader_epoch
          OR OLD.preferred_owner IS DISTINCT FROM NEW.preferred_owner)
    EXECUTE FUNCTION notify_cluster_change();
CREATE TRIGGER brokers_added_or_removed AFTER INSERT OR DELETE ON brokers
    FOR EACH STATEMENT EXECUTE FUNCTION notify_cluster_change();
-- A renewal moves the lease forward and notifies nothing; a deregistration ends it early, which does.
CREATE TRIGGER broker_changed AFTER UPDATE ON brokers
    FOR EACH ROW
    WHEN (OLD.broker_epoch <> NEW.broker_epoch
          OR OLD.host <> NEW.host
          OR OLD.port <> NEW.port
          OR OLD.rack IS DISTINCT FROM NEW.rack
          OR OLD.draining <> NEW.draining
          OR OLD.serving <> NEW.serving
          OR NEW.lease_expires_at < OLD.lease_expires_at)
    EXECUTE FUNCTION notify_cluster_change();
CREATE TRIGGER controller_changed AFTER UPDATE ON controller_lease
    FOR EACH ROW
    WHEN (OLD.holder_node IS DISTINCT FROM NEW.holder_node OR OLD.lease_epoch <> NEW.lease_epoch)
    EXECUTE FUNCTION notify_cluster_change();
