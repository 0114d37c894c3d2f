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
 * A real S3Proxy server with a filesystem backend on a loopback port: {@link #get()} is the one
 * shared by every test of a JVM, each caller getting a bucket of its own; {@link #start()} starts
 * one of its own for a test that looks at the files behind it, which it closes. Requests are signed
 * and checked (AWS v2/v4), as against S3.
 */
public final class S3ProxyFixture implements AutoCloseable {

  public static final String ACCESS_KEY = "diskless-test";
  public static final String SECRET_KEY = "diskless-test-secret";

  private static S3ProxyFixture instance;

  private final S3Proxy proxy;
  private final Path dir;
  private final URI endpoint;

  private S3ProxyFixture() throws Exception {
    dir = Files.createTempDirectory("s3proxy");
    try {
      proxy = startProxy(dir);
    } catch (Exception e) {
      ScratchDirectory.delete(dir);
      throw e;
    }
    endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
  }

  private static S3Proxy startProxy(Path dir) throws Exception {
    S3Proxy proxy =
        S3Proxy.builder()
            .blobStore(new FilesystemNio2BlobStore(dir.toString()))
            .endpoint(URI.create("http://127.0.0.1:0"))
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
            .build();
    proxy.start();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!"STARTED".equals(proxy.getState())) {
      if ("FAILED".equals(proxy.getState()) || System.nanoTime() > deadline) {
        proxy.stop();
        throw new IllegalStateException("S3Proxy did not start: " + proxy.getState());
      }
      Thread.sleep(10);
    }
    return proxy;
  }

  /** The server every test of this JVM shares; stopped when the JVM exits. */
  public static synchronized S3ProxyFixture get() {
    if (instance == null) {
      try {
        instance = new S3ProxyFixture();
      } catch (Exception e) {
        throw new IllegalStateException("cannot start S3Proxy", e);
      }
      Runtime.getRuntime().addShutdownHook(new Thread(instance::close));
    }
    return instance;
  }

  /** A server of the caller's own over a new directory, which {@link #close()} removes. */
  public static S3ProxyFixture start() throws Exception {
    return new S3ProxyFixture();
  }

  public URI endpoint() {
    return endpoint;
  }

  public int port() {
    return proxy.getPort();
  }

  /** The directory the objects are kept under, one subdirectory per bucket. */
  public Path directory() {
    return dir;
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

  @Override
  public void close() {
    try {
      proxy.stop();
    } catch (Exception ignored) {
      // Stopping anyway; the files go next.
    }
    ScratchDirectory.delete(dir);
  }
}
