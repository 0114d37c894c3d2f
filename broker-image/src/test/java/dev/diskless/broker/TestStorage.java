package dev.diskless.broker;

import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.testing.PostgresFixture;
import dev.diskless.storage.testing.S3ProxyFixture;
import dev.diskless.storage.wal.WalConfig;
import java.time.Duration;

/**
 * Storage for a test broker: a fresh S3Proxy bucket and PostgreSQL database, and a 20 ms WAL age
 * bound.
 */
final class TestStorage {

  private TestStorage() {}

  static StorageConfig fresh() {
    return StorageConfig.defaults(
            S3ProxyFixture.get().newBucket(), PostgresFixture.get().newDatabase())
        .withWal(
            new WalConfig(8 << 20, Duration.ofMillis(20), 4, 64L << 20, Duration.ofMinutes(2)));
  }
}
