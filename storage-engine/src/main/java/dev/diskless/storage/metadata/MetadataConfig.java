package dev.diskless.storage.metadata;

import java.util.Objects;

/**
 * How to reach the PostgreSQL metadata store. The password is never printed.
 *
 * @param poolSize connections kept open; the WAL commit path and the read path share them
 */
public record MetadataConfig(String jdbcUrl, String user, String password, int poolSize) {

  public MetadataConfig {
    Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
      throw new IllegalArgumentException(
          "metadata jdbcUrl must start with jdbc:postgresql:, got " + jdbcUrl);
    }
    if (poolSize < 2) {
      throw new IllegalArgumentException("metadata poolSize must be >= 2, got " + poolSize);
    }
  }

  @Override
  public String toString() {
    return "MetadataConfig[jdbcUrl="
        + jdbcUrl
        + ", user="
        + user
        + ", password=***, poolSize="
        + poolSize
        + "]";
  }
}
