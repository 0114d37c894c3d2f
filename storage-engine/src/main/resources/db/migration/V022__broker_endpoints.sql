-- Named listeners: a broker registers the advertised endpoint of each of its listeners (Kafka's advertised.listeners
-- form, NAME://host:port, comma-separated), so that clients of each listener are told their own listener's address
-- on every broker. host and port stay the inter-broker listener's; NULL endpoints (a broker from before this
-- migration) mean that one endpoint serves every listener.
ALTER TABLE brokers ADD COLUMN endpoints TEXT;

DROP TRIGGER broker_changed ON brokers;
CREATE TRIGGER broker_changed AFTER UPDATE ON brokers
    FOR EACH ROW
    WHEN (OLD.broker_epoch <> NEW.broker_epoch
          OR OLD.host <> NEW.host
          OR OLD.port <> NEW.port
          OR OLD.endpoints IS DISTINCT FROM NEW.endpoints
          OR OLD.rack IS DISTINCT FROM NEW.rack
          OR OLD.draining <> NEW.draining
          OR OLD.serving <> NEW.serving
          OR NEW.lease_expires_at < OLD.lease_expires_at)
    EXECUTE FUNCTION notify_cluster_change();
