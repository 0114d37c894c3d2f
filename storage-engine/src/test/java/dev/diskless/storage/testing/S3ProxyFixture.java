package dev.diskless.storage.testing;

import dev.diskless.storage.objectstore.ObjectStoreConfig;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A real S3Proxy server with a filesystem backend on a loopback port, shared by every test of a
 * JVM; each caller gets a bucket of its own. Requests are signed and checked (AWS v2/v4), as
 * against S3.
 */
public final class S3ProxyFixture {

  public static final String ACCESS_KEY = "diskless-test";
  public static final String SECRET_KEY = "diskless-test-secret";

  private static S3ProxyFixture instance;

  private final S3Proxy proxy;
  private final Path dir;
  private final URI endpoint;

  private S3ProxyFixture() throws Exception {
    dir = Files.createTempDirectory("s3proxy");
    proxy =
        S3Proxy.builder()
            .blobStore(new FilesystemNio2BlobStore(dir.toString()))
            .endpoint(URI.create("http://127.0.0.1:0"))
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
            .build();
    proxy.start();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!"STARTED".equals(proxy.getState()) && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
    Runtime.getRuntime().addShutdownHook(new Thread(this::stop));
  }

  public static synchronized S3ProxyFixture get() {
    if (instance == null) {
      try {
        instance = new S3ProxyFixture();
      } catch (Exception e) {
        throw new IllegalStateException("cannot start S3Proxy", e);
      }
    }
    return instance;
  }

  public URI endpoint() {
    return endpoint;
  }

  /**
   * Creates a fresh bucket and returns a config pointing at it through {@code via} (S3Proxy or a
   * fault proxy).
   */
  public ObjectStoreConfig newBucket(URI via) {
    String bucket = "b-" + UUID.randomUUID().toString().substring(0, 12);
    try (S3Client admin = adminClient()) {
      admin.createBucket(b -> b.bucket(bucket));
    }
    return ObjectStoreConfig.of(bucket, "us-east-1")
        .withEndpoint(via, true)
        .withCredentials(ACCESS_KEY, SECRET_KEY)
        .withRetries(6, Duration.ofMillis(10), Duration.ofMillis(500), Duration.ofSeconds(10));
  }

  public ObjectStoreConfig newBucket() {
    return newBucket(endpoint);
  }

  /** A synchronous client for assertions that look at the bucket directly. */
  public S3Client adminClient() {
    return S3Client.builder()
        .endpointOverride(endpoint)
        .forcePathStyle(true)
        .region(Region.US_EAST_1)
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
        .build();
  }

  private void stop() {
    try {
      proxy.stop();
    } catch (Exception ignored) {
      // JVM is exiting.
    }
    ScratchDirectory.delete(dir);
  }
}
