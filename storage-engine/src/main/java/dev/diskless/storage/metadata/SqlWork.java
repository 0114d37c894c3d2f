package dev.diskless.storage.metadata;

import java.sql.Connection;
import java.sql.SQLException;

/** A unit of work on one connection, run inside a transaction by {@link MetadataStore}. */
@FunctionalInterface
public interface SqlWork<T> {
  T run(Connection connection) throws SQLException;
}
