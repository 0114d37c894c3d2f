package dev.diskless.broker.playground;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The playground's object store: an S3Proxy on loopback keeping its objects as files under a
 * directory, with the playground's bucket. It runs inside the playground, or as a process of its
 * own ({@code java -jar diskless-broker.jar object-store}) that playgrounds reach with {@code
 * --object-store URL}, so that a benchmark can tell the brokers' CPU from the store's (real S3 does
 * the store's work on its own machines).
 */
public final class LocalObjectStore implements AutoCloseable {

  static final String BUCKET = "diskless-playground";
  static final String ACCESS_KEY = "playground";
  static final String SECRET_KEY = "playground-secret";

  private final S3Proxy s3;
  private final URI endpoint;

  private LocalObjectStore(S3Proxy s3) {
    this.s3 = s3;
    this.endpoint = URI.create("http://127.0.0.1:" + s3.getPort());
  }

  /** Starts a store on {@code port} (0: any free port) over the files under {@code dir}. */
  public static LocalObjectStore start(Path dir, int port) throws Exception {
    Files.createDirectories(dir);
    S3Proxy s3 =
        S3Proxy.builder()
            .blobStore(new FilesystemNio2BlobStore(dir.toString()))
            .endpoint(URI.create("http://127.0.0.1:" + port))
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
            .build();
    s3.start();
    while (!"STARTED".equals(s3.getState())) {
      if ("FAILED".equals(s3.getState())) {
        throw new IllegalStateException("the object store did not start on port " + port);
      }
      Thread.sleep(10);
    }
    LocalObjectStore store = new LocalObjectStore(s3);
    try {
      ensureBucket(store.endpoint, ACCESS_KEY, SECRET_KEY);
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
    return store;
  }

  /** Creates the playground's bucket at {@code endpoint} unless it is there. */
  static void ensureBucket(URI endpoint, String accessKey, String secretKey) {
    try (S3Client admin =
        S3Client.builder()
            .endpointOverride(endpoint)
            .forcePathStyle(true)
            .region(Region.US_EAST_1)
            .credentialsProvider(
                StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
            .build()) {
      if (admin.listBuckets().buckets().stream().noneMatch(b -> b.name().equals(BUCKET))) {
        admin.createBucket(b -> b.bucket(BUCKET));
      }
    }
  }

  public URI endpoint() {
    return endpoint;
  }

  @Override
  public void close() {
    try {
      s3.stop();
    } catch (Exception ignored) {
      // stopping
    }
  }
}
