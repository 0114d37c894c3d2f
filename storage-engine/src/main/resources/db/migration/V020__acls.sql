-- Access control lists (CreateAcls / DeleteAcls), as Kafka's StandardAuthorizer holds them: one row per binding,
-- the enums stored as Kafka's codes (ResourceType, PatternType, AclOperation, AclPermissionType). A binding is
-- stored once however often it is created. Every broker loads all rows into its authorizer and loads them again
-- when told that they changed.
CREATE TABLE acls (
    id              UUID     PRIMARY KEY,
    resource_type   SMALLINT NOT NULL,
    resource_name   TEXT     NOT NULL,
    pattern_type    SMALLINT NOT NULL,
    principal       TEXT     NOT NULL,
    host            TEXT     NOT NULL,
    operation       SMALLINT NOT NULL,
    permission_type SMALLINT NOT NULL,
    UNIQUE (resource_type, resource_name, pattern_type, principal, host, operation, permission_type)
);

CREATE TRIGGER acls_changed AFTER INSERT OR UPDATE OR DELETE ON acls
    FOR EACH STATEMENT EXECUTE FUNCTION notify_cluster_change();
