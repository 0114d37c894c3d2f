-- SCRAM credentials (AlterUserScramCredentials), as Kafka's controller keeps them: the salt, the stored key and
-- the server key derived from the salted password the client sent, and the iteration count. Neither the password
-- nor the salted password is kept. mechanism is Kafka's ScramMechanism type (1 SCRAM-SHA-256, 2 SCRAM-SHA-512).
CREATE TABLE scram_credentials (
    user_name  TEXT     NOT NULL,
    mechanism  SMALLINT NOT NULL,
    salt       BYTEA    NOT NULL,
    stored_key BYTEA    NOT NULL,
    server_key BYTEA    NOT NULL,
    iterations INTEGER  NOT NULL,
    PRIMARY KEY (user_name, mechanism)
);
