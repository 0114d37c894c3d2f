package dev.diskless.operator.testing;

import dev.diskless.kube.Directories;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/** A real S3 endpoint for tests: S3Proxy on a loopback port over a temporary directory. */
public final class S3ProxyServer implements AutoCloseable {

  public static final String ACCESS_KEY = "test-access";
  public static final String SECRET_KEY = "test-secret";

  private final S3Proxy proxy;
  private final Path dir;

  public S3ProxyServer() throws Exception {
    dir = Files.createTempDirectory("s3proxy");
    proxy =
        S3Proxy.builder()
            .blobStore(new FilesystemNio2BlobStore(dir.toString()))
            .endpoint(URI.create("http://127.0.0.1:0"))
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
            .build();
    proxy.start();
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!"STARTED".equals(proxy.getState()) && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
  }

  public String endpoint() {
    return "http://127.0.0.1:" + proxy.getPort();
  }

  /** Whether a bucket exists on this server (its directory under the base). */
  public boolean hasBucket(String name) {
    return Files.isDirectory(dir.resolve(name));
  }

  /** A client with the server's credentials; the caller closes it. */
  public S3Client client() {
    return S3Client.builder()
        .endpointOverride(URI.create(endpoint()))
        .region(Region.US_EAST_1)
        .forcePathStyle(true)
        .httpClient(UrlConnectionHttpClient.create())
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
        .build();
  }

  /**
   * A Secret "s3" with an access key pair in the keys a cluster's credentialsSecret expects by
   * default; {@code accessKey} other than {@link #ACCESS_KEY} makes wrong credentials.
   */
  public static Secret credentialsSecret(String accessKey) {
    return new SecretBuilder()
        .withNewMetadata()
        .withName("s3")
        .endMetadata()
        .addToStringData("AWS_ACCESS_KEY_ID", accessKey)
        .addToStringData("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .build();
  }

  public void createBucket(String name) throws Exception {
    Files.createDirectories(dir.resolve(name));
  }

  @Override
  public void close() throws Exception {
    proxy.stop();
    Directories.deleteTree(dir);
  }
}
