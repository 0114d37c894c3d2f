package dev.diskless.storage.objectstore;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Where and how to reach the object store. {@code endpoint} is empty for AWS itself and set for
 * S3-compatible stores (MinIO, S3Proxy, R2, ...). Without static keys the AWS default credentials
 * chain is used, which includes web identity (IRSA, EKS pod identity), environment variables and
 * instance profiles.
 *
 * @param keyPrefix prepended to every key this engine writes, so that one bucket can host several
 *     clusters
 * @param conditionalPuts send {@code If-None-Match: *} so that a PUT never overwrites an existing
 *     object; turn off only for stores that reject the header
 */
public record ObjectStoreConfig(
    String bucket,
    String region,
    Optional<URI> endpoint,
    boolean pathStyle,
    Optional<StaticCredentials> credentials,
    String keyPrefix,
    boolean conditionalPuts,
    int maxAttempts,
    Duration baseBackoff,
    Duration maxBackoff,
    Duration attemptTimeout,
    int maxConnections) {

  /** Static access keys, as read from a Kubernetes Secret. */
  public record StaticCredentials(String accessKeyId, String secretAccessKey) {
    public StaticCredentials {
      Objects.requireNonNull(accessKeyId, "accessKeyId");
      Objects.requireNonNull(secretAccessKey, "secretAccessKey");
    }

    @Override
    public String toString() {
      return "StaticCredentials[accessKeyId=" + accessKeyId + ", secretAccessKey=***]";
    }
  }

  public ObjectStoreConfig {
    Objects.requireNonNull(bucket, "bucket");
    Objects.requireNonNull(region, "region");
    Objects.requireNonNull(endpoint, "endpoint");
    Objects.requireNonNull(credentials, "credentials");
    Objects.requireNonNull(keyPrefix, "keyPrefix");
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be >= 1");
    }
  }

  /**
   * Defaults suited to S3: 10 attempts, 25 ms to 5 s jittered backoff, 30 s per attempt, 256
   * connections.
   */
  public static ObjectStoreConfig of(String bucket, String region) {
    return new ObjectStoreConfig(
        bucket,
        region,
        Optional.empty(),
        false,
        Optional.empty(),
        "",
        true,
        10,
        Duration.ofMillis(25),
        Duration.ofSeconds(5),
        Duration.ofSeconds(30),
        256);
  }

  public ObjectStoreConfig withEndpoint(URI uri, boolean pathStyle) {
    return new ObjectStoreConfig(
        bucket,
        region,
        Optional.of(uri),
        pathStyle,
        credentials,
        keyPrefix,
        conditionalPuts,
        maxAttempts,
        baseBackoff,
        maxBackoff,
        attemptTimeout,
        maxConnections);
  }

  public ObjectStoreConfig withCredentials(String accessKeyId, String secretAccessKey) {
    return new ObjectStoreConfig(
        bucket,
        region,
        endpoint,
        pathStyle,
        Optional.of(new StaticCredentials(accessKeyId, secretAccessKey)),
        keyPrefix,
        conditionalPuts,
        maxAttempts,
        baseBackoff,
        maxBackoff,
        attemptTimeout,
        maxConnections);
  }

  public ObjectStoreConfig withRetries(
      int attempts, Duration base, Duration max, Duration perAttemptTimeout) {
    return new ObjectStoreConfig(
        bucket,
        region,
        endpoint,
        pathStyle,
        credentials,
        keyPrefix,
        conditionalPuts,
        attempts,
        base,
        max,
        perAttemptTimeout,
        maxConnections);
  }

  public ObjectStoreConfig withKeyPrefix(String prefix) {
    return new ObjectStoreConfig(
        bucket,
        region,
        endpoint,
        pathStyle,
        credentials,
        prefix,
        conditionalPuts,
        maxAttempts,
        baseBackoff,
        maxBackoff,
        attemptTimeout,
        maxConnections);
  }

  public ObjectStoreConfig withConditionalPuts(boolean enabled) {
    return new ObjectStoreConfig(
        bucket,
        region,
        endpoint,
        pathStyle,
        credentials,
        keyPrefix,
        enabled,
        maxAttempts,
        baseBackoff,
        maxBackoff,
        attemptTimeout,
        maxConnections);
  }
}
