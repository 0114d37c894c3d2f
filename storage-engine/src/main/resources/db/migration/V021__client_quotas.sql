-- Client quotas (AlterClientQuotas), per entity and key, as Kafka's controller keeps them. An entity combines a
-- user and a client id, either of which may be absent; each present part is a name or the default. A part is stored
-- as a kind (0 absent, 1 default, 2 named) and the name ('' unless named): Kafka refuses empty names, and a primary
-- key cannot hold NULLs.
CREATE TABLE client_quotas (
    user_kind      SMALLINT         NOT NULL,
    user_name      TEXT             NOT NULL,
    client_id_kind SMALLINT         NOT NULL,
    client_id      TEXT             NOT NULL,
    quota_key      TEXT             NOT NULL,
    value          DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (user_kind, user_name, client_id_kind, client_id, quota_key)
);

CREATE TRIGGER client_quotas_changed AFTER INSERT OR UPDATE OR DELETE ON client_quotas
    FOR EACH STATEMENT EXECUTE FUNCTION notify_cluster_change();
